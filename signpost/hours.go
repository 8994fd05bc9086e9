package signpost

import (
	"strconv"
	"strings"
	"time"
)

// Hours is when a service is open, in Europe/London wall-clock time.
type Hours struct {
	Open247   bool       `json:"open_24_7,omitempty"`
	Schedules []Schedule `json:"schedules,omitempty"`
	// BankHolidays says what the weekly schedules do on a bank holiday of
	// the service's nation. Schedules marked BankHoliday replace the weekly
	// ones on such days whatever this says.
	BankHolidays BankHolidayRule `json:"bank_holidays,omitempty"`
	// Unverified marks hours nobody has confirmed; OpenAt still answers but
	// says the answer is not known for certain.
	Unverified bool `json:"hours_unverified,omitempty"`
	// Text is the hours as published, kept when they could not be
	// structured unambiguously.
	Text string `json:"hours_text,omitempty"`
}

// BankHolidayRule is what a service does on bank holidays.
type BankHolidayRule string

// Bank-holiday rules. The empty rule means nobody said: OpenAt then follows
// the weekly schedule but reports the answer as not known.
const (
	BankHolidaysUnknown BankHolidayRule = ""
	BankHolidaysClosed  BankHolidayRule = "closed"
	BankHolidaysNormal  BankHolidayRule = "normal" // the weekly hours apply
)

// Schedule is one weekly opening period, shaped like an Open Referral UK
// schedule with freq WEEKLY. Several schedules make several periods a day
// and different hours on different days.
type Schedule struct {
	ID string `json:"id,omitempty"` // the ORUK schedule id
	// ByDay lists RFC 5545 day codes, "MO,TU,WE,TH,FR"; Validate puts them
	// in canonical order. Empty means every day (Validate spells it out).
	ByDay    string `json:"byday,omitempty"`
	OpensAt  string `json:"opens_at,omitempty"`  // HH:MM
	ClosesAt string `json:"closes_at,omitempty"` // HH:MM; 00:00 or 24:00 is midnight at the end of the day
	// Overnight marks a period that closes the next day (22:00–02:00).
	// Without it, closes_at before opens_at is an error.
	Overnight bool `json:"overnight,omitempty"`
	// BankHoliday marks a period that applies only on bank holidays, on
	// any day of the week, instead of the weekly ones.
	BankHoliday bool   `json:"bank_holiday,omitempty"`
	ValidFrom   string `json:"valid_from,omitempty"` // YYYY-MM-DD, inclusive
	ValidTo     string `json:"valid_to,omitempty"`   // YYYY-MM-DD, inclusive
	Description string `json:"description,omitempty"`
	// ByMonthDay limits the weekly days to these days of the month (RFC
	// 5545 BYMONTHDAY: "1,15", "-1" for the last).
	ByMonthDay    string `json:"bymonthday,omitempty"`
	DTStart       string `json:"dtstart,omitempty"`
	Link          string `json:"schedule_link,omitempty"`
	AttendingType string `json:"attending_type,omitempty"`
	Notes         string `json:"notes,omitempty"`
}

// OpenAt reports whether the service is open at t, computed in
// Europe/London with the bank holidays of nation, and whether that answer
// is known: false when the hours are unverified, missing, or silent about a
// bank holiday that applies. The open answer is the best guess either way.
func (h Hours) OpenAt(t time.Time, nation Nation, hol Holidays) (open bool, known bool) {
	loc, err := hol.location()
	if err != nil {
		return false, false
	}
	ch := compileHours(h)
	return ch.openAt(clockAt(t, loc, hol), nationBit(nation))
}

// clock is an instant broken down once per query in Europe/London, with
// the nations for which today and yesterday are bank holidays.
type clock struct {
	today, yesterday int32 // yyyymmdd
	wd, ywd          time.Weekday
	minute           int   // minutes since local midnight, by the wall clock
	holToday, holYst uint8 // nation bits
}

