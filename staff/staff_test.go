package staff

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/problem"
)

// nopStore satisfies Store for tests that never reach it.
type nopStore struct{ Store }

// allDistricts accepts every district; someDistricts a fixed few.
type allDistricts struct{}

func (allDistricts) HasDistrict(string) bool { return true }

type someDistricts map[string]bool

func (d someDistricts) HasDistrict(c string) bool { return d[c] }

func TestMatchTOTP(t *testing.T) {
	e, err := newEnrolment("Waymark", "sam")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.URL.Reveal(), "otpauth://totp/Waymark:sam?") || len(e.Secret.Reveal()) != 32 {
		t.Fatalf("enrolment = %s / %d chars", e.URL.Reveal(), len(e.Secret.Reveal()))
	}
	now := time.Unix(1_750_000_005, 0) // inside step 58333333
	code := func(at time.Time) string {
		c, err := TOTPCode(e.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	step := totpStep(now)
	for _, tc := range []struct {
		name     string
		code     string
		wantStep int64
		ok       bool
	}{
		{"now", code(now), step, true},
		{"previous step", code(now.Add(-30 * time.Second)), step - 1, true},
		{"next step", code(now.Add(30 * time.Second)), step + 1, true},
		{"two steps ago", code(now.Add(-60 * time.Second)), 0, false},
		{"two steps ahead", code(now.Add(60 * time.Second)), 0, false},
		{"short", "12345", 0, false},
		{"letters", "abcdef", 0, false},
	} {
		got, ok := matchTOTP(e.Secret, tc.code, now)
		if ok != tc.ok || (ok && got != tc.wantStep) {
			t.Errorf("%s: matchTOTP = %d, %v; want %d, %v", tc.name, got, ok, tc.wantStep, tc.ok)
		}
	}
}

func TestThrottleDelay(t *testing.T) {
	p := DefaultThrottle()
	var got []time.Duration
	for n := 0; n <= 8; n++ {
		got = append(got, p.Delay(n, 0))
	}
	ms := time.Millisecond
	want := []time.Duration{0, 250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
	if d := p.Delay(10, 10); d != 0 {
		t.Errorf("Delay within the free allowance = %v", d)
	}
	if d := p.Delay(11, 10); d != 250*ms {
		t.Errorf("Delay just over the free allowance = %v", d)
	}
	if d := p.Delay(1000, 0); d != 8*time.Second {
		t.Errorf("Delay(1000) = %v, want the cap", d)
	}
	var err error = &Throttled{Wait: 3 * time.Second}
	if !strings.Contains(err.Error(), "3s") || !isTooMany(err) {
		t.Errorf("Throttled = %v, want a 3s problem.ErrTooMany", err)
	}
}

func isTooMany(err error) bool {
	for err != nil {
		if err == problem.ErrTooMany {
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestAddrSubject(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7:51234":            "192.0.2.7",
		"192.0.2.7":                  "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":       "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:80":      "192.0.2.7",
		"not an address":             "not an address",
		"@":                          "@",
	} {
		if got := AddrSubject(in); got != want {
			t.Errorf("AddrSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckTeam(t *testing.T) {
	d := someDistricts{"SO14": true, "SO15": true, "PO1": true}
	for _, tc := range []struct {
		name  string
		team  Team
		want  []problem.Field
		areas []string
	}{
		{"fine", Team{ID: "south-1", Name: " Southampton ", Areas: []string{"so15", " SO14", "SO15", ""}}, nil, []string{"SO14", "SO15"}},
		{"no areas", Team{ID: "triage", Name: "Triage"}, nil, []string{}},
		{"unknown district", Team{ID: "south", Name: "S", Areas: []string{"SO14", "SO99"}}, []problem.Field{{Name: "areas", Problem: "SO99 is not a known postcode district"}}, nil},
		{"not a district", Team{ID: "south", Name: "S", Areas: []string{"SO14 7DU"}}, []problem.Field{{Name: "areas", Problem: "holds something that is not a postcode district (such as SO14)"}}, nil},
		{"bad id", Team{ID: "South", Name: "S"}, []problem.Field{{Name: "id", Problem: "must be 1 to 32 of a-z, 0-9 and -, starting with a letter, with no 4 digits in a row"}}, nil},
		{"digit run", Team{ID: "team-2024", Name: "S"}, []problem.Field{{Name: "id", Problem: "must be 1 to 32 of a-z, 0-9 and -, starting with a letter, with no 4 digits in a row"}}, nil},
		{"no name", Team{ID: "south", Name: " "}, []problem.Field{{Name: "name", Problem: "must be 1 to 80 printable characters"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTeam(&tc.team, d)
			var got []problem.Field
			if inv, ok := err.(*problem.Invalid); ok {
				got = inv.Fields
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if tc.want == nil {
				if diff := cmp.Diff(tc.areas, tc.team.Areas); diff != "" {
					t.Errorf("areas (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestValidTeamID(t *testing.T) {
	for id, want := range map[string]bool{
		"south": true, "south-2": true, "a": true, "team-123": true,
		"team-1234": false, "1team": false, "": false, "Team": false, "a_b": false,
		strings.Repeat("a", 32): true, strings.Repeat("a", 33): false,
	} {
		if got := ValidTeamID(id); got != want {
			t.Errorf("ValidTeamID(%q) = %v, want %v", id, got, want)
		}
	}
}

// TestSecretRedacts: credentials never reach a log or a formatted error.
func TestSecretRedacts(t *testing.T) {
	s := Secret("JBSWY3DPEHPK3PXP")
	a := Account{ID: "s_x", TOTPSecret: s, PasswordHash: "$argon2id$secret"}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "secret", s, "account", a)
	out := b.String() + fmt.Sprintf("%v %+v %#v %s %q", s, a, a, s, s)
	for _, leak := range []string{"JBSWY3DPEHPK3PXP", "argon2id$secret"} {
		if strings.Contains(out, leak) {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if s.Reveal() != "JBSWY3DPEHPK3PXP" {
		t.Error("Reveal")
	}
}

func TestAuthWithin(t *testing.T) {
	at := time.Unix(1_750_000_000, 0)
	p := &Principal{AuthAt: at}
	for d, want := range map[time.Duration]bool{0: true, 4 * time.Minute: true, 5 * time.Minute: true, 5*time.Minute + time.Second: false, -time.Second: false} {
		if got := p.AuthWithin(at.Add(d), ReauthWindow); got != want {
			t.Errorf("AuthWithin(+%v) = %v, want %v", d, got, want)
		}
	}
	var none *Principal
	if none.AuthWithin(at, ReauthWindow) {
		t.Error("nil principal authenticated")
	}
}
