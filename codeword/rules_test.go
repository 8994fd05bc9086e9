package codeword

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckWordsAccepts(t *testing.T) {
	tests := []struct {
		name         string
		code, duress []string
		checkin      string
	}{
		{"phrases", []string{"rose garden", "is the kettle on"}, []string{"blue umbrella"}, "OK"},
		{"urdu", []string{"گلاب"}, []string{"نیلا آسمان"}, "ٹھیک"},
		{"polish", []string{"Różowy parasol"}, []string{"Zielony kapelusz"}, "OK"},
		{"keyword inside a phrase", []string{"stop at the shop"}, []string{"help me move"}, "OK"},
		{"check-in word inside a phrase", []string{"ok see you soon"}, nil, "OK"},
		{"no check-in word", []string{"rose garden"}, nil, ""},
		{"nothing", nil, nil, "OK"},
		{"four letters", []string{"abcd"}, nil, ""},
		{"distant long words", []string{"lavender"}, []string{"marigold"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckWords(tt.code, tt.duress, tt.checkin); err != nil {
				t.Errorf("CheckWords = %v, want nil", err)
			}
		})
	}
}

func TestCheckWordsRefuses(t *testing.T) {
	type refusal struct {
		Word, Role string
		Index      int
		Other      string
		Err        error
	}
	tests := []struct {
		name         string
		code, duress []string
		checkin      string
		want         []refusal
		text         []string // each must appear in Error()
	}{
		{
			name: "carrier keyword", code: []string{"STOP"},
			want: []refusal{{"STOP", RoleCode, 0, "", ErrCarrierKeyword}},
			text: []string{`code word "STOP"`, "carrier keyword"},
		},
		{
			name: "every keyword, any case and punctuation",
			code: []string{"stopall", "Unsubscribe", "cancel!", "QUIT", "revoke", "OptOut", "start", "yes!!!", "unstop", "Help", "info", "ARRÊT", "arret"},
			want: []refusal{
				{"stopall", RoleCode, 0, "", ErrCarrierKeyword},
				{"Unsubscribe", RoleCode, 1, "", ErrCarrierKeyword},
				{"cancel!", RoleCode, 2, "", ErrCarrierKeyword},
				{"QUIT", RoleCode, 3, "", ErrCarrierKeyword},
				{"revoke", RoleCode, 4, "", ErrCarrierKeyword},
				{"OptOut", RoleCode, 5, "", ErrCarrierKeyword},
				{"start", RoleCode, 6, "", ErrCarrierKeyword},
				{"yes!!!", RoleCode, 7, "", ErrTooShort},
				{"yes!!!", RoleCode, 7, "", ErrCarrierKeyword},
				{"unstop", RoleCode, 8, "", ErrCarrierKeyword},
				{"Help", RoleCode, 9, "", ErrCarrierKeyword},
				{"info", RoleCode, 10, "", ErrCarrierKeyword},
				{"ARRÊT", RoleCode, 11, "", ErrCarrierKeyword},
				{"arret", RoleCode, 12, "", ErrCarrierKeyword},
			},
			text: []string{`"OptOut"`, `"ARRÊT"`},
		},
		{
			name: "full-width keyword", duress: []string{"ＳＴＯＰ"},
			want: []refusal{{"ＳＴＯＰ", RoleDuress, 0, "", ErrCarrierKeyword}},
			text: []string{`duress word "ＳＴＯＰ"`},
		},
		{
			name: "end is short and a keyword", code: []string{"END"},
			want: []refusal{{"END", RoleCode, 0, "", ErrTooShort}, {"END", RoleCode, 0, "", ErrCarrierKeyword}},
			text: []string{`"END" is shorter than 4 letters`},
		},
		{
			name: "too short counts letters not bytes", code: []string{"ﺏﺏﺏ", "1234", "b52s"},
			want: []refusal{
				{"ﺏﺏﺏ", RoleCode, 0, "", ErrTooShort},
				{"1234", RoleCode, 1, "", ErrTooShort},
				{"b52s", RoleCode, 2, "", ErrTooShort},
			},
			text: []string{`"1234"`},
		},
		{
			name: "empty", code: []string{"", "🌹🌹"},
			want: []refusal{{"", RoleCode, 0, "", ErrEmpty}, {"🌹🌹", RoleCode, 1, "", ErrEmpty}},
			text: []string{"no letters or digits"},
		},
		{
			name: "too long", code: []string{strings.Repeat("rose garden ", 7)},
			want: []refusal{{strings.Repeat("rose garden ", 7), RoleCode, 0, "", ErrTooLong}},
			text: []string{"longer than 64 characters"},
		},
		{
			name: "equal after normalising", code: []string{"Rose Garden"}, duress: []string{"  rose   GARDEN!"},
			want: []refusal{{"  rose   GARDEN!", RoleDuress, 0, "Rose Garden", ErrClash}},
			text: []string{`duress word "  rose   GARDEN!" clashes with code word "Rose Garden"`},
		},
		{
			name: "german folding", code: []string{"Straße"}, duress: []string{"STRASSE"},
			want: []refusal{{"STRASSE", RoleDuress, 0, "Straße", ErrClash}},
		},
		{
			name: "prefix word", code: []string{"blue"}, duress: []string{"blue umbrella"},
			want: []refusal{{"blue umbrella", RoleDuress, 0, "blue", ErrClash}},
			text: []string{`"blue umbrella"`, `"blue"`},
		},
		{
			name: "contained word", code: []string{"the red door"}, duress: []string{"red door"},
			want: []refusal{{"red door", RoleDuress, 0, "the red door", ErrClash}},
		},
		{
			name: "not a clash: part of a word", code: []string{"rose"}, duress: []string{"roses are red"},
		},
		{
			name: "fuzzy clash", code: []string{"lavender"}, duress: []string{"lavendar"},
			want: []refusal{{"lavendar", RoleDuress, 0, "lavender", ErrClash}},
		},
		{
			name: "short words are not fuzzy", code: []string{"bear"}, duress: []string{"pear"},
		},
		{
			name: "two code words clash too", code: []string{"kettle", "kettles"},
			want: []refusal{{"kettles", RoleCode, 1, "kettle", ErrClash}},
		},
		{
			name: "check-in word", code: []string{"okay"}, duress: []string{"Okay!"}, checkin: "OKAY",
			want: []refusal{
				{"okay", RoleCode, 0, "OKAY", ErrClash},
				{"Okay!", RoleDuress, 0, "OKAY", ErrClash},
				{"Okay!", RoleDuress, 0, "okay", ErrClash},
			},
			text: []string{`code word "okay" clashes with check-in word "OKAY"`},
		},
		{
			name: "near the check-in word", code: []string{"all good"}, checkin: "allgood",
			want: []refusal{{"all good", RoleCode, 0, "allgood", ErrClash}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckWords(tt.code, tt.duress, tt.checkin)
			var got []refusal
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					we, ok := e.(*WordError)
					if !ok {
						t.Fatalf("error %T %v is not a *WordError", e, e)
					}
					got = append(got, refusal{we.Word, we.Role, we.Index, we.Other, we.Err})
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
				t.Errorf("CheckWords refusals (-want +got):\n%s", diff)
			}
			for _, r := range tt.want {
				if !errors.Is(err, r.Err) {
					t.Errorf("errors.Is(err, %v) = false", r.Err)
				}
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Error() = %q, want it to contain %q", err, s)
				}
			}
		})
	}
}

