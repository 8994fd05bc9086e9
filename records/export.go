package records

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"waymark/alert"
	"waymark/audit"
	"waymark/casework"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
	"waymark/wallclock"
)

// --- exports -----------------------------------------------------------------

// ErrExportRefused is an export the caller may not make; it is audited.
var ErrExportRefused = fmt.Errorf("alert: export refused: %w", problem.ErrForbidden)

// mayExport checks that p is a caseworker (or, for an alert, a responder)
// of team and not excluded from the case.
func mayExport(p *staff.Principal, team string, excluded []string, responderOK bool) bool {
	if p == nil || !p.InTeam(team) || slices.Contains(excluded, p.StaffID) {
		return false
	}
	return p.Has(staff.RoleCaseworker) || (responderOK && p.Has(staff.RoleResponder))
}

// ExportAlert writes a closed alert's closing record through write and marks
// it exported, which starts its retention clock: the path for services
// without a case-management endpoint. Refusals are audited.
func (r *Records) ExportAlert(ctx context.Context, p *staff.Principal, id string, write func([]byte) error) error {
	refuse := func(why string, err error) error {
		r.Audit(ctx, audit.AuditEntry{Actor: actorOf(p), Action: "alert.export", AlertID: auditAlertID(id), Outcome: "refused: " + why})
		return err
	}
	if !alert.ValidAlertID(id) {
		return refuse("not found", casework.ErrNotFound)
	}
	a, err := r.st.Alert(ctx, id)
	if errors.Is(err, casework.ErrNotFound) {
		return refuse("not found", casework.ErrNotFound)
	}
	if err != nil {
		return err
	}
	b, err := r.brief(ctx, a)
	if err != nil {
		return err
	}
	var excluded []string
	if b != nil {
		excluded = b.Excluded
	}
	if !mayExport(p, a.Team, excluded, true) {
		return refuse("no right", ErrExportRefused)
	}
	if !a.State.Terminal() || a.FollowUp {
		return refuse("alert still open", fmt.Errorf("alert: export: %w", casework.ErrConflict))
	}
	rec := BuildClosingRecord(a, b, r.now())
	out, _ := json.MarshalIndent(rec, "", "  ")
	if err := write(append(out, '\n')); err != nil {
		return err
	}
	if a.Record.Handoff == alert.HandoffPending || a.Record.Handoff == alert.HandoffNone {
		if _, err := r.st.HandoffDone(ctx, id, a.Record.Rev, alert.HandoffExported, r.now()); err != nil {
			return err
		}
	}
	r.Audit(ctx, audit.AuditEntry{Actor: p.StaffID, Action: "alert.export", CaseID: a.CaseID, AlertID: id,
		Outcome: "ok: revision " + strconv.Itoa(rec.Revision) + " sha256=" + audit.EntryDigest(out)})
	return nil
}

func auditAlertID(id string) string {
	if alert.ValidAlertID(id) {
		return id
	}
	return "(malformed)"
}

// CaseBundleFormat names the case export's layout.
const CaseBundleFormat = "waymark-case-bundle-v1"

// CaseBundle is `waymark export case`: the case's facts, its alerts and its
// audit entries, with what a third party needs to check them without any
// secret (AuditBundle, verified by VerifyBundle with the published public
// key), and third-party information marked for redaction.
type CaseBundle struct {
	Format string `json:"format"`
	// Redactions are JSON pointers into Content's decoded form, each with
	// why it must be reviewed before disclosure.
	Redactions []Redaction `json:"redactions"`
	audit.AuditBundle
}

// Redaction marks third-party information in an export.
type Redaction struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// CaseFacts for export: the case as its caseworker sees it, never code
// words, PINs or their hashes.
type caseExport struct {
	ID               string                 `json:"id"`
	Alias            string                 `json:"alias"`
	Phone            string                 `json:"phone"`
	Team             string                 `json:"team"`
	Owner            string                 `json:"owner"`
	Risk             string                 `json:"risk_level"`
	RiskDate         string                 `json:"risk_date,omitempty"`
	MARAC            casework.MARACInput    `json:"marac"`
	Children         casework.Children      `json:"children"`
	Communication    casework.Communication `json:"communication"`
	ResponsePlan     string                 `json:"response_plan"`
	SafetyNotes      string                 `json:"safety_notes"`
	SafeguardingLead string                 `json:"safeguarding_lead,omitempty"`
	LinkedCase       string                 `json:"linked_case,omitempty"`
	Under18          bool                   `json:"under_18"`
	LegalHold        bool                   `json:"legal_hold"`
	CreatedAt        time.Time              `json:"created_at"`
	RenewedAt        time.Time              `json:"renewed_at,omitzero"`
	ExpiresAt        time.Time              `json:"expires_at"`
	Excluded         int                    `json:"excluded_staff_count"`
	Alerts           []ClosingRecord        `json:"alerts"`
}

