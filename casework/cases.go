package casework

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"waymark/audit"
	"waymark/codeword"
	"waymark/internal/randid"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// CasesOptions configures Cases.
type CasesOptions struct {
	Store CaseStore
	PINs  PINHasher
	// CheckinWord is the deployment's SMS check-in word (WAYMARK_SMS_CHECKIN_WORD);
	// no code or duress word may clash with it.
	CheckinWord string
	// Lifetime is how long a case lasts after enrolment or renewal
	// (WAYMARK_CASE_LIFETIME); zero means DefaultCaseLifetime.
	Lifetime time.Duration
	// RevealLimit is reveals per staff member per hour; zero means
	// DefaultRevealLimit.
	RevealLimit int
	Now         func() time.Time
	Logger      *slog.Logger
}

// Cases enrols, updates, renews, reveals and erases survivors' cases, and
// answers the intake's questions about them (by phone, by device token, PIN
// checks). Methods taking a *staff.Principal enforce the access rules: staff
// act only on cases of their teams, and staff a case excludes see nothing of
// it anywhere (the answer is the same as for a case that does not exist).
type Cases struct {
	st          CaseStore
	pins        PINHasher
	checkin     string
	lifetime    time.Duration
	revealLimit int
	now         func() time.Time
	log         *slog.Logger
}

