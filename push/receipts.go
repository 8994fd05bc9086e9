package push

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Receipts: a dashboard confirms each alert event it shows; the hub stores
// the confirmations in batches, keeps and retries those Redis cannot take,
// and times each alert's first one.

// receipt queues r for storing; it waits while the queue is full, which
// slows that client's reading rather than growing memory.
func (h *Hub) receipt(r Receipt) {
	if h.o.Receipts == nil {
		return
	}
	select {
	case h.receipts <- r:
	case <-h.ctx.Done():
	}
}

// receiptLinger is how long the receipt writer waits after a first
// receipt for more to share its round trip. Under fan-out a thousand
// receipts of one alert arrive within milliseconds: gathered, they are one
// script call instead of many, and one fsync'd write for Redis instead of
// a dozen competing with the next alert's commit. A receipt stored 20 ms
// later changes nothing: escalation asks about them seconds after.
const receiptLinger = 20 * time.Millisecond

// Receipts that cannot be stored (Redis away) are kept and retried, every
// receiptRetryMin doubling to receiptRetryMax, until stored: a receipt
// lost while Redis was briefly away would page past a responder who saw
// the alert. Only receipts older than receiptKeep (their escalation has
// long moved on) or beyond receiptBacklog are given up, with a warning.
const (
	receiptRetryMin = 100 * time.Millisecond
	receiptRetryMax = 2 * time.Second
	receiptKeep     = 10 * time.Minute
	receiptBacklog  = 100_000
)

// saveReceipts stores receipts in batches (one pipelined round trip each).
func (h *Hub) saveReceipts(ctx context.Context) {
	batch := make([]Receipt, 0, 4096)
	linger := time.NewTimer(receiptLinger)
	linger.Stop()
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			// Drain what is queued with a last short deadline.
			for len(batch) < cap(batch) {
				select {
				case r := <-h.receipts:
					batch = append(batch, r)
					continue
				default:
				}
				break
			}
			h.lastReceipts(batch)
			return
		case r := <-h.receipts:
			batch = append(batch, r)
		}
		linger.Reset(receiptLinger)
	fill:
		for len(batch) < cap(batch) {
			select {
			case r := <-h.receipts:
				batch = append(batch, r)
			case <-linger.C:
				break fill
			case <-ctx.Done():
				break fill
			}
		}
		linger.Stop()
		h.storeReceipts(ctx, batch)
	}
}

// storeReceipts stores batch, retrying until it is stored or the hub
// stops. While it waits, newer receipts join the batch, so they are
// stored in arrival order and none waits behind a queue that is full.
func (h *Hub) storeReceipts(ctx context.Context, batch []Receipt) {
	wait := receiptRetryMin
	warned := false
	for {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		err := h.o.Receipts.SaveReceipts(sctx, batch)
		cancel()
		if err == nil {
			h.metrics.receipts.Add(float64(len(batch)))
			h.firstReceipts(batch)
			if warned {
				h.log.Info("receipts stored after a retry", "count", len(batch))
			}
			return
		}
		if !warned {
			h.log.Warn("receipts not stored yet; kept and retried", "count", len(batch), "err", err)
			warned = true
		}
		t := time.NewTimer(wait)
	gather:
		for {
			select {
			case r := <-h.receipts:
				batch = append(batch, r)
			case <-t.C:
				break gather
			case <-ctx.Done():
				t.Stop()
				h.lastReceipts(batch)
				return
			}
		}
		wait = min(2*wait, receiptRetryMax)
		batch = h.keepReceipts(batch)
	}
}

// firstReceipts observes, for each alert whose first receipt on this
// instance is in batch, the time from its event's commit (the event id is
// Redis's millisecond clock at the commit) to that receipt. Only receipts
// for events the hub sent the socket count: their ids are the hub's own.
func (h *Hub) firstReceipts(batch []Receipt) {
	for _, r := range batch {
		if !r.Sent || h.firsts[r.Alert] {
			continue
		}
		ms, _, ok := strings.Cut(r.Event, "-")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || n <= 0 {
			continue
		}
		if len(h.firsts) >= maxFirsts {
			clear(h.firsts) // a rare reset costs a few repeated samples
		}
		h.firsts[r.Alert] = true
		h.metrics.first.Observe(max(0, r.At.Sub(time.UnixMilli(n)).Seconds()))
	}
}

// maxFirsts bounds the alerts whose first receipt the hub remembers.
const maxFirsts = 10_000

// lastReceipts makes one bounded attempt to store batch as the hub stops.
func (h *Hub) lastReceipts(batch []Receipt) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.o.Receipts.SaveReceipts(ctx, batch); err != nil {
		h.log.Warn("receipts not stored at shutdown", "count", len(batch), "err", err)
		return
	}
	h.metrics.receipts.Add(float64(len(batch)))
}

// keepReceipts drops the receipts no escalation can still ask about, and
// the oldest beyond the backlog, saying how many.
func (h *Hub) keepReceipts(batch []Receipt) []Receipt {
	cut := h.now().Add(-receiptKeep)
	old := 0
	for old < len(batch) && batch[old].At.Before(cut) {
		old++
	}
	if over := len(batch) - old - receiptBacklog; over > 0 {
		old += over
	}
	if old == 0 {
		return batch
	}
	h.log.Warn("receipts given up: Redis away too long", "count", old)
	return append(batch[:0], batch[old:]...)
}
