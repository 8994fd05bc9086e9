package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"waymark/alert"
	"waymark/casework"
	"waymark/oncall"
	"waymark/pii"
	"waymark/seal"
	"waymark/store/internal/kv"
)

// Alerts. Every change to an alert, a case's open-alert pointer, its
// check-in state or the one scheduler goes through one Lua script,
// commitScript: the alert service reads, its pure rules decide, and the
// script applies the decision only if nothing read has changed since (each
// record carries a version), after checking the dedupe key. So a raise is
// one atomic step — dedupe key, sealed alert or the join onto the open one,
// open-alerts index, event appended to the stream, first timer with its
// fence — and a retry or a concurrent duplicate changes nothing.
// docs/decisions.md says why Lua and not MULTI/EXEC.

var _ alert.Store = (*Alerts)(nil)

// Policies reads a team's policy set: the version a guarded commit checks
// (alert.Commit.GuardPolicies) is that of the set read here.
func (s *Alerts) Policies(ctx context.Context, team string) (*oncall.PolicySet, error) {
	return (&OnCall{s.conn}).Policies(ctx, team)
}

// Plain fields of the alert hash. case, team, state, owner, priority and
// raised_at are read by other parts of Waymark (cases, the hub, reports).
const (
	afCase        = "case"
	afTeam        = "team"
	afState       = "state"
	afOwner       = "owner"
	afPriority    = "priority"
	afRaisedAt    = kv.AlertRaisedAt
	afClass       = "class"
	afRisk        = "risk"
	afSource      = "source"
	afVersion     = "ver"
	afSeq         = "seq"
	afTrailSeq    = "tseq"
	afUpdatedAt   = "updated_at"
	afAckedAt     = "acked_at"
	afActiveAt    = "active_at"
	afClosedAt    = "closed_at"
	afCancelUntil = "cancel_until"
	afFollowUp    = "followup"
	afOutcome     = "outcome"
	afWrongPINs   = "wrong_pins"
	afStep        = "step"
	afMode        = "mode"     // "" real, "practice" or "drill"
	afOnly        = "only"     // a practice alert's caseworker (staff id)
	afPhoneAt     = "phone_at" // the phone's own time for its first signal
	afFencePrefix = "f_"
	// afPolicy is the team's policy set snapshotted when the alert was
	// raised (JSON, written once); afEsc where its escalation stands
	// (JSON). Both plain: tiers, channels, waits and staff ids only.
	afPolicy = "policy"
	afEsc    = "esc"
	// Sealed fields.
	afOwnerName = "owner_name" // staff display name, under the KEK
	afSender    = "sender"     // unknown sender's number, under the KEK
	afPoliceRef = "police_ref" // under the case's data key (or the KEK)
	afChildRef  = "cs_ref"
)

var timerKinds = []alert.TimerKind{alert.TimerStep, alert.TimerAck, alert.TimerExpire, alert.TimerDeliver}

// sealer seals and opens an alert's records: under the case's data key
// when the alert has a case (erasing the case destroys them), else under
// the key-encryption key.
type sealer struct {
	s  *conn
	dk *seal.DataKey
	// gone is set for a case whose data key no longer exists (erased):
	// nothing of it opens, and nothing new is sealed for it.
	gone bool
}

func (z sealer) seal(key, field string, pt []byte) ([]byte, error) {
	if z.gone {
		return nil, fmt.Errorf("store: seal %s: %w", key, casework.ErrNotFound)
	}
	if z.dk != nil {
		ct, err := z.dk.Seal(pt, seal.AD{Key: key, Field: field})
		if err != nil {
			return nil, fmt.Errorf("store: seal %s field %s: %w", key, field, err)
		}
		return ct, nil
	}
	return z.s.SealKEK(key, field, pt)
}

func (z sealer) open(key, field string, ct []byte) ([]byte, error) {
	if z.gone {
		return nil, fmt.Errorf("store: open %s: %w", key, casework.ErrNotFound)
	}
	if z.dk != nil {
		pt, err := z.dk.Open(ct, seal.AD{Key: key, Field: field})
		if err != nil {
			return nil, fmt.Errorf("store: open %s field %s: %w", key, field, err)
		}
		return pt, nil
	}
	return z.s.OpenKEK(key, field, ct)
}