// NewCases returns the case service.
func NewCases(o CasesOptions) (*Cases, error) {
	if o.Store == nil || o.PINs == nil {
		return nil, errors.New("alert: cases need a store and a PIN hasher")
	}
	c := &Cases{st: o.Store, pins: o.PINs, checkin: o.CheckinWord, lifetime: o.Lifetime,
		revealLimit: o.RevealLimit, now: o.Now, log: o.Logger}
	if c.lifetime <= 0 {
		c.lifetime = DefaultCaseLifetime
	}
	if c.revealLimit <= 0 {
		c.revealLimit = DefaultRevealLimit
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// --- access ------------------------------------------------------------------

// visible reports whether p may see c at all: never if excluded, else only
// within their teams.
func visible(p *staff.Principal, c *Case) bool {
	return p != nil && !c.Excludes(p.StaffID) && p.InTeam(c.Team)
}

// caseFor loads the plain fields of id for p, answering ErrNotFound for a
// case p may not see exactly as for one that does not exist.
func (s *Cases) caseFor(ctx context.Context, p *staff.Principal, id string) (*Case, error) {
	if !ValidCaseID(id) {
		return nil, ErrNotFound
	}
	c, err := s.st.LoadCaseMeta(ctx, id)
	if err != nil {
		return nil, err
	}
	if !visible(p, c) {
		return nil, ErrNotFound
	}
	return c, nil
}

func (s *Cases) audit(ctx context.Context, p *staff.Principal, action, caseID, outcome string, reason pii.Text) {
	actor := audit.ActorSystem
	if p != nil {
		actor = p.StaffID
	}
	s.auditAs(ctx, actor, action, caseID, outcome, reason)
}

func (s *Cases) auditAs(ctx context.Context, actor, action, caseID, outcome string, reason pii.Text) {
	err := s.st.AppendAudit(ctx, audit.AuditEntry{At: s.now(), Actor: actor, Action: action, CaseID: caseID, Reason: reason, Outcome: outcome})
	if err != nil {
		// The action already happened; the log keeps the failure visible
		// to operators without failing the caseworker's request.
		s.log.Error("audit append failed", "action", action, "case", caseID, "err", err)
	}
}

// --- caseworker operations -------------------------------------------------

// Create enrols a new case for p (a caseworker of its team).
func (s *Cases) Create(ctx context.Context, p *staff.Principal, in CaseInput) (*Case, error) {
	c, inv := s.build(p, in, &Case{ID: randid.New("c_", 20)}, true)
	if inv.Err() != nil {
		return nil, inv
	}
	now := s.now()
	c.CreatedAt, c.RenewedAt, c.ExpiresAt = now, now, now.Add(s.lifetime)
	if err := s.checkLinked(ctx, p, c, inv); err != nil {
		return nil, err
	}
	if inv.Err() != nil {
		return nil, inv
	}
	for attempt := 0; ; attempt++ {
		others, snap, err := s.st.CasesByPhone(ctx, c.Phone)
		if err != nil {
			return nil, err
		}
		s.placePhone(p, c, others, inv, false)
		if err := inv.Err(); err != nil {
			s.audit(ctx, p, "case.create", "", "refused: phone already on a case", pii.Text{})
			return nil, err
		}
		err = s.st.CreateCase(ctx, c, snap)
		if errors.Is(err, ErrCaseStale) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	outcome, err := s.afterPhone(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, p, "case.create", c.ID, outcome, pii.Text{})
	return c, nil
}

// placePhone decides where c's phone goes given the other cases it is on.
// A clash with a case p may not see (another team's, or one p is excluded
// from) must not change p's answer: the phone is held, out of the blind
// index, for an administrator's review, and p is answered as if there
// were no clash. A clash only with cases p can see follows phoneRule.
// backLink: see phoneRule.
func (s *Cases) placePhone(p *staff.Principal, c *Case, others []*Case, inv *problem.Invalid, backLink bool) {
	c.PhoneHeld = false
	for _, o := range others {
		if o.ID != c.ID && (!visible(p, o) || o.Team != c.Team) {
			c.PhoneHeld = true
			return
		}
	}
	s.phoneRule(c, others, inv, backLink)
}

// afterPhone queues or dequeues c's phone review and completes links: the
// case c now links to links back, and a case it no longer links to is
// unlinked (prev is c before the change, nil for a new case). It returns
// the audit outcome.
func (s *Cases) afterPhone(ctx context.Context, c, prev *Case) (string, error) {
	if prev == nil || prev.PhoneHeld != c.PhoneHeld {
		if err := s.st.SetPhoneReview(ctx, c.ID, s.now(), c.PhoneHeld); err != nil {
			return "", err
		}
	}
	if prev != nil && prev.LinkedCase != "" && prev.LinkedCase != c.LinkedCase {
		if err := s.st.SetCaseLink(ctx, prev.LinkedCase, c.ID, ""); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
			return "", err
		}
	}
	if c.LinkedCase != "" && (prev == nil || prev.LinkedCase != c.LinkedCase) {
		if err := s.st.SetCaseLink(ctx, c.LinkedCase, "", c.ID); err != nil && !errors.Is(err, ErrConflict) {
			return "", err
		}
	}
	if c.PhoneHeld {
		return "ok: phone held for review", nil
	}
	return "ok", nil
}

// checkLinked refuses a linked case that does not exist or that p may not
// know of, in the same words.
func (s *Cases) checkLinked(ctx context.Context, p *staff.Principal, c *Case, inv *problem.Invalid) error {
	if c.LinkedCase == "" || hasField(inv, "linked_case") {
		return nil
	}
	l, err := s.st.LoadCaseMeta(ctx, c.LinkedCase)
	// A case p may not see answers as one that does not exist.
	if errors.Is(err, problem.ErrNotFound) || (err == nil && (!visible(p, l) || l.ID == c.ID)) {
		inv.Add("linked_case", "must be the id of another case")
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case l.Team != c.Team:
		inv.Add("linked_case", "a link to another team's case is made by an administrator")
	case l.LinkedCase != "" && l.LinkedCase != c.ID:
		inv.Add("linked_case", "that case is already linked to another case")
	}
	return nil
}

// phoneRule allows a phone already on another case only when the two cases
// are linked and no word of one clashes with a word of the other: a signal
// from that phone then reaches both cases, and its word says which one.
//
// Links are kept on both cases; backLink also accepts a link held only by
// the other case (made before both sides were kept), for an update that
// leaves c's own link alone.
func (s *Cases) phoneRule(c *Case, all []*Case, inv *problem.Invalid, backLink bool) {
	var others []*Case
	for _, o := range all {
		if o.ID != c.ID {
			others = append(others, o)
		}
	}
	if len(others) == 0 {
		return
	}
	if len(others) > 1 {
		inv.Add("phone", "is already on two cases")
		return
	}
	o := others[0]
	if c.LinkedCase != o.ID && !(backLink && c.LinkedCase == "" && o.LinkedCase == c.ID) {
		inv.Add("phone", "is already on another case; it can be enrolled again only with linked_case naming that case")
		return
	}
	mine := append(slices.Clone(c.CodeWords), c.DuressWords...)
	theirs := append(slices.Clone(o.CodeWords), o.DuressWords...)
	for i, w := range mine {
		for _, v := range theirs {
			if errors.Is(codeword.CheckWords([]string{w, v}, nil, ""), codeword.ErrClash) {
				name := fmt.Sprintf("code_words[%d]", i)
				if i >= len(c.CodeWords) {
					name = fmt.Sprintf("duress_words[%d]", i-len(c.CodeWords))
				}
				// The other case's word is not named: the caseworker may
				// not be allowed to see that case.
				inv.Add(name, fmt.Sprintf("%q clashes with a word of the linked case on the same phone", w))
				break
			}
		}
	}
}

// Get returns the case for p, with its devices. Callers show no PIN hash,
// word, phone or safety note from it: those leave only through Reveal.
func (s *Cases) Get(ctx context.Context, p *staff.Principal, id string) (*Case, error) {
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return nil, err
	}
	c, err := s.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Devices, err = s.st.Devices(ctx, id); err != nil {
		return nil, err
	}
	return c, nil
}

// List returns the aliases and risk levels of team's cases that p may see.
func (s *Cases) List(ctx context.Context, p *staff.Principal, team string) ([]CaseSummary, error) {
	if !p.InTeam(team) {
		return nil, fmt.Errorf("alert: list cases of team %s: %w", team, ErrNotAllowed)
	}
	cs, err := s.st.TeamCases(ctx, team)
	if err != nil {
		return nil, err
	}
	out := make([]CaseSummary, 0, len(cs))
	for _, c := range cs {
		if c.Excludes(p.StaffID) {
			continue
		}
		out = append(out, CaseSummary{ID: c.ID, Alias: c.Alias, Risk: c.Risk})
	}
	return out, nil
}

// Update applies in to the case. A changed phone, word or link is checked
// against the one-phone-two-cases rule again.
func (s *Cases) Update(ctx context.Context, p *staff.Principal, id string, in CaseInput) (*Case, error) {
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		prev, err := s.st.LoadCase(ctx, id)
		if err != nil {
			return nil, err
		}
		c, inv := s.build(p, in, prev, false)
		if in.LinkedCase != nil && c.LinkedCase != prev.LinkedCase {
			if err := s.checkLinked(ctx, p, c, inv); err != nil {
				return nil, err
			}
		}
		if inv.Err() != nil {
			return nil, inv
		}
		var snap PhoneSnapshot
		if in.Phone != nil || in.CodeWords != nil || in.DuressWords != nil || in.LinkedCase != nil {
			others, sn, err := s.st.CasesByPhone(ctx, c.Phone)
			if err != nil {
				return nil, err
			}
			snap = sn
			s.placePhone(p, c, others, inv, in.LinkedCase == nil)
			if err := inv.Err(); err != nil {
				return nil, err
			}
		}
		err = s.st.UpdateCase(ctx, c, prev, snap)
		if errors.Is(err, ErrCaseStale) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		c.Version++
		outcome, err := s.afterPhone(ctx, c, prev)
		if err != nil {
			return nil, err
		}
		s.audit(ctx, p, "case.update", id, outcome, pii.Text{})
		return c, nil
	}
}

