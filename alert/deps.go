package alert

import (
	"context"
	"time"

	"waymark/internal/randid"
	"waymark/oncall"
	"waymark/pii"
)

// Receipts says whether a responder's dashboard confirmed an alert.
type Receipts interface {
	SeenAt(ctx context.Context, alertID, responder string) (time.Time, bool, error)
}

// Pager sends texts and places calls. Errors wrap ErrPageRefused (final)
// or ErrPageUndelivered (the provider kept failing until ctx ended).
type Pager interface {
	Text(ctx context.Context, to pii.Phone, body string) error
	// Call places a voice page that says words and asks for a press of
	// 1, reported with the call's status to the webhooks; it returns the
	// provider's id of the call.
	Call(ctx context.Context, to pii.Phone, words string) (string, error)
}

// TextIDPager is a Pager that also returns the provider's id of a text, so
// its delivery report can be followed (SMSStatuses). Optional.
type TextIDPager interface {
	TextID(ctx context.Context, to pii.Phone, body string) (string, error)
}

// SMSStatuses keeps the delivery reports of texts (Twilio's status
// callbacks, stored by the SMS webhooks).
type SMSStatuses interface {
	// RecordPage remembers that the text sid was sent for alertID, so its
	// callbacks can be tied to the alert.
	RecordPage(ctx context.Context, sid, alertID string) error
	// Undelivered reports whether the text sid was reported undelivered
	// or failed.
	Undelivered(ctx context.Context, sid string) (bool, error)
}

// WebPusher sends a browser push notification to a staff member's
// subscribed browsers. Errors as for Pager.
type WebPusher interface {
	Push(ctx context.Context, staffID, team, label string) error
}

// PageCheck is what the outbox says just before a page is sent.
type PageCheck string

// Page checks.
const (
	PageGo   PageCheck = "go"   // still ours, the alert still unclaimed under the page's token: send
	PageDrop PageCheck = "drop" // the alert was claimed or queued afresh: the page was removed
	PageLost PageCheck = "lost" // another consumer took the page over: leave it
)

// EscalationStore is the outbox stream and the auditor's lease. Package
// store implements it.
type EscalationStore interface {
	// EnsureOutbox creates the outbox's consumer group if need be.
	EnsureOutbox(ctx context.Context) error
	// ReadPages hands out up to count new pages to consumer, waiting up
	// to block for some.
	ReadPages(ctx context.Context, consumer string, count int, block time.Duration) ([]Page, error)
	// ClaimStalePages takes over pages another consumer left idle for
	// minIdle (it died or froze).
	ClaimStalePages(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]Page, error)
	// BeginPage atomically checks that consumer still holds the page and
	// that its alert is raised, unclaimed and still under the page's
	// token, and refreshes the claim; a page whose alert moved on is
	// removed (PageDrop).
	BeginPage(ctx context.Context, p Page, consumer string) (PageCheck, error)
	// RefreshPage keeps consumer's claim fresh while it works; false when
	// another consumer has taken the page over.
	RefreshPage(ctx context.Context, p Page, consumer string) (bool, error)
	// FinishPage removes a handled page if consumer still holds it;
	// false when another consumer took it over.
	FinishPage(ctx context.Context, p Page, consumer string) (bool, error)
	// DeadPage moves a page consumer holds to the dead-letter stream with
	// a reason; false when another consumer took it over.
	DeadPage(ctx context.Context, p Page, consumer, reason string) (bool, error)
	// HoldLease takes or keeps the named lease for holder until ttl from
	// now; false when someone else holds it.
	HoldLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// TimerFences returns, for each target id, the fence of its pending
	// timer of kind (absent when it has none).
	TimerFences(ctx context.Context, kind TimerKind, targets []string) (map[string]string, error)
}

// Metrics counts what escalation does. cmd/waymark implements it with
// Prometheus; nil counts nothing.
type Metrics interface {
	Step(fallback bool)
	Page(ch oncall.Channel, outcome PageOutcome)
	DeadLetter()
	Repaired(what string)
	Audited(repairs int, err error)
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
	Store    EscalationStore
	Rotas    oncall.RotaSource
	People   oncall.People
	Presence oncall.Presence
	Receipts Receipts
	Pager    Pager
	// WebPush is optional: without it webpush steps fall through.
	WebPush WebPusher
	// Statuses is optional: without it a sent text counts as delivered.
	Statuses SMSStatuses
	Metrics  Metrics
	// Fallback is the 24/7 fallback. Unset, fallback steps page the
	// whole team instead (start-up warns).
	Fallback oncall.Fallback
	// Tick is the scheduler loop's tick: dashboards get ReceiptWait plus
	// one tick to confirm.
	Tick time.Duration
	// Consumer names this instance in the outbox's consumer group.
	Consumer string
	// PageBudget bounds one attempt to send a page, provider retries
	// included; default 8 s. It must stay below ClaimIdle, so a page
	// never outlives its claim.
	PageBudget time.Duration
	// ClaimIdle is how long a page may sit unrefreshed before another
	// consumer takes it over; default 10 s.
	ClaimIdle time.Duration
	// MaxDeliveries dead-letters a page the outbox handed out this often
	// (its consumers keep dying); default 5.
	MaxDeliveries int64
	// Workers is how many pages an instance sends at once; default 8.
	Workers int
}

func (d *EscalationDeps) defaults() {
	if d.Tick <= 0 {
		d.Tick = time.Second
	}
	if d.ClaimIdle <= 0 {
		d.ClaimIdle = 10 * time.Second
	}
	if d.PageBudget <= 0 || d.PageBudget >= d.ClaimIdle {
		d.PageBudget = d.ClaimIdle * 4 / 5
	}
	if d.MaxDeliveries <= 0 {
		d.MaxDeliveries = 5
	}
	if d.Workers <= 0 {
		d.Workers = 8
	}
	if d.Consumer == "" {
		d.Consumer = randid.New("c", 12)
	}
}

type nopMetrics struct{}

func (nopMetrics) Step(bool) {}

func (nopMetrics) Page(oncall.Channel, PageOutcome) {}

func (nopMetrics) DeadLetter() {}

func (nopMetrics) Repaired(string) {}

func (nopMetrics) Audited(int, error) {}

func (nopMetrics) Returned() {}

func (nopMetrics) Raised(Source) {}

func (nopMetrics) Lapsed() {}
