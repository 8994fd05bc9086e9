package sms

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/twilio/twilio-go/client"

	"waymark/alert"
	"waymark/outbox"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	tokenA = "0123456789abcdef0123456789abcdef"
	tokenB = "fedcba9876543210fedcba9876543210"
)

// inboundForm is a form as Twilio posts it for an inbound text.
func inboundForm(sid, from, body string) map[string]string {
	return map[string]string{
		"ToCountry": "GB", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0",
		"ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
		"FromCity": "", "Body": body, "FromCountry": "GB", "To": "+447700900000",
		"ToZip": "", "NumSegments": "1", "MessageSid": sid,
		"AccountSid": "AC0123456789abcdef0123456789abcdef", "From": from, "ApiVersion": "2010-04-01",
	}
}

func TestSignMatchesTwilioGo(t *testing.T) {
	forms := []map[string]string{
		inboundForm("SM0123456789abcdef0123456789abcdef", "+447700900123", "rose garden SO14 7DZ"),
		inboundForm("SM0123456789abcdef0123456789abcdef", "+447700900123", "مدد چاہیے گلاب"),
		inboundForm("SM0123456789abcdef0123456789abcdef", "+447700900123", "Zażółć gęślą jaźń 🌹"),
		inboundForm("SM0123456789abcdef0123456789abcdef", "+447700900123", ""),
		{},
	}
	for i, form := range forms {
		for _, u := range []string{
			"https://waymark.example.org/sms/inbound",
			"https://waymark.example.org:8443/sms/inbound",
			"http://127.0.0.1:8080/sms/inbound?x=1",
		} {
			sig := Sign(tokenA, u, form)
			rv := client.NewRequestValidator(tokenA)
			if !rv.Validate(u, form, sig) {
				t.Errorf("form %d at %s: twilio-go does not accept our signature", i, u)
			}
			// And twilio-go's view of the body: parse what we encode.
			if !rv.ValidateBody(u, []byte(EncodeForm(form)), sig) && !strings.Contains(u, "?") {
				t.Errorf("form %d at %s: twilio-go's ValidateBody refuses our encoding", i, u)
			}
		}
	}
}

