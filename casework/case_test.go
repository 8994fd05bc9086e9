package casework

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/codeword"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// fakePINs is a PINHasher for tests: SHA-256, unkeyed, both comparisons
// always made.
type fakePINs struct{}

func (fakePINs) Hash(caseID, pin string) []byte {
	h := sha256.Sum256([]byte(caseID + "\x00" + pin))
	return h[:]
}

func (f fakePINs) Check(caseID, pin string, realHash, duressHash []byte) (bool, bool) {
	h := f.Hash(caseID, pin)
	r := subtle.ConstantTimeCompare(h, realHash) == 1
	d := subtle.ConstantTimeCompare(h, duressHash) == 1
	return r && !d, d
}

var testNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func testCases() *Cases {
	return &Cases{pins: fakePINs{}, checkin: "OK", lifetime: DefaultCaseLifetime, revealLimit: DefaultRevealLimit,
		now: func() time.Time { return testNow }, log: slog.New(slog.DiscardHandler)}
}

var worker = &staff.Principal{StaffID: "s_aaaaaaaaaaaaaaaaaaaa", Roles: []staff.Role{staff.RoleCaseworker}, Teams: []string{"south"}}

func sp(s string) *string { return &s }

func validInput() CaseInput {
	return CaseInput{Phone: sp("07700 900123"), Alias: sp("Robin"), Team: sp("south"), RiskLevel: sp("standard"),
		CodeWords: []string{"lemon drizzle cake"}, DuressWords: []string{"blue sky thinking"},
		PIN: sp("1234"), DuressPIN: sp("9876"), Notes: sp("dog in the garden")}
}

func fieldNames(inv *problem.Invalid) []string {
	var out []string
	for _, f := range inv.Err().(*problem.Invalid).Fields {
		out = append(out, f.Name)
	}
	return out
}

func TestBuildNew(t *testing.T) {
	s := testCases()
	c, inv := s.build(worker, validInput(), &Case{ID: "c_aaaaaaaaaaaaaaaaaaaa"}, true)
	if inv.Err() != nil {
		t.Fatalf("valid input refused: %v", inv)
	}
	if c.Phone.Reveal() != "+447700900123" || c.Owner != worker.StaffID || c.Team != "south" || c.Risk != RiskStandard {
		t.Errorf("built %+v", c)
	}
	if r, d := s.pins.Check(c.ID, "1234", c.PINHash, c.DuressPINHash); !r || d {
		t.Error("real PIN not hashed")
	}
	if r, d := s.pins.Check(c.ID, "9876", c.PINHash, c.DuressPINHash); r || !d {
		t.Error("duress PIN not hashed")
	}
}

func TestBuildRefusesNamingTheWord(t *testing.T) {
	for _, tc := range []struct {
		code, duress []string
		field, word  string
		err          error
	}{
		{[]string{"STOP"}, nil, "code_words[0]", `"STOP"`, codeword.ErrCarrierKeyword},
		{[]string{"lemon drizzle cake", "unsubscribe"}, nil, "code_words[1]", `"unsubscribe"`, codeword.ErrCarrierKeyword},
		{[]string{"lemon drizzle cake"}, []string{"  Arrêt "}, "duress_words[0]", `"Arrêt"`, codeword.ErrCarrierKeyword},
		{[]string{"cat"}, nil, "code_words[0]", `"cat"`, codeword.ErrTooShort},
		{[]string{"lemon drizzle cake"}, []string{"Lemon drizzle cake"}, "duress_words[0]", `"Lemon drizzle cake"`, codeword.ErrClash},
		{[]string{"okay"}, nil, "code_words[0]", `"okay"`, nil}, // fine: not the check-in word
	} {
		t.Run(tc.field+tc.word, func(t *testing.T) {
			in := validInput()
			in.CodeWords, in.DuressWords = tc.code, tc.duress
			_, inv := testCases().build(worker, in, &Case{ID: "c_aaaaaaaaaaaaaaaaaaaa"}, true)
			if tc.err == nil {
				if inv.Err() != nil {
					t.Fatalf("refused: %v", inv)
				}
				return
			}
			if inv.Err() == nil {
				t.Fatal("accepted")
			}
			f := inv.Fields[0]
			if f.Name != tc.field || !strings.Contains(f.Problem, tc.word) {
				t.Errorf("problem = %s: %s, want %s naming %s", f.Name, f.Problem, tc.field, tc.word)
			}
		})
	}
}

