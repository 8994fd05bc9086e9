package oncall

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/problem"
	"waymark/wallclock"
)

// london builds a Europe/London wall-clock instant (first occurrence of a
// repeated time; the test never asks for a skipped one through this).
func wall(t *testing.T, y int, m time.Month, d, h, min int) time.Time {
	t.Helper()
	return wallclock.At(y, m, d, h*60+min, wallclock.London())
}

func zulu(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// resolveAll accepts every reference as its own staff id.
func resolveAll(ref string) (string, string) { return ref, "" }

func mustRota(t *testing.T, f RotaFile) *Rota {
	t.Helper()
	r, err := CompileRota(f, "north", resolveAll)
	if err != nil {
		t.Fatalf("CompileRota: %v", err)
	}
	return r
}

// officeAndNights is a weekday office shift for alice, nights for bob
// every day, and a duty manager around the clock.
func officeAndNights(t *testing.T) *Rota {
	return mustRota(t, RotaFile{Shifts: []ShiftFile{
		{Tier: "primary", Staff: "alice", Days: DayNames{"weekdays"}, Start: "09:00", End: "17:00"},
		{Tier: "primary", Staff: "bob", Days: DayNames{"daily"}, Start: "22:00", End: "06:00"},
		{Tier: "secondary", Staff: "carol", Days: DayNames{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"},
		{Tier: "duty-manager", Staff: "dora", Days: DayNames{"daily"}, Start: "00:00", End: "24:00"},
	}})
}

// TestShiftsKeepWallClockAcrossClockChanges: the 09:00 office shift starts
// at 09:00 on the wall the Friday before and the Monday after each change,
// so in UTC it moves by exactly the change; nights last an hour longer or
// shorter; nobody's shift moves by an hour on the clock.
func TestShiftsKeepWallClockAcrossClockChanges(t *testing.T) {
	r := officeAndNights(t)
	tests := []struct {
		name string
		at   time.Time
		want map[Tier][]string
	}{
		// Autumn: clocks go back at 02:00 BST on Sunday 2026-10-25.
		{"fri before, 08:59 BST", zulu(2026, 10, 23, 7, 59), map[Tier][]string{TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"fri before, 09:00 BST", zulu(2026, 10, 23, 8, 0), map[Tier][]string{TierPrimary: {"alice"}, TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"fri before, 16:59 BST", zulu(2026, 10, 23, 15, 59), map[Tier][]string{TierPrimary: {"alice"}, TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"fri before, 17:00 BST", zulu(2026, 10, 23, 16, 0), map[Tier][]string{TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"sat night 22:00 BST", zulu(2026, 10, 24, 21, 0), map[Tier][]string{TierPrimary: {"bob"}, TierDutyManager: {"dora"}}},
		{"first 01:30 (BST)", zulu(2026, 10, 25, 0, 30), map[Tier][]string{TierPrimary: {"bob"}, TierDutyManager: {"dora"}}},
		{"second 01:30 (GMT)", zulu(2026, 10, 25, 1, 30), map[Tier][]string{TierPrimary: {"bob"}, TierDutyManager: {"dora"}}},
		{"sun 05:59 GMT", zulu(2026, 10, 25, 5, 59), map[Tier][]string{TierPrimary: {"bob"}, TierDutyManager: {"dora"}}},
		{"sun 06:00 GMT: nights end on the wall clock", zulu(2026, 10, 25, 6, 0), map[Tier][]string{TierDutyManager: {"dora"}}},
		{"mon after, 08:59 GMT", zulu(2026, 10, 26, 8, 59), map[Tier][]string{TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"mon after, 09:00 GMT", zulu(2026, 10, 26, 9, 0), map[Tier][]string{TierPrimary: {"alice"}, TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"mon after, 17:00 GMT", zulu(2026, 10, 26, 17, 0), map[Tier][]string{TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		// Spring: clocks go forward at 01:00 GMT on Sunday 2027-03-28.
		{"fri before, 09:00 GMT", zulu(2027, 3, 26, 9, 0), map[Tier][]string{TierPrimary: {"alice"}, TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"sat night 22:00 GMT", zulu(2027, 3, 27, 22, 0), map[Tier][]string{TierPrimary: {"bob"}, TierDutyManager: {"dora"}}},
		{"the jump, 02:00 BST", zulu(2027, 3, 28, 1, 0), map[Tier][]string{TierPrimary: {"bob"}, TierDutyManager: {"dora"}}},
		{"sun 05:59 BST", zulu(2027, 3, 28, 4, 59), map[Tier][]string{TierPrimary: {"bob"}, TierDutyManager: {"dora"}}},
		{"sun 06:00 BST", zulu(2027, 3, 28, 5, 0), map[Tier][]string{TierDutyManager: {"dora"}}},
		{"mon after, 08:59 BST", zulu(2027, 3, 29, 7, 59), map[Tier][]string{TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"mon after, 09:00 BST", zulu(2027, 3, 29, 8, 0), map[Tier][]string{TierPrimary: {"alice"}, TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"mon after, 16:59 BST", zulu(2027, 3, 29, 15, 59), map[Tier][]string{TierPrimary: {"alice"}, TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
		{"mon after, 17:00 BST", zulu(2027, 3, 29, 16, 0), map[Tier][]string{TierSecondary: {"carol"}, TierDutyManager: {"dora"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, r.OnCall(tc.at)); diff != "" {
				t.Errorf("OnCall(%s) (-want +got):\n%s", tc.at, diff)
			}
		})
	}
}

// TestNoShiftMovesByAnHour checks every day for a year and a half: the
// office shift always starts at 09:00 and ends at 17:00 on the London
// clock, whatever the offset.
func TestNoShiftMovesByAnHour(t *testing.T) {
	r := officeAndNights(t)
	loc := wallclock.London()
	for day := time.Date(2026, 9, 1, 12, 0, 0, 0, loc); day.Before(time.Date(2028, 3, 1, 0, 0, 0, 0, loc)); day = day.AddDate(0, 0, 1) {
		if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			continue
		}
		y, m, d := day.Date()
		start := wall(t, y, m, d, 9, 0)
		for _, c := range []struct {
			at   time.Time
			want bool
		}{
			{start.Add(-time.Minute), false}, {start, true},
			{wall(t, y, m, d, 16, 59), true}, {wall(t, y, m, d, 17, 0), false},
		} {
			got := slices.Contains(r.OnCall(c.at)[TierPrimary], "alice")
			if got != c.want {
				t.Fatalf("%s: alice on call = %v, want %v", c.at.In(loc).Format(time.RFC3339), got, c.want)
			}
		}
		if h := start.In(loc).Hour(); h != 9 {
			t.Fatalf("%s: shift starts at %d:00 on the clock", day.Format("2006-01-02"), h)
		}
	}
}

func TestNightShiftLengthAtClockChanges(t *testing.T) {
	r := mustRota(t, RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "bob", Days: DayNames{"sat"}, Start: "22:00", End: "06:00"}}})
	loc := wallclock.London()
	for _, tc := range []struct {
		y      int
		m      time.Month
		d      int
		length time.Duration
	}{
		{2026, 10, 24, 9 * time.Hour}, // clocks go back: an hour longer
		{2027, 3, 27, 7 * time.Hour},  // clocks go forward: an hour shorter
		{2026, 11, 7, 8 * time.Hour},
	} {
		s := r.Shifts[0]
		from, to := s.interval(tc.y, tc.m, tc.d, loc)
		if got := to.Sub(from); got != tc.length {
			t.Errorf("night of %d-%02d-%02d lasts %s, want %s", tc.y, tc.m, tc.d, got, tc.length)
		}
		if from.In(loc).Hour() != 22 || to.In(loc).Hour() != 6 {
			t.Errorf("night of %d-%02d-%02d: %s to %s on the clock", tc.y, tc.m, tc.d, from.In(loc).Format("15:04"), to.In(loc).Format("15:04"))
		}
	}
}

// TestSkippedAndRepeatedShiftStarts: a shift starting at a wall time the
// clocks skip starts at the jump; one starting at a repeated time starts
// at its first occurrence.
func TestSkippedAndRepeatedShiftStarts(t *testing.T) {
	r := mustRota(t, RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "ed", Days: DayNames{"sunday"}, Start: "01:30", End: "03:00"}}})
	loc := wallclock.London()
	from, to := r.Shifts[0].interval(2027, 3, 28, loc)
	if want := zulu(2027, 3, 28, 1, 0); !from.Equal(want) {
		t.Errorf("spring start = %s, want the jump %s", from.UTC(), want)
	}
	if want := zulu(2027, 3, 28, 2, 0); !to.Equal(want) {
		t.Errorf("spring end = %s, want %s", to.UTC(), want)
	}
	from, to = r.Shifts[0].interval(2026, 10, 25, loc)
	if want := zulu(2026, 10, 25, 0, 30); !from.Equal(want) {
		t.Errorf("autumn start = %s, want the first 01:30 %s", from.UTC(), want)
	}
	if want := zulu(2026, 10, 25, 3, 0); !to.Equal(want) {
		t.Errorf("autumn end = %s, want %s", to.UTC(), want)
	}
}

func TestOverrides(t *testing.T) {
	r := mustRota(t, RotaFile{
		Shifts: []ShiftFile{
			{Tier: "primary", Staff: "alice", Days: DayNames{"daily"}, Start: "00:00", End: "24:00"},
		},
		Overrides: []OverrideFile{
			{Kind: "swap", Tier: "primary", Staff: "carol", Replaces: "alice", From: "2026-10-24T09:00", To: "2026-10-26T09:00"},
			{Kind: "cover", Tier: "secondary", Staff: "bob", From: "2026-10-25T00:00", To: "2026-10-25T12:00"},
			{Kind: "swap", Tier: "secondary", Staff: "erin", Replaces: "nobody", From: "2026-10-20T00:00", To: "2026-10-30T00:00"},
		},
	})
	for _, tc := range []struct {
		at   time.Time
		want map[Tier][]string
	}{
		{zulu(2026, 10, 24, 7, 59), map[Tier][]string{TierPrimary: {"alice"}}},
		{zulu(2026, 10, 24, 8, 0), map[Tier][]string{TierPrimary: {"carol"}}},
		{zulu(2026, 10, 25, 1, 30), map[Tier][]string{TierPrimary: {"carol"}, TierSecondary: {"bob"}}},
		{zulu(2026, 10, 25, 12, 0), map[Tier][]string{TierPrimary: {"carol"}}},
		// 09:00 GMT on the Monday after the change: the swap ends on the wall clock.
		{zulu(2026, 10, 26, 8, 59), map[Tier][]string{TierPrimary: {"carol"}}},
		{zulu(2026, 10, 26, 9, 0), map[Tier][]string{TierPrimary: {"alice"}}},
	} {
		if diff := cmp.Diff(tc.want, r.OnCall(tc.at)); diff != "" {
			t.Errorf("OnCall(%s) (-want +got):\n%s", tc.at, diff)
		}
	}
}

func TestGaps(t *testing.T) {
	r := mustRota(t, RotaFile{Shifts: []ShiftFile{
		{Tier: "primary", Staff: "alice", Days: DayNames{"weekdays"}, Start: "09:00", End: "17:00"},
		{Tier: "secondary", Staff: "bob", Days: DayNames{"weekdays"}, Start: "16:00", End: "20:00"},
	}})
	from := zulu(2026, 10, 23, 0, 0) // Friday, BST
	to := zulu(2026, 10, 27, 0, 0)   // Tuesday 00:00 GMT
	want := []Gap{
		{From: from, To: zulu(2026, 10, 23, 8, 0)},
		{From: zulu(2026, 10, 23, 19, 0), To: zulu(2026, 10, 26, 9, 0)},
		{From: zulu(2026, 10, 26, 20, 0), To: to},
	}
	if diff := cmp.Diff(want, r.Gaps(from, to)); diff != "" {
		t.Errorf("Gaps (-want +got):\n%s", diff)
	}
	full := officeAndNights(t)
	if g := full.Gaps(zulu(2026, 9, 1, 0, 0), zulu(2027, 9, 1, 0, 0)); len(g) != 0 {
		t.Errorf("a round-the-clock duty manager leaves gaps %v", g)
	}
	// Nights and days that meet at 06:00 and 22:00 leave no gap on either
	// clock change.
	meet := mustRota(t, RotaFile{Shifts: []ShiftFile{
		{Tier: "primary", Staff: "a", Days: DayNames{"daily"}, Start: "06:00", End: "22:00"},
		{Tier: "primary", Staff: "b", Days: DayNames{"daily"}, Start: "22:00", End: "06:00"},
	}})
	if g := meet.Gaps(zulu(2026, 10, 1, 0, 0), zulu(2027, 4, 30, 0, 0)); len(g) != 0 {
		t.Errorf("back-to-back shifts leave gaps %v", g)
	}
	// A night that ends at 01:30 and a day that starts at 01:30 meet on
	// both changes too.
	odd := mustRota(t, RotaFile{Shifts: []ShiftFile{
		{Tier: "primary", Staff: "a", Days: DayNames{"daily"}, Start: "01:30", End: "20:00"},
		{Tier: "secondary", Staff: "b", Days: DayNames{"daily"}, Start: "20:00", End: "01:30"},
	}})
	if g := odd.Gaps(zulu(2026, 10, 1, 0, 0), zulu(2027, 4, 30, 0, 0)); len(g) != 0 {
		t.Errorf("shifts meeting at 01:30 leave gaps %v", g)
	}
	if g := (*Rota)(nil).Gaps(from, to); len(g) != 1 || !g[0].From.Equal(from) || !g[0].To.Equal(to) {
		t.Errorf("no rota: gaps %v, want the whole span", g)
	}
}

func TestCompileRotaRefuses(t *testing.T) {
	resolve := func(ref string) (string, string) {
		switch ref {
		case "alice", "bob":
			return "s_" + ref, ""
		case "gone":
			return "", "is disabled or has not finished setting up their account"
		}
		return "", "is not a known staff id or username"
	}
	ok := ShiftFile{Tier: "primary", Staff: "alice", Days: DayNames{"daily"}, Start: "09:00", End: "17:00"}
	tests := []struct {
		name  string
		f     RotaFile
		field string
	}{
		{"unknown person", RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "zed", Days: DayNames{"mon"}, Start: "09:00", End: "17:00"}}}, "shifts[0].staff"},
		{"disabled person", RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "gone", Days: DayNames{"mon"}, Start: "09:00", End: "17:00"}}}, "shifts[0].staff"},
		{"hour 25", RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "alice", Days: DayNames{"mon"}, Start: "25:00", End: "17:00"}}}, "shifts[0].start"},
		{"minute 60", RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "alice", Days: DayNames{"mon"}, Start: "09:00", End: "09:60"}}}, "shifts[0].end"},
		{"24:00 start", RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "alice", Days: DayNames{"mon"}, Start: "24:00", End: "09:00"}}}, "shifts[0].start"},
		{"empty shift", RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "alice", Days: DayNames{"mon"}, Start: "09:00", End: "09:00"}}}, "shifts[0].end"},
		{"bad tier", RotaFile{Shifts: []ShiftFile{{Tier: "tertiary", Staff: "alice", Days: DayNames{"mon"}, Start: "09:00", End: "10:00"}}}, "shifts[0].tier"},
		{"bad day", RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "alice", Days: DayNames{"funday"}, Start: "09:00", End: "10:00"}}}, "shifts[0].days"},
		{"no days", RotaFile{Shifts: []ShiftFile{{Tier: "primary", Staff: "alice", Start: "09:00", End: "10:00"}}}, "shifts[0].days"},
		{"other team", RotaFile{Team: "south", Shifts: []ShiftFile{ok}}, "team"},
		{"other zone", RotaFile{Timezone: "Europe/Paris", Shifts: []ShiftFile{ok}}, "timezone"},
		{"override backwards", RotaFile{Shifts: []ShiftFile{ok}, Overrides: []OverrideFile{{Kind: "cover", Tier: "primary", Staff: "bob", From: "2026-10-26T09:00", To: "2026-10-26T08:00"}}}, "overrides[0].to"},
		{"skipped local time", RotaFile{Shifts: []ShiftFile{ok}, Overrides: []OverrideFile{{Kind: "cover", Tier: "primary", Staff: "bob", From: "2027-03-28T01:30", To: "2027-03-28T08:00"}}}, "overrides[0].from"},
		{"repeated local time", RotaFile{Shifts: []ShiftFile{ok}, Overrides: []OverrideFile{{Kind: "cover", Tier: "primary", Staff: "bob", From: "2026-10-24T20:00", To: "2026-10-25T01:30"}}}, "overrides[0].to"},
		{"not a date", RotaFile{Shifts: []ShiftFile{ok}, Overrides: []OverrideFile{{Kind: "cover", Tier: "primary", Staff: "bob", From: "next tuesday", To: "2026-10-25T08:00"}}}, "overrides[0].from"},
		{"swap with self", RotaFile{Shifts: []ShiftFile{ok}, Overrides: []OverrideFile{{Kind: "swap", Tier: "primary", Staff: "alice", Replaces: "alice", From: "2026-10-24T09:00", To: "2026-10-25T09:00"}}}, "overrides[0].replaces"},
		{"swap unknown", RotaFile{Shifts: []ShiftFile{ok}, Overrides: []OverrideFile{{Kind: "swap", Tier: "primary", Staff: "alice", Replaces: "zed", From: "2026-10-24T09:00", To: "2026-10-25T09:00"}}}, "overrides[0].replaces"},
		{"bad kind", RotaFile{Shifts: []ShiftFile{ok}, Overrides: []OverrideFile{{Kind: "trade", Tier: "primary", Staff: "bob", From: "2026-10-24T09:00", To: "2026-10-25T09:00"}}}, "overrides[0].kind"},
		{"too long", RotaFile{Shifts: []ShiftFile{ok}, Overrides: []OverrideFile{{Kind: "cover", Tier: "primary", Staff: "bob", From: "2026-01-01T09:00", To: "2026-06-01T09:00"}}}, "overrides[0].to"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileRota(tc.f, "north", resolve)
			var inv *problem.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v, want *problem.Invalid", err)
			}
			var names []string
			for _, f := range inv.Fields {
				names = append(names, f.Name)
			}
			if !slices.Contains(names, tc.field) {
				t.Errorf("problems name %v, want %s", names, tc.field)
			}
		})
	}
}