func TestVerify(t *testing.T) {
	const path = "/sms/inbound"
	form := inboundForm("SM0123456789abcdef0123456789abcdef", "+447700900123", "rose garden")
	good := Sign(tokenA, "https://waymark.example.org"+path, form)
	tampered := func(k, v string) map[string]string {
		c := make(map[string]string, len(form))
		for kk, vv := range form {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	tests := []struct {
		name   string
		v      *Verifier
		path   string
		query  string
		form   map[string]string
		sig    string
		wantOK bool
	}{
		{"good", NewVerifier("https://waymark.example.org/", tokenA), path, "", form, good, true},
		{"previous token", NewVerifier("https://waymark.example.org", tokenB, tokenA), path, "", form, good, true},
		{"explicit default port", NewVerifier("https://waymark.example.org", tokenA), path, "", form,
			Sign(tokenA, "https://waymark.example.org:443"+path, form), true},
		{"non-default port", NewVerifier("https://waymark.example.org:8443", tokenA), path, "", form,
			Sign(tokenA, "https://waymark.example.org:8443"+path, form), true},
		{"non-default port signed without it", NewVerifier("https://waymark.example.org:8443", tokenA), path, "", form,
			Sign(tokenA, "https://waymark.example.org"+path, form), true},
		{"http default port", NewVerifier("http://127.0.0.1", tokenA), path, "", form,
			Sign(tokenA, "http://127.0.0.1:80"+path, form), true},
		{"with query", NewVerifier("https://waymark.example.org", tokenA), path, "t=1", form,
			Sign(tokenA, "https://waymark.example.org"+path+"?t=1", form), true},
		{"missing", NewVerifier("https://waymark.example.org", tokenA), path, "", form, "", false},
		{"wrong token", NewVerifier("https://waymark.example.org", tokenB), path, "", form, good, false},
		{"other url", NewVerifier("https://evil.example.org", tokenA), path, "", form, good, false},
		{"other path", NewVerifier("https://waymark.example.org", tokenA), "/sms/status", "", form, good, false},
		{"body changed", NewVerifier("https://waymark.example.org", tokenA), path, "", tampered("Body", "kettle"), good, false},
		{"sender changed", NewVerifier("https://waymark.example.org", tokenA), path, "", tampered("From", "+447700900999"), good, false},
		{"field added", NewVerifier("https://waymark.example.org", tokenA), path, "", tampered("Extra", ""), good, false},
		{"query added", NewVerifier("https://waymark.example.org", tokenA), path, "t=1", form, good, false},
		{"no tokens", NewVerifier("https://waymark.example.org"), path, "", form, good, false},
		{"no public url", NewVerifier("", tokenA), path, "", form, Sign(tokenA, path, form), false},
		{"garbage", NewVerifier("https://waymark.example.org", tokenA), path, "", form, "!!!", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.Verify(tc.path, tc.query, tc.form, tc.sig); got != tc.wantOK {
				t.Errorf("Verify = %v, want %v", got, tc.wantOK)
			}
		})
	}
}

func TestParseForm(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
		err  error
	}{
		{"simple", "A=1&B=two+words", map[string]string{"A": "1", "B": "two words"}, nil},
		{"escapes", "Body=%D9%85%D8%AF%D8%AF+%F0%9F%8C%B9&X=%2B44", map[string]string{"Body": "مدد 🌹", "X": "+44"}, nil},
		{"empty value and no equals", "A=&B", map[string]string{"A": "", "B": ""}, nil},
		{"empty pairs skipped", "&&A=1&", map[string]string{"A": "1"}, nil},
		{"empty", "", map[string]string{}, nil},
		{"semicolon is data", "A=1;B=2", map[string]string{"A": "1;B=2"}, nil},
		{"repeated", "A=1&A=2", nil, ErrFormRepeated},
		{"repeated after unescape", "A=1&%41=2", nil, ErrFormRepeated},
		{"bad escape", "A=%zz", nil, ErrFormSyntax},
		{"bad name escape", "%=1", nil, ErrFormSyntax},
		{"empty name", "=1", nil, ErrFormSyntax},
		{"too many", strings.Repeat("a=1&", 1) + manyFields(300), nil, ErrFormSyntax},
		{"too large", "A=" + strings.Repeat("x", MaxForm), nil, ErrFormTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseForm(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.err == nil {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("f")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(string(rune('a' + i/26)))
		b.WriteString("=1&")
	}
	return b.String()
}

func TestReadFormCap(t *testing.T) {
	// 1,600 characters of Urdu, percent-encoded, fit.
	body := strings.Repeat("گ", 1600)
	form := inboundForm("SM0123456789abcdef0123456789abcdef", "+447700900123", body)
	enc := EncodeForm(form)
	if len(enc) < 16<<10 {
		t.Logf("encoded form is %d bytes", len(enc))
	}
	got, err := ReadForm(strings.NewReader(enc))
	if err != nil {
		t.Fatalf("1,600 Urdu characters: %v", err)
	}
	if got["Body"] != body {
		t.Error("body not byte-exact")
	}
	if _, err := ReadForm(strings.NewReader(strings.Repeat("x", MaxForm+1))); !errors.Is(err, ErrFormTooLarge) {
		t.Errorf("oversized: err = %v, want ErrFormTooLarge", err)
	}
}

func TestParseInbound(t *testing.T) {
	form := inboundForm("SM0123456789abcdef0123456789abcdef", "07700 900123", "")
	form["NumMedia"] = "2"
	form["MediaUrl0"] = "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME0"
	form["MediaContentType0"] = "image/jpeg"
	form["MediaUrl1"] = "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1"
	form["MediaContentType1"] = "audio/ogg"
	in, err := ParseInbound(form)
	if err != nil {
		t.Fatal(err)
	}
	if in.From.Reveal() != "+447700900123" || !in.Body.IsZero() || len(in.Media) != 2 ||
		in.Media[1].ContentType != "audio/ogg" || in.Media[0].URL.Reveal() != form["MediaUrl0"] {
		t.Errorf("ParseInbound = %+v", in)
	}

	// An alphanumeric sender is unknown, never an error.
	form = inboundForm("SM0123456789abcdef0123456789abcdef", "BANK", "hello")
	if in, err := ParseInbound(form); err != nil || !in.From.IsZero() {
		t.Errorf("alphanumeric sender: %+v, %v", in, err)
	}

	for name, mod := range map[string]func(map[string]string){
		"no sid":          func(f map[string]string) { delete(f, "MessageSid") },
		"bad sid":         func(f map[string]string) { f["MessageSid"] = "SM123" },
		"upper-case sid":  func(f map[string]string) { f["MessageSid"] = "SM0123456789ABCDEF0123456789ABCDEF" },
		"bad media count": func(f map[string]string) { f["NumMedia"] = "x" },
		"too many media":  func(f map[string]string) { f["NumMedia"] = "11" },
		"missing media":   func(f map[string]string) { f["NumMedia"] = "1" },
	} {
		f := inboundForm("SM0123456789abcdef0123456789abcdef", "+447700900123", "x")
		mod(f)
		if _, err := ParseInbound(f); !errors.Is(err, ErrFormField) {
			t.Errorf("%s: err = %v, want ErrFormField", name, err)
		}
	}
}

func TestParseStatus(t *testing.T) {
	st, err := ParseStatus(map[string]string{"MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "undelivered", "ErrorCode": "30003"})
	if err != nil || st.State != StateUndelivered || st.ErrorCode != 30003 || !st.State.Failed() {
		t.Errorf("ParseStatus = %+v, %v", st, err)
	}
	for _, bad := range []map[string]string{
		{"MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "exploded"},
		{"MessageSid": "SM0123456789abcdef0123456789abcdef"},
		{"MessageSid": "XX0123456789abcdef0123456789abcdef", "MessageStatus": "sent"},
		{"MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "sent", "ErrorCode": "-1"},
	} {
		if _, err := ParseStatus(bad); !errors.Is(err, ErrFormField) {
			t.Errorf("ParseStatus(%v) err = %v, want ErrFormField", bad, err)
		}
	}
}

func TestDeliveryStateOrder(t *testing.T) {
	order := []DeliveryState{StateQueued, StateSending, StateSent, StateDelivered, StateRead}
	for i := 1; i < len(order); i++ {
		if order[i].Rank() <= order[i-1].Rank() {
			t.Errorf("%s does not rank above %s", order[i], order[i-1])
		}
	}
	for _, final := range []DeliveryState{StateDelivered, StateUndelivered, StateFailed, StateCanceled} {
		if final.Rank() != StateDelivered.Rank() {
			t.Errorf("%s is not final", final)
		}
	}
}

// TestTwiMLGolden pins the bytes Twilio gets back: the empty answer, the
// one neutral reply (escaped), and the voice page.
func TestTwiMLGolden(t *testing.T) {
	tests := []struct {
		file string
		got  string
	}{
		{"reply-empty.xml", string(Reply(""))},
		{"reply-neutral.xml", string(Reply("Thanks & see you <soon>"))},
		{"voice-page.xml", voicePage(t, outbox.VoiceWords("South", false, alert.ModeReal), "https://waymark.example.org/sms/voice/answer")},
		{"voice-answer.xml", voiceAnswer(t, "Thank you. The alert is yours & nobody else's.")},
		{"masked-call.xml", maskedCall(t, "+447700900600", "+447700900555")},
	}
	for _, tc := range tests {
		path := filepath.Join("testdata", tc.file)
		if *update {
			if err := os.WriteFile(path, []byte(tc.got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if tc.got != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.file, tc.got, want)
		}
	}
	if got := string(Reply("")); got != `<?xml version="1.0" encoding="UTF-8"?><Response></Response>` {
		t.Errorf("empty reply = %s", got)
	}
}

func maskedCall(t *testing.T, callerID, survivor string) string {
	t.Helper()
	doc, err := MaskedCall(callerID, survivor)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func voicePage(t *testing.T, words, action string) string {
	t.Helper()
	doc, err := VoicePage(words, action)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func voiceAnswer(t *testing.T, said string) string {
	t.Helper()
	doc, err := VoiceAnswer(said)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// BenchmarkVerify: a forged signature is refused by the streaming check
// without reaching twilio-go's allocating validator.
func BenchmarkVerify(b *testing.B) {
	form := inboundForm("SM0123456789abcdef0123456789abcdef", "+447700900123", "rose garden SO14 7DZ")
	v := NewVerifier("https://waymark.example.org", tokenA, tokenB)
	good := Sign(tokenA, "https://waymark.example.org/sms/inbound", form)
	forged := Sign(tokenA, "https://evil.example.org/sms/inbound", form)
	for _, bc := range []struct{ name, sig string }{{"genuine", good}, {"forged", forged}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.Verify("/sms/inbound", "", form, bc.sig)
			}
		})
	}
}

// TestCallForms: the voice webhooks' forms are checked field by field;
// a text's status or a bad state is refused, and every final call state
// that is not a press says why in words.
func TestCallForms(t *testing.T) {
	const sid = "CA0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		form map[string]string
		ok   bool
	}{
		{map[string]string{"CallSid": sid, "CallStatus": "no-answer"}, true},
		{map[string]string{"CallSid": "SM0123456789abcdef0123456789abcdef", "CallStatus": "busy"}, false},
		{map[string]string{"CallSid": sid, "CallStatus": "delivered"}, false},
		{map[string]string{"CallSid": sid}, false},
	} {
		if _, err := ParseCallStatus(tc.form); (err == nil) != tc.ok {
			t.Errorf("ParseCallStatus(%v) = %v", tc.form, err)
		}
	}
	for _, d := range []string{"", "1", "9", "#", "12*"} {
		if _, err := ParseGather(map[string]string{"CallSid": sid, "Digits": d}); err != nil {
			t.Errorf("ParseGather(Digits=%q) = %v", d, err)
		}
	}
	for _, d := range []string{"1 ", "x", "123456789", "<1>"} {
		if _, err := ParseGather(map[string]string{"CallSid": sid, "Digits": d}); err == nil {
			t.Errorf("ParseGather(Digits=%q) accepted", d)
		}
	}
	for _, s := range []CallState{CallCompleted, CallBusy, CallNoAnswer, CallFailed, CallCanceled} {
		if s.Rank() != 4 || s.Unanswered() == "" {
			t.Errorf("%s: rank %d, words %q", s, s.Rank(), s.Unanswered())
		}
	}
	for _, s := range []CallState{CallQueued, CallRinging, CallInProgress} {
		if s.Unanswered() != "" {
			t.Errorf("%s is not final but says %q", s, s.Unanswered())
		}
	}
}