func clockAt(t time.Time, loc *time.Location, hol Holidays) clock {
	lt := t.In(loc)
	y := lt.AddDate(0, 0, -1)
	c := clock{
		today: ymdOf(lt), yesterday: ymdOf(y),
		wd: lt.Weekday(), ywd: y.Weekday(),
		minute: lt.Hour()*60 + lt.Minute(),
	}
	for _, n := range nations {
		b := nationBit(n)
		if hol.isHoliday(c.today, b) {
			c.holToday |= b
		}
		if hol.isHoliday(c.yesterday, b) {
			c.holYst |= b
		}
	}
	return c
}

// period is a compiled Schedule. close is minutes after the opening day's
// midnight, so an overnight period closing at 02:00 has close = 1560.
type period struct {
	days        uint8 // bit per time.Weekday
	open, close int
	from, to    int32 // yyyymmdd, 0 = unbounded
	holiday     bool
	// mdays limits the period to days of the month: bit d for day d
	// (1–31), bit 32+k for the k-th day from the end; 0 = any day.
	mdays uint64
}

type compiledHours struct {
	always     bool
	unverified bool
	rule       BankHolidayRule
	weekly     []period
	holiday    []period
}

// compileHours turns Hours into integer periods. Schedules that do not
// parse are skipped (Validate has already rejected them in stored data).
func compileHours(h Hours) compiledHours {
	ch := compiledHours{always: h.Open247, unverified: h.Unverified, rule: h.BankHolidays}
	for _, s := range h.Schedules {
		p, ok := compileSchedule(s)
		if !ok {
			continue
		}
		if p.holiday {
			ch.holiday = append(ch.holiday, p)
		} else {
			ch.weekly = append(ch.weekly, p)
		}
	}
	return ch
}

func compileSchedule(s Schedule) (period, bool) {
	if s.OpensAt == "" && s.ClosesAt == "" {
		return period{}, false // a description-only schedule
	}
	open, ok1 := parseClock(s.OpensAt, false)
	closeAt, ok2 := parseClock(s.ClosesAt, true)
	days, ok3 := parseByDay(s.ByDay)
	if !ok1 || !ok2 || !ok3 {
		return period{}, false
	}
	if closeAt == 0 && !s.Overnight {
		closeAt = 24 * 60 // "00:00" closing is midnight at the end of the day
	}
	if s.Overnight {
		if closeAt > open {
			return period{}, false
		}
		closeAt += 24 * 60
	} else if closeAt <= open {
		return period{}, false
	}
	mdays, ok4 := parseByMonthDay(s.ByMonthDay)
	if !ok4 {
		return period{}, false
	}
	p := period{days: days, open: open, close: closeAt, holiday: s.BankHoliday, mdays: mdays}
	if s.ValidFrom != "" {
		if p.from, ok1 = parseDate(s.ValidFrom); !ok1 {
			return period{}, false
		}
	}
	if s.ValidTo != "" {
		if p.to, ok1 = parseDate(s.ValidTo); !ok1 {
			return period{}, false
		}
	}
	return p, true
}

func (ch *compiledHours) hasData() bool {
	return ch.always || len(ch.weekly) > 0 || len(ch.holiday) > 0
}

// openAt decides with a precomputed clock for the nation bit.
func (ch *compiledHours) openAt(c clock, nation uint8) (bool, bool) {
	if !ch.hasData() {
		return false, false
	}
	holToday := c.holToday&nation != 0
	if ch.always {
		if holToday && ch.rule == BankHolidaysClosed {
			return false, !ch.unverified
		}
		return true, !ch.unverified
	}
	known := !ch.unverified
	// A period that opened today, then one that opened yesterday and runs
	// past midnight.
	open, sure := ch.openOn(c.today, c.wd, c.minute, holToday)
	if !sure {
		known = false
	}
	if open {
		return true, known
	}
	holYesterday := c.holYst&nation != 0
	openY, sureY := ch.openOn(c.yesterday, c.ywd, c.minute+24*60, holYesterday)
	if openY {
		return true, known && sureY
	}
	return false, known && sureY
}

