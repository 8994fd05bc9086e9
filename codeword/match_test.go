package codeword

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// english is a typical UK case: a phrase, a single long word, a duress
// phrase, and the deployment's check-in word.
var english = Words{
	Code:    []string{"rose garden", "Kettle"},
	Duress:  []string{"blue umbrella"},
	CheckIn: "OK",
}

// scripts covers the scripts survivors in UK services write in.
var scripts = Words{
	Code: []string{
		"گلاب",           // Urdu: rose
		"Różowy parasol", // Polish: pink umbrella
		"Straße",         // German ß
		"İZMİR",          // Turkish dotted capital I
		"ΛΟΓΟΣ",          // Greek, final sigma
		"Красный зонт",   // Russian: red umbrella
		"红色雨伞",           // Chinese: red umbrella
	},
	Duress:  []string{"نیلا آسمان"}, // Urdu: blue sky
	CheckIn: "ٹھیک",                 // Urdu: fine/OK
}

func TestMatch(t *testing.T) {
	long := strings.Repeat("we are fine thanks, see you later. ", 45) // 1,575 bytes
	tests := []struct {
		name  string
		words Words
		msg   string
		want  Match
	}{
		// Code words.
		{"exact", english, "rose garden", Match{Kind: Panic}},
		{"case and spaces", english, "  ROSE   Garden  ", Match{Kind: Panic}},
		{"start with hint", english, "Rose garden SO14 7DZ", Match{Kind: Panic, Hint: "SO14 7DZ"}},
		{"hint keeps case, trims punctuation", english, "rose garden, outside Tesco, Above Bar St!", Match{Kind: Panic, Hint: "outside Tesco, Above Bar St"}},
		{"emoji around", english, "🌹🌹 rose garden 🙏", Match{Kind: Panic}},
		{"punctuation glued", english, "rose-garden?", Match{Kind: Panic}},
		{"mid message", english, "hi mum, rose garden!! at Tesco", Match{Kind: Panic, Hint: "hi mum … at Tesco"}},
		{"at end", english, "can you pick up the rose garden", Match{Kind: Panic, Hint: "can you pick up the"}},
		{"single word code", english, "kettle", Match{Kind: Panic}},
		{"part of a word is not a match", english, "kettles roses gardens", Match{Kind: Panic, Unconfirmed: true, Hint: "roses gardens"}},
		{"full-width latin", english, "ＲＯＳＥ ＧＡＲＤＥＮ", Match{Kind: Panic}},
		{"curly apostrophe irrelevant", english, "it’s rose garden", Match{Kind: Panic, Hint: "it’s"}},
		{"1600 chars, code at end", english, long + "rose garden", Match{Kind: Panic, Hint: strings.TrimSuffix(strings.TrimSpace(long), ".")}},

		// Fuzzy.
		{"fuzzy one typo", english, "rose gardne", Match{Kind: Panic, Unconfirmed: true}},
		{"fuzzy missing space", english, "rosegarden", Match{Kind: Panic, Unconfirmed: true}},
		{"fuzzy extra space", english, "rose gar den", Match{Kind: Panic, Unconfirmed: true}},
		{"fuzzy two edits", english, "rise gardn", Match{Kind: Panic, Unconfirmed: true}},
		{"three edits is a message", english, "rise grdn", Match{Kind: Message}},
		{"fuzzy long word", english, "ketle", Match{Kind: Panic, Unconfirmed: true}},
		{"fuzzy transposition", english, "ktetle", Match{Kind: Panic, Unconfirmed: true}},
		{"fuzzy with hint", english, "kettel SO14 7DZ", Match{Kind: Panic, Unconfirmed: true, Hint: "SO14 7DZ"}},
		{"exact beats earlier fuzzy", english, "rose gardne then rose garden", Match{Kind: Panic, Hint: "rose gardne then"}},

		// Duress.
		{"duress", english, "blue umbrella", Match{Kind: Duress}},
		{"duress beats code", english, "rose garden blue umbrella", Match{Kind: Duress, Hint: "rose garden"}},
		{"fuzzy duress beats exact code", english, "rose garden blue umbrela", Match{Kind: Duress, Unconfirmed: true, Hint: "rose garden"}},
		{"duress with hint", english, "BLUE UMBRELLA 🙂 SO15 2AB", Match{Kind: Duress, Hint: "SO15 2AB"}},

		// Check-in.
		{"checkin", english, "OK 1234", Match{Kind: CheckIn, PIN: "1234"}},
		{"checkin colon", english, "ok:1234", Match{Kind: CheckIn, PIN: "1234"}},
		{"checkin comma bang", english, "Ok, 1234!", Match{Kind: CheckIn, PIN: "1234"}},
		{"checkin glued", english, "ok1234", Match{Kind: CheckIn, PIN: "1234"}},
		{"checkin 8 digits and hint", english, "OK 12345678 home now", Match{Kind: CheckIn, PIN: "12345678", Hint: "home now"}},
		{"checkin full-width digits", english, "ＯＫ　１２３４", Match{Kind: CheckIn, PIN: "1234"}},
		{"checkin short pin", english, "OK 123", Match{Kind: Message}},
		{"checkin long pin", english, "OK 123456789", Match{Kind: Message}},
		{"checkin no pin", english, "OK", Match{Kind: Message}},
		{"checkin word not at start", english, "I am OK 1234", Match{Kind: Message}},
		{"checkin then code word", english, "OK 1234 rose garden", Match{Kind: Panic, PIN: "1234"}},
		{"checkin then duress word", english, "ok 1234 blue umbrella SO14", Match{Kind: Duress, PIN: "1234", Hint: "SO14"}},

		// Carrier keywords and nothing.
		{"stop", english, "STOP", Match{Kind: Message, CarrierKeyword: true, OptOut: true}},
		{"stop punctuated", english, " Stop. ", Match{Kind: Message, CarrierKeyword: true, OptOut: true}},
		{"cancel", english, "cancel", Match{Kind: Message, CarrierKeyword: true, OptOut: true}},
		{"help is not opt-out", english, "HELP", Match{Kind: Message, CarrierKeyword: true}},
		{"stop in a sentence", english, "stop it", Match{Kind: Message}},
		{"empty", english, "", Match{Kind: Message}},
		{"whitespace", english, " \t\n ", Match{Kind: Message}},
		{"emoji only", english, "🙏🏽❤️👍", Match{Kind: Message}},
		{"ordinary message", english, "running late, back at 6", Match{Kind: Message}},
		{"1600 chars, nothing", english, long, Match{Kind: Message}},
		{"invalid utf8 separates words", english, "rose \xff garden", Match{Kind: Panic}},

		// Scripts.
		{"urdu", scripts, "گلاب", Match{Kind: Panic}},
		{"urdu with hint and emoji", scripts, "🌹 گلاب SO14 7DZ", Match{Kind: Panic, Hint: "SO14 7DZ"}},
		{"urdu duress", scripts, "نیلا آسمان", Match{Kind: Duress}},
		{"urdu checkin, urdu digits", scripts, "ٹھیک ۱۲۳۴", Match{Kind: CheckIn, PIN: "1234"}},
		{"polish", scripts, "RÓŻOWY PARASOL!", Match{Kind: Panic}},
		{"polish without diacritics is fuzzy", scripts, "rozowy parasol", Match{Kind: Panic, Unconfirmed: true}},
		{"german sharp s folds", scripts, "STRASSE", Match{Kind: Panic}},
		{"german capital sharp s", scripts, "STRAẞE", Match{Kind: Panic}},
		{"turkish dotless", scripts, "ızmır", Match{Kind: Panic}},
		{"turkish ascii", scripts, "Izmir", Match{Kind: Panic}},
		{"turkish dotted", scripts, "İzmir", Match{Kind: Panic}},
		{"greek final sigma", scripts, "λογος", Match{Kind: Panic}},
		{"cyrillic", scripts, "КРАСНЫЙ ЗОНТ", Match{Kind: Panic}},
		{"chinese inside a sentence", scripts, "我在家红色雨伞", Match{Kind: Panic, Hint: "我在家"}},
		{"chinese partial is a message", scripts, "红色雨", Match{Kind: Message}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Compile(tt.words)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got := m.Match(tt.msg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Match(%q) mismatch (-want +got):\n%s", tt.msg, diff)
			}
		})
	}
}

