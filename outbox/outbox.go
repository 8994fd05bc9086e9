package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"waymark/alert"
	"waymark/internal/randid"
	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
)

// Store is the outbox stream: a consumer group whose pages each instance
// reads under a consumer name of its own. Package store implements it.
type Store interface {
	// EnsureOutbox creates the outbox's consumer group if need be.
	EnsureOutbox(ctx context.Context) error
	// ReadPages hands out up to count new pages to consumer, waiting up
	// to block for some.
	ReadPages(ctx context.Context, consumer string, count int, block time.Duration) ([]alert.Page, error)
	// ClaimStalePages takes over pages another consumer left idle for
	// minIdle (it died or froze).
	ClaimStalePages(ctx context.Context, consumer string, minIdle time.Duration, count int) ([]alert.Page, error)
	// BeginPage atomically checks that consumer still holds the page and
	// that its alert is raised, unclaimed and still under the page's
	// token, and refreshes the claim; a page whose alert moved on is
	// removed (PageDrop).
	BeginPage(ctx context.Context, p alert.Page, consumer string) (PageCheck, error)
	// RefreshPage keeps consumer's claim fresh while it works; false when
	// another consumer has taken the page over.
	RefreshPage(ctx context.Context, p alert.Page, consumer string) (bool, error)
	// FinishPage removes a handled page if consumer still holds it;
	// false when another consumer took it over.
	FinishPage(ctx context.Context, p alert.Page, consumer string) (bool, error)
	// DeadPage moves a page consumer holds to the dead-letter stream with
	// a reason; false when another consumer took it over.
	DeadPage(ctx context.Context, p alert.Page, consumer, reason string) (bool, error)
	// PruneOutboxConsumers forgets the consumers other than self that
	// have no pending page and were idle for idle (each `waymark serve`
	// reads the outbox under a name of its own, so stopped instances
	// leave theirs behind). It returns how many it removed.
	PruneOutboxConsumers(ctx context.Context, self string, idle time.Duration) (int, error)
}

// PageCheck is what the outbox says just before a page is sent.
type PageCheck string

// Page checks.
const (
	PageGo   PageCheck = "go"   // still ours, the alert still unclaimed under the page's token: send
	PageDrop PageCheck = "drop" // the alert was claimed or queued afresh: the page was removed
	PageLost PageCheck = "lost" // another consumer took the page over: leave it
)

// Alerts takes a page's outcome to its alert (alert.Service does).
type Alerts interface {
	PageResult(ctx context.Context, res alert.PageResult) error
}

// Statuses ties the provider's reports on texts and calls (Twilio's
// status callbacks and a call's key press, taken by the SMS webhooks) to
// their alerts.
type Statuses interface {
	// RecordPage remembers that the text or call sid was sent for
	// alertID, so its callbacks can be tied to the alert.
	RecordPage(ctx context.Context, sid, alertID string) error
}

// Metrics counts what the outbox does. cmd/waymark implements it with
// Prometheus; nil counts nothing.
type Metrics interface {
	Page(ch oncall.Channel, outcome alert.PageOutcome)
	DeadLetter()
}

