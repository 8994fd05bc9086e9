package benchlab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"

	"waymark/sms"
)

// The Twilio scenario (--twilio): inbound texts reach Waymark as Twilio
// sends them, a signed form POSTed to /sms/inbound, each from an
// enrolled case's phone and holding the case's code word, so each is a
// panic alert through the whole SMS intake (signature, case lookup, code
// words, the alert commit) delivered to the case's team. Beside it, in
// the same run and through the same client, a trivial handler (`waymark
// bench floor twilio`) reads the same requests and answers the same
// empty TwiML, doing nothing else. The target is the webhook's answer
// p99 against the trivial handler's.

// twilioPublicURL is what the child's WAYMARK_PUBLIC_URL says and what
// the bench signs over (loopback http, which config allows).
const twilioPublicURL = "http://127.0.0.1"

// twilioTo is the intake number the texts are addressed to: an Ofcom
// drama number outside the cases' ranges.
const twilioTo = "+441632960999"

// twilioShot is one signed inbound text.
type twilioShot struct{ body, sig string }

// twilioSetup makes the run's Twilio account (a fresh auth token and
// account SID; nothing leaves the machine: the child's Twilio API URL is
// a closed loopback port) and the child's settings for it.
func (b *bench) twilioSetup() {
	b.twilioToken = randHex(16)
	b.twilioSID = "AC" + randHex(16)
	b.childEnv = append(b.childEnv,
		"WAYMARK_TWILIO_ACCOUNT_SID="+b.twilioSID,
		"WAYMARK_TWILIO_AUTH_TOKEN="+b.twilioToken,
		"WAYMARK_PUBLIC_URL="+twilioPublicURL,
		"WAYMARK_TWILIO_FROM=+441632960998",
		"WAYMARK_TWILIO_API_URL=http://127.0.0.1:9",
		"WAYMARK_TWILIO_OPTOUT_REVIEWED=true")
}

// twilioShots signs one inbound text per seeded case, as Twilio signs
// them, and checks each before any is sent by reading its body back as
// the server does and verifying it with sms.Verifier, whose last word is
// twilio-go's own request validator: a text the real validator would
// refuse is the bench's error, not Waymark's.
func (b *bench) twilioShots(s *benchSeed) ([]twilioShot, error) {
	v := sms.NewVerifier(twilioPublicURL, b.twilioToken)
	u := twilioPublicURL + "/sms/inbound"
	run := randHex(8)
	out := make([]twilioShot, len(s.cases))
	for i := range s.cases {
		// SIDs: the run's random half, then the case index (unique by
		// construction within the run).
		sid := fmt.Sprintf("SM%s%016x", run, i)
		form := map[string]string{
			"ToCountry": "GB", "ToState": "", "ToCity": "", "ToZip": "", "To": twilioTo,
			"FromCountry": "GB", "FromState": "", "FromCity": "", "FromZip": "", "From": "+44" + benchPhone(i)[1:],
			"SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "SmsStatus": "received",
			"NumMedia": "0", "NumSegments": "1", "AccountSid": b.twilioSID, "ApiVersion": "2010-04-01",
			"Body": "bluebell",
		}
		body := sms.EncodeForm(form)
		sig := sms.Sign(b.twilioToken, u, form)
		back, err := sms.ReadForm(strings.NewReader(body))
		if err != nil || !v.Verify("/sms/inbound", "", back, sig) {
			return nil, fmt.Errorf("waymark bench: twilio-go refuses the bench's signature of text %d", i)
		}
		out[i] = twilioShot{body: body, sig: sig}
	}
	return out, nil
}

// twilioTarget makes t raise by inbound text instead of by app signal.
func (b *bench) twilioTarget(t *benchTarget, s *benchSeed) error {
	shots, err := b.twilioShots(s)
	if err != nil {
		return err
	}
	b.shots = shots
	base := t.base
	t.raise = func(ctx context.Context, hc *http.Client, i int) error {
		for u := s.used.Load(); int64(i+1) > u && !s.used.CompareAndSwap(u, int64(i+1)); u = s.used.Load() {
		}
		sh := shots[i%len(shots)]
		return postForm(ctx, hc, base+"/sms/inbound", sh)
	}
	return nil
}

