package lookup

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"waymark/signpost"
)

func TestParseLookup(t *testing.T) {
	tests := []struct {
		text, near, place string
		cats              []signpost.Category
		aud               []signpost.Audience
	}{
		{"SO14 refuge", "SO14", "SO14", cats(signpost.CategoryRefuge), nil},
		{"refuge so147du", "SO14 7DU", "SO14 7DU", cats(signpost.CategoryRefuge), nil},
		{"Cardiff men", "CF10", "Cardiff", cats(signpost.CategoryMaleVictims), auds(signpost.AudienceMen)},
		{"need somewhere safe near LS1 tonight pls", "LS1", "LS1", cats(signpost.CategoryRefuge), nil},
		{"milton keynes LGBT", "MK9", "Milton Keynes", cats(signpost.CategoryLGBT), auds(signpost.AudienceLGBT)},
		{"perpetrator", "", "", cats(signpost.CategoryPerpetratorProgramme), nil},
		{"SO14 7", "SO14 7", "SO14 7", cats(signpost.CategoryDomesticAbuse, signpost.CategoryRefuge, signpost.CategoryOutreach, signpost.CategoryIDVAISVA), nil},
	}
	for _, tt := range tests {
		l, err := Parse(tt.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		if l.Query.Near != tt.near || l.Place != tt.place || !slices.Equal(l.Query.Categories, tt.cats) || !slices.Equal(l.Query.Audience, tt.aud) {
			t.Errorf("Parse(%q) = near %q place %q %v %v; want %q %q %v %v", tt.text, l.Query.Near, l.Place,
				l.Query.Categories, l.Query.Audience, tt.near, tt.place, tt.cats, tt.aud)
		}
	}
	for _, bad := range []string{"", "hello", "?", "what is this", strings.Repeat("a ", MaxLen)} {
		if _, err := Parse(bad); err != ErrNotUnderstood {
			t.Errorf("Parse(%q) = %v, want ErrNotUnderstood", bad, err)
		}
	}
}

// Every answer to a text fits two GSM-7 segments: answers to many
// lookups at several instants, over the whole seed directory, and the
// help text.
func TestLookupAnswersFitTwoSegments(t *testing.T) {
	ix := seedIndex(t)
	texts := []string{"SO14 refuge", "Cardiff men", "SO15 perpetrator", "glasgow", "belfast help", "LGBT",
		"SO14 7DU children forced marriage stalking deaf", "emergency", "london somewhere safe", "SO17 urdu"}
	for _, at := range []struct{ name string }{{"tuesday"}, {"night"}, {"easter"}} {
		now := map[string]time.Time{"tuesday": tuesdayMorning, "night": springNight, "easter": easterMonday}[at.name]
		for _, text := range texts {
			l, err := Parse(text)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			res, err := ix.Search(l.Query, now)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			ans := FormatSMS(l, res, 2)
			if n := gsmLen(ans); n > 2*smsSegment || n == 0 {
				t.Errorf("%s %q: %d GSM-7 characters: %s", at.name, text, n, ans)
			}
			if gsmSafe(ans) != ans || !utf8.ValidString(ans) {
				t.Errorf("%s %q: not plain GSM-7: %s", at.name, text, ans)
			}
			if strings.Contains(ans, "999 999") {
				t.Errorf("%s %q: the Police 999 999 wart: %s", at.name, text, ans)
			}
		}
	}
	if n := gsmLen(SMSHelp); n > smsSingle {
		t.Errorf("SMSHelp is %d characters", n)
	}
}

func FuzzParseLookup(f *testing.F) {
	for _, s := range []string{"SO14 refuge", "Cardiff men", "so147du kids", "SO14 7", "milton keynes LGBT+", "999", "£€", "  "} {
		f.Add(s)
	}
	ix := seedIndex(f)
	f.Fuzz(func(t *testing.T, text string) {
		l, err := Parse(text)
		if err != nil {
			if err != ErrNotUnderstood {
				t.Fatalf("error %v is not ErrNotUnderstood", err)
			}
			return
		}
		if l.Place == "" && len(l.Needs) == 0 {
			t.Fatalf("understood %q with no place and no need", text)
		}
		res, err := ix.Search(l.Query, tuesdayMorning)
		if err != nil {
			// A place that parses but the search refuses is a parser bug.
			t.Fatalf("%q: search refuses %+v: %v", text, l.Query, err)
		}
		if ans := FormatSMS(l, res, 2); gsmLen(ans) > 2*smsSegment {
			t.Fatalf("%q: answer of %d characters", text, gsmLen(ans))
		}
	})
}
