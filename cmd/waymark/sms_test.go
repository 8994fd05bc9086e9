package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"waymark/sms"
)

const (
	testTwilioSID   = "AC0123456789abcdef0123456789abcdef"
	testTwilioToken = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
)

func twilioEnv() map[string]string {
	env := keyEnv()
	env["WAYMARK_TWILIO_ACCOUNT_SID"] = testTwilioSID
	env["WAYMARK_TWILIO_AUTH_TOKEN"] = testTwilioToken
	env["WAYMARK_TWILIO_FROM"] = "+447700900001"
	env["WAYMARK_PUBLIC_URL"] = "https://waymark.example.org"
	return env
}

// TestConfigCheckNeedsOptOutReview: with Twilio configured, `config check`
// fails until the deployment confirms neutral opt-out replies.
func TestConfigCheckNeedsOptOutReview(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
	}{
		{"no twilio", keyEnv(), false},
		{"twilio, not reviewed", twilioEnv(), true},
		{"twilio, reviewed", func() map[string]string {
			e := twilioEnv()
			e["WAYMARK_TWILIO_OPTOUT_REVIEWED"] = "true"
			return e
		}(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["WAYMARK_REDIS_URL"] = "redis://127.0.0.1:1/0"
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"waymark", "config", "check"}, func(k string) string { return tc.env[k] }, &stdout, &stderr)
			if tc.wantErr {
				var ee *exitError
				if !errors.As(err, &ee) || ee.code != 2 {
					t.Fatalf("config check = %v, want exit 2", err)
				}
				if !strings.Contains(stderr.String(), "WAYMARK_TWILIO_OPTOUT_REVIEWED") || !strings.Contains(stderr.String(), "Advanced Opt-Out") {
					t.Errorf("stderr does not explain the opt-out review:\n%s", stderr.String())
				}
			} else if err != nil {
				t.Fatalf("config check = %v\n%s", err, stderr.String())
			}
			if strings.Contains(stdout.String()+stderr.String(), testTwilioToken) {
				t.Error("config check printed the auth token")
			}
		})
	}
}

// TestServeTwilioWebhooks: with Twilio configured, the running server
// verifies webhooks against WAYMARK_PUBLIC_URL (not the address it was
// reached at) and answers the empty TwiML; without Twilio the routes do
// not exist.
func TestServeTwilioWebhooks(t *testing.T) {
	inst := startWaymark(t, twilioEnv(), "serve", "--addr", "127.0.0.1:0")
	form := map[string]string{
		"MessageSid": "SM0123456789abcdef0123456789abcdef", "AccountSid": testTwilioSID,
		"From": "+447700900987", "To": "+447700900000", "Body": "hello there", "NumMedia": "0",
	}
	post := func(path, sig string, form map[string]string) (int, string) {
		req, _ := http.NewRequest("POST", inst.base+path, strings.NewReader(sms.EncodeForm(form)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set(sms.SignatureHeader, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post("/sms/inbound", "", form); code != 403 {
		t.Errorf("unsigned inbound = %d, want 403", code)
	}
	if code, _ := post("/sms/inbound", sms.Sign(testTwilioToken, inst.base+"/sms/inbound", form), form); code != 403 {
		t.Errorf("inbound signed for the listening address = %d, want 403", code)
	}
	code, body := post("/sms/inbound", sms.Sign(testTwilioToken, "https://waymark.example.org/sms/inbound", form), form)
	if code != 200 || body != string(sms.Reply("")) {
		t.Errorf("signed inbound = %d %s, want 200 and the empty Response", code, body)
	}
	st := map[string]string{"MessageSid": "SMffffffffffffffffffffffffffffffff", "MessageStatus": "delivered"}
	if code, _ := post("/sms/status", sms.Sign(testTwilioToken, "https://waymark.example.org/sms/status", st), st); code != 204 {
		t.Errorf("signed status = %d, want 204", code)
	}
	if strings.Contains(inst.stderr.String(), "hello there") || strings.Contains(inst.stderr.String(), "7700900987") {
		t.Error("the log holds the text or the sender")
	}

	plain := startWaymark(t, keyEnv(), "serve", "--addr", "127.0.0.1:0")
	resp, err := http.Post(plain.base+"/sms/inbound", "application/x-www-form-urlencoded", strings.NewReader("x=1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 && resp.StatusCode != 405 {
		t.Errorf("inbound without twilio = %d, want 404", resp.StatusCode)
	}
}
