package contact

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/alert"
	"waymark/audit"
	"waymark/casework"
	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// A Monday evening in London, inside the evening window below.
var monday1830 = time.Date(2026, 11, 23, 18, 30, 0, 0, time.UTC)

var evenings = []casework.Window{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "18:00", To: "21:00"}}

const owner = "s_ownerownerownerowner"

type fakeAlerts struct {
	view      *alert.View
	now       time.Time
	contacted []alert.EntryType
}

func (f *fakeAlerts) Get(_ context.Context, _ *staff.Principal, id string) (*alert.View, error) {
	if f.view == nil || id != f.view.Alert.ID {
		return nil, casework.ErrNotFound
	}
	v := *f.view
	if v.Case != nil {
		v.Verdict = v.Case.Contact.VerdictAt(f.now, v.Alert.Duress())
	} else {
		v.Verdict = casework.ContactPlan{}.VerdictAt(f.now, v.Alert.Duress())
	}
	return &v, nil
}

func (f *fakeAlerts) Contacted(_ context.Context, p *staff.Principal, _ string, how alert.EntryType) error {
	f.contacted = append(f.contacted, how)
	return nil
}

type fakePhones struct{ staff pii.Phone }

func (f fakePhones) ContactPhone(context.Context, string) (pii.Phone, error) {
	return pii.ParsePhone("+447700900555", "GB")
}

func (f fakePhones) Person(_ context.Context, ref string) (oncall.Person, error) {
	return oncall.Person{ID: ref, Phone: f.staff}, nil
}

type fakeDialer struct{ calls, texts []string }

func (f *fakeDialer) CallThrough(_ context.Context, responder, survivor pii.Phone) (string, error) {
	f.calls = append(f.calls, responder.Reveal()+">"+survivor.Reveal())
	return "CA1", nil
}

func (f *fakeDialer) TextSurvivor(_ context.Context, to pii.Phone, v casework.Verdict, ch casework.Channels, body pii.Text) (string, error) {
	f.texts = append(f.texts, to.Reveal()+":"+body.Reveal())
	return "SM1", nil
}

type fakeAudit struct{ outcomes []string }

func (f *fakeAudit) AppendAudit(_ context.Context, e audit.AuditEntry) error {
	f.outcomes = append(f.outcomes, e.Action+" "+e.Outcome)
	return nil
}

