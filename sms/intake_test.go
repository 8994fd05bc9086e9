package sms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"waymark/alert"
	"waymark/casework"
	"waymark/codeword"
	"waymark/pii"
	"waymark/postcode"
	"waymark/problem"
	"waymark/staff"
)

// Hand-written fakes of the intake's collaborators. The server package's
// tests run the intake against the real services on a real Redis; these
// pin the decisions themselves.

type fakeCases struct {
	byPhone   map[string][]*casework.Case
	pins      map[string][2]string // case id → real, duress
	blocked   []string
	unblocked []string
	err       error
}

func (f *fakeCases) CasesByPhone(_ context.Context, p pii.Phone) ([]*casework.Case, error) {
	return f.byPhone[p.Reveal()], f.err
}

func (f *fakeCases) Matcher(c *casework.Case) (*codeword.Matcher, error) {
	return codeword.Compile(codeword.Words{Code: c.CodeWords, Duress: c.DuressWords, CheckIn: "OK"})
}

func (f *fakeCases) CheckPIN(c *casework.Case, pin string) (bool, bool) {
	p := f.pins[c.ID]
	return pin == p[0], pin == p[1]
}

func (f *fakeCases) SetSMSBlocked(_ context.Context, id string, blocked bool) error {
	if blocked {
		f.blocked = append(f.blocked, id)
	} else {
		f.unblocked = append(f.unblocked, id)
	}
	return nil
}

type fakeAlerts struct {
	mu      sync.Mutex
	raised  []alert.Signal
	err     error
	open    []*alert.Alert
	aliases map[string]string // alert id → alias
	acked   []string
	ackErr  error
}

func (f *fakeAlerts) Raise(_ context.Context, sig alert.Signal) (alert.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return alert.Result{}, f.err
	}
	if err := sig.Validate(); err != nil {
		return alert.Result{}, err
	}
	f.raised = append(f.raised, sig)
	return alert.Result{AlertID: "a_x"}, nil
}

func (f *fakeAlerts) List(context.Context, *staff.Principal, string) ([]*alert.Alert, error) {
	return f.open, nil
}

func (f *fakeAlerts) Get(_ context.Context, _ *staff.Principal, id string) (*alert.View, error) {
	for _, a := range f.open {
		if a.ID == id {
			return &alert.View{Alert: a, Case: &casework.CaseBrief{Alias: pii.NewText(f.aliases[id])}}, nil
		}
	}
	return nil, casework.ErrNotFound
}

func (f *fakeAlerts) Ack(_ context.Context, p *staff.Principal, id string) error {
	if f.ackErr != nil {
		return f.ackErr
	}
	f.acked = append(f.acked, p.StaffID+":"+id)
	return nil
}

type fakeStaff struct {
	byPhone map[string]*staff.Account
	err     error
}

func (f *fakeStaff) ByPhone(_ context.Context, p pii.Phone) (*staff.Account, error) {
	if f.err != nil {
		return nil, f.err
	}
	if a, ok := f.byPhone[p.Reveal()]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("staff: %w", problem.ErrNotFound)
}

const (
	survivor  = "+447700900321"
	linked    = "+447700900654"
	stranger  = "+447700900987"
	staffLine = "+447700900111"
)

type intakeFixture struct {
	cases  *fakeCases
	alerts *fakeAlerts
	staff  *fakeStaff
	intake *Intake
}

