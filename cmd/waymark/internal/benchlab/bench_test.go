package benchlab

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"waymark/sms"
)

func TestBenchHelpers(t *testing.T) {
	for k, want := range map[int]string{0: "a", 23: "z", 24: "aa", 25: "ab", 24 + 24*24: "aaa"} {
		if got := letters(k); got != want {
			t.Errorf("letters(%d) = %q, want %q", k, got, want)
		}
	}
	seen := map[string]bool{}
	for i := range benchPhones() {
		p := benchPhone(i)
		if seen[p] || len(p) != 11 {
			t.Fatalf("benchPhone(%d) = %q: duplicate or not 11 digits", i, p)
		}
		seen[p] = true
	}
	ds := []time.Duration{5, 1, 4, 2, 3}
	for i := range ds {
		ds[i] *= time.Millisecond
	}
	if got := pct(ds, 50); got != 3 {
		t.Errorf("p50 = %v, want 3", got)
	}
	if got := pct(ds, 100); got != 5 {
		t.Errorf("max = %v, want 5", got)
	}
	if !parsePos("9-5").less(parsePos("10-0")) || parsePos("10-1").less(parsePos("10-0")) {
		t.Error("stream positions compare wrongly")
	}
}

// TestCasesSizeTheBlindIndex: --cases N configures the deployment for N
// cases (WAYMARK_EXPECTED_CASES), unless the caller set it; a --cases that
// is no number is left for the flag's own refusal.
func TestCasesSizeTheBlindIndex(t *testing.T) {
	caller := map[string]string{"WAYMARK_REDIS_URL": "redis://127.0.0.1:1"}
	for _, c := range []struct {
		args   []string
		caller string
		want   string
	}{
		{[]string{"--cases", "1000000", "--teams", "50"}, "", "1000000"},
		{[]string{"-cases=20000"}, "", "20000"},
		{[]string{"--cases", "100000"}, "250000", "250000"},
		{[]string{"--cases", "100000", "--expected-cases", "7"}, "", ""},
		{[]string{"--cases", "many"}, "", ""},
		{[]string{"--responders", "1"}, "", ""},
	} {
		env := func(k string) string {
			if k == "WAYMARK_EXPECTED_CASES" {
				return c.caller
			}
			return caller[k]
		}
		e, cleanup, err := PrepareEnv(t.Context(), env, c.args)
		cleanup()
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		want := c.want
		if want == "" {
			want = c.caller
		}
		if got := e.Get("WAYMARK_EXPECTED_CASES"); got != want {
			t.Errorf("%v with the caller's %q: WAYMARK_EXPECTED_CASES = %q, want %q", c.args, c.caller, got, want)
		}
	}
}

type appended []string

func (a *appended) Append(_ context.Context, _, id string) error { *a = append(*a, id); return nil }

// TestDurableWebhookRefusals: the webhook's durable floor appends only a
// text whose signature holds, and only the message's id.
func TestDurableWebhookRefusals(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	form := map[string]string{"From": "+447700900123", "Body": "bluebell", "MessageSid": "SM0001"}
	var log appended
	h := durableWebhook(sms.NewVerifier(twilioPublicURL, token), &log)
	post := func(method, path, sig string) int {
		r := httptest.NewRequest(method, path, strings.NewReader(sms.EncodeForm(form)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(sms.SignatureHeader, sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	good := sms.Sign(token, twilioPublicURL+"/sms/inbound", form)
	if got := post(http.MethodPost, "/sms/inbound", "forged"); got != http.StatusForbidden || len(log) != 0 {
		t.Errorf("forged signature: %d, %d appended; want 403 and none", got, len(log))
	}
	if got := post(http.MethodGet, "/sms/inbound", good); got != http.StatusNotFound || len(log) != 0 {
		t.Errorf("GET: %d, %d appended; want 404 and none", got, len(log))
	}
	if got := post(http.MethodPost, "/sms/inbound", good); got != http.StatusOK || len(log) != 1 || log[0] != "SM0001" {
		t.Errorf("signed text: %d, appended %v; want 200 and the message id alone", got, log)
	}
}
