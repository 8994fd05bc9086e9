package lookup

import (
	"strings"
	"testing"

	"waymark/signpost"
)

// listSMS is the services part of a directory answer (FormatSMS's
// body after its header) within segs segments.
func listSMS(res signpost.Results, segs int) string { return formatSMS("", res, smsLimit(segs)) }

func TestListSMS(t *testing.T) {
	r := func(name string, open, always bool, phones ...signpost.Phone) signpost.Result {
		return signpost.Result{Name: name, OpenNow: open, OpenKnown: true, Hours: signpost.Hours{Open247: always}, Phones: phones}
	}
	voice := func(n string) signpost.Phone { return signpost.Phone{Number: n, Type: signpost.PhoneVoice} }
	tests := []struct {
		name string
		res  signpost.Results
		segs int
		want string
	}{
		{"open and closed", signpost.Results{Results: []signpost.Result{
			r("Men's Advice Line", false, false, voice("0808 801 0327")),
			{Name: "National Domestic Abuse Helpline", ShortName: "Nat. DA Helpline", OpenNow: true, OpenKnown: true, Hours: signpost.Hours{Open247: true}, Phones: []signpost.Phone{voice("0808 2000 247")}},
		}}, 1, "Open now: Nat. DA Helpline 0808 2000 247 (24h). Also: Men's Advice Line 0808 801 0327."},
		{"text only and unknown hours", signpost.Results{Results: []signpost.Result{
			{Name: "Text Line", OpenNow: true, Phones: []signpost.Phone{{Number: "07700 900001", Type: signpost.PhoneText}}},
		}}, 1, "Open now: Text Line text 07700 900001 (may be open)."},
		{"confidential uses the gateway", signpost.Results{Results: []signpost.Result{
			{Name: "Refuge", Confidential: true, OpenNow: true, OpenKnown: true, Gateway: &signpost.Gateway{Phone: "0808 157 0101"}, Phones: []signpost.Phone{voice("023 8049 6999")}},
		}}, 1, "Open now: Refuge via 0808 157 0101."},
		{"nothing reachable", signpost.Results{Results: []signpost.Result{{Name: "No Contact"}}}, 1, "No matching services found."},
		{"empty", signpost.Results{}, 2, "No matching services found."},
		{"typography", signpost.Results{Results: []signpost.Result{r("Women’s Aid – “Hope” 🆘", true, false, voice("023 8049 6001"))}}, 1,
			"Open now: Women's Aid - \"Hope\" 023 8049 6001."},
		{"duplicates once", signpost.Results{Results: []signpost.Result{r("A", true, false, voice("1")), r("A", true, false, voice("1"))}}, 1, ""},
	}
	for _, tt := range tests {
		got := listSMS(tt.res, tt.segs)
		if tt.want != "" && got != tt.want {
			t.Errorf("%s: listSMS = %q\nwant %q", tt.name, got, tt.want)
		}
		if tt.name == "duplicates once" && strings.Count(got, "A 1") != 1 {
			t.Errorf("%s: %q", tt.name, got)
		}
	}
}

func TestListSMSFits(t *testing.T) {
	ix := seedIndex(t)
	for _, q := range []signpost.Query{{Near: "SO14 7DU", Limit: 50}, {Near: "BT1", Limit: 50}, {Limit: 50}, {Near: "SO14", OpenNow: true, Limit: 50}} {
		res, err := ix.Search(q, springNight)
		if err != nil {
			t.Fatal(err)
		}
		for segs, limit := range map[int]int{0: 160, 1: 160, 2: 306, 5: 306} {
			msg := listSMS(res, segs)
			if n := gsmLen(msg); n > limit || n == 0 {
				t.Errorf("query %+v, %d segments: %d septets: %q", q, segs, n, msg)
			}
			if gsmSafe(msg) != msg {
				t.Errorf("not GSM-7: %q", msg)
			}
		}
		if one, two := listSMS(res, 1), listSMS(res, 2); len(two) < len(one) {
			t.Errorf("two segments say less than one: %q vs %q", two, one)
		}
	}
}

// "In danger: 999." is left out only when the answer already gives 999 as
// a number of its own, not when 999 is part of another number.
func TestOffers999(t *testing.T) {
	for s, want := range map[string]bool{
		"Police 999.":                           true,
		"Open now: Police 999 (24h); A 1.":      true,
		"emergencySMS text 999 (24h)":           true,
		"999":                                   true,
		"Galop LGBT+ DA Helpline 0800 999 5428": false,
		"Karma Nirvana 0800 5999 247":           false,
		"A 0999 123":                            false,
		"Line 01234 999":                        false,
		"":                                      false,
	} {
		if got := offers999(s); got != want {
			t.Errorf("offers999(%q) = %v, want %v", s, got, want)
		}
	}
	l, err := Parse("SO14 refuge")
	if err != nil {
		t.Fatal(err)
	}
	res := signpost.Results{Results: []signpost.Result{{Name: "Galop", OpenNow: true, OpenKnown: true,
		Phones: []signpost.Phone{{Number: "0800 999 5428", Type: signpost.PhoneVoice}}}}}
	if got := FormatSMS(l, res, 2); !strings.HasSuffix(got, " In danger: 999.") {
		t.Errorf("a number holding 999 stopped the danger line: %q", got)
	}
}

func TestGSMLen(t *testing.T) {
	for s, want := range map[string]int{"abc": 3, "€": 2, "[x]": 5, "£é": 2, "": 0} {
		if got := gsmLen(s); got != want {
			t.Errorf("gsmLen(%q) = %d, want %d", s, got, want)
		}
	}
}
