package pii

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// keysToBlank lists every key ReplaceAttr promises to blank.
var keysToBlank = []string{
	"phone", "from", "to", "body", "message", "msg_body", "text", "notes", "note",
	"safety_notes", "lat", "lon", "latitude", "longitude", "location", "address",
	"password", "pin", "duress_pin", "totp", "token", "ticket", "code", "code_word",
	"code_words", "duress_words", "name", "email", "secret", "authorization", "cookie",
}

func TestNewLoggerBlanksKeys(t *testing.T) {
	p, txt, loc, raw := secrets(t)
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := NewLogger(&buf, slog.LevelDebug, format)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keysToBlank {
				log.Info("plain", k, "s3cr3t-"+k)
				log.Info("upper", strings.ToUpper(k), "s3cr3t-"+k)
				log.Info("int", k, 86420975)
			}
			log.Debug("typed", "phone", p, "notes", txt, "location", loc, "p", p, "t", txt, "l", loc)
			log.Info("groups", slog.Group("location", "x", "s3cr3t-grouped"), slog.Group("outer", slog.Group("Address", "line1", "s3cr3t-line")))
			log.WithGroup("body").Info("withgroup", "anything", "s3cr3t-wg")
			log.Info("bytes", "body", []byte("s3cr3t-bytes"))
			out := buf.String()
			assertClean(t, format, out, append(raw, "s3cr3t", "86420975"))
		})
	}
}

func TestNewLoggerKeeps(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, slog.LevelInfo, "json")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("alert claimed", "alias", "Robin", "case_id", "c_8f3k", "count", 3, "team", "south")
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"msg": "alert claimed", "alias": "Robin", "case_id": "c_8f3k", "count": 3.0, "team": "south", "level": "INFO"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	buf.Reset()
	log.Debug("below level")
	if buf.Len() != 0 {
		t.Errorf("debug logged at info level: %s", buf.String())
	}
}

func TestNewLoggerFormat(t *testing.T) {
	if _, err := NewLogger(&bytes.Buffer{}, slog.LevelInfo, "xml"); err == nil {
		t.Error("NewLogger(xml) succeeded")
	}
}

func TestReplaceAttrMasksPhones(t *testing.T) {
	var buf bytes.Buffer
	log, _ := NewLogger(&buf, slog.LevelInfo, "text")
	log.Info("sending to 07700 900123 now", "detail", "number +447700900123 failed", "err", errors.New("twilio: 21211 invalid 'To' +44 7700 900123"))
	out := buf.String()
	assertClean(t, "text", out, []string{"900123", "7700"})
	if !strings.Contains(out, "msg=\"sending to [redacted] now\"") {
		t.Errorf("message not masked as expected: %s", out)
	}
}

func TestMaskPhones(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"no digits here", "no digits here"},
		{"call 07700 900123", "call [redacted]"},
		{"call 07700900123.", "call [redacted]."},
		{"+447700900123", "[redacted]"},
		{"(07700) 900-123 or +44 (0)7700 900123", "[redacted] or [redacted]"},
		{"to=+16502530000,from=+447700900124", "to=[redacted],from=[redacted]"},
		{"eight digits 12345678 stay", "eight digits 12345678 stay"},
		{"id c_0123456789 stays", "id c_0123456789 stays"},
		{"id 0123456789abc stays", "id 0123456789abc stays"},
		{"expired at 2026-01-02 15:04:05 +0000 UTC", "expired at 2026-01-02 15:04:05 +0000 UTC"},
		{"took 1234 ms for 56789 rows", "took 1234 ms for 56789 rows"},
		{"ip 192.168.100.200", "ip 192.168.100.200"},
		{"twilio error 21211 for +44 7700 900123", "twilio error 21211 for [redacted]"},
	}
	for _, tt := range tests {
		if got := maskPhones(tt.in); got != tt.want {
			t.Errorf("maskPhones(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReplaceAttrDirect(t *testing.T) {
	tests := []struct {
		name   string
		groups []string
		attr   slog.Attr
		want   string
	}{
		{"slog msg kept", nil, slog.String(slog.MessageKey, "hello"), "hello"},
		{"message blanked", nil, slog.String("message", "hello"), Redacted},
		{"mixed case", nil, slog.String("Phone", "x"), Redacted},
		{"in sensitive group", []string{"req", "Location"}, slog.Float64("x", 1.5), Redacted},
		{"alias kept", nil, slog.String("alias", "Robin"), "Robin"},
		{"error masked", nil, slog.Any("err", fmt.Errorf("send %s: boom", "+447700900123")), "send [redacted]: boom"},
		{"nil error kept", nil, slog.Any("err", error(nil)), "<nil>"},
	}
	for _, tt := range tests {
		got := ReplaceAttr(tt.groups, tt.attr)
		if got.Key != tt.attr.Key {
			t.Errorf("%s: key %q, want %q", tt.name, got.Key, tt.attr.Key)
		}
		if s := got.Value.String(); s != tt.want {
			t.Errorf("%s: value %q, want %q", tt.name, s, tt.want)
		}
	}
}

func FuzzMaskPhones(f *testing.F) {
	for _, s := range []string{"call 07700 900123", "+447700900123", "2026-01-02 15:04:05", "(07700) 900-123", "a1234567890", "+", "(", "1 2 3 4 5 6 7 8 9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := maskPhones(s)
		if got != s && !strings.Contains(got, Redacted) {
			t.Fatalf("maskPhones(%q) = %q changed without masking", s, got)
		}
		if countDigits(got) > countDigits(s) {
			t.Fatalf("maskPhones(%q) = %q added digits", s, got)
		}
	})
}
