package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"testing"
	"time"

	"waymark/alert"
	"waymark/internal/randid"
	"waymark/internal/testenv"
	"waymark/push"
	"waymark/staff"
	"waymark/store"
)

// hubEnv is two Waymark instances on one Redis, a team "north", and a
// responder-caseworker "rita" who can sign in on either.
type hubEnv struct {
	env    map[string]string
	redis  *testenv.Redis
	a, b   *instance
	secret staff.Secret
}

func newHubEnv(t *testing.T) *hubEnv {
	t.Helper()
	r := testenv.StartRedis(t, testenv.RedisOptions{AOF: true})
	env := keyEnv()
	env["WAYMARK_REDIS_URL"] = r.URL()
	env["WAYMARK_INSECURE_COOKIES"] = "true"
	if _, errOut, err := staffRun(t, env, "", "team", "add", "--id", "north", "--name", "North"); err != nil {
		t.Fatalf("team add: %v\n%s", err, errOut)
	}
	out, errOut, err := staffRun(t, env, "a long enough password\n", "staff", "add", "--username", "rita",
		"--role", "responder,caseworker", "--team", "north", "--password-stdin")
	if err != nil {
		t.Fatalf("staff add: %v\n%s", err, errOut)
	}
	m := totpLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no totp secret:\n%s", out)
	}
	h := &hubEnv{env: env, redis: r, secret: staff.Secret(m[1])}
	h.a = startWaymark(t, env, "serve", "--addr", "127.0.0.1:0")
	h.b = startWaymark(t, env, "serve", "--addr", "127.0.0.1:0")
	return h
}

// login signs rita in on inst. TOTP codes are good once per 30-second
// step, so a second sign-in waits for the next step's code.
func (h *hubEnv) login(t *testing.T, inst *instance) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	deadline := time.Now().Add(40 * time.Second)
	for {
		st, body := call(t, c, "POST", inst.base+"/v1/auth/login", map[string]string{
			"username": "rita", "password": "a long enough password", "totp": mustCode(t, h.secret)})
		if st == 200 {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("login = %d %s", st, body)
		}
		<-time.After(time.Second) // the code of this step was used: wait for the next
	}
}

func call(t *testing.T, c *http.Client, method, url string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func ticket(t *testing.T, inst *instance, c *http.Client) string {
	t.Helper()
	st, body := call(t, c, "POST", inst.base+"/v1/auth/ws-ticket", nil)
	if st != 200 {
		t.Fatalf("ws-ticket = %d %s", st, body)
	}
	var v struct{ Ticket string }
	json.Unmarshal(body, &v)
	return v.Ticket
}

func wsURL(inst *instance) string { return "ws" + strings.TrimPrefix(inst.base, "http") + "/v1/ws" }

// dial connects to inst with a ticket and reads up to ready.
func dial(t *testing.T, inst *instance, ticket, since string) (*push.Client, []push.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := push.Dial(ctx, wsURL(inst), ticket, push.ClientOptions{Origin: inst.base, Since: since})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var before []push.Message
	for {
		m, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("before ready: %v", err)
		}
		if m.Type == push.TypeReady {
			return c, before
		}
		before = append(before, m)
	}
}

func nextEvent(t *testing.T, c *push.Client) *alert.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for an event: %v", err)
		}
		if m.Type == push.TypeEvent {
			return m.Event
		}
	}
}

// enrolApp makes a case of team north with an app device, through inst's
// API as a caseworker would, and returns the device token.
func enrolApp(t *testing.T, inst *instance, c *http.Client, phone string) string {
	t.Helper()
	st, body := call(t, c, "POST", inst.base+"/v1/cases", map[string]any{
		"phone": phone, "alias": "Test case", "team": "north", "risk_level": "standard",
		"code_words": []string{"bluebell"}, "pin": "4826", "duress_pin": "9371"})
	if st != 201 {
		t.Fatalf("create case = %d %s", st, body)
	}
	var cs struct{ ID string }
	json.Unmarshal(body, &cs)
	st, body = call(t, c, "POST", inst.base+"/v1/cases/"+cs.ID+"/enrolments", map[string]any{
		"tech_safety_check": map[string]any{"others_have_access": false, "notes": ""}})
	if st != 200 && st != 201 {
		t.Fatalf("enrolment = %d %s", st, body)
	}
	var en struct{ Code string }
	json.Unmarshal(body, &en)
	st, body = call(t, http.DefaultClient, "POST", inst.base+"/v1/app/enrol", map[string]string{"code": en.Code})
	if st != 200 {
		t.Fatalf("app enrol = %d %s", st, body)
	}
	var dv struct{ Token string }
	json.Unmarshal(body, &dv)
	return dv.Token
}

// panicSignal raises an app alert on inst.
func panicSignal(t *testing.T, inst *instance, token string) {
	t.Helper()
	body := `{"request_id":"` + randid.Token(18) + `","kind":"panic"}`
	req, _ := http.NewRequest("POST", inst.base+"/v1/app/signal", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("app signal = %d %s", resp.StatusCode, b)
	}
}