func TestMatchNoCheckInWord(t *testing.T) {
	m, err := Compile(Words{Code: []string{"rose garden"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Match("OK 1234"); got.Kind != Message || got.PIN != "" {
		t.Errorf("Match(OK 1234) with no check-in word = %+v, want Message", got)
	}
}

func TestMatchPhraseCheckIn(t *testing.T) {
	m, err := Compile(Words{Code: []string{"rose garden"}, CheckIn: "all good"})
	if err != nil {
		t.Fatal(err)
	}
	for msg, want := range map[string]Match{
		"All good 4321":  {Kind: CheckIn, PIN: "4321"},
		"all good4321":   {Kind: CheckIn, PIN: "4321"},
		"all good, mate": {Kind: Message},
		"all 4321":       {Kind: Message},
	} {
		if diff := cmp.Diff(want, m.Match(msg)); diff != "" {
			t.Errorf("Match(%q) (-want +got):\n%s", msg, diff)
		}
	}
}

// TestMatchCarrierKeywordCodeWord covers a word enrolled before the rules
// refused it: it still raises the alert rather than being dropped.
func TestMatchCarrierKeywordCodeWord(t *testing.T) {
	m, err := Compile(Words{Code: []string{"help"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Match{Kind: Panic, CarrierKeyword: true}
	if diff := cmp.Diff(want, m.Match("HELP!")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCompileEmpty(t *testing.T) {
	_, err := Compile(Words{Code: []string{"rose", "🌹🌹"}, Duress: []string{"..."}})
	if !errors.Is(err, ErrEmpty) {
		t.Fatalf("Compile err = %v, want ErrEmpty", err)
	}
	var we *WordError
	if !errors.As(err, &we) || we.Word != "🌹🌹" || we.Role != RoleCode || we.Index != 1 {
		t.Errorf("first WordError = %+v, want the emoji code word at index 1", we)
	}
	if !strings.Contains(err.Error(), `duress word "..."`) {
		t.Errorf("Compile error %q does not name the empty duress word", err)
	}
}

func TestKindString(t *testing.T) {
	got := []string{None.String(), Message.String(), CheckIn.String(), Panic.String(), Duress.String()}
	want := []string{"none", "message", "checkin", "panic", "duress"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if !(Duress > Panic && Panic > CheckIn && CheckIn > Message && Message > None) {
		t.Error("kinds are not in priority order")
	}
}

func TestMatchAllocations(t *testing.T) {
	m, err := Compile(english)
	if err != nil {
		t.Fatal(err)
	}
	msg := "hi, can you pick up some milk and bread on the way home? " +
		"running a bit late, see you about six. rose garden SO14 7DZ"
	allocs := testing.AllocsPerRun(100, func() { m.Match(msg) })
	if allocs > 3 {
		t.Errorf("Match allocates %v times per call, want at most 3", allocs)
	}
}

func benchMessage(n int, tail string) string {
	base := "hi, can you pick up some milk and bread on the way home? running a bit late, see you about six x "
	var b strings.Builder
	for b.Len()+len(base) < n-len(tail) {
		b.WriteString(base)
	}
	b.WriteString(base[:n-len(tail)-b.Len()])
	b.WriteString(tail)
	return b.String()
}

func BenchmarkMatch(b *testing.B) {
	m, err := Compile(Words{
		Code:    []string{"rose garden", "Kettle", "Różowy parasol"},
		Duress:  []string{"blue umbrella", "lavender bath"},
		CheckIn: "OK",
	})
	if err != nil {
		b.Fatal(err)
	}
	urdu := strings.Repeat("میں ٹھیک ہوں، جلد گھر آؤں گی۔ ", 57)
	for _, bm := range []struct {
		name, msg string
	}{
		{"160/none", benchMessage(160, "")},
		{"160/code-at-end", benchMessage(160, " rose garden")},
		{"1600/none", benchMessage(1600, "")},
		{"1600/code-at-end", benchMessage(1600, " rose garden")},
		{"1600-urdu/none", urdu},
		{"checkin", "OK 1234"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.msg)))
			for b.Loop() {
				m.Match(bm.msg)
			}
		})
	}
}