// sealerFor unwraps the case's data key ("" wrapped means the case has
// none: erased, or no case at all).
func (s *conn) sealerFor(caseID, wrapped string) (sealer, error) {
	if caseID == "" {
		return sealer{s: s}, nil
	}
	if wrapped == "" {
		return sealer{s: s, gone: true}, nil
	}
	dk, err := s.Crypto.Keyring.UnwrapDataKey([]byte(wrapped), seal.AD{Key: s.k.caseDataKey(caseID)})
	if err != nil {
		return sealer{}, fmt.Errorf("store: unwrap data key of case %s: %w", caseID, err)
	}
	return sealer{s: s, dk: dk}, nil
}

// caseRead is what DecideCase read, and so what its commit guards.
type caseRead struct {
	openID, lastID   string
	open, last       *alert.Alert
	openVer, lastVer string
	ci               *casework.Checkins
	ciVer            string
	z                sealer
	// record is the case's plain fields; nil if the case does not exist.
	record *casework.Case
}

func (s *conn) readCase(ctx context.Context, caseID string) (*caseRead, error) {
	rd := &caseRead{z: sealer{s: s}}
	if caseID == "" {
		return rd, nil
	}
	pipe := s.RDB.Pipeline()
	openCmd := pipe.Get(ctx, s.k.caseOpenAlert(caseID))
	lastCmd := pipe.Get(ctx, s.k.caseLastAlert(caseID))
	ciCmd := pipe.HGetAll(ctx, s.k.checkins(caseID))
	dkCmd := pipe.Get(ctx, s.k.caseDataKey(caseID))
	// The case's plain fields ride along: the intake decides on them, and
	// reading them here saves it a round trip (alert.Store.DecideCase).
	metaCmd := pipe.HMGet(ctx, s.k.CaseRecord(caseID), metaFields...)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.Wrap("read case alerts", err)
	}
	rd.record = metaFromValues(caseID, metaCmd.Val())
	rd.openID, rd.lastID = openCmd.Val(), lastCmd.Val()
	z, err := s.sealerFor(caseID, dkCmd.Val())
	if err != nil {
		return nil, err
	}
	rd.z = z
	if h := ciCmd.Val(); len(h) > 0 {
		rd.ciVer = h[cfVersion]
		if rd.ci, err = s.decodeCheckins(caseID, h, z); err != nil {
			return nil, err
		}
	}
	if rd.openID == "" && rd.lastID == "" {
		return rd, nil
	}
	pipe = s.RDB.Pipeline()
	var openH, lastH *redis.MapStringStringCmd
	if rd.openID != "" {
		openH = pipe.HGetAll(ctx, s.k.AlertRecord(rd.openID))
	}
	if rd.lastID != "" && rd.lastID != rd.openID {
		lastH = pipe.HGetAll(ctx, s.k.AlertRecord(rd.lastID))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.Wrap("read case alerts", err)
	}
	if openH != nil && len(openH.Val()) > 0 {
		rd.openVer = openH.Val()[afVersion]
		if rd.open, err = s.decodeAlert(rd.openID, openH.Val(), z); err != nil {
			return nil, err
		}
	}
	switch {
	case rd.lastID == rd.openID:
		rd.last, rd.lastVer = rd.open, rd.openVer
	case lastH != nil && len(lastH.Val()) > 0:
		rd.lastVer = lastH.Val()[afVersion]
		if rd.last, err = s.decodeAlert(rd.lastID, lastH.Val(), z); err != nil {
			return nil, err
		}
	}
	return rd, nil
}

func cloneAlert(a *alert.Alert) *alert.Alert {
	if a == nil {
		return nil
	}
	c := *a
	c.Fences = maps.Clone(a.Fences)
	return &c
}

// DecideCase reads a case's open and last alert and check-in state, lets
// decide choose a change, and commits it in one atomic step if nothing read
// changed meanwhile; otherwise it reads and decides again.
func (s *Alerts) DecideCase(ctx context.Context, caseID string, decide func(alert.CaseState) (*alert.Commit, error)) (alert.Result, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	for range maxCommitAttempts {
		rd, err := s.readCase(ctx, caseID)
		if err != nil {
			return alert.Result{}, err
		}
		st := alert.CaseState{Open: cloneAlert(rd.open), Last: cloneAlert(rd.last), Checkins: rd.ci, Record: rd.record}
		c, err := decide(st)
		if err != nil || c == nil {
			return alert.Result{}, err
		}
		p := newCommitProg()
		if caseID != "" {
			p.guard(s.k.caseOpenAlert(caseID), "", rd.openID)
			p.guard(s.k.caseLastAlert(caseID), "", rd.lastID)
			p.guard(s.k.checkins(caseID), cfVersion, rd.ciVer)
			if rd.openID != "" {
				p.guard(s.k.AlertRecord(rd.openID), afVersion, rd.openVer)
			}
			if rd.lastID != "" && rd.lastID != rd.openID {
				p.guard(s.k.AlertRecord(rd.lastID), afVersion, rd.lastVer)
			}
		}
		res, done, err := s.commit(ctx, p, caseID, c, rd.z)
		if err != nil || done {
			return res, err
		}
	}
	return alert.Result{}, fmt.Errorf("store: commit for case %s: %w", caseID, alert.ErrStale)
}

