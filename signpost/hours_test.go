package signpost

import (
	"testing"
	"time"
)

func every(open, close string, overnight bool) Hours {
	return Hours{Schedules: []Schedule{{ByDay: "MO,TU,WE,TH,FR,SA,SU", OpensAt: open, ClosesAt: close, Overnight: overnight}}}
}

// TestOpenAtClockChanges checks opening at 00:59, 01:30 and 02:00 local on
// both clock-change days of 2026. Instants are given in UTC because 01:30
// does not exist on 29 March and happens twice on 25 October.
func TestOpenAtClockChanges(t *testing.T) {
	hol := mustHolidays(t)
	night := every("22:00", "02:00", true) // overnight, Saturday into Sunday
	early := every("01:00", "03:00", false)
	midnight := every("00:00", "01:00", false)
	tests := []struct {
		name                  string
		at                    time.Time
		night, early, midnght bool
	}{
		// Spring forward: 01:00 GMT becomes 02:00 BST.
		{"spring 00:59 GMT", time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC), true, false, true},
		{"spring 01:30 (does not exist; 01:30Z is 02:30 BST)", time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), false, true, false},
		{"spring 02:00 BST", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), false, true, false},
		// Fall back: 02:00 BST becomes 01:00 GMT, so 01:30 happens twice.
		{"autumn 00:59 BST", time.Date(2026, 10, 24, 23, 59, 0, 0, time.UTC), true, false, true},
		{"autumn first 01:30 (BST)", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), true, true, false},
		{"autumn second 01:30 (GMT)", time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), true, true, false},
		{"autumn 02:00 GMT", time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC), false, true, false},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			kind string
			h    Hours
			want bool
		}{{"22:00-02:00 overnight", night, tt.night}, {"01:00-03:00", early, tt.early}, {"00:00-01:00", midnight, tt.midnght}} {
			open, known := c.h.OpenAt(tt.at, England, hol)
			if open != c.want || !known {
				t.Errorf("%s, %s: OpenAt = %v, %v; want %v, true", tt.name, c.kind, open, known, c.want)
			}
		}
	}
	// Whatever instant Go picks for the non-existent 01:30 on 29 March, the
	// answer follows that instant's wall clock.
	gap := time.Date(2026, 3, 29, 1, 30, 0, 0, hol.loc)
	wall := gap.In(hol.loc).Hour()*60 + gap.In(hol.loc).Minute()
	if open, _ := early.OpenAt(gap, England, hol); open != (wall >= 60 && wall < 180) {
		t.Errorf("non-existent 01:30 (wall %02d:%02d): early open = %v", wall/60, wall%60, open)
	}
}

func TestOpenAtBankHolidays(t *testing.T) {
	hol := mustHolidays(t)
	weekday := []Schedule{{ByDay: "MO,TU,WE,TH,FR", OpensAt: "09:00", ClosesAt: "17:00"}}
	closed := Hours{Schedules: weekday, BankHolidays: BankHolidaysClosed}
	normal := Hours{Schedules: weekday, BankHolidays: BankHolidaysNormal}
	silent := Hours{Schedules: weekday}
	special := Hours{Schedules: append(append([]Schedule(nil), weekday...), Schedule{OpensAt: "10:00", ClosesAt: "14:00", BankHoliday: true})}
	nightClosed := Hours{Schedules: []Schedule{{OpensAt: "22:00", ClosesAt: "02:00", Overnight: true}}, BankHolidays: BankHolidaysClosed}

	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, hol.loc) }
	tests := []struct {
		name        string
		h           Hours
		at          time.Time
		nation      Nation
		open, known bool
	}{
		{"Easter Monday, England, closed", closed, at(2026, 4, 6, 11, 0), England, false, true},
		{"Easter Monday, Wales, closed", closed, at(2026, 4, 6, 11, 0), Wales, false, true},
		{"Easter Monday, Scotland (not a holiday)", closed, at(2026, 4, 6, 11, 0), Scotland, true, true},
		{"Easter Monday, NI, closed", closed, at(2026, 4, 6, 11, 0), NorthernIreland, false, true},
		{"Easter Monday, normal hours", normal, at(2026, 4, 6, 11, 0), England, true, true},
		{"Easter Monday, rule not given", silent, at(2026, 4, 6, 11, 0), England, true, false},
		{"Easter Monday, holiday hours inside", special, at(2026, 4, 6, 11, 0), England, true, true},
		{"Easter Monday, holiday hours after", special, at(2026, 4, 6, 15, 0), England, false, true},
		{"St Patrick's Day, NI", closed, at(2026, 3, 17, 11, 0), NorthernIreland, false, true},
		{"St Patrick's Day, England", closed, at(2026, 3, 17, 11, 0), England, true, true},
		{"Boyne substitute, NI", closed, at(2026, 7, 13, 11, 0), NorthernIreland, false, true},
		{"Scottish summer holiday, Scotland", closed, at(2026, 8, 3, 11, 0), Scotland, false, true},
		{"Scottish summer holiday, England", closed, at(2026, 8, 3, 11, 0), England, true, true},
		{"English summer holiday, Scotland", closed, at(2026, 8, 31, 11, 0), Scotland, true, true},
		{"St Andrew's Day, Scotland", closed, at(2026, 11, 30, 11, 0), Scotland, false, true},
		{"Boxing Day substitute, Wales", closed, at(2026, 12, 28, 11, 0), Wales, false, true},
		{"Scotland's 2 January", closed, at(2026, 1, 2, 11, 0), Scotland, false, true},
		{"2 January, England", closed, at(2026, 1, 2, 11, 0), England, true, true},
		{"holiday hours on a normal day use the weekly ones", special, at(2026, 4, 7, 16, 0), England, true, true},
		{"overnight starting on a holiday is closed", nightClosed, at(2026, 4, 6, 23, 0), England, false, true},
		{"overnight that started on a holiday is closed", nightClosed, at(2026, 4, 7, 1, 0), England, false, true},
		{"overnight into a holiday from a normal day", nightClosed, at(2026, 4, 6, 1, 0), England, true, true},
	}
	for _, tt := range tests {
		open, known := tt.h.OpenAt(tt.at, tt.nation, hol)
		if open != tt.open || known != tt.known {
			t.Errorf("%s: OpenAt = %v, %v; want %v, %v", tt.name, open, known, tt.open, tt.known)
		}
	}
}

