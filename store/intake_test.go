package store

import (
	"context"
	"testing"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/internal/randid"
	"waymark/oncall"
	"waymark/pii"
)

// TestRaiseSnapshotsPoliciesInForce: the intake keeps each team's policy
// set in memory (alert.Commit.GuardPolicies), yet an alert is never stored under a
// set that was replaced before it landed: the commit checks the version,
// and the retry reads the policies afresh.
func TestRaiseSnapshotsPoliciesInForce(t *testing.T) {
	e := newEscEnv(t, escCases{})
	level := func(wait string) *oncall.PolicyLevelFile {
		return &oncall.PolicyLevelFile{Steps: []oncall.StepFile{
			{Whom: []string{"oncall:primary"}, How: []string{"sms"}, Wait: wait},
			{Whom: []string{"fallback"}, How: []string{"voice"}, Wait: "5m"},
		}}
	}
	// No policy set yet: the defaults, version 0, remembered.
	if a := e.alert(e.raise()); a.Policy == nil || a.Policy.Version != 0 {
		t.Fatalf("first alert's policy %+v, want the defaults", a.Policy)
	}
	e.setPolicy(oncall.PolicyFile{High: level("7m")})
	a := e.alert(e.raise())
	if a.Policy == nil || a.Policy.Version != 1 || a.Policy.For(casework.RiskHigh).Steps[0].Wait != oncall.Duration(7*60e9) {
		t.Fatalf("after the first policy set: %+v, want version 1", a.Policy)
	}
	// Replaced behind the service's back (another instance, the CLI):
	// the remembered version 1 is stale, and the commit says so.
	e.setPolicy(oncall.PolicyFile{High: level("9m")})
	a = e.alert(e.raise())
	if a.Policy == nil || a.Policy.Version != 2 || a.Policy.For(casework.RiskHigh).Steps[0].Wait != oncall.Duration(9*60e9) {
		t.Fatalf("after the policies changed: %+v, want version 2", a.Policy)
	}
}

// TestDecideCaseReadsTheRecord: the case's plain fields come with its
// alert state, in the same read (alert.Store.DecideCase).
func TestDecideCaseReadsTheRecord(t *testing.T) {
	e := newEscEnv(t, escCases{})
	ctx := context.Background()
	phone, err := pii.ParsePhone("+447700900555", "GB")
	if err != nil {
		t.Fatal(err)
	}
	caseID := randid.New("c_", 20)
	c := &casework.Case{ID: caseID, Phone: phone, Team: "south", Risk: casework.RiskHigh, Owner: "s_owner",
		PINHash: []byte("real-hash"), DuressPINHash: []byte("duress-hash"), ExpiresAt: e.clk.Now().Add(time.Hour)}
	if err := e.s.CreateCase(ctx, c, ""); err != nil {
		t.Fatal(err)
	}
	var got *casework.Case
	if _, err := e.s.DecideCase(ctx, caseID, func(st alert.CaseState) (*alert.Commit, error) {
		got = st.Record
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	want, err := e.s.LoadCaseMeta(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.ID != caseID || got.Team != want.Team || got.Version != want.Version || string(got.PINHash) != string(want.PINHash) {
		t.Errorf("record %+v, want %+v", got, want)
	}
	if _, err := e.s.DecideCase(ctx, "c_nosuchcaseatallhere", func(st alert.CaseState) (*alert.Commit, error) {
		got = st.Record
		return nil, nil
	}); err != nil || got != nil {
		t.Errorf("no case: record %+v, %v; want nil", got, err)
	}
}
