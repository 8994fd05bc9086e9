package alert

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"waymark/casework"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// op is one random input to the system.
type op struct {
	name string
	run  func(ctx context.Context, h *harness) error
	// closes lists what this op may legitimately take out of the queue.
	closes string // "resolve", "cancel", "expire" or ""
	duress bool
	caseID string
}

var propCases = []string{"c_aaaaaaaaaaaaaaaaaaaa", "c_bbbbbbbbbbbbbbbbbbbb"}

func randomOp(r *rand.Rand, h *harness, n int) op {
	caseID := propCases[r.IntN(len(propCases))]
	pins := []string{"", "1111", "2222", "9999"}
	pin := pins[r.IntN(len(pins))]
	rid := fmt.Sprintf("req-%d-%d-abcdefghij", n, r.IntN(3)) // some repeat: retries
	people := []*staff.Principal{responder("s_one"), responder("s_two")}
	p := people[r.IntN(len(people))]
	anyAlert := func() string {
		ids := make([]string, 0, len(h.st.alerts))
		for id := range h.st.alerts {
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			return "a_none"
		}
		// map order is random but not seeded; sort for reproducibility
		sortStrings(ids)
		return ids[r.IntN(len(ids))]
	}
	switch k := r.IntN(12); k {
	case 0, 1, 2, 3, 4:
		kinds := []Kind{KindPanic, KindCheckin, KindCancel, KindLocation, KindMessage}
		kind := kinds[r.IntN(len(kinds))]
		in := AppSignal{RequestID: rid, Kind: kind, PIN: pin}
		if kind == KindLocation {
			in.Location, _ = pii.NewLocation(50+r.Float64(), -1-r.Float64(), 20, h.clk.Now())
		}
		if kind == KindMessage {
			in.Message = pii.NewText("msg")
		}
		if (kind == KindCheckin || kind == KindCancel) && pin == "" {
			in.PIN = "9999"
		}
		o := op{name: fmt.Sprintf("app %s pin %q", kind, in.PIN), caseID: caseID, duress: in.PIN == "2222"}
		if kind == KindCancel && in.PIN == "1111" {
			o.closes = "cancel"
		}
		o.run = func(ctx context.Context, h *harness) error { return h.svc.App(ctx, caseID, in) }
		return o
	case 5:
		var s *casework.Schedule
		if r.IntN(3) > 0 {
			s = &casework.Schedule{Every: time.Duration(5+r.IntN(60)) * time.Minute, Grace: time.Duration(r.IntN(20)) * time.Minute}
		}
		if pin == "" {
			pin = "1111"
		}
		in := AppSignal{RequestID: rid, Kind: KindSchedule, PIN: pin, Schedule: s}
		return op{name: fmt.Sprintf("schedule pin %q", pin), caseID: caseID, duress: pin == "2222",
			run: func(ctx context.Context, h *harness) error { return h.svc.App(ctx, caseID, in) }}
	case 6:
		word := r.IntN(2) == 0
		sig := Signal{Source: SourceSMS, Kind: KindPanic, CaseID: caseID, DuressWord: word, DedupeKey: "sms:" + rid}
		return op{name: fmt.Sprintf("sms duress=%v", word), caseID: caseID, duress: word,
			run: func(ctx context.Context, h *harness) error { _, err := h.svc.Raise(ctx, sig); return err }}
	case 7:
		d := time.Duration(r.IntN(20*60)) * time.Second
		if r.IntN(10) == 0 {
			d = time.Duration(r.IntN(100)) * time.Hour
		}
		return op{name: fmt.Sprintf("advance %v and tick", d), closes: "expire",
			run: func(ctx context.Context, h *harness) error {
				h.clk.Advance(d)
				_, err := h.svc.Tick(ctx)
				return err
			}}
	case 8:
		id := anyAlert()
		return op{name: "ack by " + p.StaffID, run: func(ctx context.Context, h *harness) error { return h.svc.Ack(ctx, p, id) }}
	case 9:
		id := anyAlert()
		return op{name: "working by " + p.StaffID, run: func(ctx context.Context, h *harness) error { return h.svc.Working(ctx, p, id) }}
	case 10:
		id := anyAlert()
		return op{name: "note by " + p.StaffID, run: func(ctx context.Context, h *harness) error {
			return h.svc.Note(ctx, p, id, pii.NewText("note"))
		}}
	default:
		id := anyAlert()
		out := Outcomes()[r.IntN(len(Outcomes()))]
		return op{name: "resolve " + string(out) + " by " + p.StaffID, closes: "resolve",
			run: func(ctx context.Context, h *harness) error {
				return h.svc.Resolve(ctx, p, id, Resolution{Outcome: out, ChildrenRef: pii.NewText("cs")})
			}}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// acceptable are the errors a random op may legitimately get.
func acceptable(err error) bool {
	var claimed *problem.Claimed
	return err == nil || errors.Is(err, casework.ErrNotFound) || errors.Is(err, ErrClosed) || errors.As(err, &claimed)
}

type snapshot struct {
	state    State
	followUp bool
	class    Class
	priority Priority
}

func snap(h *harness) map[string]snapshot {
	out := map[string]snapshot{}
	for id, a := range h.st.alerts {
		out[id] = snapshot{a.State, a.FollowUp, a.Class, a.Priority}
	}
	return out
}

// TestPropertiesOverRandomEventOrders drives the real rules through the
// service over random sequences of survivor signals, responder actions and
// clock jumps, and checks after every step:
//   - no open alert vanishes: a live alert leaves the live states only by a
//     responder's resolve, a real-PIN cancel or a message expiry;
//   - terminal states stay terminal, and a closed follow-up stays closed;
//   - a case has at most one live alert, and its pointer names it;
//   - a live alert's class never goes down;
//   - every live alert has an owner or a pending escalation step;
//   - a duress input always ends in a live duress alert, which only a
//     responder's resolve ends.
func TestPropertiesOverRandomEventOrders(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		h := newHarness(t)
		if seed%3 == 0 {
			h.cases.risk = casework.RiskHigh
		}
		ctx := context.Background()
		duressPending := map[string]bool{}
		var history []string
		for n := range 80 {
			o := randomOp(r, h, n)
			history = append(history, o.name)
			before := snap(h)
			if err := o.run(ctx, h); !acceptable(err) {
				t.Fatalf("seed %d step %d %s: unexpected error %v\nhistory: %v", seed, n, o.name, err, history)
			}
			after := snap(h)
			fail := func(format string, a ...any) {
				t.Helper()
				t.Fatalf("seed %d step %d (%s): %s\nhistory: %v", seed, n, o.name, fmt.Sprintf(format, a...), history)
			}
			for id, b := range before {
				a, ok := after[id]
				if !ok {
					fail("alert %s vanished", id)
				}
				if b.state.Terminal() && a.state != b.state {
					fail("terminal alert %s went %s → %s", id, b.state, a.state)
				}
				if !b.followUp && b.state.Terminal() && a.followUp {
					fail("closed alert %s reopened for follow-up", id)
				}
				if b.state.Live() && !a.state.Live() {
					switch {
					case o.closes == "resolve" && a.state == StateResolved:
					case o.closes == "cancel" && a.state == StateCancelled && b.class != ClassDuress:
					case o.closes == "expire" && a.state == StateExpired && b.class == ClassMessage:
					default:
						fail("live alert %s (%s) went %s → %s", id, b.class, b.state, a.state)
					}
				}
				if b.state.Live() && a.state.Live() && a.class < b.class {
					fail("alert %s class went down %s → %s", id, b.class, a.class)
				}
			}
			live := map[string]string{}
			for id, a := range h.st.alerts {
				if !a.State.Live() {
					continue
				}
				if prev, dup := live[a.CaseID]; dup {
					fail("case %s has two live alerts %s and %s", a.CaseID, prev, id)
				}
				live[a.CaseID] = id
				if h.st.open[a.CaseID] != id {
					fail("case %s points at %q, live alert is %s", a.CaseID, h.st.open[a.CaseID], id)
				}
				if a.Owner == "" {
					if _, ok := h.st.timers[Timer{Kind: TimerStep, Target: id}.ID()]; !ok {
						fail("live unowned alert %s has no escalation step", id)
					}
				}
			}
			if o.duress {
				duressPending[o.caseID] = true
			}
			for caseID := range duressPending {
				id, ok := live[caseID]
				if ok && h.st.alerts[id].Class == ClassDuress {
					continue
				}
				// Only a responder's resolve may end a duress alert.
				if o.closes == "resolve" {
					delete(duressPending, caseID)
					continue
				}
				fail("case %s had a duress input but no live duress alert", caseID)
			}
		}
	}
}