// webhookRun drives the trivial handler, or (durable) the webhook's
// durable floor, with the same signed texts, at the same rate, with no
// responders (neither delivers anything).
func (b *bench) webhookRun(ctx context.Context, rates []float64, durable bool) (*benchReport, error) {
	args, name, env := []string{"bench", "floor", "twilio"}, "trivial", []string{"PATH=" + b.d.Getenv("PATH")}
	if durable {
		args, name = append(args, "durable"), "durable webhook"
		env = append(env, "WAYMARK_TWILIO_AUTH_TOKEN="+b.twilioToken, "WAYMARK_PUBLIC_URL="+twilioPublicURL)
		env = append(env, b.redisEnv()...)
	}
	child, err := b.startChild(ctx, args, name, env)
	if err != nil {
		return nil, err
	}
	defer child.stop()
	base, shots := child.base, b.shots
	t := &benchTarget{
		name: name, origin: base, base: base, pid: child.cmd.Process.Pid,
		raise: func(ctx context.Context, hc *http.Client, i int) error {
			return postForm(ctx, hc, base+"/sms/inbound", shots[i%len(shots)])
		},
		resolve: func(context.Context, []string) (map[string]int, error) { return nil, nil },
	}
	nb := *b
	nb.f.responders = 0
	return nb.drive(ctx, t, rates)
}

// durableWebhook is the webhook's durable floor: the least any webhook
// that keeps what it is sent must do. It checks Twilio's signature as
// Waymark does (sms.Verifier, whose last check is twilio-go's
// validator), reads the form, and appends one entry (the message's id:
// nothing the text says, nor its sender) to the same fsync-always Redis
// with one XADD before it answers the same empty TwiML.
func durableWebhook(v *sms.Verifier, log floorAppender) http.Handler {
	reply := sms.Reply("")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/sms/inbound" {
			http.NotFound(w, r)
			return
		}
		form, err := sms.ReadForm(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if !v.Verify(r.URL.Path, r.URL.RawQuery, form, r.Header.Get(sms.SignatureHeader)) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if err := log.Append(r.Context(), "sms", form["MessageSid"]); err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(reply)
	})
}

// floorAppender appends one entry to a durable floor's log.
type floorAppender interface {
	Append(ctx context.Context, team, id string) error
}

// trivialWebhook is the trivial handler: it reads the form as any form
// handler must and answers what Waymark answers every sender (an empty
// TwiML response), checking nothing and storing nothing.
func trivialWebhook() http.Handler {
	reply := sms.Reply("")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/sms/inbound" {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 64<<10))
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(reply)
	})
}

// postForm sends one signed text and wants 200.
func postForm(ctx context.Context, hc *http.Client, url string, sh twilioShot) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(sh.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(sms.SignatureHeader, sh.sig)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// twilioSummary adds the scenario's figures to the summary: the
// webhook's answer (text in → 200), the trivial handler's and the
// durable floor's, and the ratios of their p99s to the trivial one's
// (Waymark's target ≤ 2).
func twilioSummary(out map[string]any, wm, tr, du *benchReport) {
	out["scenario"] = "twilio"
	out["twilio_answer_p50_ms"], out["twilio_answer_p99_ms"] = nil, nil
	out["twilio_trivial_p50_ms"], out["twilio_trivial_p99_ms"], out["twilio_p99_ratio"] = nil, nil, nil
	out["twilio_durable_p50_ms"], out["twilio_durable_p99_ms"], out["twilio_durable_p99_ratio"] = nil, nil, nil
	if len(wm.Steps) > 0 {
		s := wm.Steps[len(wm.Steps)-1]
		out["twilio_answer_p50_ms"], out["twilio_answer_p99_ms"] = s.AnswerP50, s.AnswerP99
	}
	if tr == nil || len(tr.Steps) == 0 {
		return
	}
	out["trivial"] = tr
	s := tr.Steps[len(tr.Steps)-1]
	out["twilio_trivial_p50_ms"], out["twilio_trivial_p99_ms"] = s.AnswerP50, s.AnswerP99
	if s.AnswerP99 <= 0 {
		return
	}
	if w, ok := out["twilio_answer_p99_ms"].(float64); ok {
		out["twilio_p99_ratio"] = round2(w / s.AnswerP99)
	}
	if du != nil && len(du.Steps) > 0 {
		out["durable_webhook"] = du
		d := du.Steps[len(du.Steps)-1]
		out["twilio_durable_p50_ms"], out["twilio_durable_p99_ms"] = d.AnswerP50, d.AnswerP99
		out["twilio_durable_p99_ratio"] = round2(d.AnswerP99 / s.AnswerP99)
	}
}

// randHex is n random bytes in lower-case hex.
func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