func TestBuildChangeKeepsAbsentFields(t *testing.T) {
	s := testCases()
	base, inv := s.build(worker, validInput(), &Case{ID: "c_aaaaaaaaaaaaaaaaaaaa"}, true)
	if inv.Err() != nil {
		t.Fatal(inv)
	}
	c, inv := s.build(worker, CaseInput{Notes: sp("new notes"), ExcludedStaff: []string{}}, base, false)
	if inv.Err() != nil {
		t.Fatal(inv)
	}
	if c.SafetyNotes.Reveal() != "new notes" || !c.Phone.Equal(base.Phone) || c.Alias.Reveal() != "Robin" ||
		!bytes.Equal(c.PINHash, base.PINHash) || len(c.CodeWords) != 1 {
		t.Error("a change touched fields it did not name")
	}
	if base.SafetyNotes.Reveal() != "dog in the garden" {
		t.Error("build modified its base")
	}
	// Either PIN alone is compared with the other, stored one.
	_, inv = s.build(worker, CaseInput{PIN: sp("9876")}, base, false)
	if got := fieldNames(inv); !cmp.Equal(got, []string{"pin"}) {
		t.Errorf("pin = stored duress PIN: %v", got)
	}
	_, inv = s.build(worker, CaseInput{DuressPIN: sp("1234")}, base, false)
	if got := fieldNames(inv); !cmp.Equal(got, []string{"duress_pin"}) {
		t.Errorf("duress = stored PIN: %v", got)
	}
	c, inv = s.build(worker, CaseInput{DuressPIN: sp("5555")}, base, false)
	if inv.Err() != nil || !bytes.Equal(c.PINHash, base.PINHash) || bytes.Equal(c.DuressPINHash, base.DuressPINHash) {
		t.Errorf("duress PIN change: %v", inv)
	}
	// Under 18 needs a lead, also when set by a change.
	_, inv = s.build(worker, CaseInput{Under18: new(bool)}, base, false)
	if inv.Err() != nil {
		t.Errorf("under_18 false: %v", inv)
	}
	yes := true
	_, inv = s.build(worker, CaseInput{Under18: &yes}, base, false)
	if got := fieldNames(inv); !cmp.Equal(got, []string{"safeguarding_lead"}) {
		t.Errorf("under_18 without lead: %v", got)
	}
}

