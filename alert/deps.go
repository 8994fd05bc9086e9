package alert

import (
	"context"
	"time"

	"waymark/oncall"
)

// Receipts says whether a responder's dashboard confirmed an alert.
type Receipts interface {
	SeenAt(ctx context.Context, alertID, responder string) (time.Time, bool, error)
}

// SMSStatuses reads the delivery reports of texts (Twilio's status
// callbacks, stored by the SMS webhooks).
type SMSStatuses interface {
	// Undelivered reports whether the text sid was reported undelivered
	// or failed.
	Undelivered(ctx context.Context, sid string) (bool, error)
}

// Metrics counts what escalation does. cmd/waymark implements it with
// Prometheus; nil counts nothing.
type Metrics interface {
	Step(fallback bool)
	Page(ch oncall.Channel, outcome PageOutcome)
	Returned()
	// Raised counts a new alert by what raised it (never by class: the
	// operator listener is private, but the fewer ways a duress signal
	// stands out, the better).
	Raised(src Source)
	// Lapsed counts a claim that lapsed (its owner showed no progress).
	Lapsed()
}

// EscalationDeps wire escalation. With Config.Escalation nil, steps still
// run on the policy waits and announce themselves on the events stream,
// but nobody is paged (the state machine's own tests).
type EscalationDeps struct {
	Rotas    oncall.RotaSource
	People   oncall.People
	Presence oncall.Presence
	Receipts Receipts
	// PhonePages says a pager is wired (outbox.Options.Pager): without it
	// text and voice steps fall through.
	PhonePages bool
	// WebPush says web push is wired (outbox.Options.WebPush): without it
	// webpush steps fall through.
	WebPush bool
	// Statuses is optional: without it a sent text counts as delivered.
	Statuses SMSStatuses
	Metrics  Metrics
	// Fallback is the 24/7 fallback. Unset, fallback steps page the
	// whole team instead (start-up warns).
	Fallback oncall.Fallback
	// Tick is the scheduler loop's tick: dashboards get ReceiptWait plus
	// one tick to confirm.
	Tick time.Duration
}

func (d *EscalationDeps) defaults() {
	if d.Tick <= 0 {
		d.Tick = time.Second
	}
}

type nopMetrics struct{}

func (nopMetrics) Step(bool)                        {}
func (nopMetrics) Page(oncall.Channel, PageOutcome) {}
func (nopMetrics) Returned()                        {}
func (nopMetrics) Raised(Source)                    {}
func (nopMetrics) Lapsed()                          {}