func TestOpenAtOther(t *testing.T) {
	hol := mustHolidays(t)
	wed := time.Date(2026, 2, 4, 12, 0, 0, 0, time.UTC) // a Wednesday, GMT
	tests := []struct {
		name        string
		h           Hours
		open, known bool
	}{
		{"no hours", Hours{}, false, false},
		{"text only", Hours{Text: "Office hours", Unverified: true}, false, false},
		{"24/7", Hours{Open247: true}, true, true},
		{"24/7 unverified", Hours{Open247: true, Unverified: true}, true, false},
		{"unverified schedule", Hours{Schedules: []Schedule{{ByDay: "WE", OpensAt: "10:00", ClosesAt: "16:00"}}, Unverified: true}, true, false},
		{"several periods a day, in the gap", Hours{Schedules: []Schedule{{OpensAt: "09:00", ClosesAt: "11:00"}, {OpensAt: "13:00", ClosesAt: "17:00"}}}, false, true},
		{"several periods a day, in the second", Hours{Schedules: []Schedule{{OpensAt: "09:00", ClosesAt: "11:00"}, {OpensAt: "11:30", ClosesAt: "17:00"}}}, true, true},
		{"other days only", Hours{Schedules: []Schedule{{ByDay: "MO,TU", OpensAt: "09:00", ClosesAt: "17:00"}}}, false, true},
		{"expired schedule", Hours{Schedules: []Schedule{{OpensAt: "09:00", ClosesAt: "17:00", ValidTo: "2026-01-31"}}}, false, true},
		{"future schedule", Hours{Schedules: []Schedule{{OpensAt: "09:00", ClosesAt: "17:00", ValidFrom: "2026-03-01"}}}, false, true},
		{"schedule in its validity", Hours{Schedules: []Schedule{{OpensAt: "09:00", ClosesAt: "17:00", ValidFrom: "2026-02-04", ValidTo: "2026-02-04"}}}, true, true},
		{"closes at midnight", Hours{Schedules: []Schedule{{OpensAt: "12:00", ClosesAt: "00:00"}}}, true, true},
		{"closes at 24:00", Hours{Schedules: []Schedule{{OpensAt: "12:00", ClosesAt: "24:00"}}}, true, true},
		{"seconds accepted", Hours{Schedules: []Schedule{{OpensAt: "11:00:30", ClosesAt: "12:30:00"}}}, true, true},
		{"description-only schedule", Hours{Schedules: []Schedule{{Description: "By appointment"}}}, false, false},
	}
	for _, tt := range tests {
		open, known := tt.h.OpenAt(wed, England, hol)
		if open != tt.open || known != tt.known {
			t.Errorf("%s: OpenAt = %v, %v; want %v, %v", tt.name, open, known, tt.open, tt.known)
		}
	}
	// The zero Holidays still computes in Europe/London: 12:30 BST is 11:30Z.
	h := Hours{Schedules: []Schedule{{OpensAt: "12:00", ClosesAt: "13:00"}}}
	if open, _ := h.OpenAt(time.Date(2026, 6, 3, 11, 30, 0, 0, time.UTC), England, Holidays{}); !open {
		t.Error("zero Holidays: 12:30 BST not inside 12:00-13:00")
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in      string
		closing bool
		want    int
		ok      bool
	}{
		{"00:00", false, 0, true}, {"23:59", false, 1439, true}, {"09:30:00", false, 570, true},
		{"24:00", true, 1440, true}, {"24:00:00", true, 1440, true}, {"24:00", false, 0, false},
		{"25:00", true, 0, false}, {"12:60", false, 0, false}, {"9:30", false, 0, false},
		{"12:00:61", false, 0, false}, {"ab:cd", false, 0, false}, {"", false, 0, false}, {"12-00", false, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseClock(tt.in, tt.closing)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseClock(%q, %v) = %d, %v; want %d, %v", tt.in, tt.closing, got, ok, tt.want, tt.ok)
		}
	}
}
