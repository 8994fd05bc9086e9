package push

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFrame(t *testing.T) {
	ticket := strings.Repeat("Ab-_", 6)
	on, off := true, false
	for _, tc := range []struct {
		in   string
		want inbound
		code int
	}{
		{`{"type":"hello","ticket":"` + ticket + `"}`, inbound{Type: "hello", Ticket: ticket}, 0},
		{`{"type":"hello","ticket":"` + ticket + `","since":"1700000000000-3","duty":true}`, inbound{Type: "hello", Ticket: ticket, Since: "1700000000000-3", Duty: &on}, 0},
		{`{"type":"seen","alert":"a_abcdefghijkmnpqrstuv","event":"17-0"}`, inbound{Type: "seen", Alert: "a_abcdefghijkmnpqrstuv", Event: "17-0"}, 0},
		{`{"type":"duty","on":false}`, inbound{Type: "duty", On: &off}, 0},
		{` {"type":"duty","on":true} `, inbound{Type: "duty", On: &on}, 0},

		{`{"type":"hello","ticket":"short"}`, inbound{}, CloseSessionEnded},
		{`{"type":"hello","ticket":"` + ticket + `","since":"yesterday"}`, inbound{}, CloseInvalidPayload},
		{`{"type":"hello","ticket":"` + ticket + `","since":"+1-1"}`, inbound{}, CloseInvalidPayload},
		{`{"type":"hello","ticket":"` + ticket + `","on":true}`, inbound{}, CloseInvalidPayload},
		{`{"type":"seen","alert":"a_X","event":"1-1"}`, inbound{}, CloseInvalidPayload},
		{`{"type":"seen","alert":"a_abc","event":"1"}`, inbound{}, CloseInvalidPayload},
		{`{"type":"seen","alert":"a_abc","event":"1-1","since":"1-1"}`, inbound{}, CloseInvalidPayload},
		{`{"type":"duty"}`, inbound{}, CloseInvalidPayload},
		{`{"type":"duty","on":"yes"}`, inbound{}, CloseInvalidPayload},
		{`{"type":"duty","on":true}{"type":"duty","on":true}`, inbound{}, CloseInvalidPayload},
		{`{"type":"duty","on":true,"more":1}`, inbound{}, CloseInvalidPayload},
		{`[1,2]`, inbound{}, CloseInvalidPayload},
		{``, inbound{}, CloseInvalidPayload},
		{`{"type":"subscribe"}`, inbound{}, CloseUnsupported},
		{`{}`, inbound{}, CloseUnsupported},
	} {
		got, err := parseFrame([]byte(tc.in))
		code := 0
		var fe *frameError
		if errors.As(err, &fe) {
			code = fe.code
		} else if err != nil {
			t.Errorf("parseFrame(%q) error %v is not a frameError", tc.in, err)
		}
		if code != tc.code {
			t.Errorf("parseFrame(%q) code = %d, want %d", tc.in, code, tc.code)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseFrame(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestStreamIDOrder(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		less bool
	}{
		{"1-0", "1-1", true},
		{"1-9", "2-0", true},
		{"10-0", "9-99", false},
		{"5-5", "5-5", false},
		{"18446744073709551615-0", "18446744073709551615-1", true},
	} {
		a, ok1 := parseID(tc.a)
		b, ok2 := parseID(tc.b)
		if !ok1 || !ok2 {
			t.Fatalf("parseID(%q, %q) failed", tc.a, tc.b)
		}
		if got := a.less(b); got != tc.less {
			t.Errorf("%s < %s = %v, want %v", tc.a, tc.b, got, tc.less)
		}
		if a.String() != tc.a {
			t.Errorf("String() = %q, want %q", a.String(), tc.a)
		}
	}
	for _, bad := range []string{"", "1", "-1", "1-", "a-1", "1-1-1", "18446744073709551616-0", "+1-2", " 1-2"} {
		if _, ok := parseID(bad); ok {
			t.Errorf("parseID(%q) accepted", bad)
		}
	}
}

// FuzzParseFrame: any bytes either parse into a frame whose fields are of
// the right shape for its type, or fail with a frameError; never a panic.
func FuzzParseFrame(f *testing.F) {
	ticket := strings.Repeat("Ab-_", 6)
	for _, s := range []string{
		`{"type":"hello","ticket":"` + ticket + `","since":"1-2","duty":true}`,
		`{"type":"seen","alert":"a_abc","event":"17-0"}`,
		`{"type":"duty","on":false}`,
		`{"type":"x"}`,
		`{"type":"seen","alert":"a_abc","event":"99999999999999999999999-0"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if fast, ok := fastSeen(b); ok {
			slow, err := parseFrameJSON(b)
			if err != nil || !cmp.Equal(fast, slow) {
				t.Fatalf("fast path = %+v, JSON decoder = %+v, %v", fast, slow, err)
			}
		}
		in, err := parseFrame(b)
		if err != nil {
			var fe *frameError
			if !errors.As(err, &fe) || fe.code == 0 {
				t.Fatalf("error %v is not a frameError with a code", err)
			}
			if strings.Contains(fe.reason, string(b)) && len(b) > 8 {
				t.Fatalf("close reason echoes the frame")
			}
			return
		}
		switch in.Type {
		case typeHello:
			if !validTicket(in.Ticket) {
				t.Fatalf("hello with a bad ticket accepted")
			}
			if in.Since != "" {
				if _, ok := parseID(in.Since); !ok {
					t.Fatalf("hello with a bad since accepted")
				}
			}
		case typeSeen:
			if _, ok := parseID(in.Event); !ok || !validAlertID(in.Alert) {
				t.Fatalf("seen with bad ids accepted: %+v", in)
			}
		case typeDuty:
			if in.On == nil {
				t.Fatal("duty without on accepted")
			}
		default:
			t.Fatalf("unknown type %q accepted", in.Type)
		}
	})
}
