package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"waymark/casework"
	"waymark/pii"
	"waymark/seal"
	"waymark/store/internal/kv"
	"waymark/wallclock"
)

type wordsJSON struct {
	Code   []string `json:"code"`
	Duress []string `json:"duress"`
}

type contactJSON struct {
	Windows     []casework.Window `json:"windows"`
	Channels    casework.Channels `json:"channels"`
	OpeningLine string            `json:"opening_line"`
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(wallclock.London()).Format(time.DateOnly)
}

func fromDate(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, wallclock.London())
	if err != nil {
		return time.Time{}
	}
	return t
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

// caseValues encodes c as field/value pairs for HSET, sealing personal
// fields under dk. The version written is c.Version+1.
func (s *conn) caseValues(c *casework.Case, dk *seal.DataKey) ([]any, error) {
	plain := map[string]string{
		fTeam: c.Team, fRisk: string(c.Risk), fRiskDate: date(c.RiskDate),
		fMARAC: kv.Flag(c.MARAC.Referred), fMARACDate: date(c.MARAC.Date),
		fOwner: c.Owner, fExcluded: strings.Join(c.Excluded, " "), fLinked: c.LinkedCase,
		fUnder18: kv.Flag(c.Under18), fLegalHold: kv.Flag(c.LegalHold),
		fCreated: kv.MS(c.CreatedAt), fRenewed: kv.MS(c.RenewedAt), fExpires: kv.MS(c.ExpiresAt),
		fSMSBlocked: kv.Flag(c.SMSBlocked), fReview: kv.Flag(c.Review), fPhoneHeld: kv.Flag(c.PhoneHeld),
		fVersion: strconv.FormatInt(c.Version+1, 10), fBucket: c.Bucket,
		fPIN: b64(c.PINHash), fDuressPIN: b64(c.DuressPINHash),
		fTechAt: "", fTechBy: "", fTechOthers: "",
		fPracticeUntil: kv.MS(c.Practice.Until), fPracticeBy: c.Practice.By,
	}
	techNotes := ""
	if t := c.TechSafety; t != nil {
		plain[fTechAt], plain[fTechBy], plain[fTechOthers] = kv.MS(t.RecordedAt), t.RecordedBy, kv.Flag(t.OthersHaveAccess)
		techNotes = t.Notes.Reveal()
	}
	words, err := json.Marshal(wordsJSON{Code: c.CodeWords, Duress: c.DuressWords})
	if err != nil {
		return nil, err
	}
	contact, err := json.Marshal(contactJSON{Windows: c.Contact.Windows, Channels: c.Contact.Channels, OpeningLine: c.Contact.OpeningLine.Reveal()})
	if err != nil {
		return nil, err
	}
	comm, err := json.Marshal(c.Communication)
	if err != nil {
		return nil, err
	}
	children, err := json.Marshal(c.Children)
	if err != nil {
		return nil, err
	}
	secret := map[string][]byte{
		fPhone: []byte(c.Phone.Reveal()), fAlias: []byte(c.Alias.Reveal()), fWords: words,
		fContact: contact, fComm: comm, fChildren: children,
		fPlan: []byte(c.ResponsePlan.Reveal()), fNotes: []byte(c.SafetyNotes.Reveal()),
		fLead: []byte(c.SafeguardingLead.Reveal()), fTechNote: []byte(techNotes),
	}
	key := s.k.CaseRecord(c.ID)
	out := make([]any, 0, 2*(len(plain)+len(secret)))
	for _, f := range metaFields {
		out = append(out, f, plain[f])
	}
	for _, f := range sealedFields {
		ct, err := dk.Seal(secret[f], seal.AD{Key: key, Field: f})
		clear(secret[f])
		if err != nil {
			return nil, fmt.Errorf("store: seal case %s field %s: %w", c.ID, f, err)
		}
		out = append(out, f, ct)
	}
	return out, nil
}

