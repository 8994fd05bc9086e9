package oncall

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/casework"
	"waymark/problem"
)

func TestDefaultPoliciesEndInTheFallback(t *testing.T) {
	ps := DefaultPolicies()
	for _, r := range []casework.Risk{casework.RiskHigh, casework.RiskMedium, casework.RiskStandard} {
		p := ps.For(r)
		if len(p.Steps) < 2 {
			t.Fatalf("%s: %d steps", r, len(p.Steps))
		}
		last := p.Steps[len(p.Steps)-1]
		if !last.fallback() || !slices.ContainsFunc(last.How, Channel.Phone) {
			t.Errorf("%s: last step %+v does not phone the fallback", r, last)
		}
		for i, s := range p.Steps {
			if s.Wait <= 0 {
				t.Errorf("%s step %d: wait %s", r, i, s.Wait.D())
			}
		}
	}
	high := ps.For(casework.RiskHigh)
	if got := high.Steps[0].Whom; !slices.Contains(got, WhomPrimary) || !slices.Contains(got, WhomCaseOwner) {
		t.Errorf("high first step pages %v, want on-call and case owner at once", got)
	}
	if high.FallbackAfter <= 0 {
		t.Error("high risk has no fallback deadline")
	}
	if high.Steps[0].Wait >= ps.For(casework.RiskStandard).Steps[0].Wait {
		t.Error("high risk waits no shorter than standard")
	}
}

func TestStepSequence(t *testing.T) {
	p := Policy{Repeat: 1, Steps: []Step{
		{Whom: []Whom{WhomPrimary}, How: []Channel{ChannelSMS}, Wait: Duration(time.Minute)},
		{Whom: []Whom{WhomSecondary}, How: []Channel{ChannelSMS}, Wait: Duration(time.Minute)},
		{Whom: []Whom{WhomFallback}, How: []Channel{ChannelVoice}, Wait: Duration(time.Minute)},
	}}
	var got []string
	for k := range 12 {
		s, fb := p.StepAt(k)
		name := string(s.Whom[0])
		if fb {
			name = "FB"
		}
		got = append(got, name)
	}
	want := []string{"oncall:primary", "oncall:secondary", "oncall:primary", "oncall:secondary", "FB",
		"oncall:primary", "oncall:secondary", "oncall:primary", "oncall:secondary", "FB", "oncall:primary", "oncall:secondary"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sequence (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ k, want int }{{0, 4}, {3, 4}, {4, 4}, {5, 9}} {
		if got := p.FallbackIndex(tc.k); got != tc.want {
			t.Errorf("fallbackIndex(%d) = %d, want %d", tc.k, got, tc.want)
		}
	}
}

func TestCompilePolicies(t *testing.T) {
	resolve := func(ref string) (string, string) {
		if ref == "dora" {
			return "s_dora", ""
		}
		return "", "is not a known staff id or username"
	}
	good := []StepFile{
		{Whom: []string{"oncall:primary", "case-owner"}, How: []string{"dashboard", "sms"}, Wait: "90s"},
		{Whom: []string{"staff:dora"}, How: []string{"sms", "voice"}, Wait: "2m", IfUnreached: "next-step"},
		{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "5m"},
	}
	ps, err := CompilePolicies(PolicyFile{High: &PolicyLevelFile{Steps: good, AckTimeout: "5m", FallbackAfter: "8m"}}, "north", resolve)
	if err != nil {
		t.Fatal(err)
	}
	high := ps.For(casework.RiskHigh)
	if high.Steps[1].Whom[0] != "staff:s_dora" || high.AckTimeout.D() != 5*time.Minute || high.FallbackAfter.D() != 8*time.Minute ||
		high.Steps[1].Unreached != UnreachedNextStep || high.Steps[0].Unreached != "" {
		t.Errorf("high = %+v", high)
	}
	if diff := cmp.Diff(DefaultPolicies().For(casework.RiskMedium), ps.For(casework.RiskMedium)); diff != "" {
		t.Errorf("medium not the default (-want +got):\n%s", diff)
	}

	with := func(mod func(*PolicyLevelFile)) PolicyFile {
		lv := &PolicyLevelFile{Steps: slices.Clone(good)}
		for i := range lv.Steps {
			lv.Steps[i].Whom = slices.Clone(lv.Steps[i].Whom)
			lv.Steps[i].How = slices.Clone(lv.Steps[i].How)
		}
		mod(lv)
		return PolicyFile{High: lv}
	}
	tests := []struct {
		name  string
		f     PolicyFile
		field string
	}{
		{"zero wait", with(func(l *PolicyLevelFile) { l.Steps[0].Wait = "0s" }), "high.steps[0].wait"},
		{"no wait", with(func(l *PolicyLevelFile) { l.Steps[0].Wait = "" }), "high.steps[0].wait"},
		{"bare number", with(func(l *PolicyLevelFile) { l.Steps[0].Wait = "12" }), "high.steps[0].wait"},
		{"unknown person", with(func(l *PolicyLevelFile) { l.Steps[1].Whom = []string{"staff:zed"} }), "high.steps[1].whom"},
		{"unknown whom", with(func(l *PolicyLevelFile) { l.Steps[1].Whom = []string{"the boss"} }), "high.steps[1].whom"},
		{"unknown channel", with(func(l *PolicyLevelFile) { l.Steps[1].How = []string{"pigeon"} }), "high.steps[1].how"},
		{"no path to the fallback", with(func(l *PolicyLevelFile) { l.Steps = l.Steps[:2] }), "high.steps[1].whom"},
		{"fallback by dashboard", with(func(l *PolicyLevelFile) { l.Steps[2].How = []string{"dashboard"} }), "high.steps[2].how"},
		{"repeat too high", with(func(l *PolicyLevelFile) { l.Repeat = 11 }), "high.repeat"},
		{"negative repeat", with(func(l *PolicyLevelFile) { l.Repeat = -1 }), "high.repeat"},
		{"unknown if_unreached", with(func(l *PolicyLevelFile) { l.Steps[0].IfUnreached = "next-person" }), "high.steps[0].if_unreached"},
		{"ack too short", with(func(l *PolicyLevelFile) { l.AckTimeout = "10s" }), "high.ack_timeout"},
		{"no steps", with(func(l *PolicyLevelFile) { l.Steps = nil }), "high.steps"},
		{"nothing set", PolicyFile{}, "high"},
		{"other team", PolicyFile{Team: "south", High: &PolicyLevelFile{Steps: good}}, "team"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompilePolicies(tc.f, "north", resolve)
			var inv *problem.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v, want *problem.Invalid", err)
			}
			var names []string
			for _, f := range inv.Fields {
				names = append(names, f.Name)
			}
			if !slices.Contains(names, tc.field) {
				t.Errorf("problems %v, want one on %s", inv.Fields, tc.field)
			}
		})
	}
}

func TestPolicySetJSONRoundTrip(t *testing.T) {
	ps := DefaultPolicies()
	ps.Team, ps.Version = "north", 3
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	var back PolicySet
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*ps, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