// ExportCase writes the case bundle through write. Refused (and audited)
// for a case on legal hold, and for anyone but a caseworker of the case's
// team who is not excluded from it. The audit chain must verify first.
func (r *Records) ExportCase(ctx context.Context, p *staff.Principal, caseID string, write func([]byte) error) error {
	c, err := r.exportable(ctx, p, "case.export", caseID)
	if err != nil {
		return err
	}
	now := r.now()
	ce := caseExport{
		ID: c.ID, Alias: c.Alias.Reveal(), Phone: c.Phone.Reveal(), Team: c.Team, Owner: c.Owner, Risk: string(c.Risk),
		RiskDate: dateText(c.RiskDate), MARAC: casework.MARACInput{Referred: c.MARAC.Referred, Date: dateText(c.MARAC.Date)},
		Children: c.Children, Communication: c.Communication, ResponsePlan: c.ResponsePlan.Reveal(),
		SafetyNotes: c.SafetyNotes.Reveal(), SafeguardingLead: c.SafeguardingLead.Reveal(), LinkedCase: c.LinkedCase,
		Under18: c.Under18, LegalHold: c.LegalHold, CreatedAt: c.CreatedAt.UTC(), RenewedAt: utcOrZero(c.RenewedAt),
		ExpiresAt: c.ExpiresAt.UTC(), Excluded: len(c.Excluded), Alerts: []ClosingRecord{},
	}
	alertIDs, err := r.caseAlerts(ctx, c.ID)
	if err != nil {
		return err
	}
	brief := &casework.CaseBrief{CaseFacts: casework.FactsOf(c), Alias: c.Alias, MARAC: c.MARAC}
	for _, id := range alertIDs {
		a, err := r.st.Alert(ctx, id)
		if errors.Is(err, casework.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		ce.Alerts = append(ce.Alerts, BuildClosingRecord(a, brief, now))
	}
	red := caseRedactions(ce)
	content, _ := json.Marshal(ce)
	ab, err := r.auditBundle(ctx, "case "+c.ID, content, func(e *audit.ChainEntry) bool {
		return e.CaseID == c.ID || (e.AlertID != "" && slices.Contains(alertIDs, e.AlertID))
	}, now)
	if err != nil {
		return err
	}
	for i, d := range ab.Disclosed {
		if d.Reason != "" {
			red = append(red, Redaction{Path: fmt.Sprintf("/disclosed/%d/reason", i), Reason: "free text typed by staff: may name third parties"})
		}
	}
	out, _ := json.MarshalIndent(CaseBundle{Format: CaseBundleFormat, Redactions: red, AuditBundle: ab}, "", "  ")
	if err := write(append(out, '\n')); err != nil {
		return err
	}
	r.Audit(ctx, audit.AuditEntry{At: now, Actor: p.StaffID, Action: "case.export", CaseID: c.ID,
		Outcome: "ok: sha256=" + audit.EntryDigest(content)})
	return nil
}

// caseRedactions marks third-party information in a case export: other
// people's names and references, staff names, and free text.
func caseRedactions(ce caseExport) []Redaction {
	var red []Redaction
	add := func(path, reason string) { red = append(red, Redaction{Path: "/content" + path, Reason: reason}) }
	if ce.SafeguardingLead != "" {
		add("/safeguarding_lead", "third party: the safeguarding lead's name")
	}
	if ce.LinkedCase != "" {
		add("/linked_case", "third party: another person's case")
	}
	if ce.Children.Count > 0 {
		add("/children", "third party: children in the household")
	}
	add("/safety_notes", "free text: may name third parties (the abuser, family, neighbours)")
	add("/response_plan", "free text: may name third parties")
	add("/owner", "third party: staff identifier")
	for i, a := range ce.Alerts {
		p := fmt.Sprintf("/alerts/%d", i)
		if a.ChildrensServicesReference != "" {
			add(p+"/childrens_services_reference", "third party: children's services reference")
		}
		for j, e := range a.Timeline {
			if e.ByName != "" {
				add(fmt.Sprintf("%s/timeline/%d/by_name", p, j), "third party: staff name")
			}
			if e.Text != "" {
				add(fmt.Sprintf("%s/timeline/%d/text", p, j), "free text: may name third parties")
			}
		}
		for j, act := range a.Actions {
			if act.StaffName != "" {
				add(fmt.Sprintf("%s/actions/%d/staff_name", p, j), "third party: staff name")
			}
		}
	}
	return red
}

// auditBundle verifies the whole chain while reading it (an export never
// vouches for a broken chain), discloses the entries match selects, and
// signs the segment from the first to the last of them with the content.
func (r *Records) auditBundle(ctx context.Context, subject string, content []byte, match func(*audit.ChainEntry) bool, now time.Time) (audit.AuditBundle, error) {
	var v *audit.ChainVerifier
	var seg audit.Segment
	var pending []audit.SegmentEntry // entries after the last match, kept in case another match follows
	var disclosed []audit.DisclosedEntry
	prev := ""
	started := false
	err := r.st.AuditChain(ctx, func(cp *audit.Checkpoint, e *audit.ChainEntry, reason string) error {
		if e == nil {
			var b *audit.Break
			if v, b = audit.NewChainVerifier(r.key, cp, r.o.RetiredAuditKeys...); b != nil {
				return b
			}
			if cp != nil {
				prev = cp.Hash
			}
			return nil
		}
		if b := v.Next(*e, &reason); b != nil {
			return b
		}
		canon := e.Canonical()
		se := audit.SegmentEntry{Seq: e.Seq, Digest: audit.EntryDigest(canon), Hash: e.Hash}
		if match(e) {
			if !started {
				started, seg.PrevHash = true, prev
			}
			seg.Entries = append(seg.Entries, pending...)
			seg.Entries = append(seg.Entries, se)
			pending = pending[:0]
			disclosed = append(disclosed, audit.DisclosedEntry{Canonical: string(canon), Reason: reason})
		} else if started {
			pending = append(pending, se)
		}
		prev = e.Hash
		return nil
	})
	if err != nil {
		return audit.AuditBundle{}, err
	}
	if seg.Entries == nil {
		seg.Entries = []audit.SegmentEntry{}
	}
	if disclosed == nil {
		disclosed = []audit.DisclosedEntry{}
	}
	m := audit.Manifest{Format: "waymark-audit-bundle-v1", Subject: subject, GeneratedAt: now.UTC(),
		ContentDigest: audit.EntryDigest(content), Segment: seg}
	return audit.AuditBundle{Attestation: audit.Attest(audit.SigningKey(r.key), m), Disclosed: disclosed, Content: string(content)}, nil
}

// exportable loads a case for a disclosure export, refusing (and auditing)
// a case on legal hold or a caller without the right.
func (r *Records) exportable(ctx context.Context, p *staff.Principal, action, caseID string) (*casework.Case, error) {
	refuse := func(why string, err error) (*casework.Case, error) {
		r.Audit(ctx, audit.AuditEntry{Actor: actorOf(p), Action: action, CaseID: casework.AuditID(caseID), Outcome: "refused: " + why})
		return nil, err
	}
	if r.loader == nil {
		return nil, errors.New("alert: records have no case loader")
	}
	if !casework.ValidCaseID(caseID) {
		return refuse("not found", casework.ErrNotFound)
	}
	c, err := r.loader.Load(ctx, caseID)
	if errors.Is(err, casework.ErrNotFound) {
		return refuse("not found", casework.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if !mayExport(p, c.Team, c.Excluded, false) {
		return refuse("no right", ErrExportRefused)
	}
	if c.LegalHold {
		return refuse("legal hold", casework.ErrLegalHold)
	}
	return c, nil
}

func (r *Records) caseAlerts(ctx context.Context, caseID string) ([]string, error) {
	ids, err := r.st.CaseAlertIDs(ctx, caseID)
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(wallclock.London()).Format(time.DateOnly)
}

// MARACShare is what `waymark export marac` shares with a MARAC meeting.
type MARACShare struct {
	Format        string                 `json:"format"` // "waymark-marac-share-v1"
	Meeting       string                 `json:"meeting"`
	LawfulBasis   string                 `json:"lawful_basis"`
	SharedBy      string                 `json:"shared_by"`
	SharedAt      time.Time              `json:"shared_at"`
	CaseReference string                 `json:"case_reference"`
	Alias         string                 `json:"alias"`
	Team          string                 `json:"team"`
	Risk          string                 `json:"risk_level"`
	RiskDate      string                 `json:"risk_date,omitempty"`
	MARAC         casework.MARACInput    `json:"marac_referral"`
	Children      casework.Children      `json:"children"`
	Communication casework.Communication `json:"communication"`
	ResponsePlan  string                 `json:"response_plan"`
	Incidents     []MARACIncident        `json:"incidents"`
	// Fields lists what was shared, for the audit record.
	Fields []string `json:"fields_shared"`
}

// MARACIncident is one alert as shared with a MARAC: when, what kind, how it
// ended, and the police reference. No timeline text, no locations.
type MARACIncident struct {
	RaisedAt  time.Time `json:"raised_at"`
	Kind      string    `json:"kind"`
	Duress    bool      `json:"duress"`
	Outcome   string    `json:"outcome,omitempty"`
	PoliceRef string    `json:"police_incident_number,omitempty"`
}

var maracFields = []string{"case_reference", "alias", "team", "risk_level", "risk_date", "marac_referral",
	"children", "communication", "response_plan", "incidents(raised_at,kind,duress,outcome,police_incident_number)"}

// ExportMARAC writes what is shared with a MARAC meeting about a case and
// records who shared what, on what lawful basis, with which MARAC (an audit
// entry whose sealed reason holds the meeting, basis and fields).
func (r *Records) ExportMARAC(ctx context.Context, p *staff.Principal, caseID, meeting, basis string, write func([]byte) error) error {
	meeting, basis = strings.TrimSpace(meeting), strings.TrimSpace(basis)
	inv := &problem.Invalid{}
	if msg := casework.CheckText(meeting, 120, true); msg != "" {
		inv.Add("meeting", msg)
	}
	if msg := casework.CheckText(basis, casework.MaxReason, true); msg != "" {
		inv.Add("basis", msg)
	}
	if err := inv.Err(); err != nil {
		return err
	}
	c, err := r.exportable(ctx, p, "marac.share", caseID)
	if err != nil {
		return err
	}
	now := r.now()
	sh := MARACShare{
		Format: "waymark-marac-share-v1", Meeting: meeting, LawfulBasis: basis, SharedBy: p.StaffID, SharedAt: now.UTC(),
		CaseReference: c.ID, Alias: c.Alias.Reveal(), Team: c.Team, Risk: string(c.Risk), RiskDate: dateText(c.RiskDate),
		MARAC:    casework.MARACInput{Referred: c.MARAC.Referred, Date: dateText(c.MARAC.Date)},
		Children: c.Children, Communication: c.Communication, ResponsePlan: c.ResponsePlan.Reveal(),
		Incidents: []MARACIncident{}, Fields: maracFields,
	}
	ids, err := r.caseAlerts(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		a, err := r.st.Alert(ctx, id)
		if errors.Is(err, casework.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		sh.Incidents = append(sh.Incidents, MARACIncident{RaisedAt: a.RaisedAt.UTC(), Kind: a.Class.String(),
			Duress: a.Duress(), Outcome: string(a.Outcome), PoliceRef: a.PoliceRef.Reveal()})
	}
	slices.SortFunc(sh.Incidents, func(a, b MARACIncident) int { return a.RaisedAt.Compare(b.RaisedAt) })
	out, _ := json.MarshalIndent(sh, "", "  ")
	out = append(out, '\n')
	// Sharing that cannot be recorded does not happen.
	why, _ := json.Marshal(map[string]any{"meeting": meeting, "lawful_basis": basis, "fields": maracFields})
	if err := r.st.AppendAudit(ctx, audit.AuditEntry{At: now, Actor: p.StaffID, Action: "marac.share", CaseID: c.ID,
		Reason: pii.NewText(string(why)), Outcome: "ok: sha256=" + audit.EntryDigest(out)}); err != nil {
		return err
	}
	if err := write(out); err != nil {
		r.Audit(ctx, audit.AuditEntry{Actor: p.StaffID, Action: "marac.share", CaseID: c.ID, Outcome: "failed: not written"})
		return err
	}
	return nil
}

// Report builds the commissioners' report for q (admin).
func (r *Records) Report(ctx context.Context, p *staff.Principal, q ReportQuery) (*Report, error) {
	if !p.Has(staff.RoleAdmin) {
		return nil, casework.ErrNotAllowed
	}
	m, err := r.st.ReportCounts(ctx)
	if err != nil {
		return nil, err
	}
	return BuildReport(q, m), nil
}

// ChainReport is what a successful verification saw.
type ChainReport struct {
	Entries    int64
	FirstSeq   int64
	LastSeq    int64
	Head       string
	Checkpoint *audit.Checkpoint
}

// PublicKey is the deployment's audit signing public key, as published.
func (r *Records) PublicKey() string {
	return audit.PublicKeyString(audit.SigningKey(r.key).Public().(ed25519.PublicKey))
}
