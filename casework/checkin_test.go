package casework

import (
	"testing"
	"time"

	"waymark/problem"
	"waymark/wallclock"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestScheduleNextAcrossClockChanges pins daily check-ins at 00:59, 01:30
// and 02:00 Europe/London on both clock changes: a repeated time is due
// once, at its first occurrence; a skipped one when the clocks jump.
func TestScheduleNextAcrossClockChanges(t *testing.T) {
	daily := Schedule{Times: []string{"00:59", "01:30", "02:00"}}
	for _, tc := range []struct {
		name string
		from time.Time
		want []time.Time // successive due times, UTC
	}{
		{
			"clocks go back 2026-10-25",
			london("2026-10-24 12:00"),
			[]time.Time{
				utc("2026-10-24 23:59"), // 00:59 BST
				utc("2026-10-25 00:30"), // 01:30 BST, the first of two
				utc("2026-10-25 02:00"), // 02:00 GMT (02:00 BST never shows)
				utc("2026-10-26 00:59"), // next day, GMT
			},
		},
		{
			"clocks go forward 2027-03-28",
			london("2027-03-27 12:00"),
			[]time.Time{
				utc("2027-03-28 00:59"), // 00:59 GMT
				utc("2027-03-28 01:00"), // 01:30 skipped: due at the jump; 02:00 BST is the same instant
				utc("2027-03-28 23:59"), // next day 00:59 BST
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := tc.from
			for i, want := range tc.want {
				got := daily.Next(at)
				if !got.Equal(want) {
					t.Fatalf("due %d after %v = %v, want %v", i, at.UTC(), got.UTC(), want)
				}
				at = got
			}
		})
	}
}

func TestScheduleNextFromEachLocalTime(t *testing.T) {
	// From a check-in made at each of the awkward local times, the next
	// daily 09:00 is the same wall-clock time the next morning.
	daily := Schedule{Times: []string{"09:00"}}
	for _, day := range []string{"2026-10-25", "2027-03-28"} {
		for _, hm := range []string{"00:59", "01:30", "02:00"} {
			from := london(day + " " + hm)
			got := daily.Next(from).In(wallclock.London())
			if got.Hour() != 9 || got.Minute() != 0 || got.Day() != from.In(wallclock.London()).Day() {
				t.Errorf("next 09:00 after %s %s = %v", day, hm, got)
			}
		}
	}
}

func TestScheduleIntervalIsElapsedTime(t *testing.T) {
	every := Schedule{Every: time.Hour}
	from := utc("2026-10-24 23:30") // 00:30 BST
	for i, want := range []time.Time{utc("2026-10-25 00:30"), utc("2026-10-25 01:30"), utc("2026-10-25 02:30")} {
		got := every.Next(from)
		if !got.Equal(want) {
			t.Fatalf("interval due %d = %v, want %v", i, got.UTC(), want)
		}
		from = got
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     Schedule
		field string
	}{
		{"interval", Schedule{Every: time.Hour, Grace: 10 * time.Minute}, ""},
		{"daily", Schedule{Times: []string{"08:00", "20:30"}}, ""},
		{"neither", Schedule{}, "every_minutes"},
		{"both", Schedule{Every: time.Hour, Times: []string{"08:00"}}, "times"},
		{"too often", Schedule{Every: time.Minute}, "every_minutes"},
		{"bad time", Schedule{Times: []string{"25:00"}}, "times[0]"},
		{"midnight end is not a time of day", Schedule{Times: []string{"24:00"}}, "times[0]"},
		{"negative grace", Schedule{Every: time.Hour, Grace: -time.Minute}, "grace_minutes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := &problem.Invalid{}
			tc.s.Validate(inv)
			var got string
			if len(inv.Fields) > 0 {
				got = inv.Fields[0].Name
			}
			if got != tc.field {
				t.Errorf("Validate problems %v, want field %q", inv.Fields, tc.field)
			}
		})
	}
}
