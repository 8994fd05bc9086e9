package alert

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
)

// ConsumerPruner is implemented by an outbox store that can forget the
// consumers instances left behind (each `waymark serve` reads the outbox
// under a name of its own).
type ConsumerPruner interface {
	PruneOutboxConsumers(ctx context.Context, self string, idle time.Duration) (int, error)
}

// Outbox consumer housekeeping: how often, and how long a consumer with no
// pending page must have been idle before it is forgotten.
const (
	pruneEvery   = 10 * time.Minute
	pruneIdleFor = 24 * time.Hour
)

// pruneConsumers forgets idle consumers when the store can.
func (s *Service) pruneConsumers(ctx context.Context) {
	pr, ok := s.esc.Store.(ConsumerPruner)
	if !ok {
		return
	}
	n, err := pr.PruneOutboxConsumers(ctx, s.esc.Consumer, pruneIdleFor)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("outbox: pruning idle consumers failed", "err", err)
	case n > 0:
		s.log.Info("outbox: idle consumers of stopped instances removed", "count", n)
	}
}

// RunOutbox sends the pages in the outbox until ctx ends: new ones, and
// ones another instance left behind (it died or froze) once they have
// been idle for ClaimIdle. Every instance runs one; each page is handled
// by one consumer at a time. It returns at once when paging is not wired.
func (s *Service) RunOutbox(ctx context.Context) error {
	if s.esc == nil || s.esc.Store == nil {
		return nil
	}
	d := s.esc
	wait := backoffWaiter()
	for {
		err := d.Store.EnsureOutbox(ctx)
		if err == nil {
			break
		}
		s.log.Warn("outbox: cannot create the consumer group; retrying", "err", err)
		if !wait(ctx) {
			return nil
		}
	}
	sem := make(chan struct{}, d.Workers)
	var mu sync.Mutex
	busy := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	wait = backoffWaiter()
	var pruned time.Time
	for ctx.Err() == nil {
		if now := time.Now(); now.Sub(pruned) >= pruneEvery {
			pruned = now
			s.pruneConsumers(ctx)
		}
		stale, err1 := d.Store.ClaimStalePages(ctx, d.Consumer, d.ClaimIdle, d.Workers)
		fresh, err2 := d.Store.ReadPages(ctx, d.Consumer, d.Workers, time.Second)
		if err := errors.Join(err1, err2); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("outbox: read failed; retrying", "err", err)
			if !wait(ctx) {
				return nil
			}
			continue
		}
		wait = backoffWaiter()
		for _, p := range append(stale, fresh...) {
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
				s.sendPage(ctx, p)
				mu.Lock()
				delete(busy, p.ID)
				mu.Unlock()
				<-sem
			}()
		}
	}
	return nil
}

