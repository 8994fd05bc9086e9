package seal

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseKeys(t *testing.T) {
	s1 := bytes.Repeat([]byte{0xfb}, KeySize) // base64 of 0xfb runs uses '+' / '-'
	s2 := bytes.Repeat([]byte{0xff}, KeySize) // … and '/' / '_'
	tests := []struct {
		name string
		in   string
		want []Key
	}{
		{"std padded", "k1:" + base64.StdEncoding.EncodeToString(s1), []Key{{"k1", s1}}},
		{"std raw", "k1:" + base64.RawStdEncoding.EncodeToString(s1), []Key{{"k1", s1}}},
		{"url padded", "k1:" + base64.URLEncoding.EncodeToString(s2), []Key{{"k1", s2}}},
		{"url raw", "k1:" + base64.RawURLEncoding.EncodeToString(s2), []Key{{"k1", s2}}},
		{"two, spaces", "  new-2026:" + base64.StdEncoding.EncodeToString(s1) + " , old_2025 : " + base64.RawURLEncoding.EncodeToString(s2) + "\n",
			[]Key{{"new-2026", s1}, {"old_2025", s2}}},
		{"FormatKey output", FormatKey("k9", s2), []Key{{"k9", s2}}},
	}
	for _, tt := range tests {
		got, err := ParseKeys(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseKeysErrors(t *testing.T) {
	good := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, KeySize))
	short := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 16))
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "no keys given"},
		{"blank", "  \n", "no keys given"},
		{"empty entry", "k1:" + good + ",,k2:" + good, "key 2 is empty"},
		{"trailing comma", "k1:" + good + ",", "key 2 is empty"},
		{"no colon (a bare secret)", good, "key 1: want id:base64"},
		{"bad id not echoed", "K1:" + good, "key 1: id must be"},
		{"secret in id place not echoed", good + ":" + good, "key 1: id must be"},
		{"reserved", "dk:" + good, `key "dk": id is reserved`},
		{"bad base64", "k1:" + good[:10] + "!" + good[11:], `key "k1": secret is not base64`},
		{"mixed alphabets", "k1:+" + good[1:10] + "-" + good[11:], `key "k1": secret is not base64`},
		{"short", "k1:" + short, `key "k1": secret is 16 bytes, want 32`},
		{"empty secret", "k1:", `key "k1": secret is 0 bytes`},
		{"duplicate", "k1:" + good + ",k1:" + good, `key "k1" given twice`},
	}
	for _, tt := range tests {
		_, err := ParseKeys(tt.in)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %q, want containing %q", tt.name, err, tt.want)
		}
		for _, secret := range []string{good[:12], short[:12]} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q contains the secret", tt.name, err)
			}
		}
	}
}

func TestNewRandomKeyAndFormat(t *testing.T) {
	a, b := NewRandomKey(), NewRandomKey()
	if len(a) != KeySize || bytes.Equal(a, b) {
		t.Fatalf("NewRandomKey: len %d, equal %v", len(a), bytes.Equal(a, b))
	}
	f := FormatKey("k1", a)
	if strings.ContainsAny(f, "=+/") || !strings.HasPrefix(f, "k1:") {
		t.Errorf("FormatKey = %q, want k1:base64url without padding", f)
	}
	keys, err := ParseKeys(f)
	if err != nil || len(keys) != 1 || !bytes.Equal(keys[0].Secret, a) {
		t.Errorf("ParseKeys(FormatKey) = %v, %v", keys, err)
	}
}
