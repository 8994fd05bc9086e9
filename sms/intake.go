package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
	"unicode/utf8"

	"waymark/alert"
	"waymark/casework"
	"waymark/codeword"
	"waymark/pii"
	"waymark/postcode"
	"waymark/problem"
	"waymark/staff"
)

// Cases is what the intake needs from the cases service (*alert.Cases).
type Cases interface {
	// CasesByPhone returns the cases enrolled with phone: none, one, or
	// two linked cases.
	CasesByPhone(ctx context.Context, phone pii.Phone) ([]*casework.Case, error)
	// Matcher compiles the case's words with the check-in word.
	Matcher(c *casework.Case) (*codeword.Matcher, error)
	// CheckPIN compares pin with the case's real and duress PINs, both
	// always.
	CheckPIN(c *casework.Case, pin string) (isReal, isDuress bool)
	// SetSMSBlocked records that the survivor's network now refuses our
	// texts (they sent an opt-out word).
	SetSMSBlocked(ctx context.Context, id string, blocked bool) error
}

// Alerts is what the intake needs from the alert service
// (*alert.Service): raising, and claiming for a responder's SMS reply
// exactly as the dashboard does.
type Alerts interface {
	Raise(ctx context.Context, sig alert.Signal) (alert.Result, error)
	List(ctx context.Context, p *staff.Principal, state string) ([]*alert.Alert, error)
	Get(ctx context.Context, p *staff.Principal, id string) (*alert.View, error)
	Ack(ctx context.Context, p *staff.Principal, id string) error
}

// Staff recognises responders' page phones (*staff.Service).
type Staff interface {
	// ByPhone returns the enabled account whose page phone is p, or an
	// error wrapping problem.ErrNotFound.
	ByPhone(ctx context.Context, p pii.Phone) (*staff.Account, error)
}

var (
	_ Cases  = (*casework.Cases)(nil)
	_ Alerts = (*alert.Service)(nil)
	_ Staff  = (*staff.Service)(nil)
)

// IntakeConfig wires an Intake.
type IntakeConfig struct {
	Cases  Cases
	Alerts Alerts
	// Staff may be nil: then no sender is recognised as staff.
	Staff Staff
	// Postcodes resolves a postcode in a message to a rough location; nil
	// turns that off.
	Postcodes *postcode.Directory
	// TriageTeam receives what unknown senders raise (WAYMARK_TRIAGE_TEAM).
	TriageTeam string
	// CodeWords are the deployment-wide code words that raise a panic
	// from an unknown sender (WAYMARK_SMS_CODE_WORDS).
	CodeWords []string
	Now       func() time.Time
	Logger    *slog.Logger
}

// Intake turns verified inbound texts into alert signals.
type Intake struct {
	cfg     IntakeConfig
	unknown *codeword.Matcher // deployment-wide words, for unknown senders
	log     *slog.Logger
}