func TestWordErrorLogValueRedacts(t *testing.T) {
	err := CheckWords([]string{"STOP"}, nil, "")
	var we *WordError
	if !errors.As(err, &we) {
		t.Fatalf("CheckWords = %v, want a *WordError", err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("refused", "word", we)
	if strings.Contains(strings.ToLower(buf.String()), "stop") {
		t.Errorf("log line %q contains the word", buf.String())
	}
	if !strings.Contains(buf.String(), "carrier keyword") {
		t.Errorf("log line %q does not say why", buf.String())
	}
}

func TestIsCarrierKeyword(t *testing.T) {
	tests := []struct {
		in              string
		keyword, optOut bool
	}{
		{"stop", true, true},
		{"Stop.", true, true},
		{" STOP ", true, true},
		{"🛑 STOP 🛑", true, true},
		{"ＳＴＯＰ", true, true},
		{"StopAll", true, true},
		{"unsubscribe", true, true},
		{"CANCEL", true, true},
		{"end", true, true},
		{"quit!", true, true},
		{"revoke", true, true},
		{"optout", true, true},
		{"ARRET", true, true},
		{"Arrêt", true, true},
		{"start", true, false},
		{"YES", true, false},
		{"unstop", true, false},
		{"help", true, false},
		{"Info?", true, false},
		{"stop it", false, false},
		{"please stop", false, false},
		{"stopp", false, false},
		{"opt out", false, false},
		{"", false, false},
		{"🛑", false, false},
	}
	for _, tt := range tests {
		if got := IsCarrierKeyword(tt.in); got != tt.keyword {
			t.Errorf("IsCarrierKeyword(%q) = %v, want %v", tt.in, got, tt.keyword)
		}
		if got := IsOptOut(tt.in); got != tt.optOut {
			t.Errorf("IsOptOut(%q) = %v, want %v", tt.in, got, tt.optOut)
		}
	}
}

// IsCarrierKeyword reports whether the whole of s, ignoring case, spaces,
// punctuation and emoji around it, is a carrier keyword ("stop", "Stop.",
// " STOP "). The network acts on such a message itself, so it must never be
// a code word, and from a survivor it means the network will now refuse to
// text them (for the opt-out words).
func IsCarrierKeyword(s string) bool {
	k, _ := messageKeyword(s)
	return k
}

// IsOptOut reports whether s is a carrier opt-out keyword (STOP, STOPALL,
// UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, ARRET), compared as
// IsCarrierKeyword does.
func IsOptOut(s string) bool {
	_, o := messageKeyword(s)
	return o
}

func messageKeyword(s string) (keyword, optOut bool) {
	sc := newScanner()
	sc.scan(s, false)
	if len(sc.tokens) != 1 {
		return false, false
	}
	return carrierKeyword(string(sc.word(0)))
}