// openOn reports whether a period that started on day (weekday wd) covers
// minute (which may exceed 1440 for the day after), and whether the
// bank-holiday rule gave a certain answer.
func (ch *compiledHours) openOn(day int32, wd time.Weekday, minute int, holiday bool) (bool, bool) {
	periods, sure := ch.weekly, true
	if holiday {
		switch {
		case len(ch.holiday) > 0:
			periods = ch.holiday
		case ch.rule == BankHolidaysClosed:
			periods = nil
		case ch.rule == BankHolidaysNormal:
		default:
			sure = false
		}
	}
	for _, p := range periods {
		if !p.holiday && p.days&(1<<wd) == 0 {
			continue
		}
		if (p.from != 0 && day < p.from) || (p.to != 0 && day > p.to) {
			continue
		}
		if p.mdays != 0 && !onMonthDay(p.mdays, day) {
			continue
		}
		if minute >= p.open && minute < p.close {
			return true, sure
		}
	}
	return false, sure
}

// parseClock reads HH:MM or HH:MM:SS (seconds ignored) into minutes since
// midnight. 24:00 is allowed only as a closing time, and means midnight at
// the end of the day.
func parseClock(s string, closing bool) (int, bool) {
	if len(s) != 5 && len(s) != 8 {
		return 0, false
	}
	if s[2] != ':' || (len(s) == 8 && s[5] != ':') {
		return 0, false
	}
	num := func(a, b byte) (int, bool) {
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return 0, false
		}
		return int(a-'0')*10 + int(b-'0'), true
	}
	hh, ok1 := num(s[0], s[1])
	mm, ok2 := num(s[3], s[4])
	ss := 0
	ok3 := true
	if len(s) == 8 {
		ss, ok3 = num(s[6], s[7])
	}
	if !ok1 || !ok2 || !ok3 || mm > 59 || ss > 59 {
		return 0, false
	}
	if hh == 24 && closing && mm == 0 && ss == 0 {
		return 24 * 60, true
	}
	if hh > 23 {
		return 0, false
	}
	return hh*60 + mm, true
}

func fmtClock(m int) string {
	return string([]byte{byte('0' + m/600), byte('0' + m/60%10), ':', byte('0' + m%60/10), byte('0' + m%10)})
}

// dayCodes are RFC 5545 weekday codes indexed by time.Weekday.
var dayCodes = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// canonicalDays is Monday first, as people read a week.
var canonicalDays = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// parseByDay reads "MO,TU" (any case, spaces allowed) into a weekday mask;
// the empty string is every day.
func parseByDay(s string) (uint8, bool) {
	if strings.TrimSpace(s) == "" {
		return 0x7f, true
	}
	var mask uint8
	for _, f := range strings.Split(s, ",") {
		f = strings.ToUpper(strings.TrimSpace(f))
		found := false
		for wd, code := range dayCodes {
			if f == code {
				mask |= 1 << wd
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return mask, true
}

// parseByMonthDay reads an RFC 5545 BYMONTHDAY list ("1,15,-1") into the
// mask period.mdays describes; the empty string is every day.
func parseByMonthDay(s string) (uint64, bool) {
	if strings.TrimSpace(s) == "" {
		return 0, true
	}
	var mask uint64
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(f), "+"))
		switch {
		case err != nil || n == 0 || n > 31 || n < -31:
			return 0, false
		case n > 0:
			mask |= 1 << n
		default:
			mask |= 1 << (32 - n)
		}
	}
	return mask, true
}

// onMonthDay reports whether day (yyyymmdd) is one of mask's month days.
func onMonthDay(mask uint64, day int32) bool {
	y, m, d := int(day/10000), time.Month(day/100%100), int(day%100)
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return mask&(1<<d) != 0 || mask&(1<<(32+last-d+1)) != 0
}

func fmtByDay(mask uint8) string {
	var parts []string
	for _, wd := range canonicalDays {
		if mask&(1<<wd) != 0 {
			parts = append(parts, dayCodes[wd])
		}
	}
	return strings.Join(parts, ",")
}