// openStore reaches the instances' Redis as a third party would.
func (h *hubEnv) openStore(t *testing.T) *store.DB {
	t.Helper()
	s, err := store.Open(store.Options{Tenant: "default", URL: h.redis.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestHubAcrossInstances: an alert raised through instance A reaches a
// responder connected to instance B; a receipt taken on B is visible
// through any other store client; a responder who drops, misses three
// alerts and comes back with since gets all three, in order.
func TestHubAcrossInstances(t *testing.T) {
	h := newHubEnv(t)
	ca := h.login(t, h.a)
	tokens := make([]string, 4)
	for i := range tokens {
		tokens[i] = enrolApp(t, h.a, ca, fmt.Sprintf("07700900%03d", 100+i))
	}

	// Rita's dashboard is on B; the alert comes in through A.
	ws, before := dial(t, h.b, ticket(t, h.a, ca), "")
	if len(before) != 1 || before[0].Type != push.TypeSnapshot {
		t.Fatalf("frames before ready = %+v, want one snapshot", before)
	}
	panicSignal(t, h.a, tokens[0])
	ev := nextEvent(t, ws)
	if ev.Type != alert.EventRaised || ev.Team != "north" || !strings.HasPrefix(ev.Alert, "a_") {
		t.Fatalf("event = %+v, want a raised alert of north", ev)
	}

	// Receipt on B, visible to anyone reading the shared Redis.
	if err := ws.Seen(ev.Alert, ev.ID); err != nil {
		t.Fatal(err)
	}
	st := h.openStore(t)
	deadline := time.Now().Add(5 * time.Second)
	var seen map[string]time.Time
	for {
		var err error
		if seen, err = store.NewRecords(st, nil).SeenBy(context.Background(), ev.Alert); err != nil {
			t.Fatal(err)
		}
		if len(seen) == 1 || time.Now().After(deadline) {
			break
		}
		<-time.After(20 * time.Millisecond) // polling the store
	}
	if len(seen) != 1 {
		t.Fatalf("SeenBy = %v, want rita's receipt", seen)
	}
	for who := range seen {
		if ok, err := store.NewHub(st).SeenWithin(context.Background(), ev.Alert, who, 5*time.Second); err != nil || !ok {
			t.Errorf("SeenWithin 5s = %v, %v", ok, err)
		}
	}

	// Drop, miss three, come back on A with since.
	since := ev.ID // the last event ws read
	ws.Close()
	for _, tk := range tokens[1:] {
		panicSignal(t, h.a, tk)
	}
	ws2, before := dial(t, h.a, ticket(t, h.a, ca), since)
	var got []string
	for _, m := range before {
		if m.Type == push.TypeSnapshot {
			t.Error("a short gap got a snapshot")
		}
		if m.Type == push.TypeEvent {
			got = append(got, m.Event.ID)
		}
	}
	if len(got) != 3 {
		t.Fatalf("replayed %d events, want 3", len(got))
	}
	for i := 1; i < len(got); i++ {
		if !(parsePos(got[i-1]).less(parsePos(got[i]))) {
			t.Errorf("replay out of order: %v", got)
		}
	}
	_ = ws2
}

// TestHubRefusals: a reused ticket, a foreign origin and a disabled
// account are refused; signing out on one instance closes the socket on
// the other within a second.
func TestHubRefusals(t *testing.T) {
	h := newHubEnv(t)
	ca := h.login(t, h.a)

	// Cross-origin handshake.
	_, err := push.Dial(context.Background(), wsURL(h.b), ticket(t, h.a, ca), push.ClientOptions{Origin: "https://evil.example"})
	var he *push.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Errorf("foreign origin: %v, want 403", err)
	}

	// A ticket works once, on any instance.
	tk := ticket(t, h.a, ca)
	dial(t, h.b, tk, "")
	c, err := push.Dial(context.Background(), wsURL(h.a), tk, push.ClientOptions{Origin: h.a.base})
	if err != nil {
		t.Fatal(err)
	}
	if code := closeCodeOf(t, c); code != push.CloseSessionEnded {
		t.Errorf("reused ticket: close %d, want %d", code, push.CloseSessionEnded)
	}

	// Sign-out on A closes the socket on B within a second.
	ws, _ := dial(t, h.b, ticket(t, h.a, ca), "")
	start := time.Now()
	if st, body := call(t, ca, "POST", h.a.base+"/v1/auth/logout", nil); st >= 300 {
		t.Fatalf("logout = %d %s", st, body)
	}
	if code := closeCodeOf(t, ws); code != push.CloseSessionEnded {
		t.Errorf("after sign-out: close %d, want %d", code, push.CloseSessionEnded)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("socket closed %v after sign-out, want within a second", d)
	}

	// A ticket issued before the account was disabled is refused after.
	cb := h.login(t, h.b)
	tk = ticket(t, h.b, cb)
	ws, _ = dial(t, h.a, ticket(t, h.b, cb), "")
	if _, errOut, err := staffRun(t, h.env, "", "staff", "disable", "rita"); err != nil {
		t.Fatalf("disable: %v %s", err, errOut)
	}
	if code := closeCodeOf(t, ws); code != push.CloseSessionEnded {
		t.Errorf("disabled account's socket: close %d, want %d", code, push.CloseSessionEnded)
	}
	c, err = push.Dial(context.Background(), wsURL(h.a), tk, push.ClientOptions{Origin: h.a.base})
	if err != nil {
		t.Fatal(err)
	}
	if code := closeCodeOf(t, c); code != push.CloseSessionEnded {
		t.Errorf("disabled account's ticket: close %d, want %d", code, push.CloseSessionEnded)
	}
}

func closeCodeOf(t *testing.T, c *push.Client) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, err := c.Next(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("socket not closed within 5s")
			}
			var ce *push.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return 0
		}
	}
}

// streamPos orders stream ids ("ms-seq"), as the replay must.
type streamPos struct{ ms, seq uint64 }

func parsePos(id string) streamPos {
	a, b, _ := strings.Cut(id, "-")
	ms, _ := strconv.ParseUint(a, 10, 64)
	seq, _ := strconv.ParseUint(b, 10, 64)
	return streamPos{ms, seq}
}

func (p streamPos) less(q streamPos) bool {
	return cmp.Or(cmp.Compare(p.ms, q.ms), cmp.Compare(p.seq, q.seq)) < 0
}