func TestContact(t *testing.T) {
	responder, _ := pii.ParsePhone("+447700900101", "GB")
	callAndText := casework.ContactPlan{Windows: evenings, Channels: casework.Channels{Call: true, SMS: true}, OpeningLine: pii.NewText("Hi, it's the library")}
	textOnly := casework.ContactPlan{Windows: evenings, Channels: casework.Channels{SMS: true}, OpeningLine: pii.NewText("Hi, it's the library")}
	noWording := casework.ContactPlan{Windows: evenings, Channels: casework.Channels{Call: true, SMS: true}}
	callOnly := casework.ContactPlan{Windows: evenings, Channels: casework.Channels{Call: true}, OpeningLine: pii.NewText("Hi")}
	tests := []struct {
		name       string
		plan       *casework.ContactPlan // nil: no case
		class      alert.Class
		owner      string
		at         time.Time
		staffPhone pii.Phone
		text       bool   // text instead of call
		refusal    string // "" when allowed
		audit      string
	}{
		{"call inside a window", &callAndText, alert.ClassPanic, owner, monday1830, responder, false, "", "alert.call ok: verdict SAFE TO CALL"},
		{"text inside a window", &callAndText, alert.ClassPanic, owner, monday1830, responder, true, "", "alert.text ok: verdict SAFE TO CALL"},
		{"text, text only", &textOnly, alert.ClassPanic, owner, monday1830, responder, true, "", "alert.text ok: verdict TEXT ONLY"},
		{"call, text only", &textOnly, alert.ClassPanic, owner, monday1830, responder, false, "calls are not safe now", "alert.call refused: verdict TEXT ONLY"},
		{"text, calls only", &callOnly, alert.ClassPanic, owner, monday1830, responder, true, "texts are not agreed", "alert.text refused: verdict SAFE TO CALL"},
		{"call under duress", &callAndText, alert.ClassDuress, owner, monday1830, responder, false, "Do not contact: duress signal", "alert.call refused: verdict DO NOT CONTACT"},
		{"text under duress", &callAndText, alert.ClassDuress, owner, monday1830, responder, true, "call 999", "alert.text refused: verdict DO NOT CONTACT"},
		{"call outside the windows", &callAndText, alert.ClassPanic, owner, monday1830.Add(6 * time.Hour), responder, false, "outside the safe-contact windows", "alert.call refused: verdict DO NOT CONTACT"},
		{"text outside the windows", &callAndText, alert.ClassPanic, owner, monday1830.Add(6 * time.Hour), responder, true, "outside the safe-contact windows", "alert.text refused: verdict DO NOT CONTACT"},
		{"nothing recorded", &casework.ContactPlan{}, alert.ClassPanic, owner, monday1830, responder, false, "no safe channel recorded", "alert.call refused: verdict DO NOT CONTACT"},
		{"no case", nil, alert.ClassPanic, owner, monday1830, responder, true, "on no case", "alert.text refused: verdict DO NOT CONTACT"},
		{"call by someone else", &callAndText, alert.ClassPanic, "s_otherotherotherother", monday1830, responder, false, "Only the responder who has claimed", "alert.call refused: not the owner"},
		{"text, unclaimed", &callAndText, alert.ClassPanic, "", monday1830, responder, true, "Claim it first", "alert.text refused: not the owner"},
		{"text, no agreed wording", &noWording, alert.ClassPanic, owner, monday1830, responder, true, "No agreed wording", "alert.text refused: no agreed wording"},
		{"call, no staff phone", &callAndText, alert.ClassPanic, owner, monday1830, pii.Phone{}, false, "no phone number", "alert.call refused: no staff phone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &alert.Alert{ID: "a_alertalertalertalert", CaseID: "c_casecasecasecasecase", Class: tc.class,
				State: alert.StateAcknowledged, Owner: tc.owner}
			v := &alert.View{Alert: a}
			if tc.plan != nil {
				v.Case = &casework.CaseBrief{Contact: *tc.plan}
			}
			al, d, au := &fakeAlerts{view: v, now: tc.at}, &fakeDialer{}, &fakeAudit{}
			ph := fakePhones{staff: tc.staffPhone}
			s := NewService(Deps{Alerts: al, Cases: ph, People: ph, Dialer: d, Audit: au, Now: func() time.Time { return tc.at }})
			p := &staff.Principal{StaffID: owner, Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"north"}}
			do, entry := s.Call, alert.EntryCalled
			if tc.text {
				do, entry = s.Text, alert.EntryTexted
			}
			_, err := do(context.Background(), p, a.ID)
			if diff := cmp.Diff([]string{tc.audit}, au.outcomes); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
			if tc.refusal != "" {
				var r *problem.Refused
				if !errors.As(err, &r) || !errors.Is(err, problem.ErrConflict) || !strings.Contains(r.Detail, tc.refusal) {
					t.Fatalf("err = %v, want a refusal saying %q", err, tc.refusal)
				}
				if len(d.calls)+len(d.texts) != 0 || len(al.contacted) != 0 {
					t.Errorf("a refused contact went out: calls %v texts %v timeline %v", d.calls, d.texts, al.contacted)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"+447700900101>+447700900555"}
			got := d.calls
			if tc.text {
				want, got = []string{"+447700900555:Hi, it's the library"}, d.texts
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("sent (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]alert.EntryType{entry}, al.contacted); diff != "" {
				t.Errorf("timeline (-want +got):\n%s", diff)
			}
		})
	}
}

// TestContactBadInput: an unknown alert, a closed one, and a caller who is
// no responder change nothing and reach nobody.
func TestContactBadInput(t *testing.T) {
	a := &alert.Alert{ID: "a_alertalertalertalert", CaseID: "c_casecasecasecasecase", Class: alert.ClassPanic, State: alert.StateResolved, Owner: owner}
	plan := casework.ContactPlan{Windows: evenings, Channels: casework.Channels{Call: true, SMS: true}, OpeningLine: pii.NewText("Hi")}
	al, d, au := &fakeAlerts{view: &alert.View{Alert: a, Case: &casework.CaseBrief{Contact: plan}}, now: monday1830}, &fakeDialer{}, &fakeAudit{}
	responder, _ := pii.ParsePhone("+447700900101", "GB")
	ph := fakePhones{staff: responder}
	s := NewService(Deps{Alerts: al, Cases: ph, People: ph, Dialer: d, Audit: au, Now: func() time.Time { return monday1830 }})
	p := &staff.Principal{StaffID: owner, Roles: []staff.Role{staff.RoleResponder}, Teams: []string{"north"}}
	if _, err := s.Call(context.Background(), p, "a_nosuchnosuchnosuchno"); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("unknown alert: %v, want not found", err)
	}
	if _, err := s.Call(context.Background(), p, a.ID); !errors.Is(err, alert.ErrClosed) {
		t.Errorf("closed alert: %v, want ErrClosed", err)
	}
	cw := &staff.Principal{StaffID: owner, Roles: []staff.Role{staff.RoleCaseworker}, Teams: []string{"north"}}
	if _, err := s.Text(context.Background(), cw, a.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("a caseworker: %v, want not found", err)
	}
	if _, err := s.Text(context.Background(), nil, a.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("no principal: %v, want not found", err)
	}
	if len(d.calls)+len(d.texts)+len(au.outcomes)+len(al.contacted) != 0 {
		t.Errorf("bad input changed something: %v %v %v %v", d.calls, d.texts, au.outcomes, al.contacted)
	}
}