// Renew extends the case by the configured lifetime from now.
func (s *Cases) Renew(ctx context.Context, p *staff.Principal, id string) (*Case, error) {
	c, err := s.caseFor(ctx, p, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c.RenewedAt, c.ExpiresAt, c.Expired = now, now.Add(s.lifetime), false
	if err := s.st.RenewCase(ctx, id, c.RenewedAt, c.ExpiresAt); err != nil {
		return nil, err
	}
	s.audit(ctx, p, "case.renew", id, "ok", pii.Text{})
	return c, nil
}

// OpenPractice opens a practice window of d (at most MaxPractice) on the
// case, replacing any open one: until it ends, what the survivor raises
// (except duress or a missed check-in) reaches only p, marked PRACTICE, and
// turns real unless p acknowledges it within PracticeAckWait. Only a
// caseworker who may see the case opens one. The window's end is returned.
func (s *Cases) OpenPractice(ctx context.Context, p *staff.Principal, id string, d time.Duration) (PracticeWindow, error) {
	if p == nil || !p.Has(staff.RoleCaseworker) {
		return PracticeWindow{}, ErrNotAllowed
	}
	if d <= 0 || d > MaxPractice {
		return PracticeWindow{}, problem.Invalidf("minutes", "must be between 1 and 30")
	}
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return PracticeWindow{}, err
	}
	w := PracticeWindow{Until: s.now().Add(d), By: p.StaffID}
	if err := s.st.SetPractice(ctx, id, w); err != nil {
		return PracticeWindow{}, err
	}
	s.audit(ctx, p, "case.practice", id, fmt.Sprintf("ok: open for %d min", int(d/time.Minute)), pii.Text{})
	return w, nil
}