func TestParseLondonTime(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Time
		problem string
	}{
		{"2026-10-24T09:00", zulu(2026, 10, 24, 8, 0), ""},
		{"2026-10-26 09:00", zulu(2026, 10, 26, 9, 0), ""},
		{"2026-10-25T01:30+01:00", zulu(2026, 10, 25, 0, 30), ""},
		{"2026-10-25T01:30+00:00", zulu(2026, 10, 25, 1, 30), ""},
		{"2026-10-25T01:30", time.Time{}, "happens twice"},
		{"2027-03-28T01:30", time.Time{}, "does not exist"},
		{"2027-03-28T02:00", zulu(2027, 3, 28, 1, 0), ""},
		{"tomorrow", time.Time{}, "must be a date-time"},
		{"", time.Time{}, "is required"},
	} {
		got, bad := wallclock.ParseLondonTime(tc.in)
		if tc.problem != "" {
			if !strings.Contains(bad, tc.problem) {
				t.Errorf("ParseLondonTime(%q) problem %q, want one containing %q", tc.in, bad, tc.problem)
			}
			continue
		}
		if bad != "" || !got.Equal(tc.want) {
			t.Errorf("ParseLondonTime(%q) = %s, %q; want %s", tc.in, got.UTC(), bad, tc.want)
		}
	}
}