// PumpOutbox runs one pass of the outbox without waiting: it takes over
// stale pages, reads the new ones and sends each in turn. Tests drive the
// outbox with it against an injected clock; RunOutbox is the loop.
func (s *Service) PumpOutbox(ctx context.Context) (int, error) {
	if s.esc == nil || s.esc.Store == nil {
		return 0, nil
	}
	d := s.esc
	if err := d.Store.EnsureOutbox(ctx); err != nil {
		return 0, err
	}
	stale, err := d.Store.ClaimStalePages(ctx, d.Consumer, d.ClaimIdle, 100)
	if err != nil {
		return 0, err
	}
	fresh, err := d.Store.ReadPages(ctx, d.Consumer, 100, 0)
	if err != nil {
		return 0, err
	}
	all := append(stale, fresh...)
	for _, p := range all {
		s.sendPage(ctx, p)
	}
	return len(all), nil
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

// sendPage handles one page: checks it is still wanted just before sending,
// sends it within its budget while keeping the claim fresh, and reports
// the outcome to the alert. A page it loses to another consumer (this
// instance froze) is left alone: it sends nothing stale.
func (s *Service) sendPage(ctx context.Context, p Page) {
	d := s.esc
	log := s.log.With("alert", p.Alert, "page", p.Ref, "channel", string(p.Channel), "to", p.Who)
	now := s.now()
	var sid string  // the provider's id of a text or call, once sent
	var name string // the recipient's display name, for the timeline
	fail := func(outcome PageOutcome, reason string) {
		var held bool
		var err error
		if outcome == PageFailed {
			held, err = d.Store.DeadPage(ctx, p, d.Consumer, reason)
		} else {
			held, err = d.Store.FinishPage(ctx, p, d.Consumer)
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
		if outcome == PageFailed {
			d.metricsOr().DeadLetter()
			log.Error("OPERATOR ALERT: page moved to the dead-letter stream", "reason", reason, "deliveries", p.Deliveries)
		}
		d.metricsOr().Page(p.Channel, outcome)
		if err := s.pageResult(ctx, PageResult{Page: p, Outcome: outcome, Reason: reason, SID: sid, Name: name}); err != nil {
			log.Warn("outbox: recording the outcome failed", "err", err)
		}
	}
	switch {
	case p.Deliveries > d.MaxDeliveries:
		fail(PageFailed, fmt.Sprintf("handed out %d times", p.Deliveries))
		return
	case !now.Before(p.Deadline):
		fail(PageFailed, "deadline passed before it could be sent")
		return
	}
	var to pii.Phone
	if p.Channel.Phone() {
		if p.Who == FallbackWho {
			to = d.Fallback.Phone
		} else {
			pp, err := d.People.Person(ctx, p.Who)
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
			fail(PageRefused, "no page number")
			return
		}
	} else if p.Who != FallbackWho {
		if pp, err := d.People.Person(ctx, p.Who); err == nil {
			name = pp.Name
		}
	}
	check, err := d.Store.BeginPage(ctx, p, d.Consumer)
	if err != nil {
		log.Warn("outbox: pre-send check failed; retried", "err", err)
		return
	}
	switch check {
	case PageDrop:
		d.metricsOr().Page(p.Channel, PageStale)
		log.Info("outbox: page not sent: the alert was claimed or requeued")
		return
	case PageLost:
		log.Info("outbox: page taken over by another instance; not sent here")
		return
	}
	budget := min(d.PageBudget, p.Deadline.Sub(s.now()))
	sendCtx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	lost := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(max(d.ClaimIdle/4, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-sendCtx.Done():
				return
			case <-t.C:
				ok, err := d.Store.RefreshPage(sendCtx, p, d.Consumer)
				if err == nil && !ok {
					close(lost)
					cancel()
					return
				}
			}
		}
	}()
	fallback := p.Who == FallbackWho
	switch {
	case p.Channel.Phone() && d.Pager == nil:
		// Queued by an instance with Twilio configured; this one has none.
		err = fmt.Errorf("%w: no pager configured on this instance", ErrPageRefused)
	case p.Channel == oncall.ChannelSMS:
		if tp, ok := d.Pager.(TextIDPager); ok {
			sid, err = tp.TextID(sendCtx, to, PageText(p.Team, fallback, p.Mode))
		} else {
			err = d.Pager.Text(sendCtx, to, PageText(p.Team, fallback, p.Mode))
		}
		if err == nil && sid != "" && d.Statuses != nil {
			if err := d.Statuses.RecordPage(ctx, sid, p.Alert); err != nil {
				log.Warn("outbox: recording the text for its delivery report failed", "err", err)
			}
		}
	case p.Channel == oncall.ChannelVoice:
		sid, err = d.Pager.Call(sendCtx, to, VoiceWords(p.Team, fallback, p.Mode))
		if err == nil && sid != "" && d.Statuses != nil {
			// The press and the call's status come back by its id.
			if err := d.Statuses.RecordPage(ctx, sid, p.Alert); err != nil {
				log.Warn("outbox: recording the call for its answer failed", "err", err)
			}
		}
	case p.Channel == oncall.ChannelWebPush:
		if d.WebPush == nil {
			err = fmt.Errorf("%w: web push not configured", ErrPageRefused)
		} else {
			err = d.WebPush.Push(sendCtx, p.Who, p.Team, p.Mode.Label())
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
		fail(PageSent, "")
		log.Info("page sent")
	case errors.Is(err, ErrPageRefused):
		fail(PageRefused, "refused by the provider")
	default:
		fail(PageFailed, "provider failing until the page's budget ran out")
	}
}

func (d *EscalationDeps) metricsOr() Metrics {
	if d.Metrics == nil {
		return nopMetrics{}
	}
	return d.Metrics
}
