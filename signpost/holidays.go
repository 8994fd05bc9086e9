package signpost

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"
	_ "time/tzdata" // Europe/London must load on machines without a zoneinfo database
)

// ErrHolidays reports a bad holiday override list.
var ErrHolidays = errors.New("signpost: holiday overrides")

// Holiday is one bank holiday.
type Holiday struct {
	Date string `json:"date"` // YYYY-MM-DD
	Name string `json:"name"`
}

// HolidayOverride adds a one-off bank holiday (a coronation, a state
// funeral) or, with Remove, takes away a rule-based one that was moved
// (the early May holiday of 2020 moved to VE Day).
type HolidayOverride struct {
	Date    string   `json:"date"` // YYYY-MM-DD
	Name    string   `json:"name"`
	Nations []Nation `json:"nations"` // empty: every nation
	Remove  bool     `json:"remove,omitempty"`
}

// Holidays answers whether a day is a bank holiday in a nation, from the
// statutory and proclaimed rules (Easter by the Gregorian computus, fixed
// days with substitute days when they fall at a weekend, the Monday
// holidays) plus overrides for one-off days. A Holidays value is immutable
// and safe for concurrent use; the zero value applies the rules with no
// overrides. It also carries the Europe/London location so that callers
// that hold one need not load the zone again.
type Holidays struct {
	loc    *time.Location
	rules  map[int32]uint8 // yyyymmdd → nations (bits), rule-based, for ruleYears
	add    map[int32]uint8 // yyyymmdd → nations (bits) with a one-off holiday
	remove map[int32]uint8 // yyyymmdd → nations whose rule-based holiday is removed
	names  map[int32]string
}

//go:embed seed/holiday-overrides.json
var defaultOverrides []byte

// DefaultHolidays returns the rules plus the one-off days Waymark ships
// with (seed/holiday-overrides.json).
func DefaultHolidays() (Holidays, error) {
	ov, err := ParseHolidayOverrides(bytes.NewReader(defaultOverrides))
	if err != nil {
		return Holidays{}, err
	}
	return NewHolidays(ov)
}

// ParseHolidayOverrides reads a JSON array of HolidayOverride, so that an
// operator can add a newly proclaimed day without a new release.
func ParseHolidayOverrides(r io.Reader) ([]HolidayOverride, error) {
	var ov []HolidayOverride
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ov); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHolidays, err)
	}
	return ov, nil
}

// NewHolidays builds a Holidays from the rules and the given overrides.
func NewHolidays(overrides []HolidayOverride) (Holidays, error) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return Holidays{}, fmt.Errorf("signpost: load Europe/London: %w", err)
	}
	h := Holidays{loc: loc, rules: map[int32]uint8{}, add: map[int32]uint8{}, remove: map[int32]uint8{}, names: map[int32]string{}}
	for y := ruleYears[0]; y <= ruleYears[1]; y++ {
		for _, r := range ruleHolidays(y) {
			h.rules[r.ymd] |= r.nations
		}
	}
	for i, o := range overrides {
		d, ok := parseDate(o.Date)
		if !ok {
			return Holidays{}, fmt.Errorf("%w: entry %d: date must be YYYY-MM-DD", ErrHolidays, i)
		}
		var mask uint8
		for _, n := range o.Nations {
			b := nationBit(n)
			if b == 0 {
				return Holidays{}, fmt.Errorf("%w: entry %d: unknown nation", ErrHolidays, i)
			}
			mask |= b
		}
		if mask == 0 {
			mask = allNations
		}
		if o.Remove {
			h.remove[d] |= mask
		} else {
			h.add[d] |= mask
			h.names[d] = o.Name
		}
	}
	return h, nil
}

const allNations = 1<<4 - 1 // one bit per nation, in the order of nations

// ruleYears is the span of years whose rule-based holidays NewHolidays
// tabulates; other years are computed on each call.
var ruleYears = [2]int{1990, 2100}

// location returns Europe/London, loading it when the Holidays is the zero
// value.
func (h Holidays) location() (*time.Location, error) {
	if h.loc != nil {
		return h.loc, nil
	}
	return time.LoadLocation("Europe/London")
}

// IsHoliday reports whether the calendar day of date (in date's own
// location; pass a Europe/London time for "today") is a bank holiday in n.
func (h Holidays) IsHoliday(date time.Time, n Nation) bool {
	y, m, d := date.Date()
	return h.isHoliday(int32(y*10000+int(m)*100+d), nationBit(n))
}

func (h Holidays) isHoliday(ymd int32, bit uint8) bool {
	if bit == 0 {
		return false
	}
	if h.add[ymd]&bit != 0 {
		return true
	}
	if h.remove[ymd]&bit != 0 {
		return false
	}
	if y := int(ymd / 10000); h.rules != nil && y >= ruleYears[0] && y <= ruleYears[1] {
		return h.rules[ymd]&bit != 0
	}
	for _, r := range ruleHolidays(int(ymd / 10000)) {
		if r.ymd == ymd && r.nations&bit != 0 {
			return true
		}
	}
	return false
}

