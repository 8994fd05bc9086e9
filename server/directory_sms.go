package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waymark/pii"
	"waymark/server/directory"
	"waymark/signpost/lookup"
	"waymark/sms"
)

// DirectoryText answers texts to the signposting number
// (WAYMARK_TWILIO_DIRECTORY_NUMBER) at POST /sms/directory: "SO14 refuge"
// gets the nearest open services in at most two GSM-7 segments, sent from
// the signposting number. It is a separate number and a separate webhook
// from the alert intake (POST /sms/inbound), whose silence is absolute: a
// text that reaches this webhook addressed to any other number is not
// answered.
type DirectoryText struct {
	// Number is the signposting number, E.164.
	Number string
	// Answer texts body to the sender from Number (sms.Sender's
	// TextDirectoryAnswer).
	Answer func(ctx context.Context, to pii.Phone, body string) error
}

// Per-sender answer budget: a text that arrives after a sender has had
// directoryAnswersPerHour answers in the last hour gets none. It stops a
// loop with an auto-responder (each of its replies would get one of ours)
// and caps what one sender can cost.
const directoryAnswersPerHour = 6

// answerBudget counts answers per sender in memory, per instance. Senders
// are kept as HMAC tags under a key made at start, never as numbers.
type answerBudget struct {
	key  []byte
	mu   sync.Mutex
	sent map[[32]byte][]time.Time
}

func newAnswerBudget() *answerBudget {
	key := make([]byte, 32)
	rand.Read(key)
	return &answerBudget{key: key, sent: map[[32]byte][]time.Time{}}
}

// allow records an answer to sender at now and reports whether it is
// within the budget.
func (b *answerBudget) allow(sender pii.Phone, now time.Time) bool {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte(sender.Reveal()))
	var tag [32]byte
	copy(tag[:], m.Sum(nil))
	cutoff := now.Add(-time.Hour)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.sent) > 10000 { // forget senders quiet for an hour
		for k, ts := range b.sent {
			if ts[len(ts)-1].Before(cutoff) {
				delete(b.sent, k)
			}
		}
	}
	kept := b.sent[tag][:0]
	for _, t := range b.sent[tag] {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	if len(kept) >= directoryAnswersPerHour {
		b.sent[tag] = kept
		return false
	}
	b.sent[tag] = append(kept, now)
	return true
}

// directoryAnswerTimeout bounds sending an answer, retries included;
// Twilio waits 15 s for the webhook.
const directoryAnswerTimeout = 10 * time.Second

// directoryUnavailable is the answer while the directory is not loaded.
const directoryUnavailable = "The service directory is not available just now. Please try again later. In danger now, call 999."

// smsDirectory is POST /sms/directory: a text to the signposting number.
// It answers Twilio with an empty TwiML <Response/> whatever happened, and
// sends the answer itself through the REST API, from the signposting
// number. Nothing of the text or the sender is logged.
func (s *server) smsDirectory() http.Handler {
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "waymark_sms_directory_total",
		Help: "Texts to the signposting number by outcome (answered, help, unavailable, other_number, no_sender, over_budget, send_failed, forbidden, malformed).",
	}, []string{"outcome"})
	s.Registry.MustRegister(outcomes)
	empty := sms.Reply("")
	d := s.SMS.Directory
	budget := newAnswerBudget()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := s.inboundText(w, r, outcomes, "directory")
		if !ok {
			return
		}
		answer := func() {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			w.Write(empty)
		}
		switch {
		case in.To != d.Number:
			// Never answer for another number, above all the intake's.
			outcomes.WithLabelValues("other_number").Inc()
			answer()
			return
		case in.From.IsZero():
			outcomes.WithLabelValues("no_sender").Inc()
			answer()
			return
		case !budget.allow(in.From, s.Now()):
			outcomes.WithLabelValues("over_budget").Inc()
			answer()
			return
		}
		outcome := "answered"
		var text string
		l, err := lookup.Parse(in.Body.Reveal())
		ix := directory.Current(s.Directory)
		switch {
		case err != nil:
			outcome, text = "help", lookup.SMSHelp
		case ix == nil:
			outcome, text = "unavailable", directoryUnavailable
		default:
			res, err := ix.Search(l.Query, s.Now())
			if err != nil {
				outcome, text = "help", lookup.SMSHelp
			} else {
				text = lookup.FormatSMS(l, res, 2)
			}
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), directoryAnswerTimeout)
		defer cancel()
		if err := d.Answer(ctx, in.From, text); err != nil {
			outcome = "send_failed"
			s.Logger.Warn("directory answer not sent", "request_id", requestID(r), "err", err)
		}
		outcomes.WithLabelValues(outcome).Inc()
		answer()
	})
}
