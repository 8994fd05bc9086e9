package wallclock

import (
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata"
)

// wallClock is the first instant at which loc's clocks read the given
// minute of the day on y-mo-d. A time repeated when clocks go back is due
// at its first occurrence, once; a time skipped when they go forward is due
// at the instant the clocks jump past it. (time.Date leaves both choices
// unspecified.)
func At(y int, mo time.Month, d, minute int, loc *time.Location) time.Time {
	naive := time.Date(y, mo, d, minute/60, minute%60, 0, 0, time.UTC)
	var offsets []int
	for _, probe := range []time.Time{naive.Add(-26 * time.Hour), naive.Add(26 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		offsets = append(offsets, off)
	}
	var found time.Time
	for _, off := range offsets {
		c := naive.Add(-time.Duration(off) * time.Second)
		l := c.In(loc)
		if l.Year() == y && l.Month() == mo && l.Day() == d && l.Hour()*60+l.Minute() == minute {
			if found.IsZero() || c.Before(found) {
				found = c
			}
		}
	}
	if !found.IsZero() {
		return found
	}
	// Skipped: read with the offset in force before the change, the time
	// lands inside the new period, which starts at the jump.
	start, _ := naive.Add(-time.Duration(offsets[0]) * time.Second).In(loc).ZoneBounds()
	return start
}

// ParseLondonTime reads a date-time for an override or a query: RFC 3339
// with an offset (an exact instant), or a Europe/London wall-clock
// date-time 2006-01-02T15:04 (or with a space, or with seconds). A wall time
// the clocks skip is refused, and so is one they repeat (name its offset:
// +01:00 for the first, +00:00 for the second): an on-call change must not
// be an hour off.
func ParseLondonTime(s string) (time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, "is required"
	}
	if len(s) > 40 {
		return time.Time{}, "must be a date-time such as 2026-10-24T09:00"
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, ""
		}
	}
	loc := London()
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		naive, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		y, m, d := naive.Date()
		minute := naive.Hour()*60 + naive.Minute()
		first := At(y, m, d, minute, loc).Add(time.Duration(naive.Second()) * time.Second)
		l := first.In(loc)
		if l.Hour() != naive.Hour() || l.Minute() != naive.Minute() || l.Day() != d {
			return time.Time{}, "does not exist in Europe/London: the clocks go forward then; use the time after the change"
		}
		if second := first.Add(time.Hour); second.In(loc).Hour() == naive.Hour() && second.In(loc).Minute() == naive.Minute() && second.In(loc).Day() == d {
			return time.Time{}, "happens twice in Europe/London (the clocks go back): add the offset, +01:00 for the first or +00:00 for the second"
		}
		return first, ""
	}
	return time.Time{}, "must be a date-time such as 2026-10-24T09:00 (Europe/London) or RFC 3339 with an offset"
}

// London is the zone every wall-clock time in Waymark is read in.
func London() *time.Location { return londonZone() }

// londonZone loads the zone once: time.LoadLocation reads and parses the zone
// file on every call (tens of kilobytes and a file read), and London is on
// every case decode. A *time.Location is immutable and safe to share.
var londonZone = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		// time/tzdata is embedded above, so this cannot fail.
		panic("alert: Europe/London missing: " + err.Error())
	}
	return loc
})

func ParseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("must be HH:MM")
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	for _, c := range []byte{s[0], s[1], s[3], s[4]} {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("must be HH:MM")
		}
	}
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("must be a time between 00:00 and 24:00")
	}
	return h*60 + m, nil
}

// Day is t's date in London, YYYY-MM-DD: the day Waymark counts it under.
func Day(t time.Time) string { return t.In(London()).Format(time.DateOnly) }