// Dates lists the bank holidays of a year in n, in date order.
func (h Holidays) Dates(year int, n Nation) []Holiday {
	bit := nationBit(n)
	var out []Holiday
	for _, r := range ruleHolidays(year) {
		if r.nations&bit != 0 && h.remove[r.ymd]&bit == 0 {
			out = append(out, Holiday{Date: fmtYMD(r.ymd), Name: r.name})
		}
	}
	for ymd, mask := range h.add {
		if int(ymd/10000) == year && mask&bit != 0 {
			out = append(out, Holiday{Date: fmtYMD(ymd), Name: h.names[ymd]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out
}

type ruleHoliday struct {
	ymd     int32
	nations uint8
	name    string
}

const (
	bitEW = 1<<0 | 1<<1 // England and Wales
	bitS  = 1 << 2
	bitNI = 1 << 3
)

// ruleHolidays computes a year's rule-based bank holidays for every nation.
// It is pure arithmetic (well under a microsecond per holiday), so nothing
// is cached.
func ruleHolidays(year int) []ruleHoliday {
	day := func(m time.Month, d int) time.Time { return time.Date(year, m, d, 12, 0, 0, 0, time.UTC) }
	var out []ruleHoliday
	addDay := func(t time.Time, mask uint8, name string) {
		out = append(out, ruleHoliday{ymd: ymdOf(t), nations: mask, name: name})
	}

	// Fixed-date holidays move to the next weekday not already a holiday,
	// per nation, in date order (so Christmas on a Sunday goes to Tuesday,
	// Boxing Day keeping Monday).
	type fixed struct {
		date time.Time
		name string
	}
	perNation := map[uint8][]fixed{
		bitEW: {{day(time.January, 1), "New Year's Day"}, {day(time.December, 25), "Christmas Day"}, {day(time.December, 26), "Boxing Day"}},
		bitS: {{day(time.January, 1), "New Year's Day"}, {day(time.January, 2), "2nd January"},
			{day(time.November, 30), "St Andrew's Day"}, {day(time.December, 25), "Christmas Day"}, {day(time.December, 26), "Boxing Day"}},
		bitNI: {{day(time.January, 1), "New Year's Day"}, {day(time.March, 17), "St Patrick's Day"},
			{day(time.July, 12), "Battle of the Boyne (Orangemen's Day)"}, {day(time.December, 25), "Christmas Day"}, {day(time.December, 26), "Boxing Day"}},
	}
	for _, mask := range []uint8{bitEW, bitS, bitNI} {
		taken := map[int32]bool{}
		for _, f := range perNation[mask] {
			if !weekend(f.date) {
				taken[ymdOf(f.date)] = true
			}
		}
		for _, f := range perNation[mask] {
			if !weekend(f.date) {
				addDay(f.date, mask, f.name)
				continue
			}
			t := f.date
			for weekend(t) || taken[ymdOf(t)] {
				t = t.AddDate(0, 0, 1)
			}
			taken[ymdOf(t)] = true
			addDay(t, mask, f.name+" (substitute day)")
		}
	}

	easter := easterSunday(year)
	addDay(easter.AddDate(0, 0, -2), bitEW|bitS|bitNI, "Good Friday")
	addDay(easter.AddDate(0, 0, 1), bitEW|bitNI, "Easter Monday")
	addDay(firstMonday(year, time.May), bitEW|bitS|bitNI, "Early May bank holiday")
	addDay(lastMonday(year, time.May), bitEW|bitS|bitNI, "Spring bank holiday")
	addDay(firstMonday(year, time.August), bitS, "Summer bank holiday")
	addDay(lastMonday(year, time.August), bitEW|bitNI, "Summer bank holiday")
	return out
}

// easterSunday is the anonymous Gregorian computus (Meeus/Jones/Butcher).
func easterSunday(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 12, 0, 0, 0, time.UTC)
}

func firstMonday(year int, m time.Month) time.Time {
	t := time.Date(year, m, 1, 12, 0, 0, 0, time.UTC)
	return t.AddDate(0, 0, (8-int(t.Weekday()))%7)
}

func lastMonday(year int, m time.Month) time.Time {
	t := time.Date(year, m+1, 0, 12, 0, 0, 0, time.UTC) // last day of m
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
}

func weekend(t time.Time) bool { return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday }

func ymdOf(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(y*10000 + int(m)*100 + d)
}

func fmtYMD(ymd int32) string {
	return fmt.Sprintf("%04d-%02d-%02d", ymd/10000, ymd/100%100, ymd%100)
}

// parseDate reads YYYY-MM-DD into yyyymmdd, rejecting impossible dates.
func parseDate(s string) (int32, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, false
	}
	return ymdOf(t), true
}