// decodeMeta reads the plain fields of a case hash.
func decodeMeta(id string, h map[string]string) *casework.Case {
	c := &casework.Case{
		ID: id, Team: h[fTeam], Risk: casework.Risk(h[fRisk]), RiskDate: fromDate(h[fRiskDate]),
		MARAC:      casework.MARAC{Referred: h[fMARAC] == "1", Date: fromDate(h[fMARACDate])},
		Owner:      h[fOwner],
		LinkedCase: h[fLinked], Under18: h[fUnder18] == "1", LegalHold: h[fLegalHold] == "1",
		CreatedAt: kv.FromMS(h[fCreated]), RenewedAt: kv.FromMS(h[fRenewed]), ExpiresAt: kv.FromMS(h[fExpires]),
		SMSBlocked: h[fSMSBlocked] == "1", Review: h[fReview] == "1", Bucket: h[fBucket], PhoneHeld: h[fPhoneHeld] == "1",
		PINHash: unb64(h[fPIN]), DuressPINHash: unb64(h[fDuressPIN]),
		Practice: casework.PracticeWindow{Until: kv.FromMS(h[fPracticeUntil]), By: h[fPracticeBy]},
	}
	c.Version, _ = strconv.ParseInt(h[fVersion], 10, 64)
	if ex := h[fExcluded]; ex != "" {
		c.Excluded = strings.Fields(ex)
	}
	if at := kv.FromMS(h[fTechAt]); !at.IsZero() {
		c.TechSafety = &casework.TechSafetyCheck{RecordedAt: at, RecordedBy: h[fTechBy], OthersHaveAccess: h[fTechOthers] == "1"}
	}
	return c
}

// openField opens one sealed field of case id.
func (s *conn) openField(dk *seal.DataKey, id string, h map[string]string, f string) ([]byte, error) {
	v, ok := h[f]
	if !ok {
		return nil, fmt.Errorf("store: case %s lacks field %s", id, f)
	}
	pt, err := dk.Open([]byte(v), seal.AD{Key: s.k.CaseRecord(id), Field: f})
	if err != nil {
		return nil, fmt.Errorf("store: open case %s field %s: %w", id, f, err)
	}
	return pt, nil
}

// decodeCase opens every sealed field of a case hash.
func (s *conn) decodeCase(id string, h map[string]string, dk *seal.DataKey) (*casework.Case, error) {
	c := decodeMeta(id, h)
	open := map[string][]byte{}
	for _, f := range sealedFields {
		pt, err := s.openField(dk, id, h, f)
		if err != nil {
			return nil, err
		}
		open[f] = pt
	}
	var err error
	if len(open[fPhone]) > 0 {
		// Stored in E.164 when it was checked at enrolment.
		if c.Phone, err = pii.ParseE164(string(open[fPhone])); err != nil {
			return nil, fmt.Errorf("store: case %s: stored phone: %w", id, err)
		}
	}
	c.Alias = pii.NewText(string(open[fAlias]))
	var w wordsJSON
	var ct contactJSON
	for f, v := range map[string]any{fWords: &w, fContact: &ct, fComm: &c.Communication, fChildren: &c.Children} {
		if err := json.Unmarshal(open[f], v); err != nil {
			return nil, fmt.Errorf("store: case %s field %s: %w", id, f, err)
		}
	}
	c.CodeWords, c.DuressWords = w.Code, w.Duress
	c.Contact = casework.ContactPlan{Windows: ct.Windows, Channels: ct.Channels, OpeningLine: pii.NewText(ct.OpeningLine)}
	c.ResponsePlan = pii.NewText(string(open[fPlan]))
	c.SafetyNotes = pii.NewText(string(open[fNotes]))
	c.SafeguardingLead = pii.NewText(string(open[fLead]))
	if c.TechSafety != nil {
		c.TechSafety.Notes = pii.NewText(string(open[fTechNote]))
	}
	for _, v := range open {
		clear(v)
	}
	return c, nil
}

// unwrap opens a case's wrapped data key. The key lives only for the call
// that needed it.
func (s *conn) unwrap(id string, wrapped string) (*seal.DataKey, error) {
	dk, err := s.Crypto.Keyring.UnwrapDataKey([]byte(wrapped), seal.AD{Key: s.k.caseDataKey(id)})
	if err != nil {
		return nil, fmt.Errorf("store: unwrap data key of case %s: %w", id, err)
	}
	return dk, nil
}

// snapshot is the fingerprint of a bucket's members, as the scripts compute it.
func snapshot(ids []string) casework.PhoneSnapshot {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return casework.PhoneSnapshot(strings.Join(ids, ","))
}

// metaFromValues decodes an HMGET of metaFields; nil when the case has no
// record.
func metaFromValues(id string, vals []any) *casework.Case {
	h := make(map[string]string, len(vals))
	for i, v := range vals {
		if str, ok := v.(string); ok && i < len(metaFields) {
			h[metaFields[i]] = str
		}
	}
	if h[fVersion] == "" {
		return nil
	}
	return decodeMeta(id, h)
}
