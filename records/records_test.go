package records

import (
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/pii"
)

func TestNeedsHandoff(t *testing.T) {
	for _, tc := range []struct {
		state    alert.State
		followUp bool
		handoff  alert.Handoff
		entries  int
		want     bool
	}{
		{alert.StateWorking, false, alert.HandoffNone, 1, false},
		{alert.StateResolved, false, alert.HandoffNone, 1, true},
		{alert.StateCancelled, true, alert.HandoffNone, 1, false}, // welfare follow-up still due
		{alert.StateCancelled, false, alert.HandoffNone, 0, true},
		{alert.StateExpired, false, alert.HandoffNone, 1, true},
		{alert.StateResolved, false, alert.HandoffPending, 0, false},
		{alert.StateResolved, false, alert.HandoffPending, 1, true}, // a new revision
		{alert.StateResolved, false, alert.HandoffFiled, 1, true},
		{alert.StateResolved, false, alert.HandoffFiled, 0, false},
	} {
		a := &alert.Alert{State: tc.state, FollowUp: tc.followUp, Record: alert.RecordState{Handoff: tc.handoff}}
		if got := NeedsHandoff(a, tc.entries); got != tc.want {
			t.Errorf("NeedsHandoff(%s followup=%t %q, %d entries) = %t, want %t", tc.state, tc.followUp, tc.handoff, tc.entries, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {7, 32 * time.Minute}, {8, time.Hour}, {9, time.Hour}, {1000, time.Hour}} {
		want := min(tc.want, time.Hour)
		if got := Backoff(tc.n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", tc.n, got, want)
		}
	}
}

func TestClosingRecordLeavesOutLocations(t *testing.T) {
	loc, _ := pii.NewLocation(50.9, -1.4, 10, time.Time{})
	at := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	a := &alert.Alert{ID: "a_x", CaseID: "c_x", Team: "south", State: alert.StateResolved, Class: alert.ClassPanic, RaisedAt: at,
		Outcome: alert.OutcomeSafe, PoliceRef: pii.NewText("CAD-1"), Record: alert.RecordState{Rev: 2},
		Timeline: []alert.Entry{
			{Seq: 1, At: at, Type: alert.EntryRaised, By: alert.BySurvivor, Detail: "panic via app"},
			{Seq: 2, At: at, Type: alert.EntryLocation, By: alert.BySurvivor, Location: loc},
			{Seq: 3, At: at.Add(time.Minute), Type: alert.EntryAcknowledged, By: "s_a", ByName: "Ash"},
			{Seq: 4, At: at.Add(2 * time.Minute), Type: alert.EntryNote, By: "s_a", ByName: "Ash", Text: pii.NewText("spoke to her")},
			{Seq: 5, At: at.Add(3 * time.Minute), Type: alert.EntryResolved, By: "s_a", ByName: "Ash", Detail: "outcome: safe"},
		}}
	r := BuildClosingRecord(a, &casework.CaseBrief{Alias: pii.NewText("Wren")}, at.Add(time.Hour))
	body := string(r.JSON())
	if strings.Contains(body, "50.9") || !strings.Contains(body, "spoke to her") || r.RecordID != "a_x.2" || r.Alias != "Wren" {
		t.Errorf("record: %s", body)
	}
	if len(r.Actions) != 3 || r.Actions[0].Action != "acknowledged" {
		t.Errorf("actions: %+v", r.Actions)
	}
}