// DecideSender is DecideCase for a number on no case: the alert its last
// text raised or joined, if still open and that text was within window,
// is the state's Open alert, so a flood of texts from one unknown number
// makes one triage alert. The number reaches Redis only as a keyed tag.
func (s *Alerts) DecideSender(ctx context.Context, sender pii.Phone, window time.Duration, decide func(alert.CaseState) (*alert.Commit, error)) (alert.Result, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	key := s.k.senderOpenAlert(s.Tag("sender", sender.Reveal()))
	for range maxCommitAttempts {
		raw, err := s.RDB.Get(ctx, key).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return alert.Result{}, s.Wrap("read sender alert", err)
		}
		// "alertID|ms of the last text": the window is decided against the
		// stored time and the store's clock; the TTL only cleans up.
		id, last, _ := strings.Cut(raw, "|")
		now := s.Now()
		if now.Sub(kv.FromMS(last)) > window {
			id = ""
		}
		var st alert.CaseState
		var ver string
		z := sealer{s: s.conn}
		if id != "" {
			a, v, az, err := s.readAlert(ctx, id, false)
			switch {
			case errors.Is(err, casework.ErrNotFound):
				// Gone (retention): the next text raises afresh.
			case err != nil:
				return alert.Result{}, err
			default:
				st.Open, st.Last, ver, z = a, cloneAlert(a), v, az
			}
		}
		c, err := decide(st)
		if err != nil || c == nil {
			return alert.Result{}, err
		}
		p := newCommitProg()
		p.guard(key, "", raw)
		if st.Open != nil {
			p.guard(s.k.AlertRecord(id), afVersion, ver)
		}
		if a := c.Alert; a != nil && a.CaseID == "" && a.State.Live() {
			p.op("SET", key, a.ID+"|"+kv.MS(now), "PX", (window + time.Minute).Milliseconds())
		}
		res, done, err := s.commit(ctx, p, "", c, z)
		if err != nil || done {
			return res, err
		}
	}
	return alert.Result{}, fmt.Errorf("store: commit for a sender: %w", alert.ErrStale)
}

// DecideAlert is DecideCase for one alert (responder actions and timers).
func (s *Alerts) DecideAlert(ctx context.Context, id string, decide func(*alert.Alert) (*alert.Commit, error)) (alert.Result, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	for range maxCommitAttempts {
		a, ver, z, err := s.readAlert(ctx, id, false)
		if err != nil {
			return alert.Result{}, err
		}
		c, err := decide(a)
		if err != nil || c == nil {
			return alert.Result{}, err
		}
		p := newCommitProg()
		p.guard(s.k.AlertRecord(id), afVersion, ver)
		res, done, err := s.commit(ctx, p, a.CaseID, c, z)
		if err != nil || done {
			return res, err
		}
	}
	return alert.Result{}, fmt.Errorf("store: commit for alert %s: %w", id, alert.ErrStale)
}