func TestExpiredAt(t *testing.T) {
	exp := testNow
	for _, tc := range []struct {
		name string
		c    Case
		act  CaseActivity
		at   time.Time
		want bool
	}{
		{"before expiry", Case{ExpiresAt: exp}, CaseActivity{}, exp.Add(-time.Second), false},
		{"at expiry", Case{ExpiresAt: exp}, CaseActivity{}, exp, true},
		{"check-ins active", Case{ExpiresAt: exp}, CaseActivity{CheckinsActive: true}, exp.Add(time.Hour), false},
		{"device used 89 days ago", Case{ExpiresAt: exp}, CaseActivity{LastDeviceUse: exp.Add(-89 * 24 * time.Hour)}, exp, false},
		{"device used 91 days ago", Case{ExpiresAt: exp}, CaseActivity{LastDeviceUse: exp.Add(-91 * 24 * time.Hour)}, exp, true},
		{"MARAC 11 months ago", Case{ExpiresAt: exp, MARAC: MARAC{Referred: true, Date: exp.AddDate(0, -11, 0)}}, CaseActivity{}, exp, false},
		{"MARAC 13 months ago", Case{ExpiresAt: exp, MARAC: MARAC{Referred: true, Date: exp.AddDate(0, -13, 0)}}, CaseActivity{}, exp, true},
		{"MARAC date, not referred", Case{ExpiresAt: exp, MARAC: MARAC{Date: exp}}, CaseActivity{}, exp, true},
	} {
		if got := tc.c.ExpiredAt(tc.at, tc.act); got != tc.want {
			t.Errorf("%s: ExpiredAt = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPhoneRule(t *testing.T) {
	s := testCases()
	mk := func(id, linked string, words ...string) *Case {
		return &Case{ID: id, LinkedCase: linked, CodeWords: words}
	}
	a := "c_aaaaaaaaaaaaaaaaaaaa"
	b := "c_bbbbbbbbbbbbbbbbbbbb"
	x := "c_xxxxxxxxxxxxxxxxxxxx"
	for _, tc := range []struct {
		name   string
		c      *Case
		others []*Case
		want   []string
	}{
		{"alone", mk(a, "", "lemon drizzle cake"), nil, nil},
		{"itself only", mk(a, "", "lemon drizzle cake"), []*Case{mk(a, "", "lemon drizzle cake")}, nil},
		{"unlinked", mk(a, "", "lemon drizzle cake"), []*Case{mk(b, "", "carrot cake slice")}, []string{"phone"}},
		{"linked", mk(a, b, "lemon drizzle cake"), []*Case{mk(b, "", "carrot cake slice")}, nil},
		{"linked back (kept)", mk(a, "", "lemon drizzle cake"), []*Case{mk(b, a, "carrot cake slice")}, nil},
		{"linked, same words", mk(a, b, "lemon drizzle cake"), []*Case{mk(b, "", "lemon drizzle cake")}, []string{"code_words[0]"}},
		{"linked, near words", mk(a, b, "lemon drizzle cake"), []*Case{mk(b, "", "lemon drizzel cake")}, []string{"code_words[0]"}},
		{"three", mk(a, b, "lemon drizzle cake"), []*Case{mk(b, "", "carrot cake slice"), mk(x, b, "banana bread loaf")}, []string{"phone"}},
	} {
		inv := &problem.Invalid{}
		s.phoneRule(tc.c, tc.others, inv, true)
		var got []string
		if inv.Err() != nil {
			got = fieldNames(inv)
		}
		if !cmp.Equal(got, tc.want) {
			t.Errorf("%s: fields %v, want %v", tc.name, got, tc.want)
		}
	}
	// Unlinking (or a new link) does not lean on the other case's half.
	inv := &problem.Invalid{}
	if s.phoneRule(mk(a, "", "lemon drizzle cake"), []*Case{mk(b, a, "carrot cake slice")}, inv, false); !cmp.Equal(fieldNames(inv), []string{"phone"}) {
		t.Errorf("unlinking while the phone is shared: fields %v, want [phone]", fieldNames(inv))
	}
}

// TestCaseRedacts: no print or log of a Case shows its words, PINs or text.
func TestCaseRedacts(t *testing.T) {
	c, inv := testCases().build(worker, validInput(), &Case{ID: "c_aaaaaaaaaaaaaaaaaaaa"}, true)
	if inv.Err() != nil {
		t.Fatal(inv)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "case", c, "value", *c)
	out := fmt.Sprintf("%v %+v %#v %s %v", c, c, c, c, *c) + logs.String()
	for _, secret := range []string{"lemon", "blue sky", "7700", "dog in the garden", "Robin"} {
		if strings.Contains(out, secret) {
			t.Errorf("output shows %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, c.ID) {
		t.Error("output lacks the case id")
	}
}

func TestIDs(t *testing.T) {
	for _, tc := range []struct {
		id   string
		f    func(string) bool
		want bool
	}{
		{"c_aaaaaaaaaaaaaaaaaaaa", ValidCaseID, true},
		{"c_aaaaaaaaaaaaaaaaaaa", ValidCaseID, false},
		{"c_aaaaaaaaaaaaaaaaaaaA", ValidCaseID, false},
		{"c_aaaaaaaaaaaaaaaaaaa1", ValidCaseID, false},
		{"s_aaaaaaaaaaaaaaaaaaaa", ValidStaffID, true},
		{"d_aaaaaaaaaaaa", ValidDeviceID, true},
		{"d_aaaaaaaaaaaa/", ValidDeviceID, false},
	} {
		if got := tc.f(tc.id); got != tc.want {
			t.Errorf("valid(%q) = %v", tc.id, got)
		}
	}
}

func TestEnrolmentCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 500 {
		code := newEnrolmentCode()
		if NormalizeEnrolmentCode(code) != code {
			t.Fatalf("code %q does not normalise to itself", code)
		}
		if strings.ContainsAny(code, "0O1IL") {
			t.Fatalf("code %q uses an ambiguous character", code)
		}
		seen[code] = true
	}
	if len(seen) < 500 {
		t.Errorf("%d distinct codes of 500", len(seen))
	}
}

// FuzzNormalizeEnrolmentCode: whatever the app sends, the result is "" or a
// code of the alphabet, and normalising is idempotent.
func FuzzNormalizeEnrolmentCode(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH", "abcd efgh", "", "0OIL1", "ÀBCDEFGH", "ABCD\x00EFGH", "ＡＢＣＤＥＦＧＨ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := NormalizeEnrolmentCode(s)
		if got == "" {
			return
		}
		if len(got) != EnrolmentCodeLen || NormalizeEnrolmentCode(got) != got {
			t.Fatalf("NormalizeEnrolmentCode(%q) = %q", s, got)
		}
		for i := 0; i < len(got); i++ {
			if !strings.ContainsRune(enrolAlphabet, rune(got[i])) {
				t.Fatalf("NormalizeEnrolmentCode(%q) = %q outside the alphabet", s, got)
			}
		}
	})
}

// FuzzCaseInput: any JSON body decoded into a CaseInput either is refused
// with named fields or builds a case that keeps every rule.
func FuzzCaseInput(f *testing.F) {
	good, _ := json.Marshal(validInput())
	f.Add(good)
	f.Add([]byte(`{"phone":"07700900123","alias":"x","team":"south","risk_level":"high","code_words":["STOP"],"pin":"1234","duress_pin":"1234"}`))
	f.Add([]byte(`{"under_18":true,"children":{"count":-1,"age_bands":["0-4"]},"marac":{"referred":true}}`))
	f.Add([]byte(`{"safe_contact":{"windows":[{"days":["mon"],"from":"22:00","to":"02:00"}],"channels":{"sms":true}}}`))
	s := testCases()
	f.Fuzz(func(t *testing.T, body []byte) {
		var in CaseInput
		if json.Unmarshal(body, &in) != nil {
			return
		}
		c, inv := s.build(worker, in, &Case{ID: "c_aaaaaaaaaaaaaaaaaaaa"}, true)
		if err := inv.Err(); err != nil {
			var pi *problem.Invalid
			if !errors.As(err, &pi) || len(pi.Fields) == 0 {
				t.Fatalf("refusal without fields: %v", err)
			}
			for _, fd := range pi.Fields {
				if fd.Name == "" || fd.Problem == "" {
					t.Fatalf("unnamed problem: %+v", fd)
				}
			}
			return
		}
		if c.Phone.IsZero() || c.Alias.IsZero() || !c.Risk.Valid() || c.Team != "south" || len(c.CodeWords) == 0 {
			t.Fatalf("accepted an incomplete case from %q", body)
		}
		if codeword.CheckWords(c.CodeWords, c.DuressWords, "OK") != nil {
			t.Fatalf("accepted words the rules refuse: %q", body)
		}
		if len(c.PINHash) == 0 || len(c.DuressPINHash) == 0 || bytes.Equal(c.PINHash, c.DuressPINHash) {
			t.Fatalf("accepted PINs badly: %q", body)
		}
		if c.Under18 && c.SafeguardingLead.IsZero() {
			t.Fatalf("under 18 without a lead: %q", body)
		}
		_ = pii.Redacted
	})
}

func TestValidPIN(t *testing.T) {
	tests := []struct {
		pin  string
		want bool
	}{
		{"1234", true}, {"12345678", true}, {"0000", true},
		{"123", false}, {"123456789", false}, {"", false},
		{"12a4", false}, {"12 34", false}, {"١٢٣٤", false}, {"-123", false},
	}
	for _, tt := range tests {
		if got := ValidPIN(tt.pin); got != tt.want {
			t.Errorf("ValidPIN(%q) = %v, want %v", tt.pin, got, tt.want)
		}
	}
}