func newIntakeFixture(t *testing.T) *intakeFixture {
	t.Helper()
	south := &casework.Case{ID: "c_south", Team: "south", CodeWords: []string{"silver teapot"}, DuressWords: []string{"blue umbrella"}}
	a := &casework.Case{ID: "c_linka", Team: "south", CodeWords: []string{"garden gnome"}, DuressWords: []string{"red kite"}}
	b := &casework.Case{ID: "c_linkb", Team: "north", CodeWords: []string{"marble stairs"}, DuressWords: []string{"green door"}}
	f := &intakeFixture{
		cases: &fakeCases{
			byPhone: map[string][]*casework.Case{survivor: {south}, linked: {a, b}},
			pins:    map[string][2]string{"c_south": {"2468", "9753"}},
		},
		alerts: &fakeAlerts{},
		staff: &fakeStaff{byPhone: map[string]*staff.Account{
			staffLine: {ID: "s_rowan", Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"south"}},
		}},
	}
	dir, err := postcode.Load()
	if err != nil {
		t.Fatal(err)
	}
	f.intake, err = NewIntake(IntakeConfig{
		Cases: f.cases, Alerts: f.alerts, Staff: f.staff, Postcodes: dir,
		TriageTeam: "triage", CodeWords: []string{"lighthouse"},
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func inbound(t *testing.T, from, body string) Inbound {
	t.Helper()
	form := inboundForm("SM0123456789abcdef0123456789abcdef", from, body)
	in, err := ParseInbound(form)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// sigView is what a test compares of a raised signal.
type sigView struct {
	Kind        alert.Kind
	Case        string
	Team        string
	PIN         casework.PIN
	Duress      bool
	Located     bool
	Sender      bool
	Dedupe      string
	Verbatim    bool
	Unconfirmed bool
	Hint        string
}

func view(sig alert.Signal, body string) sigView {
	return sigView{
		Kind: sig.Kind, Case: sig.CaseID, Team: sig.Team, PIN: sig.PIN, Duress: sig.DuressWord,
		Located: !sig.Location.IsZero(), Sender: !sig.Sender.IsZero(), Dedupe: sig.DedupeKey,
		Verbatim: sig.Message.Reveal() == body, Unconfirmed: sig.Unconfirmed, Hint: sig.Hint.Reveal(),
	}
}

func TestIntakeDecisions(t *testing.T) {
	const sid = "SM0123456789abcdef0123456789abcdef"
	caseKey := "sms:c_south." + sid
	tests := []struct {
		name string
		from string
		body string
		out  Outcome
		want []sigView
	}{
		{"code word", survivor, "silver teapot", OutcomeCase,
			[]sigView{{Kind: alert.KindPanic, Case: "c_south", Dedupe: caseKey, Verbatim: true}}},
		{"code word and postcode", survivor, "Silver Teapot, SO14 7DZ outside Tesco", OutcomeCase,
			[]sigView{{Kind: alert.KindPanic, Case: "c_south", Located: true, Dedupe: caseKey, Verbatim: true, Hint: "SO14 7DZ outside Tesco"}}},
		{"near miss", survivor, "silvr teapot", OutcomeCase,
			[]sigView{{Kind: alert.KindPanic, Case: "c_south", Dedupe: caseKey, Verbatim: true, Unconfirmed: true}}},
		{"duress word", survivor, "blue umbrella", OutcomeCase,
			[]sigView{{Kind: alert.KindPanic, Case: "c_south", Duress: true, Dedupe: caseKey, Verbatim: true}}},
		{"check-in", survivor, "OK 2468", OutcomeCase,
			[]sigView{{Kind: alert.KindCheckin, Case: "c_south", PIN: casework.PINReal, Dedupe: caseKey, Verbatim: true}}},
		{"check-in duress PIN", survivor, "ok 9753", OutcomeCase,
			[]sigView{{Kind: alert.KindCheckin, Case: "c_south", PIN: casework.PINDuress, Dedupe: caseKey, Verbatim: true}}},
		{"check-in wrong PIN", survivor, "ok 1111", OutcomeCase,
			[]sigView{{Kind: alert.KindCheckin, Case: "c_south", PIN: casework.PINWrong, Dedupe: caseKey, Verbatim: true}}},
		{"check-in then code word", survivor, "OK 9753 silver teapot", OutcomeCase,
			[]sigView{{Kind: alert.KindPanic, Case: "c_south", PIN: casework.PINDuress, Dedupe: caseKey, Verbatim: true}}},
		{"message with postcode", survivor, "at mum's, SO15 2AB", OutcomeCase,
			[]sigView{{Kind: alert.KindMessage, Case: "c_south", Located: true, Dedupe: caseKey, Verbatim: true}}},
		{"carrier keyword", survivor, "HELP", OutcomeCase,
			[]sigView{{Kind: alert.KindMessage, Case: "c_south", Dedupe: caseKey, Verbatim: true}}},
		{"linked cases", linked, "marble stairs", OutcomeCase, []sigView{
			{Kind: alert.KindMessage, Case: "c_linka", Dedupe: "sms:c_linka." + sid, Verbatim: true},
			{Kind: alert.KindPanic, Case: "c_linkb", Dedupe: "sms:c_linkb." + sid, Verbatim: true},
		}},
		{"unknown near miss", stranger, "lighthuose please", OutcomeTriage,
			[]sigView{{Kind: alert.KindPanic, Team: "triage", Sender: true, Dedupe: "sms:" + sid, Verbatim: true, Unconfirmed: true, Hint: "please"}}},
		{"unknown with deployment word", stranger, "LIGHTHOUSE", OutcomeTriage,
			[]sigView{{Kind: alert.KindPanic, Team: "triage", Sender: true, Dedupe: "sms:" + sid, Verbatim: true}}},
		{"unknown other", stranger, "who is this", OutcomeTriageNote,
			[]sigView{{Kind: alert.KindMessage, Team: "triage", Sender: true, Dedupe: "sms:" + sid, Verbatim: true}}},
		{"alphanumeric sender", "BANK", "lighthouse", OutcomeTriage,
			[]sigView{{Kind: alert.KindPanic, Team: "triage", Dedupe: "sms:" + sid, Verbatim: true}}},
		{"staff other text", staffLine, "silver teapot", OutcomeStaff, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newIntakeFixture(t)
			out, err := f.intake.Receive(context.Background(), inbound(t, tc.from, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if out != tc.out {
				t.Errorf("outcome %q, want %q", out, tc.out)
			}
			var got []sigView
			for _, s := range f.alerts.raised {
				got = append(got, view(s, tc.body))
				if s.Source != alert.SourceSMS {
					t.Errorf("source %q", s.Source)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("signals (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIntakeOptOut(t *testing.T) {
	f := newIntakeFixture(t)
	if _, err := f.intake.Receive(context.Background(), inbound(t, survivor, "Stop")); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(f.cases.blocked, []string{"c_south"}) {
		t.Errorf("blocked %v, want the case", f.cases.blocked)
	}
	if len(f.alerts.raised) != 1 || f.alerts.raised[0].Kind != alert.KindMessage {
		t.Errorf("raised %d, want one message alert", len(f.alerts.raised))
	}
	// START lifts the block of a blocked case, and only then.
	f = newIntakeFixture(t)
	f.cases.byPhone[survivor][0].SMSBlocked = true
	f.intake.Receive(context.Background(), inbound(t, survivor, "start"))
	if !cmp.Equal(f.cases.unblocked, []string{"c_south"}) || len(f.alerts.raised) != 1 {
		t.Errorf("START: unblocked %v, raised %d; want the case unblocked and a message alert", f.cases.unblocked, len(f.alerts.raised))
	}
	f = newIntakeFixture(t)
	f.intake.Receive(context.Background(), inbound(t, survivor, "START"))
	if len(f.cases.unblocked) != 0 {
		t.Error("START unblocked a case that was not blocked")
	}
	// An unknown sender's STOP blocks nothing.
	f = newIntakeFixture(t)
	f.intake.Receive(context.Background(), inbound(t, stranger, "STOP"))
	if len(f.cases.blocked) != 0 {
		t.Error("an unknown sender's STOP blocked a case")
	}
}

func TestIntakeErrorsPropagate(t *testing.T) {
	down := fmt.Errorf("store: %w", problem.ErrUnavailable)
	for name, mod := range map[string]func(*intakeFixture){
		"cases":  func(f *intakeFixture) { f.cases.err = down },
		"alerts": func(f *intakeFixture) { f.alerts.err = down },
		"staff":  func(f *intakeFixture) { f.staff.err = down },
	} {
		t.Run(name, func(t *testing.T) {
			f := newIntakeFixture(t)
			mod(f)
			_, err := f.intake.Receive(context.Background(), inbound(t, survivor, "silver teapot"))
			if !errors.Is(err, problem.ErrUnavailable) {
				t.Errorf("err = %v, want unavailable (so the webhook answers 503 and Twilio retries)", err)
			}
		})
	}
}

func TestIntakeAck(t *testing.T) {
	open := []*alert.Alert{
		{ID: "a_one", CaseID: "c_south", Team: "south"},
		{ID: "a_two", CaseID: "c_other", Team: "south"},
		{ID: "a_three", CaseID: "", Team: "south"},
	}
	aliases := map[string]string{"a_one": "Wren", "a_two": "Jenny Wren"}
	tests := []struct {
		body  string
		out   Outcome
		acked []string
	}{
		{"ACK Wren", OutcomeStaffAck, []string{"s_rowan:a_one"}},
		{"ack: jenny  wren!", OutcomeStaffAck, []string{"s_rowan:a_two"}},
		{"ack a_three", OutcomeStaffAck, []string{"s_rowan:a_three"}},
		{"ACK", OutcomeStaff, nil},
		{"ACK Robin", OutcomeStaff, nil},
		{"acknowledged Wren", OutcomeStaff, nil},
		{"on my way", OutcomeStaff, nil},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			f := newIntakeFixture(t)
			f.alerts.open, f.alerts.aliases = open, aliases
			out, err := f.intake.Receive(context.Background(), inbound(t, staffLine, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if out != tc.out || !cmp.Equal(f.alerts.acked, tc.acked) {
				t.Errorf("outcome %q acked %v, want %q %v", out, f.alerts.acked, tc.out, tc.acked)
			}
			if len(f.alerts.raised) != 0 {
				t.Error("a staff text raised an alert")
			}
		})
	}
	// Two alerts with the same alias: claim neither.
	f := newIntakeFixture(t)
	f.alerts.open, f.alerts.aliases = open, map[string]string{"a_one": "Wren", "a_two": "wren"}
	if out, _ := f.intake.Receive(context.Background(), inbound(t, staffLine, "ACK Wren")); out != OutcomeStaff || len(f.alerts.acked) != 0 {
		t.Errorf("ambiguous alias: %q %v, want nothing claimed", out, f.alerts.acked)
	}
	// Someone else claimed it first: nothing to do, no error (Twilio would
	// only retry).
	f = newIntakeFixture(t)
	f.alerts.open, f.alerts.aliases = open, aliases
	f.alerts.ackErr = &problem.Claimed{By: "Robin"}
	if out, err := f.intake.Receive(context.Background(), inbound(t, staffLine, "ACK Wren")); err != nil || out != OutcomeStaff {
		t.Errorf("claimed first: %q %v, want ignored", out, err)
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		media int
		want  string
	}{
		{"ordinary", "hello", 0, "hello"},
		// 1,600 characters of 4 bytes each: the most one SMS holds.
		{"1600 four-byte characters", strings.Repeat("😀", 1600), 0, strings.Repeat("😀", 1600)},
		{"1600 two-byte characters", strings.Repeat("ź", 1600), 0, strings.Repeat("ź", 1600)},
		{"empty", "", 0, ""},
		{"media only", "", 2, ""},
		{"longer than any SMS", strings.Repeat("ź", 4000), 0,
			strings.Repeat("ź", (alert.MaxMessage-len(" [cut: the text was longer]"))/2) + " [cut: the text was longer]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := alert.Signal{Source: alert.SourceSMS, Kind: alert.KindMessage, CaseID: "c_x", Message: pii.NewText(tc.body),
				Media: tc.media, At: time.Now(), DedupeKey: "sms:x"}
			fit(&sig)
			if err := sig.Validate(); err != nil {
				t.Fatalf("after fit the signal is still refused: %v", err)
			}
			if got := sig.Message.Reveal(); got != tc.want {
				t.Errorf("message of %d bytes, want %d bytes", len(got), len(tc.want))
			}
			if !utf8.ValidString(sig.Message.Reveal()) {
				t.Error("cut inside a character")
			}
		})
	}
}

// TestIntakeEmptyAndMediaOnly: a text with no words, or pictures only,
// raises a message for the case's team as it came (no stand-in wording),
// with the number of attachments Twilio holds.
func TestIntakeEmptyAndMediaOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		media int
	}{{"empty", 0}, {"media only", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			form := inboundForm("MM0123456789abcdef0123456789abcdef", survivor, "")
			form["NumMedia"] = fmt.Sprint(tc.media)
			for i := range tc.media {
				form[fmt.Sprintf("MediaUrl%d", i)] = fmt.Sprintf("https://api.twilio.com/media/ME%d", i)
				form[fmt.Sprintf("MediaContentType%d", i)] = "image/jpeg"
			}
			in, err := ParseInbound(form)
			if err != nil {
				t.Fatal(err)
			}
			f := newIntakeFixture(t)
			if out, err := f.intake.Receive(context.Background(), in); err != nil || out != OutcomeCase {
				t.Fatalf("Receive: %q %v, want %q", out, err, OutcomeCase)
			}
			if len(f.alerts.raised) != 1 {
				t.Fatalf("%d signals raised, want 1", len(f.alerts.raised))
			}
			sig := f.alerts.raised[0]
			if sig.Kind != alert.KindMessage || sig.CaseID != "c_south" || !sig.Message.IsZero() || sig.Media != tc.media {
				t.Errorf("signal kind %q case %q message of %d bytes media %d; want a message for c_south, no text, %d attachments",
					sig.Kind, sig.CaseID, sig.Message.Len(), sig.Media, tc.media)
			}
			if err := sig.Validate(); err != nil {
				t.Errorf("the signal rules refuse it: %v", err)
			}
		})
	}
}