func (s *conn) alertFields(a *alert.Alert, z sealer) ([]any, error) {
	ak := s.k.AlertRecord(a.ID)
	f := []any{
		afCase, a.CaseID, afTeam, a.Team, afState, string(a.State), afOwner, a.Owner,
		afPriority, int(a.Priority), afRaisedAt, a.RaisedAt.UnixMilli(),
		afClass, a.Class.String(), afRisk, string(a.Risk), afSource, string(a.Source),
		afVersion, a.Version + 1, afSeq, a.Seq, afTrailSeq, a.TrailSeq,
		afUpdatedAt, kv.MS(a.UpdatedAt), afAckedAt, kv.MS(a.AckedAt), afActiveAt, kv.MS(a.ActiveAt),
		afClosedAt, kv.MS(a.ClosedAt), afCancelUntil, kv.MS(a.CancelUntil), afFollowUp, kv.Flag(a.FollowUp),
		afOutcome, string(a.Outcome), afWrongPINs, a.WrongPINs, afStep, a.Step,
		afMode, string(a.Mode), afOnly, a.Only, afPhoneAt, kv.MS(a.PhoneAt),
	}
	ej, err := json.Marshal(a.Esc)
	if err != nil {
		return nil, fmt.Errorf("store: encode escalation of alert %s: %w", a.ID, err)
	}
	f = append(f, afEsc, ej)
	for _, k := range timerKinds {
		if v := a.Fences[k]; v != "" {
			f = append(f, afFencePrefix+string(k), v)
		}
	}
	// The claimer's name is staff data, not the survivor's: under the KEK,
	// so it stays readable after the case is erased.
	name := []byte{}
	if a.OwnerName != "" {
		name = []byte(a.OwnerName)
	}
	ct, err := s.SealKEK(ak, afOwnerName, name)
	if err != nil {
		return nil, err
	}
	f = append(f, afOwnerName, ct)
	if !a.Sender.IsZero() {
		ct, err := s.SealKEK(ak, afSender, []byte(a.Sender.Reveal()))
		if err != nil {
			return nil, err
		}
		f = append(f, afSender, ct)
	}
	for _, r := range []struct {
		field string
		v     pii.Text
	}{{afPoliceRef, a.PoliceRef}, {afChildRef, a.ChildrenRef}} {
		if r.v.IsZero() {
			continue
		}
		ct, err := z.seal(ak, r.field, []byte(r.v.Reveal()))
		if err != nil {
			return nil, err
		}
		f = append(f, r.field, ct)
	}
	return f, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// decodeAlert reads an alert hash. Sealed fields that do not open (the
// case was erased) are left empty rather than failing the read.
func (s *conn) decodeAlert(id string, h map[string]string, z sealer) (*alert.Alert, error) {
	if h[afState] == "" {
		return nil, fmt.Errorf("store: alert %s: %w", id, casework.ErrNotFound)
	}
	ver, _ := strconv.ParseInt(h[afVersion], 10, 64)
	a := &alert.Alert{
		ID:          id,
		CaseID:      h[afCase],
		Team:        h[afTeam],
		Source:      alert.Source(h[afSource]),
		Class:       alert.ParseClass(h[afClass]),
		Risk:        casework.Risk(h[afRisk]),
		Priority:    alert.Priority(atoi(h[afPriority])),
		State:       alert.State(h[afState]),
		Owner:       h[afOwner],
		RaisedAt:    kv.FromMS(h[afRaisedAt]),
		PhoneAt:     kv.FromMS(h[afPhoneAt]),
		UpdatedAt:   kv.FromMS(h[afUpdatedAt]),
		AckedAt:     kv.FromMS(h[afAckedAt]),
		ActiveAt:    kv.FromMS(h[afActiveAt]),
		ClosedAt:    kv.FromMS(h[afClosedAt]),
		CancelUntil: kv.FromMS(h[afCancelUntil]),
		FollowUp:    h[afFollowUp] == "1",
		Outcome:     alert.Outcome(h[afOutcome]),
		WrongPINs:   atoi(h[afWrongPINs]),
		Step:        atoi(h[afStep]),
		Mode:        alert.Mode(h[afMode]),
		Only:        h[afOnly],
		Version:     ver,
		Seq:         atoi(h[afSeq]),
		TrailSeq:    atoi(h[afTrailSeq]),
		Fences:      map[alert.TimerKind]string{},
	}
	if !a.State.Valid() {
		return nil, fmt.Errorf("store: alert %s: unknown state", id)
	}
	if !a.Mode.Valid() || (a.Mode == alert.ModePractice && a.Only == "") {
		// A damaged mode must not hide a real alert: read it as real.
		s.Log.Warn("alert mode unreadable; treated as real", "alert", id)
		a.Mode, a.Only = alert.ModeReal, ""
	}
	for _, k := range timerKinds {
		if v := h[afFencePrefix+string(k)]; v != "" {
			a.Fences[k] = v
		}
	}
	a.Record = decodeRecord(h)
	if v := h[afPolicy]; v != "" {
		var ps oncall.PolicySet
		if err := json.Unmarshal([]byte(v), &ps); err != nil {
			// A damaged snapshot must not stop the alert: the defaults
			// escalate it.
			s.Log.Warn("alert policy snapshot unreadable; defaults apply", "alert", id)
		} else {
			a.Policy = &ps
		}
	}
	if v := h[afEsc]; v != "" {
		if err := json.Unmarshal([]byte(v), &a.Esc); err != nil {
			s.Log.Warn("alert escalation state unreadable; restarting it", "alert", id)
			a.Esc = alert.Escalation{}
		}
	}
	ak := s.k.AlertRecord(id)
	if ct := h[afOwnerName]; ct != "" {
		pt, err := s.OpenKEK(ak, afOwnerName, []byte(ct))
		if err != nil {
			return nil, err
		}
		a.OwnerName = string(pt)
	}
	if ct := h[afSender]; ct != "" {
		pt, err := s.OpenKEK(ak, afSender, []byte(ct))
		if err != nil {
			return nil, err
		}
		ph, err := pii.ParseE164(string(pt))
		if err != nil {
			return nil, fmt.Errorf("store: alert %s: stored sender does not parse", id)
		}
		a.Sender = ph
	}
	if !z.gone {
		for _, r := range []struct {
			field string
			v     *pii.Text
		}{{afPoliceRef, &a.PoliceRef}, {afChildRef, &a.ChildrenRef}} {
			if ct := h[r.field]; ct != "" {
				pt, err := z.open(ak, r.field, []byte(ct))
				if err != nil {
					return nil, err
				}
				*r.v = pii.NewText(string(pt))
			}
		}
	}
	return a, nil
}

// entryJSON is a timeline entry as sealed; every field is inside the seal.
type entryJSON struct {
	At     int64           `json:"at"`
	Type   alert.EntryType `json:"type"`
	By     string          `json:"by,omitempty"`
	ByName string          `json:"by_name,omitempty"`
	Text   string          `json:"text,omitempty"`
	Detail string          `json:"detail,omitempty"`
	Loc    *trailJSON      `json:"loc,omitempty"`
}

type trailJSON struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	Acc float64 `json:"acc"`
	At  int64   `json:"at,omitempty"` // the fix's own time
	Rx  int64   `json:"rx,omitempty"` // when Waymark received it
}