func TestRotaFileJSON(t *testing.T) {
	var f RotaFile
	in := `{"shifts":[{"tier":"primary","staff":"alice","days":"weekdays","start":"9:00","end":"24:00"},
		{"tier":"secondary","staff":"bob","days":["Sat","sunday"],"start":"00:00","end":"12:00"}]}`
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	r := mustRota(t, f)
	want := []Shift{
		{Tier: TierPrimary, Staff: "alice", Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 540, End: 1440},
		{Tier: TierSecondary, Staff: "bob", Days: []time.Weekday{0, 6}, Start: 0, End: 720},
	}
	if diff := cmp.Diff(want, r.Shifts); diff != "" {
		t.Errorf("shifts (-want +got):\n%s", diff)
	}
	// A shift to 24:00 ends at midnight, also on the night the clocks
	// change.
	if got := r.OnCall(zulu(2026, 10, 23, 22, 59))[TierPrimary]; !slices.Equal(got, []string{"alice"}) {
		t.Errorf("23:59 BST Friday: %v", got)
	}
	if got := r.OnCall(zulu(2026, 10, 23, 23, 0))[TierPrimary]; len(got) != 0 {
		t.Errorf("00:00 Saturday: %v", got)
	}
}

// FuzzCompileRota: no rota file, however odd, panics the compiler, the
// on-call answer or the gap search, and gaps always lie inside the span.
func FuzzCompileRota(f *testing.F) {
	f.Add([]byte(`{"shifts":[{"tier":"primary","staff":"a","days":"daily","start":"22:00","end":"06:00"}]}`))
	f.Add([]byte(`{"shifts":[{"tier":"duty-manager","staff":"a","days":["sun"],"start":"01:30","end":"01:00"}],"overrides":[{"kind":"swap","tier":"duty-manager","staff":"b","replaces":"a","from":"2027-03-28T00:00","to":"2027-03-28T03:00"}]}`))
	f.Add([]byte(`{"shifts":[{"tier":"primary","staff":"a","days":"weekdays","start":"0:00","end":"24:00"}]}`))
	f.Add([]byte(`{"overrides":[{"kind":"cover","tier":"secondary","staff":"x","from":"2026-10-25T01:30+01:00","to":"2026-10-25T01:30+00:00"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var rf RotaFile
		if json.Unmarshal(b, &rf) != nil {
			return
		}
		r, err := CompileRota(rf, "north", resolveAll)
		if err != nil {
			return
		}
		from := zulu(2026, 10, 20, 0, 0)
		to := from.Add(10 * 24 * time.Hour)
		for _, g := range r.Gaps(from, to) {
			if g.From.Before(from) || g.To.After(to) || !g.From.Before(g.To) {
				t.Fatalf("gap %v outside [%s, %s)", g, from, to)
			}
		}
		for h := 0; h < 240; h += 7 {
			r.OnCall(from.Add(time.Duration(h) * time.Hour))
		}
	})
}
