package casework

import (
	"testing"
	"time"

	"waymark/problem"
	"waymark/wallclock"
)

func london(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, wallclock.London())
	if err != nil {
		panic(err)
	}
	return t
}

func TestVerdictAt(t *testing.T) {
	evenings := ContactPlan{
		Windows:  []Window{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "18:00", To: "20:00"}},
		Channels: Channels{Call: true, SMS: true},
	}
	textOnly := ContactPlan{Windows: evenings.Windows, Channels: Channels{SMS: true}}
	overnight := ContactPlan{
		Windows:  []Window{{Days: []string{"sat"}, From: "22:00", To: "02:00"}},
		Channels: Channels{Call: true},
	}
	for _, tc := range []struct {
		name   string
		plan   ContactPlan
		at     string
		duress bool
		want   VerdictCode
	}{
		{"inside window", evenings, "2026-11-23 18:30", false, SafeToCall},
		{"window end is exclusive", evenings, "2026-11-23 20:00", false, DoNotContact},
		{"outside window", evenings, "2026-11-23 09:00", false, DoNotContact},
		{"weekend", evenings, "2026-11-22 18:30", false, DoNotContact},
		{"duress forces do not contact", evenings, "2026-11-23 18:30", true, DoNotContact},
		{"text only", textOnly, "2026-11-23 19:00", false, TextOnly},
		{"overnight before midnight", overnight, "2026-11-21 23:00", false, SafeToCall},
		{"overnight after midnight", overnight, "2026-11-22 01:30", false, SafeToCall},
		{"overnight over", overnight, "2026-11-22 02:30", false, DoNotContact},
		{"no windows", ContactPlan{Channels: Channels{Call: true}}, "2026-11-23 18:30", false, DoNotContact},
		{"no channels", ContactPlan{Windows: evenings.Windows}, "2026-11-23 18:30", false, DoNotContact},
		// Clock changes: the window is wall-clock time on both sides.
		{"after autumn change", evenings, "2026-10-26 18:30", false, SafeToCall},
		{"after spring change", evenings, "2027-03-29 18:30", false, SafeToCall},
		{"autumn change 01:30 overnight", ContactPlan{Windows: []Window{{Days: []string{"sat"}, From: "23:00", To: "02:00"}}, Channels: Channels{Call: true}}, "2026-10-25 01:30", false, SafeToCall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.plan.VerdictAt(london(tc.at), tc.duress)
			if got.Code != tc.want {
				t.Errorf("VerdictAt(%s) = %+v, want %s", tc.at, got, tc.want)
			}
		})
	}
	// Outside a window the verdict says when the next one opens.
	v := evenings.VerdictAt(london("2026-11-23 09:00"), false)
	if want := london("2026-11-23 18:00"); !v.Until.Equal(want) {
		t.Errorf("next window = %v, want %v", v.Until, want)
	}
}

func TestContactPlanValidate(t *testing.T) {
	p := ContactPlan{Windows: []Window{
		{Days: []string{"mon"}, From: "25:00", To: "10:00"},
		{Days: []string{"someday"}, From: "09:00", To: "09:00"},
		{Days: nil, From: "9am", To: "10:00"},
	}}
	inv := &problem.Invalid{}
	p.Validate(inv, "safe_contact")
	want := map[string]bool{
		"safe_contact.windows[0].from": true,
		"safe_contact.windows[1].days": true,
		"safe_contact.windows[1].to":   true,
		"safe_contact.windows[2].days": true,
		"safe_contact.windows[2].from": true,
	}
	got := map[string]bool{}
	for _, f := range inv.Fields {
		got[f.Name] = true
	}
	for k := range want {
		if !got[k] {
			t.Errorf("no problem reported for %s; got %v", k, inv.Fields)
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems = %v, want exactly %v", inv.Fields, want)
	}
}
