package signpost

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustHolidays(t testing.TB) Holidays {
	t.Helper()
	h, err := DefaultHolidays()
	if err != nil {
		t.Fatalf("DefaultHolidays: %v", err)
	}
	return h
}

func dates(hs []Holiday) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Date
	}
	return out
}

// The published gov.uk bank holidays (www.gov.uk/bank-holidays).
func TestHolidayDatesPublished(t *testing.T) {
	h := mustHolidays(t)
	tests := []struct {
		year   int
		nation Nation
		want   []string
	}{
		{2025, England, []string{"2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26"}},
		{2025, Scotland, []string{"2025-01-01", "2025-01-02", "2025-04-18", "2025-05-05", "2025-05-26", "2025-08-04", "2025-12-01", "2025-12-25", "2025-12-26"}},
		{2025, NorthernIreland, []string{"2025-01-01", "2025-03-17", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-07-14", "2025-08-25", "2025-12-25", "2025-12-26"}},
		{2026, England, []string{"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28"}},
		{2026, Wales, []string{"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28"}},
		{2026, Scotland, []string{"2026-01-01", "2026-01-02", "2026-04-03", "2026-05-04", "2026-05-25", "2026-08-03", "2026-11-30", "2026-12-25", "2026-12-28"}},
		{2026, NorthernIreland, []string{"2026-01-01", "2026-03-17", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-07-13", "2026-08-31", "2026-12-25", "2026-12-28"}},
		{2027, England, []string{"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"}},
		{2027, Scotland, []string{"2027-01-01", "2027-01-04", "2027-03-26", "2027-05-03", "2027-05-31", "2027-08-02", "2027-11-30", "2027-12-27", "2027-12-28"}},
		{2027, NorthernIreland, []string{"2027-01-01", "2027-03-17", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-07-12", "2027-08-30", "2027-12-27", "2027-12-28"}},
		// One-off days and moved holidays from the override list.
		{2020, England, []string{"2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08", "2020-05-25", "2020-08-31", "2020-12-25", "2020-12-28"}},
		{2022, England, []string{"2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03", "2022-08-29", "2022-09-19", "2022-12-26", "2022-12-27"}},
		{2022, Scotland, []string{"2022-01-03", "2022-01-04", "2022-04-15", "2022-05-02", "2022-06-02", "2022-06-03", "2022-08-01", "2022-09-19", "2022-11-30", "2022-12-26", "2022-12-27"}},
		{2023, England, []string{"2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29", "2023-08-28", "2023-12-25", "2023-12-26"}},
		{2023, Scotland, []string{"2023-01-02", "2023-01-03", "2023-04-07", "2023-05-01", "2023-05-08", "2023-05-29", "2023-08-07", "2023-11-30", "2023-12-25", "2023-12-26"}},
	}
	for _, tt := range tests {
		got := dates(h.Dates(tt.year, tt.nation))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Dates(%d, %s) (-want +got):\n%s", tt.year, tt.nation, diff)
		}
		for _, d := range tt.want {
			day, _ := time.Parse(time.DateOnly, d)
			if !h.IsHoliday(day, tt.nation) {
				t.Errorf("IsHoliday(%s, %s) = false", d, tt.nation)
			}
		}
	}
}

func TestIsHoliday(t *testing.T) {
	h := mustHolidays(t)
	london, _ := time.LoadLocation("Europe/London")
	tests := []struct {
		date   time.Time
		nation Nation
		want   bool
	}{
		{time.Date(2026, 3, 17, 0, 0, 0, 0, london), NorthernIreland, true},
		{time.Date(2026, 3, 17, 23, 59, 0, 0, london), England, false},
		{time.Date(2026, 7, 13, 9, 0, 0, 0, london), NorthernIreland, true}, // 12 July 2026 is a Sunday
		{time.Date(2026, 7, 12, 9, 0, 0, 0, london), NorthernIreland, false},
		{time.Date(2026, 4, 6, 9, 0, 0, 0, london), Scotland, false}, // no Easter Monday in Scotland
		{time.Date(2026, 4, 6, 9, 0, 0, 0, london), Wales, true},
		{time.Date(2026, 8, 3, 9, 0, 0, 0, london), Scotland, true},
		{time.Date(2026, 8, 3, 9, 0, 0, 0, london), England, false},
		{time.Date(2020, 5, 4, 9, 0, 0, 0, london), England, false},  // moved to VE Day
		{time.Date(2026, 5, 4, 9, 0, 0, 0, london), "", false},       // unknown nation
		{time.Date(2150, 12, 25, 9, 0, 0, 0, london), England, true}, // outside the table: computed
	}
	for _, tt := range tests {
		if got := h.IsHoliday(tt.date, tt.nation); got != tt.want {
			t.Errorf("IsHoliday(%s, %q) = %v, want %v", tt.date.Format(time.DateOnly), tt.nation, got, tt.want)
		}
	}
	// The zero value applies the rules without overrides.
	var zero Holidays
	if !zero.IsHoliday(time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), England) {
		t.Error("zero Holidays: 2026-12-28 not a holiday")
	}
	if zero.IsHoliday(time.Date(2023, 5, 8, 0, 0, 0, 0, time.UTC), England) {
		t.Error("zero Holidays knows the coronation without overrides")
	}
}

func TestEasterSunday(t *testing.T) {
	for year, want := range map[int]string{
		2000: "2000-04-23", 2008: "2008-03-23", 2011: "2011-04-24", 2019: "2019-04-21",
		2024: "2024-03-31", 2025: "2025-04-20", 2026: "2026-04-05", 2027: "2027-03-28",
		2038: "2038-04-25", 2285: "2285-03-22",
	} {
		if got := easterSunday(year).Format(time.DateOnly); got != want {
			t.Errorf("easterSunday(%d) = %s, want %s", year, got, want)
		}
	}
}

func TestHolidayOverrides(t *testing.T) {
	ov, err := ParseHolidayOverrides(strings.NewReader(`[{"date":"2026-06-01","name":"Proclaimed day","nations":["scotland"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHolidays(ov)
	if err != nil {
		t.Fatal(err)
	}
	d := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	if !h.IsHoliday(d, Scotland) || h.IsHoliday(d, England) {
		t.Errorf("override applies to the wrong nations")
	}
	for _, bad := range []string{`{}`, `[{"date":"2026-13-01"}]`, `[{"date":"2026-06-01","nations":["mars"]}]`, `[{"date":"2026-06-01","extra":1}]`} {
		ov, err := ParseHolidayOverrides(strings.NewReader(bad))
		if err == nil {
			_, err = NewHolidays(ov)
		}
		if !errors.Is(err, ErrHolidays) {
			t.Errorf("overrides %s: error %v, want ErrHolidays", bad, err)
		}
	}
}

func FuzzParseHolidayOverrides(f *testing.F) {
	f.Add([]byte(`[{"date":"2022-09-19","name":"State funeral"}]`))
	f.Add([]byte(`[{"date":"2020-05-04","remove":true,"nations":["england","wales"]}]`))
	f.Add([]byte(`[{"date":"2026-02-30"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ov, err := ParseHolidayOverrides(bytes.NewReader(data))
		if err != nil {
			return
		}
		h, err := NewHolidays(ov)
		if err != nil {
			if !errors.Is(err, ErrHolidays) {
				t.Fatalf("NewHolidays error %v is not ErrHolidays", err)
			}
			return
		}
		for _, o := range ov {
			d, _ := time.Parse(time.DateOnly, o.Date)
			if !o.Remove && len(o.Nations) == 0 && !h.IsHoliday(d, England) {
				t.Fatalf("override %+v not applied", o)
			}
		}
	})
}
