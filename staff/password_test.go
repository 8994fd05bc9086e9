package staff

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"waymark/problem"
)

func TestHashAndVerify(t *testing.T) {
	p := testParams()
	h := HashPassword("correct horse battery", p)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash = %q, want a PHC argon2id string with its parameters", h)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery", true},
		{"correct horse batterY", false},
		{"", false},
		// NFKC: a full-width letter is the same password.
		{"correct horse batter\uff59", true},
	} {
		got, err := VerifyPassword(h, tc.password)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, want %v", tc.password, got, tc.want)
		}
	}
	if h2 := HashPassword("correct horse battery", p); h2 == h {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestProductionParams(t *testing.T) {
	h := HashPassword("correct horse battery", DefaultParams())
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %q", h)
	}
	ok, err := VerifyPassword(h, "correct horse battery")
	if err != nil || !ok {
		t.Fatalf("VerifyPassword = %v, %v", ok, err)
	}
	if needsRehash(h, DefaultParams()) {
		t.Error("needsRehash of a current hash")
	}
	if !needsRehash(HashPassword("x", testParams()), DefaultParams()) {
		t.Error("a test-params hash does not need rehashing under production params")
	}
}

func TestParamsCheck(t *testing.T) {
	weak := DefaultParams()
	weak.Memory = 1024
	for _, tc := range []struct {
		name string
		p    Params
		ok   bool
	}{
		{"default", DefaultParams(), true},
		{"test params", testParams(), true},
		{"stronger", Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"weak memory", weak, false},
		{"weak hand-made copy of test params", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
	} {
		if err := tc.p.check(); (err == nil) != tc.ok {
			t.Errorf("%s: check = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if _, err := NewService(Options{Store: nopStore{}, Districts: allDistricts{}, Argon2: weak}); err == nil {
		t.Error("NewService accepted parameters below the minimum")
	}
}

func TestParsePHC(t *testing.T) {
	good := HashPassword("pw", testParams())
	parts := strings.Split(good, "$")
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"good", good, true},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1), false},
		{"old version", strings.Replace(good, "v=19", "v=16", 1), false},
		{"missing param", "$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5], false},
		{"repeated param", "$argon2id$v=19$m=64,m=64,t=1$" + parts[4] + "$" + parts[5], false},
		{"unknown param", "$argon2id$v=19$m=64,t=1,p=1,x=1$" + parts[4] + "$" + parts[5], false},
		{"huge memory", "$argon2id$v=19$m=4194304,t=1,p=1$" + parts[4] + "$" + parts[5], false},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$" + parts[4] + "$" + parts[5], false},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + parts[4] + "$" + parts[5], false},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + parts[5], false},
		{"padded hash", good + "==", false},
		{"empty", "", false},
		{"bcrypt", "$2y$10$abcdefghijklmnopqrstuu", false},
	} {
		_, err := parsePHC(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s: parsePHC err = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && tc.in != "" && strings.Contains(err.Error(), tc.in) {
			t.Errorf("%s: error quotes the hash", tc.name)
		}
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add(HashPassword("pw", testParams()))
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			return
		}
		// Whatever parses is within bounds and formats back to itself.
		if h.params.Memory > maxMemory || h.params.Time > maxTime || h.params.Threads > maxThreads {
			t.Fatalf("parsed out-of-range params %+v", h.params)
		}
		if got := formatPHC(h.params, h.salt, h.key); got != s {
			t.Fatalf("round trip %q → %q", s, got)
		}
	})
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		name, pw string
		want     string // problem, "" for none
	}{
		{"fine", "correct horse battery", ""},
		{"twelve", "abcdefghijkl", ""},
		{"eleven", "abcdefghijk", "must have at least 12 characters"},
		{"counts characters not bytes", "ééééééééééé", "must have at least 12 characters"},
		{"long", strings.Repeat("ab", 129), "must have at most 256 characters"},
		{"max", strings.Repeat("ab", 128), ""},
		{"one char", strings.Repeat("a", 20), "must not repeat a single character"},
		{"username", "Sam.Responder1", "must differ from the username"},
		{"bad utf8", "abcdefghijkl\xff", "must be valid UTF-8 text"},
	} {
		err := CheckPassword(tc.pw, "sam.responder1")
		var got string
		var inv *problem.Invalid
		if errors.As(err, &inv) {
			if inv.Fields[0].Name != "password" {
				t.Errorf("%s: field = %q", tc.name, inv.Fields[0].Name)
			}
			got = inv.Fields[0].Problem
		} else if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: problem (-want +got): %s", tc.name, diff)
		}
	}
}

// BenchmarkArgon2 measures one production password hash (and so one
// sign-in's share of CPU): go test -run=^$ -bench Argon2 ./staff/
func BenchmarkArgon2(b *testing.B) {
	p := DefaultParams()
	for b.Loop() {
		HashPassword("correct horse battery staple", p)
	}
}

// testParams are stafftest.Params, which this package's own tests cannot
// import (stafftest imports staff).
func testParams() Params {
	return Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32, Cheap: true}
}