// ClosePractice ends the case's practice window now: from then on every
// signal is real. Closing a case with no window open is not an error.
func (s *Cases) ClosePractice(ctx context.Context, p *staff.Principal, id string) error {
	if p == nil || !p.Has(staff.RoleCaseworker) {
		return ErrNotAllowed
	}
	if _, err := s.caseFor(ctx, p, id); err != nil {
		return err
	}
	if err := s.st.SetPractice(ctx, id, PracticeWindow{}); err != nil {
		return err
	}
	s.audit(ctx, p, "case.practice", id, "ok: closed", pii.Text{})
	return nil
}

// Erase destroys the case and everything that leads to it. A case on legal
// hold, or with an alert still open, is refused with a conflict.
func (s *Cases) Erase(ctx context.Context, p *staff.Principal, id string) error {
	c, err := s.caseFor(ctx, p, id)
	if err != nil {
		return err
	}
	if c.LegalHold {
		s.audit(ctx, p, "case.erase", id, "refused: legal hold", pii.Text{})
		return ErrLegalHold
	}
	state, _, err := s.st.OpenAlertClaim(ctx, id)
	if err != nil {
		return err
	}
	if openState(state) {
		s.audit(ctx, p, "case.erase", id, "refused: open alert", pii.Text{})
		return ErrCaseOpenWork
	}
	if err := s.st.EraseCase(ctx, id); err != nil {
		if errors.Is(err, ErrLegalHold) {
			s.audit(ctx, p, "case.erase", id, "refused: legal hold", pii.Text{})
		}
		return err
	}
	// The erased case leaves no review and no half link behind.
	if err := s.st.SetPhoneReview(ctx, id, s.now(), false); err != nil {
		return err
	}
	if c.LinkedCase != "" {
		if err := s.st.SetCaseLink(ctx, c.LinkedCase, id, ""); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
			return err
		}
	}
	s.audit(ctx, p, "case.erase", id, "ok", pii.Text{})
	return nil
}

