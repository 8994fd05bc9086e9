package casework

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"waymark/problem"
	"waymark/wallclock"
)

// Schedule is when a survivor has agreed to check in: every N minutes, or
// daily at Europe/London wall-clock times, each with a grace period after
// which a missed check-in raises an alert.
type Schedule struct {
	// Every is the interval between check-ins; zero in daily mode.
	Every time.Duration
	// Times are daily local times "HH:MM" (Europe/London), sorted.
	Times []string
	Grace time.Duration
}

// Limits of a schedule.
const (
	MinEvery = 5 * time.Minute
	MaxEvery = 7 * 24 * time.Hour
	MaxGrace = 24 * time.Hour
	MaxTimes = 24
)

// Validate checks the schedule; problems name the JSON fields of PUT
// /v1/app/checkins.
func (s Schedule) Validate(inv *problem.Invalid) {
	switch {
	case s.Every == 0 && len(s.Times) == 0:
		inv.Add("every_minutes", "either every_minutes or times is required")
	case s.Every != 0 && len(s.Times) != 0:
		inv.Add("times", "give either every_minutes or times, not both")
	case s.Every != 0 && (s.Every < MinEvery || s.Every > MaxEvery):
		inv.Add("every_minutes", fmt.Sprintf("must be between %d and %d", int(MinEvery/time.Minute), int(MaxEvery/time.Minute)))
	}
	if len(s.Times) > MaxTimes {
		inv.Add("times", fmt.Sprintf("must have at most %d items", MaxTimes))
	}
	for i, t := range s.Times {
		m, err := wallclock.ParseClock(t)
		if err != nil || m >= 24*60 {
			inv.Add(fmt.Sprintf("times[%d]", i), "must be a time HH:MM between 00:00 and 23:59")
		}
	}
	if s.Grace < 0 || s.Grace > MaxGrace {
		inv.Add("grace_minutes", fmt.Sprintf("must be between 0 and %d", int(MaxGrace/time.Minute)))
	}
}

// Normalize sorts and de-duplicates the daily times.
func (s Schedule) Normalize() Schedule {
	t := slices.Clone(s.Times)
	slices.Sort(t)
	s.Times = slices.Compact(t)
	return s
}

// Next is the first due time strictly after from: from plus the interval,
// or the next daily wall-clock time in Europe/London.
func (s Schedule) Next(from time.Time) time.Time {
	if s.Every > 0 {
		return from.Add(s.Every)
	}
	loc := wallclock.London()
	local := from.In(loc)
	var best time.Time
	// Two days ahead always holds the next time of any non-empty list; a
	// third covers a clock change eating the only candidate.
	for day := 0; day <= 2; day++ {
		d := local.AddDate(0, 0, day)
		for _, hm := range s.Times {
			m, err := wallclock.ParseClock(hm)
			if err != nil {
				continue
			}
			c := wallclock.At(d.Year(), d.Month(), d.Day(), m, loc)
			if c.After(from) && (best.IsZero() || c.Before(best)) {
				best = c
			}
		}
		if !best.IsZero() {
			return best
		}
	}
	return best
}

// String describes the schedule for the timeline (no personal data).
func (s Schedule) String() string {
	var b strings.Builder
	if s.Every > 0 {
		fmt.Fprintf(&b, "every %d min", int(s.Every/time.Minute))
	} else {
		b.WriteString("daily at " + strings.Join(s.Times, ", ") + " (Europe/London)")
	}
	fmt.Fprintf(&b, ", grace %d min", int(s.Grace/time.Minute))
	return b.String()
}

// Checkins is a case's check-in state, kept in Redis so any instance can
// notice a missed one and a restart loses nothing.
type Checkins struct {
	// Active is stored as the plain field `active` ("1"/"0"); case expiry
	// reads it.
	Active   bool
	Schedule Schedule
	// NextDue is when the next check-in is due; the alert falls at
	// NextDue + Grace.
	NextDue time.Time
	Last    time.Time
	// Paused is set once a missed check-in raised its alert: nothing more
	// is due until the survivor checks in again.
	Paused bool
	// Fence is the token of the pending check-in timer.
	Fence string
	// WrongPINs counts wrong PINs in a row on check-ins and cancels.
	WrongPINs int
	// LogSeq counts entries of the check-in log.
	LogSeq    int
	UpdatedAt time.Time
	Version   int64
}

// AlarmAt is when a missed check-in raises its alert; zero when none is
// pending.
func (c *Checkins) AlarmAt() time.Time {
	if c == nil || !c.Active || c.Paused || c.NextDue.IsZero() {
		return time.Time{}
	}
	return c.NextDue.Add(c.Schedule.Grace)
}

func (c *Checkins) Clone() *Checkins {
	if c == nil {
		return &Checkins{}
	}
	n := *c
	n.Schedule.Times = slices.Clone(c.Schedule.Times)
	return &n
}
