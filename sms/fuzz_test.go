package sms

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/twilio/twilio-go/client"
)

// FuzzParseForm: the webhook form parser never panics, never accepts more
// than the cap, never returns a repeated name, and what it accepts
// round-trips through EncodeForm; and a signature over what it parsed is
// one twilio-go's validator accepts.
func FuzzParseForm(f *testing.F) {
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B447700900123&Body=rose+garden")
	f.Add("Body=%D9%85%D8%AF%D8%AF&NumMedia=1&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fx")
	f.Add("A=1&A=2")
	f.Add("=&&=%&%zz=1;x")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		form, err := ParseForm(s)
		if err != nil {
			return
		}
		if len(s) > MaxForm {
			t.Fatal("accepted a form over the cap")
		}
		if len(form) > maxFields {
			t.Fatalf("accepted %d fields", len(form))
		}
		again, err := ParseForm(EncodeForm(form))
		if err != nil {
			t.Fatalf("re-parse of encoded form: %v", err)
		}
		if len(again) != len(form) {
			t.Fatalf("round trip changed the field count")
		}
		for k, v := range form {
			if again[k] != v {
				t.Fatalf("round trip changed field %q", k)
			}
		}
		const u = "https://waymark.example.org/sms/inbound"
		sig := Sign(tokenA, u, form)
		rv := client.NewRequestValidator(tokenA)
		if !rv.Validate(u, form, sig) {
			t.Fatal("twilio-go refuses our signature")
		}
		if !NewVerifier("https://waymark.example.org", tokenB, tokenA).Verify("/sms/inbound", "", form, sig) {
			t.Fatal("Verify refuses a good signature")
		}
		if NewVerifier("https://waymark.example.org", tokenB).Verify("/sms/inbound", "", form, sig) {
			t.Fatal("verified with the wrong token")
		}
	})
}

// FuzzParseInbound: whatever a signed form holds, reading it never panics
// and a parsed message keeps its body byte-exact.
func FuzzParseInbound(f *testing.F) {
	f.Add("SM0123456789abcdef0123456789abcdef", "+447700900123", "rose garden", "0", "")
	f.Add("MM0123456789abcdef0123456789abcdef", "07700 900123", "", "1", "https://x/y")
	f.Add("SM0123456789abcdef0123456789abcdef", "BANK", "🌹", "11", "")
	f.Add("", "", "", "-1", "")
	f.Fuzz(func(t *testing.T, sid, from, body, numMedia, media0 string) {
		form := map[string]string{"MessageSid": sid, "From": from, "Body": body, "NumMedia": numMedia, "MediaUrl0": media0}
		in, err := ParseInbound(form)
		if err != nil {
			return
		}
		if in.Body.Reveal() != body {
			t.Fatal("body changed")
		}
		if len(in.Media) > maxMedia {
			t.Fatal("too many media")
		}
		if !in.From.IsZero() && !strings.HasPrefix(in.From.Reveal(), "+") {
			t.Fatal("sender not in E.164")
		}
		if !utf8.ValidString(in.MessageSID) || len(in.MessageSID) != 34 {
			t.Fatal("bad sid accepted")
		}
	})
}

// FuzzParseStatus: a status callback form never panics the parser, and an
// accepted one has a known state.
func FuzzParseStatus(f *testing.F) {
	f.Add("SM0123456789abcdef0123456789abcdef", "delivered", "")
	f.Add("SM0123456789abcdef0123456789abcdef", "undelivered", "30003")
	f.Add("SM0123456789abcdef0123456789abcdef", "queued", "x")
	f.Fuzz(func(t *testing.T, sid, state, code string) {
		st, err := ParseStatus(map[string]string{"MessageSid": sid, "MessageStatus": state, "ErrorCode": code})
		if err != nil {
			return
		}
		if st.State.Rank() == 0 || st.ErrorCode < 0 {
			t.Fatalf("accepted %+v", st)
		}
	})
}

func FuzzParseCallStatus(f *testing.F) {
	f.Add("CA0123456789abcdef0123456789abcdef", "no-answer", "")
	f.Add("CA0123456789abcdef0123456789abcdef", "completed", "1")
	f.Add("CA0123456789abcdef0123456789abcdef", "in-progress", "12#")
	f.Add("SM0123456789abcdef0123456789abcdef", "busy", "")
	f.Add("", "", "1; DROP")
	f.Fuzz(func(t *testing.T, sid, state, digits string) {
		form := map[string]string{"CallSid": sid, "CallStatus": state, "Digits": digits}
		if st, err := ParseCallStatus(form); err == nil {
			if st.CallSID != sid || !strings.HasPrefix(sid, "CA") || st.State.Rank() == 0 {
				t.Fatalf("accepted %q %q", sid, state)
			}
		}
		st, err := ParseGather(form)
		if err != nil {
			return
		}
		if st.CallSID != sid || !strings.HasPrefix(sid, "CA") {
			t.Fatalf("gather accepted call %q", sid)
		}
		if len(st.Digits) > 8 || strings.Trim(st.Digits, "0123456789*#") != "" {
			t.Fatalf("gather accepted digits %q", st.Digits)
		}
	})
}