// PhoneReviews lists, for an administrator, the cases whose phone is held
// because it is on another case its caseworker may not see: ids and teams,
// nothing about the survivor.
func (s *Cases) PhoneReviews(ctx context.Context, p *staff.Principal) ([]PhoneReview, error) {
	if p == nil || !p.Has(staff.RoleAdmin) {
		return nil, ErrNotAllowed
	}
	rs, err := s.st.PhoneReviews(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PhoneReview, 0, len(rs))
	for _, r := range rs {
		c, err := s.st.LoadCase(ctx, r.Case)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r.Team = c.Team
		others, _, err := s.st.CasesByPhone(ctx, c.Phone)
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			if o.ID != c.ID {
				r.Others = append(r.Others, CaseRef{ID: o.ID, Team: o.Team})
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// DecidePhoneReview is an administrator's decision on a held phone. link
// links the case with the one other case the phone is on (across teams if
// need be; both then show the link) and releases the phone, so signals
// from it reach both cases, each by its own words; otherwise the cases are
// kept apart and the phone stays held (the caseworkers are told by the
// administrator, not by Waymark).
func (s *Cases) DecidePhoneReview(ctx context.Context, p *staff.Principal, id string, link bool) error {
	if p == nil || !p.Has(staff.RoleAdmin) {
		return ErrNotAllowed
	}
	if !ValidCaseID(id) {
		return ErrNotFound
	}
	for attempt := 0; ; attempt++ {
		prev, err := s.st.LoadCase(ctx, id)
		if err != nil {
			return err
		}
		if !prev.PhoneHeld {
			return ErrNotFound
		}
		if !link {
			if err := s.st.SetPhoneReview(ctx, id, s.now(), false); err != nil {
				return err
			}
			s.audit(ctx, p, "case.phone_review", id, "ok: kept apart", pii.Text{})
			return nil
		}
		others, snap, err := s.st.CasesByPhone(ctx, prev.Phone)
		if err != nil {
			return err
		}
		c := *prev
		c.PhoneHeld = false
		var o *Case
		for _, x := range others {
			if x.ID != id {
				if o != nil {
					return fmt.Errorf("alert: phone of case %s is on two cases: %w", id, ErrConflict)
				}
				o = x
			}
		}
		if o != nil {
			if (o.LinkedCase != "" && o.LinkedCase != id) || (prev.LinkedCase != "" && prev.LinkedCase != o.ID) {
				return fmt.Errorf("alert: case %s or %s links elsewhere: %w", id, o.ID, ErrConflict)
			}
			c.LinkedCase = o.ID
			// The administrator sees no word: a clash is a conflict.
			inv := &problem.Invalid{}
			if s.phoneRule(&c, others, inv, false); inv.Err() != nil {
				return fmt.Errorf("alert: words of cases %s and %s clash: %w", id, o.ID, ErrConflict)
			}
		}
		err = s.st.UpdateCase(ctx, &c, prev, snap)
		if errors.Is(err, ErrCaseStale) && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := s.afterPhone(ctx, &c, prev); err != nil {
			return err
		}
		s.audit(ctx, p, "case.phone_review", id, "ok: linked", pii.Text{})
		return nil
	}
}

func openState(state string) bool {
	return state == "raised" || state == "acknowledged" || state == "working"
}

// SetLegalHold puts the case on legal hold or lifts it (admin): a held case
// neither expires nor can be erased. Admins see no survivor data, so nothing
// of the case is returned.
func (s *Cases) SetLegalHold(ctx context.Context, p *staff.Principal, id string, hold bool) error {
	if !p.Has(staff.RoleAdmin) {
		return ErrNotAllowed
	}
	if !ValidCaseID(id) {
		return ErrNotFound
	}
	c, err := s.st.LoadCaseMeta(ctx, id)
	if err != nil {
		return err
	}
	if c.Excludes(p.StaffID) {
		return ErrNotFound
	}
	if err := s.st.SetCaseFlag(ctx, id, "legal_hold", hold); err != nil {
		return err
	}
	s.audit(ctx, p, "case.legal_hold", id, fmt.Sprintf("ok: hold=%t", hold), pii.Text{})
	return nil
}

// Reveal returns the phone number and safety notes of the case to a
// responder who has claimed its open alert (acknowledged or working, owned
// by them) or to its owner caseworker, after a sign-in within the last five
// minutes, within the reveal rate limit, with a reason. Every reveal and
// every refusal goes to the audit trail.
func (s *Cases) Reveal(ctx context.Context, p *staff.Principal, id, reason string) (Revealed, error) {
	reason = strings.TrimSpace(reason)
	why := pii.NewText(reason)
	refuse := func(outcome string, err error) (Revealed, error) {
		s.audit(ctx, p, "case.reveal", AuditID(id), "refused: "+outcome, why)
		return Revealed{}, err
	}
	if p == nil {
		return Revealed{}, ErrNotAllowed
	}
	if msg := CheckText(reason, MaxReason, true); msg != "" {
		return Revealed{}, problem.Invalidf("reason", msg)
	}
	ok, err := s.st.TakeReveal(ctx, p.StaffID, s.revealLimit, RevealWindow)
	if err != nil {
		return Revealed{}, err
	}
	if !ok {
		return refuse("rate limit", ErrRevealLimit)
	}
	if !ValidCaseID(id) {
		return refuse("not found", ErrNotFound)
	}
	meta, err := s.st.LoadCaseMeta(ctx, id)
	if errors.Is(err, problem.ErrNotFound) {
		return refuse("not found", ErrNotFound)
	}
	if err != nil {
		return Revealed{}, err
	}
	if meta.Excludes(p.StaffID) {
		return refuse("excluded", ErrNotFound)
	}
	allowed := p.StaffID == meta.Owner && p.Has(staff.RoleCaseworker) && p.InTeam(meta.Team)
	if !allowed && p.Has(staff.RoleResponder) {
		state, owner, err := s.st.OpenAlertClaim(ctx, id)
		if err != nil {
			return Revealed{}, err
		}
		allowed = (state == "acknowledged" || state == "working") && owner == p.StaffID
	}
	if !allowed && !p.InTeam(meta.Team) {
		// Another team's case answers as a missing one (docs/roles.md).
		return refuse("other team", ErrNotFound)
	}
	if !allowed {
		return refuse("no claim", ErrNotAllowed)
	}
	if p.AuthAt.IsZero() || s.now().Sub(p.AuthAt) > RevealReauth {
		return refuse("sign-in too old", ErrReauth)
	}
	c, err := s.st.LoadCase(ctx, id)
	if err != nil {
		return Revealed{}, err
	}
	// The entry records the contact verdict at this moment: a number
	// revealed for the police under DO NOT CONTACT reads differently from
	// one revealed inside a call window.
	duress, err := s.st.OpenAlertDuress(ctx, id)
	if err != nil {
		return Revealed{}, err
	}
	now := s.now()
	v := c.Contact.VerdictAt(now, duress)
	// A reveal that cannot be recorded does not happen.
	if err := s.st.AppendAudit(ctx, audit.AuditEntry{At: now, Actor: p.StaffID, Action: "case.reveal",
		CaseID: id, Reason: why, Outcome: "ok: verdict " + string(v.Code)}); err != nil {
		return Revealed{}, err
	}
	return Revealed{Phone: c.Phone, SafetyNotes: c.SafetyNotes}, nil
}

// ContactPhone is the survivor's phone for a call or text through
// Waymark (package contact), which has already checked the claim and the
// verdict. The number goes to Twilio only, never to the responder.
func (s *Cases) ContactPhone(ctx context.Context, id string) (pii.Phone, error) {
	if !ValidCaseID(id) {
		return pii.Phone{}, ErrNotFound
	}
	c, err := s.st.LoadCase(ctx, id)
	if err != nil {
		return pii.Phone{}, err
	}
	return c.Phone, nil
}

// auditID keeps a malformed id from the path out of the audit trail.
func AuditID(id string) string {
	if ValidCaseID(id) {
		return id
	}
	return "(malformed)"
}