func locJSON(l pii.Location) *trailJSON {
	if l.IsZero() {
		return nil
	}
	lat, lon, acc, at := l.Reveal()
	t := &trailJSON{Lat: lat, Lon: lon, Acc: acc}
	if !at.IsZero() {
		t.At = at.UnixMilli()
	}
	return t
}

func (t *trailJSON) location() pii.Location {
	if t == nil {
		return pii.Location{}
	}
	var at time.Time
	if t.At != 0 {
		at = time.UnixMilli(t.At)
	}
	l, err := pii.NewLocation(t.Lat, t.Lon, t.Acc, at)
	if err != nil {
		return pii.Location{}
	}
	return l
}

func encodeEntry(e alert.Entry) []byte {
	b, _ := json.Marshal(entryJSON{At: e.At.UnixMilli(), Type: e.Type, By: e.By, ByName: e.ByName,
		Text: e.Text.Reveal(), Detail: e.Detail, Loc: locJSON(e.Location)})
	return b
}

func decodeEntry(seq int, b []byte) (alert.Entry, error) {
	var j entryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return alert.Entry{}, fmt.Errorf("store: timeline entry: %w", err)
	}
	return alert.Entry{Seq: seq, At: time.UnixMilli(j.At), Type: j.Type, By: j.By, ByName: j.ByName,
		Text: pii.NewText(j.Text), Detail: j.Detail, Location: j.Loc.location()}, nil
}

func encodeTrail(p alert.TrailPoint) []byte {
	t := locJSON(p.Location)
	if t == nil {
		t = &trailJSON{}
	}
	t.Rx = p.Received.UnixMilli()
	b, _ := json.Marshal(t)
	return b
}

func decodeTrail(seq int, b []byte) (alert.TrailPoint, error) {
	var j trailJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return alert.TrailPoint{}, fmt.Errorf("store: trail point: %w", err)
	}
	return alert.TrailPoint{Seq: seq, Location: j.location(), Received: time.UnixMilli(j.Rx)}, nil
}

