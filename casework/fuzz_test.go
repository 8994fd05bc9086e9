package casework

import (
	"testing"
	"time"

	"waymark/problem"
	"waymark/wallclock"
)

// FuzzScheduleNext: for any time of day the schedule accepts and any
// instant, the next due time is after it, within two days, and on London's
// clock reads that time — or is the instant the clocks jumped past it.
func FuzzScheduleNext(f *testing.F) {
	f.Add("01:30", int64(1792800000)) // 2026-10-25, clocks go back
	f.Add("01:30", int64(1806112800)) // 2027-03-28, clocks go forward
	f.Add("00:59", int64(1792796400))
	f.Add("02:00", int64(0))
	f.Add("23:59", int64(-1))
	f.Add("24:00", int64(1700000000))
	f.Add("9:00", int64(1700000000))
	f.Fuzz(func(t *testing.T, hm string, unix int64) {
		s := Schedule{Times: []string{hm}, Grace: time.Minute}
		inv := &problem.Invalid{}
		s.Validate(inv)
		if inv.Err() != nil {
			return
		}
		// Keep to years the zone database describes.
		from := time.Unix(unix%(200*365*24*3600), 0)
		next := s.Next(from)
		if !next.After(from) || next.Sub(from) > 50*time.Hour {
			t.Fatalf("Next(%v) for %s = %v", from, hm, next)
		}
		want, _ := wallclock.ParseClock(hm)
		l := next.In(wallclock.London())
		if got := l.Hour()*60 + l.Minute(); got != want {
			// Only a skipped time may differ: then next is a zone change.
			start, _ := next.ZoneBounds()
			if !start.Equal(next) {
				t.Fatalf("Next(%v) for %s = %v, which reads %02d:%02d", from, hm, l, l.Hour(), l.Minute())
			}
		}
	})
}