// Options wire a Runner.
type Options struct {
	Store  Store
	Alerts Alerts
	// People finds a recipient's page number.
	People oncall.People
	// Fallback is the 24/7 fallback's number, for pages to FallbackWho.
	Fallback oncall.Fallback
	// Pager sends texts and calls; nil refuses them (the next channel is
	// tried at once).
	Pager Pager
	// WebPush is optional: without it web push pages are refused.
	WebPush WebPusher
	// Statuses is optional: without it a text's or call's reports are not
	// tied to the alert.
	Statuses Statuses
	Metrics  Metrics
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
	// Now is the clock pages' deadlines are checked against; nil means
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Runner sends the pages escalation queues: every instance runs one, and
// each page is handled by one consumer at a time.
type Runner struct {
	store         Store
	alerts        Alerts
	people        oncall.People
	fallback      oncall.Fallback
	pager         Pager
	webPush       WebPusher
	statuses      Statuses
	metrics       Metrics
	consumer      string
	pageBudget    time.Duration
	claimIdle     time.Duration
	maxDeliveries int64
	workers       int
	now           func() time.Time
	log           *slog.Logger
}

// New builds a Runner, filling in the defaults.
func New(o Options) *Runner {
	r := &Runner{store: o.Store, alerts: o.Alerts, people: o.People, fallback: o.Fallback, pager: o.Pager,
		webPush: o.WebPush, statuses: o.Statuses, metrics: o.Metrics, consumer: o.Consumer,
		pageBudget: o.PageBudget, claimIdle: o.ClaimIdle, maxDeliveries: o.MaxDeliveries, workers: o.Workers,
		now: o.Now, log: o.Logger}
	if r.metrics == nil {
		r.metrics = nopMetrics{}
	}
	if r.claimIdle <= 0 {
		r.claimIdle = 10 * time.Second
	}
	if r.pageBudget <= 0 || r.pageBudget >= r.claimIdle {
		r.pageBudget = r.claimIdle * 4 / 5
	}
	if r.maxDeliveries <= 0 {
		r.maxDeliveries = 5
	}
	if r.workers <= 0 {
		r.workers = 8
	}
	if r.consumer == "" {
		r.consumer = randid.New("c", 12)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

type nopMetrics struct{}

func (nopMetrics) Page(oncall.Channel, alert.PageOutcome) {}
func (nopMetrics) DeadLetter()                            {}

// Outbox consumer housekeeping: how often, and how long a consumer with no
// pending page must have been idle before it is forgotten.
const (
	pruneEvery   = 10 * time.Minute
	pruneIdleFor = 24 * time.Hour
)

// pruneConsumers forgets idle consumers of stopped instances.
func (r *Runner) pruneConsumers(ctx context.Context) {
	n, err := r.store.PruneOutboxConsumers(ctx, r.consumer, pruneIdleFor)
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Warn("outbox: pruning idle consumers failed", "err", err)
	case n > 0:
		r.log.Info("outbox: idle consumers of stopped instances removed", "count", n)
	}
}

// Run sends the pages in the outbox until ctx ends: new ones, and
// ones another instance left behind (it died or froze) once they have
// been idle for ClaimIdle. Every instance runs one; each page is handled
// by one consumer at a time.
func (r *Runner) Run(ctx context.Context) error {
	d := r
	wait := backoffWaiter()
	for {
		err := d.store.EnsureOutbox(ctx)
		if err == nil {
			break
		}
		r.log.Warn("outbox: cannot create the consumer group; retrying", "err", err)
		if !wait(ctx) {
			return nil
		}
	}
	sem := make(chan struct{}, d.workers)
	var mu sync.Mutex
	busy := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	wait = backoffWaiter()
	var pruned time.Time
	for ctx.Err() == nil {
		if now := time.Now(); now.Sub(pruned) >= pruneEvery {
			pruned = now
			r.pruneConsumers(ctx)
		}
		pages, err := r.Take(ctx, d.workers, time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Warn("outbox: read failed; retrying", "err", err)
			if !wait(ctx) {
				return nil
			}
			continue
		}
		wait = backoffWaiter()
		for _, p := range pages {
			mu.Lock()
			if busy[p.ID] {
				mu.Unlock()
				continue
			}
			busy[p.ID] = true
			mu.Unlock()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.Send(ctx, p)
				mu.Lock()
				delete(busy, p.ID)
				mu.Unlock()
				<-sem
			}()
		}
	}
	return nil
}

// Take hands this instance up to n pages: those another consumer left
// idle for ClaimIdle (it died or froze), then new ones, waiting up to
// block for some. Run takes and sends in a loop; tests take and send step
// by step against an injected clock.
func (r *Runner) Take(ctx context.Context, n int, block time.Duration) ([]alert.Page, error) {
	stale, err1 := r.store.ClaimStalePages(ctx, r.consumer, r.claimIdle, n)
	fresh, err2 := r.store.ReadPages(ctx, r.consumer, n, block)
	return append(stale, fresh...), errors.Join(err1, err2)
}

// backoffWaiter waits 100 ms, doubling to 2 s, between failed attempts.
func backoffWaiter() func(ctx context.Context) bool {
	d := 100 * time.Millisecond
	return func(ctx context.Context) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		d = min(2*d, 2*time.Second)
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
}

// Send handles one page Take handed out: it checks the page is still
// wanted just before sending, sends it within its budget while keeping
// the claim fresh, and reports the outcome to the alert. A page it loses to another consumer (this
// instance froze) is left alone: it sends nothing stale.
func (r *Runner) Send(ctx context.Context, p alert.Page) {
	d := r
	log := r.log.With("alert", p.Alert, "page", p.Ref, "channel", string(p.Channel), "to", p.Who)
	now := r.now()
	var sid string  // the provider's id of a text or call, once sent
	var name string // the recipient's display name, for the timeline
	fail := func(outcome alert.PageOutcome, reason string) {
		var held bool
		var err error
		if outcome == alert.PageFailed {
			held, err = d.store.DeadPage(ctx, p, d.consumer, reason)
		} else {
			held, err = d.store.FinishPage(ctx, p, d.consumer)
		}
		switch {
		case err != nil:
			log.Warn("outbox: finishing failed; the page comes back", "err", err)
			return
		case !held:
			// Another instance took the page over while this one stalled:
			// the outcome is theirs to record.
			log.Warn("outbox: page taken over meanwhile; outcome left to its new holder")
			return
		}
		if outcome == alert.PageFailed {
			d.metrics.DeadLetter()
			log.Error("OPERATOR ALERT: page moved to the dead-letter stream", "reason", reason, "deliveries", p.Deliveries)
		}
		d.metrics.Page(p.Channel, outcome)
		if err := r.alerts.PageResult(ctx, alert.PageResult{Page: p, Outcome: outcome, Reason: reason, SID: sid, Name: name}); err != nil {
			log.Warn("outbox: recording the outcome failed", "err", err)
		}
	}
	switch {
	case p.Deliveries > d.maxDeliveries:
		fail(alert.PageFailed, fmt.Sprintf("handed out %d times", p.Deliveries))
		return
	case !now.Before(p.Deadline):
		fail(alert.PageFailed, "deadline passed before it could be sent")
		return
	}
	var to pii.Phone
	if p.Channel.Phone() {
		if p.Who == alert.FallbackWho {
			to = d.fallback.Phone
		} else {
			pp, err := d.people.Person(ctx, p.Who)
			switch {
			case errors.Is(err, problem.ErrNotFound):
			case err != nil:
				log.Warn("outbox: looking up the recipient failed; retried", "err", err)
				return
			default:
				to, name = pp.Phone, pp.Name
			}
		}
		if to.IsZero() {
			fail(alert.PageRefused, "no page number")
			return
		}
	} else if p.Who != alert.FallbackWho {
		if pp, err := d.people.Person(ctx, p.Who); err == nil {
			name = pp.Name
		}
	}
	check, err := d.store.BeginPage(ctx, p, d.consumer)
	if err != nil {
		log.Warn("outbox: pre-send check failed; retried", "err", err)
		return
	}
	switch check {
	case PageDrop:
		d.metrics.Page(p.Channel, alert.PageStale)
		log.Info("outbox: page not sent: the alert was claimed or requeued")
		return
	case PageLost:
		log.Info("outbox: page taken over by another instance; not sent here")
		return
	}
	budget := min(d.pageBudget, p.Deadline.Sub(r.now()))
	sendCtx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	lost := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(max(d.claimIdle/4, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-sendCtx.Done():
				return
			case <-t.C:
				ok, err := d.store.RefreshPage(sendCtx, p, d.consumer)
				if err == nil && !ok {
					close(lost)
					cancel()
					return
				}
			}
		}
	}()
	fallback := p.Who == alert.FallbackWho
	switch {
	case p.Channel.Phone() && d.pager == nil:
		// Queued by an instance with Twilio configured; this one has none.
		err = fmt.Errorf("%w: no pager configured on this instance", ErrPageRefused)
	case p.Channel == oncall.ChannelSMS:
		sid, err = d.pager.Text(sendCtx, to, PageText(p.Team, fallback, p.Mode))
		if err == nil && sid != "" && d.statuses != nil {
			if err := d.statuses.RecordPage(ctx, sid, p.Alert); err != nil {
				log.Warn("outbox: recording the text for its delivery report failed", "err", err)
			}
		}
	case p.Channel == oncall.ChannelVoice:
		sid, err = d.pager.Call(sendCtx, to, VoiceWords(p.Team, fallback, p.Mode))
		if err == nil && sid != "" && d.statuses != nil {
			// The press and the call's status come back by its id.
			if err := d.statuses.RecordPage(ctx, sid, p.Alert); err != nil {
				log.Warn("outbox: recording the call for its answer failed", "err", err)
			}
		}
	case p.Channel == oncall.ChannelWebPush:
		if d.webPush == nil {
			err = fmt.Errorf("%w: web push not configured", ErrPageRefused)
		} else {
			err = d.webPush.Push(sendCtx, p.Who, p.Team, p.Mode.Label())
		}
	default:
		err = fmt.Errorf("%w: channel %s has no sender", ErrPageRefused, p.Channel)
	}
	close(stop)
	select {
	case <-lost:
		log.Warn("outbox: lost the claim while sending (this instance stalled); the new holder decides")
		return
	default:
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down: leave the page pending; another instance takes it
		// over once it has been idle for ClaimIdle.
		return
	}
	switch {
	case err == nil:
		fail(alert.PageSent, "")
		log.Info("page sent")
	case errors.Is(err, ErrPageRefused):
		fail(alert.PageRefused, "refused by the provider")
	default:
		fail(alert.PageFailed, "provider failing until the page's budget ran out")
	}
}
