package benchlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"waymark/casework"
	"waymark/internal/randid"
	"waymark/staff"
)

// benchSeed is what the bench put into Redis through the store: teams,
// responder accounts with a session each, and cases with an enrolled app
// device each.
type benchSeed struct {
	// used is one more than the highest case index raised since the last
	// cancel.
	used       atomic.Int64
	responders []staff.Principal
	cases      []benchCase
	caseIndex  map[string]int
}

type benchCase struct {
	id    string
	team  int
	token string
}

// benchPINs are the seeded cases' PINs (real, duress).
const benchPIN, benchDuressPIN = "4826", "9371"

func (b *bench) seed(ctx context.Context, rates []float64) (*benchSeed, error) {
	d, f := b.d, b.f
	start := time.Now()
	teams := make([]string, f.teams)
	for k := range teams {
		teams[k] = benchTeam(k)
		if _, err := d.Staff.AddTeam(ctx, staff.Team{ID: teams[k], Name: "Bench team " + teams[k]}); err != nil && !errors.Is(err, staff.ErrConflict) {
			return nil, fmt.Errorf("waymark bench: add team: %w", err)
		}
	}
	s := &benchSeed{caseIndex: map[string]int{}}
	tag := randid.New("", 6)
	var err error
	if s.responders, err = b.seedResponders(ctx, tag, teams, f.responders); err != nil {
		return nil, err
	}

	// Cases: one per request of the largest step (a case has at most one
	// open alert; further signals would join it), rounded up to whole
	// rounds of teams. Ramps cancel between steps and reuse them.
	need := 0
	for _, r := range rates {
		d := f.duration
		if f.ramp {
			d = f.rampStep
		}
		need = max(need, int(r*d.Seconds()+0.5))
	}
	if need > benchPhones() {
		return nil, usageError("waymark bench: a step needs %d cases; the bench has fictional phone numbers for %d (lower --rate or --duration)", need, benchPhones())
	}
	need = min((need+f.teams-1)/f.teams*f.teams, benchPhones()/f.teams*f.teams)
	cw, _, err := d.Staff.Add(ctx, staff.NewAccount{Username: "bench-" + tag + "-caseworker", Roles: []staff.Role{staff.RoleCaseworker}, Teams: teams})
	if err != nil {
		return nil, fmt.Errorf("waymark bench: seed caseworker: %w", err)
	}
	p := &staff.Principal{StaffID: cw.ID, Roles: cw.Roles, Teams: cw.Teams, Username: cw.Username}
	s.cases = make([]benchCase, need)
	err = parallel(ctx, need, 16, func(ctx context.Context, i int) error {
		id, token, err := enrolCase(ctx, d.Cases, p, i, teams[i%f.teams], benchPhone(i))
		if err != nil {
			return err
		}
		s.cases[i] = benchCase{id: id, team: i % f.teams, token: token}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("waymark bench: seed cases: %w", err)
	}
	for i, c := range s.cases {
		s.caseIndex[c.id] = i
	}
	fmt.Fprintf(b.d.Stdout, "# seeded %d teams, %d responders, %d cases with app devices in %.1fs\n",
		f.teams, f.responders, len(s.cases), time.Since(start).Seconds())
	return s, nil
}

// seedResponders adds n responders, responder r in team r%len(teams),
// each with a signed-in session.
func (b *bench) seedResponders(ctx context.Context, tag string, teams []string, n int) ([]staff.Principal, error) {
	d := b.d
	out := make([]staff.Principal, n)
	err := parallel(ctx, n, 32, func(ctx context.Context, r int) error {
		acc, _, err := d.Staff.Add(ctx, staff.NewAccount{Username: "bench-" + tag + "-" + letters(r), Roles: []staff.Role{staff.RoleResponder}, Teams: []string{teams[r%len(teams)]}})
		if err != nil {
			return err
		}
		sessTag := d.Sessions.SessionTag(staff.Secret(randid.Token(32)))
		now := d.Now()
		if err := d.Sessions.CreateSession(ctx, staff.Session{Tag: sessTag, StaffID: acc.ID, Created: now, Seen: now, AuthAt: now}, 12*time.Hour); err != nil {
			return err
		}
		out[r] = staff.Principal{StaffID: acc.ID, SessionTag: sessTag, Roles: acc.Roles, Teams: acc.Teams}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("waymark bench: seed responders: %w", err)
	}
	return out, nil
}

// target drives Waymark at base: tickets through the staff service,
// alerts through POST /v1/app/signal, alert → case through the store.
func (s *benchSeed) target(b *bench, base string, pid int) *benchTarget {
	d := b.d
	ws := "ws" + strings.TrimPrefix(base, "http") + "/v1/ws"
	t := &benchTarget{
		name:   "waymark",
		origin: base,
		base:   base,
		pid:    pid,
		wsURL:  func(int) string { return ws },
		ticket: func(ctx context.Context, r int) (string, error) {
			tk, _, err := d.Staff.IssueTicket(ctx, &s.responders[r])
			return tk.Reveal(), err
		},
		raise: func(ctx context.Context, hc *http.Client, i int) error {
			for u := s.used.Load(); int64(i+1) > u && !s.used.CompareAndSwap(u, int64(i+1)); u = s.used.Load() {
			}
			c := s.cases[i%len(s.cases)]
			body := `{"request_id":"` + randid.Token(18) + `","kind":"panic"}`
			return post(ctx, hc, base+"/v1/app/signal", c.token, body)
		},
	}
	t.resolve = func(ctx context.Context, ids []string) (map[string]int, error) {
		out := make(map[string]int, len(ids))
		var omu sync.Mutex
		err := parallel(ctx, len(ids), 16, func(ctx context.Context, k int) error {
			al, err := d.Alerts.Alert(ctx, ids[k])
			if err != nil {
				return err
			}
			if ci, ok := s.caseIndex[al.CaseID]; ok {
				omu.Lock()
				out[ids[k]] = ci
				omu.Unlock()
			}
			return nil
		})
		return out, err
	}
	t.prepare = func(ctx context.Context, hc *http.Client) error {
		// Every step uses cases from the first: cancel their open alerts
		// (real PIN, inside the cancel window) so they raise anew.
		return s.cancelAll(ctx, hc, base)
	}
	return t
}

// cancelAll cancels the open alerts of the cases the last step used
// through the app, as a survivor would with the real PIN, so the cases
// can raise new alerts.
func (s *benchSeed) cancelAll(ctx context.Context, hc *http.Client, base string) error {
	body := `{"request_id":"%s","kind":"cancel","pin":"` + benchPIN + `"}`
	n := min(int(s.used.Swap(0)), len(s.cases))
	return parallel(ctx, n, 32, func(ctx context.Context, i int) error {
		err := post(ctx, hc, base+"/v1/app/signal", s.cases[i].token, fmt.Sprintf(body, randid.Token(18)))
		if err != nil {
			return fmt.Errorf("waymark bench: cancel between steps: %w", err)
		}
		return nil
	})
}

// benchPhoneRanges are Ofcom's UK number ranges reserved for drama (never
// assigned to anyone), 1000 numbers each: the bench's cases use them.
var benchPhoneRanges = []string{"07700900", "01134960", "02079460", "01914980", "02890496", "02920180", "01214960",
	"08081570", "03069990", "01314960", "01414960", "01514960", "01614960", "01164960", "01174960", "01184960", "01144960"}

// benchPhones is how many fictional numbers there are.
func benchPhones() int { return 1000 * len(benchPhoneRanges) }

// benchPhone is the i-th fictional number.
func benchPhone(i int) string { return benchPhoneRanges[i/1000] + fmt.Sprintf("%03d", i%1000) }

// enrolCase creates the i-th bench case in team, with its code word and
// PINs, through the services the API uses, then issues its enrolment code
// and redeems it as the app would: the case's id and its device token.
func enrolCase(ctx context.Context, cs Cases, p *staff.Principal, i int, team, phone string) (id, token string, err error) {
	alias, risk, pin, duress := "Bench case", "standard", benchPIN, benchDuressPIN
	c, err := cs.Create(ctx, p, casework.CaseInput{Phone: &phone, Alias: &alias, Team: &team, RiskLevel: &risk,
		CodeWords: []string{"bluebell"}, PIN: &pin, DuressPIN: &duress})
	if err != nil {
		return "", "", fmt.Errorf("case %d: %w", i, err)
	}
	e, err := cs.IssueEnrolment(ctx, p, c.ID, casework.TechSafetyInput{})
	if err != nil {
		return "", "", fmt.Errorf("enrolment %d: %w", i, err)
	}
	token, _, err = cs.Enrol(ctx, e.Code)
	if err != nil {
		return "", "", fmt.Errorf("enrol %d: %w", i, err)
	}
	return c.ID, token, nil
}