// readAlert reads an alert's hash (and with full, its timeline and trail)
// and the sealer for it. It returns the version as stored, for guarding.
func (s *conn) readAlert(ctx context.Context, id string, full bool) (*alert.Alert, string, sealer, error) {
	pipe := s.RDB.Pipeline()
	hc := pipe.HGetAll(ctx, s.k.AlertRecord(id))
	var tl, tr *redis.MapStringStringCmd
	if full {
		tl = pipe.HGetAll(ctx, s.k.alertTimeline(id))
		tr = pipe.HGetAll(ctx, s.k.alertTrail(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, "", sealer{}, s.Wrap("read alert", err)
	}
	h := hc.Val()
	if len(h) == 0 {
		return nil, "", sealer{}, fmt.Errorf("store: alert %s: %w", id, casework.ErrNotFound)
	}
	z := sealer{s: s}
	if caseID := h[afCase]; caseID != "" {
		wrapped, err := s.RDB.Get(ctx, s.k.caseDataKey(caseID)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, "", sealer{}, s.Wrap("read alert", err)
		}
		if z, err = s.sealerFor(caseID, wrapped); err != nil {
			return nil, "", sealer{}, err
		}
	}
	a, err := s.decodeAlert(id, h, z)
	if err != nil {
		return nil, "", sealer{}, err
	}
	if full && !z.gone {
		tk, trk := s.k.alertTimeline(id), s.k.alertTrail(id)
		for _, f := range slices.Sorted(maps.Keys(tl.Val())) {
			pt, err := z.open(tk, f, []byte(tl.Val()[f]))
			if err != nil {
				return nil, "", sealer{}, err
			}
			e, err := decodeEntry(atoi(f[1:]), pt)
			if err != nil {
				return nil, "", sealer{}, err
			}
			a.Timeline = append(a.Timeline, e)
		}
		for _, f := range slices.Sorted(maps.Keys(tr.Val())) {
			pt, err := z.open(trk, f, []byte(tr.Val()[f]))
			if err != nil {
				return nil, "", sealer{}, err
			}
			p, err := decodeTrail(atoi(f[1:]), pt)
			if err != nil {
				return nil, "", sealer{}, err
			}
			a.Trail = append(a.Trail, p)
		}
	}
	return a, h[afVersion], z, nil
}

// Alert reads an alert with its timeline and trail. For an alert whose
// case was erased, the plain fields remain and nothing sealed opens.
func (s *Alerts) Alert(ctx context.Context, id string) (*alert.Alert, error) {
	return s.fullAlert(ctx, id)
}

// Alert reads an alert as Alerts.Alert does, for a closing record.
func (s *Records) Alert(ctx context.Context, id string) (*alert.Alert, error) {
	return s.fullAlert(ctx, id)
}

func (s *conn) fullAlert(ctx context.Context, id string) (*alert.Alert, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	a, _, _, err := s.readAlert(ctx, id, true)
	return a, err
}

// alertsByID reads the plain fields (and the claimer's name) of many
// alerts in one round trip, skipping any that expired.
func (s *conn) alertsByID(ctx context.Context, ids []string) ([]*alert.Alert, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.RDB.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.k.AlertRecord(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, s.Wrap("list alerts", err)
	}
	out := make([]*alert.Alert, 0, len(ids))
	for i, c := range cmds {
		if len(c.Val()) == 0 {
			continue
		}
		// Listing needs no sealed field of the case; gone skips them.
		a, err := s.decodeAlert(ids[i], c.Val(), sealer{s: s, gone: true})
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// OpenAlerts lists the open alerts, highest priority first, then oldest.
func (s *Alerts) OpenAlerts(ctx context.Context) ([]*alert.Alert, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.ZRange(ctx, s.k.openAlerts(), 0, -1).Result()
	if err != nil {
		return nil, s.Wrap("open alerts", err)
	}
	return s.alertsByID(ctx, ids)
}

// TeamAlerts lists a team's alerts raised since since, newest first.
func (s *Alerts) TeamAlerts(ctx context.Context, team string, since time.Time) ([]*alert.Alert, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	ids, err := s.RDB.ZRevRangeByScore(ctx, s.k.teamAlerts(team), &redis.ZRangeBy{
		Min: strconv.FormatInt(since.UnixMilli(), 10), Max: "+inf",
	}).Result()
	if err != nil {
		return nil, s.Wrap("team alerts", err)
	}
	return s.alertsByID(ctx, ids)
}

// OutcomeCounts counts a case's alert outcomes.
func (s *Alerts) OutcomeCounts(ctx context.Context, caseID string) (map[alert.Outcome]int, error) {
	ctx, cancel := kv.Bounded(ctx)
	defer cancel()
	h, err := s.RDB.HGetAll(ctx, s.k.caseOutcomes(caseID)).Result()
	if err != nil {
		return nil, s.Wrap("outcome counts", err)
	}
	out := make(map[alert.Outcome]int, len(h))
	for k, v := range h {
		out[alert.Outcome(k)] = atoi(v)
	}
	return out, nil
}