// NewIntake checks cfg and compiles the deployment-wide code words.
func NewIntake(cfg IntakeConfig) (*Intake, error) {
	if cfg.Cases == nil || cfg.Alerts == nil {
		return nil, errors.New("sms: intake needs cases and alerts")
	}
	if cfg.TriageTeam == "" {
		return nil, errors.New("sms: intake needs a triage team")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := codeword.Compile(codeword.Words{Code: cfg.CodeWords})
	if err != nil {
		// The error would name the word; the setting is enough.
		return nil, errors.New("sms: WAYMARK_SMS_CODE_WORDS holds a word with no letters or digits")
	}
	return &Intake{cfg: cfg, unknown: m, log: cfg.Logger}, nil
}

// Outcome says what the intake made of a text, for metrics and tests. It
// never reaches the sender: every sender gets the same answer.
type Outcome string

// Outcomes of Receive.
const (
	OutcomeCase       Outcome = "case"        // raised for one or more cases
	OutcomeTriage     Outcome = "triage"      // unknown sender: a code word, to triage
	OutcomeTriageNote Outcome = "triage-note" // unknown sender, other text: low priority
	OutcomeStaffAck   Outcome = "staff-ack"   // a responder's ACK claimed an alert
	OutcomeStaff      Outcome = "staff"       // anything else from a staff phone: ignored
)

// Receive handles one verified inbound text. It returns only once every
// signal is stored (an error wrapping problem.ErrUnavailable when Redis is
// slow or down: Twilio then retries, and the dedupe keys make that safe).
func (i *Intake) Receive(ctx context.Context, in Inbound) (Outcome, error) {
	var cases []*casework.Case
	if !in.From.IsZero() {
		// The staff and case lookups are independent Redis round trips:
		// run them side by side, then let staff win.
		type staffResult struct {
			acct *staff.Account
			err  error
		}
		staffc := make(chan staffResult, 1)
		if i.cfg.Staff != nil {
			go func() {
				a, err := i.cfg.Staff.ByPhone(ctx, in.From)
				staffc <- staffResult{a, err}
			}()
		} else {
			staffc <- staffResult{err: errNotStaff}
		}
		cs, caseErr := i.cfg.Cases.CasesByPhone(ctx, in.From)
		sr := <-staffc
		switch {
		case sr.err == nil && sr.acct != nil:
			return i.fromStaff(ctx, sr.acct, in)
		case sr.err != nil && !isNotFound(sr.err):
			return "", fmt.Errorf("sms: staff lookup: %w", sr.err)
		case caseErr != nil:
			return "", fmt.Errorf("sms: case lookup: %w", caseErr)
		}
		cases = cs
	}
	if len(cases) == 0 {
		return i.fromUnknown(ctx, in)
	}
	// One phone on two linked cases: the signal reaches both teams. Each
	// case's words are its own, so each is matched separately.
	for _, c := range cases {
		if err := i.forCase(ctx, c, in); err != nil {
			return "", err
		}
	}
	return OutcomeCase, nil
}

func isNotFound(err error) bool { return errors.Is(err, problem.ErrNotFound) }

// errNotStaff stands in for the staff lookup when no directory is wired.
var errNotStaff = fmt.Errorf("sms: no staff directory: %w", problem.ErrNotFound)

// isClaimed reports an alert someone else claimed first, or one that
// changed state meanwhile: an SMS ack then simply does not apply.
func isClaimed(err error) bool {
	var c *problem.Claimed
	return errors.As(err, &c) || errors.Is(err, problem.ErrConflict)
}

// forCase raises what in means for one enrolled case.
func (i *Intake) forCase(ctx context.Context, c *casework.Case, in Inbound) error {
	m, err := i.cfg.Cases.Matcher(c)
	if err != nil {
		// Stored words that no longer compile must not lose the text:
		// it still reaches the team as a message.
		i.log.Warn("case words do not compile; raising the text as a message", "case", c.ID)
		m = nil
	}
	match := codeword.Match{Kind: codeword.Message}
	if m != nil {
		match = m.Match(in.Body.Reveal())
	}
	sig := i.signal(in)
	sig.CaseID = c.ID
	sig.DedupeKey = "sms:" + c.ID + "." + in.MessageSID
	if match.PIN != "" {
		// A check-in word and PIN. Both comparisons always run, so a
		// duress PIN takes as long as the real one; the answer is the same.
		isReal, isDuress := i.cfg.Cases.CheckPIN(c, match.PIN)
		switch {
		case isDuress:
			sig.PIN = casework.PINDuress
		case isReal:
			sig.PIN = casework.PINReal
		default:
			sig.PIN = casework.PINWrong
		}
	}
	switch match.Kind {
	case codeword.Duress:
		sig.Kind, sig.DuressWord = alert.KindPanic, true
	case codeword.Panic:
		// "OK 1234 rose garden": the code word wins; a duress PIN in
		// front of it still makes it duress (Signal.Duress).
		sig.Kind = alert.KindPanic
	case codeword.CheckIn:
		sig.Kind = alert.KindCheckin
	default:
		sig.Kind = alert.KindMessage
	}
	sig.Location = i.locate(match, in)
	sig.Unconfirmed = match.Unconfirmed
	sig.Hint = pii.NewText(match.Hint)
	switch {
	case match.OptOut:
		// Twilio now refuses our texts to this number: record it, and
		// the message alert below tells the team.
		if err := i.cfg.Cases.SetSMSBlocked(ctx, c.ID, true); err != nil {
			return fmt.Errorf("sms: mark case %s sms-blocked: %w", c.ID, err)
		}
	case match.CarrierKeyword && c.SMSBlocked && optIn(in.Body.Reveal()):
		// START, UNSTOP or YES lifts Twilio's block again.
		if err := i.cfg.Cases.SetSMSBlocked(ctx, c.ID, false); err != nil {
			return fmt.Errorf("sms: clear case %s sms-blocked: %w", c.ID, err)
		}
	}
	fit(&sig)
	if _, err := i.cfg.Alerts.Raise(ctx, sig); err != nil {
		return fmt.Errorf("sms: raise for case %s: %w", c.ID, err)
	}
	i.log.Info("sms signal", "case", c.ID, "kind", string(sig.Kind), "media", len(in.Media), "unconfirmed", match.Unconfirmed)
	return nil
}

// optIn reports whether body is one of Twilio's opt-in keywords alone.
func optIn(body string) bool {
	f := codeword.Fields(body)
	return len(f) == 1 && (f[0] == "start" || f[0] == "unstop" || f[0] == "yes")
}

// fromUnknown raises what a text from a number on no case means: a
// deployment code word is a panic for triage; anything else is a
// low-priority message in the triage queue.
func (i *Intake) fromUnknown(ctx context.Context, in Inbound) (Outcome, error) {
	match := i.unknown.Match(in.Body.Reveal())
	sig := i.signal(in)
	sig.Team = i.cfg.TriageTeam
	sig.Sender = in.From
	sig.DedupeKey = "sms:" + in.MessageSID
	out := OutcomeTriageNote
	sig.Kind = alert.KindMessage
	if match.Kind == codeword.Panic || match.Kind == codeword.Duress {
		sig.Kind, out = alert.KindPanic, OutcomeTriage
	}
	sig.Location = i.locate(match, in)
	sig.Unconfirmed = match.Unconfirmed
	sig.Hint = pii.NewText(match.Hint)
	fit(&sig)
	if _, err := i.cfg.Alerts.Raise(ctx, sig); err != nil {
		return "", fmt.Errorf("sms: raise for triage: %w", err)
	}
	i.log.Info("sms signal", "case", "", "kind", string(sig.Kind), "media", len(in.Media), "unconfirmed", match.Unconfirmed)
	return out, nil
}

// signal is the part of every signal that comes from the text itself: the
// body, byte-exact. The alert service seals it; responders see it for a
// plain message, and only the Hint for a text that matched a code word
// (the body holds the word, perhaps a PIN).
func (i *Intake) signal(in Inbound) alert.Signal {
	return alert.Signal{
		Source:  alert.SourceSMS,
		Message: in.Body,
		Media:   len(in.Media),
		At:      i.cfg.Now(),
	}
}

// Accuracy given to a location resolved from a postcode: the radius a
// sector or district centroid typically stands for.
const (
	sectorAccuracyM   = 1500
	districtAccuracyM = 6000
)

// locate resolves a UK postcode in the free text around the code word (or,
// for a plain message, anywhere in it) to a rough location. It is a hint
// for the responder, never a fix from the phone.
func (i *Intake) locate(m codeword.Match, in Inbound) pii.Location {
	if i.cfg.Postcodes == nil {
		return pii.Location{}
	}
	text := m.Hint
	if m.Kind == codeword.Message {
		text = in.Body.Reveal()
	}
	pc, ok := postcode.Find(text)
	if !ok {
		return pii.Location{}
	}
	pt, kind, err := i.cfg.Postcodes.Resolve(pc.Area())
	if err != nil {
		return pii.Location{}
	}
	acc := float64(districtAccuracyM)
	if kind == postcode.Sector {
		acc = sectorAccuracyM
	}
	loc, err := pii.NewLocation(pt.Lat, pt.Lon, acc, i.cfg.Now())
	if err != nil {
		return pii.Location{}
	}
	return loc
}

// fromStaff handles a text from a staff member's page phone. "ACK <alias>"
// claims the open alert of that case in their teams, exactly as the
// dashboard's claim does; anything else is ignored, never treated as a
// survivor's text.
func (i *Intake) fromStaff(ctx context.Context, acct *staff.Account, in Inbound) (Outcome, error) {
	words := codeword.Fields(in.Body.Reveal())
	if len(words) < 2 || words[0] != "ack" {
		i.log.Info("sms from a staff phone ignored", "staff", acct.ID)
		return OutcomeStaff, nil
	}
	target := words[1:]
	p := &staff.Principal{
		StaffID:     acct.ID,
		Username:    acct.Username,
		DisplayName: acct.DisplayName,
		Roles:       slices.Clone(acct.Roles),
		Teams:       slices.Clone(acct.Teams),
	}
	open, err := i.cfg.Alerts.List(ctx, p, "open")
	if err != nil {
		return "", fmt.Errorf("sms: list alerts for ack: %w", err)
	}
	var hits []string
	for _, a := range open {
		if slices.Equal(codeword.Fields(a.ID), target) {
			hits = append(hits, a.ID)
			continue
		}
		if a.CaseID == "" {
			continue
		}
		v, err := i.cfg.Alerts.Get(ctx, p, a.ID)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return "", fmt.Errorf("sms: read alert %s for ack: %w", a.ID, err)
		}
		if v.Case != nil && slices.Equal(codeword.Fields(v.Case.Alias.Reveal()), target) {
			hits = append(hits, a.ID)
		}
	}
	if len(hits) != 1 {
		// Nothing or more than one alert fits: claiming a guess would
		// leave the right alert unclaimed while it looks taken.
		i.log.Info("sms ack matched no single open alert", "staff", acct.ID, "matches", len(hits))
		return OutcomeStaff, nil
	}
	if err := i.cfg.Alerts.Ack(ctx, p, hits[0]); err != nil {
		if isNotFound(err) || isClaimed(err) {
			i.log.Info("sms ack not applied", "staff", acct.ID, "alert", hits[0], "err", err)
			return OutcomeStaff, nil
		}
		return "", fmt.Errorf("sms: ack alert %s: %w", hits[0], err)
	}
	i.log.Info("alert claimed by sms", "staff", acct.ID, "alert", hits[0])
	return OutcomeStaffAck, nil
}

// fit makes sure the alert service takes the text, because a text refused
// here is a survivor's alert lost: Twilio does not resend it. The signal
// rules take any text one SMS can hold (1,600 characters of any script),
// empty or media only included, byte-exact; a body longer than that (no
// phone sends one) is cut at a character boundary with a marker rather
// than lose the alert.
func fit(sig *alert.Signal) {
	body := sig.Message.Reveal()
	if len(body) <= alert.MaxMessage {
		return
	}
	const mark = " [cut: the text was longer]"
	cut := alert.MaxMessage - len(mark)
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	sig.Message = pii.NewText(body[:cut] + mark)
}
