package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"waymark/staff"
)

// TestDemoSimulate runs `waymark demo --simulate` as a newcomer would,
// signs in with what it printed, and sees the simulated alerts arrive
// through the API the dashboard uses.
func TestDemoSimulate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	out := &syncBuffer{}
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"waymark", "demo", "--simulate", "--addr", "127.0.0.1:0"}, func(string) string { return "" }, pw, stderr)
		pw.Close()
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo returned %v after shutdown", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("demo did not stop within 20 s")
		}
	})
	// The welcome is complete once the first line of codes follows it.
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if strings.HasPrefix(sc.Text(), "codes until ") && !once {
				once = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("demo exited: %v\n%s\n%s", err, out, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("demo printed no welcome within 30 s:\n%s\n%s", out, stderr)
	}

	text := out.String()
	base := regexp.MustCompile(`dashboard at (http://\S+)/`).FindStringSubmatch(text)
	login := regexp.MustCompile(`responder\s+username (\S+)\s+password (\S+)\s+TOTP secret (\S+)`).FindStringSubmatch(text)
	if base == nil || login == nil {
		t.Fatalf("welcome lacks the dashboard URL or the responder's sign-in:\n%s", text)
	}

	// The survivor's app beside the dashboard, and a link that enrols it.
	appURL := regexp.MustCompile(`app \(a calculator on its own origin\) is at (http://\S+)/`).FindStringSubmatch(text)
	link := regexp.MustCompile(`within 15 minutes\): (http://\S+/#([A-Z2-9]{8}))`).FindStringSubmatch(text)
	if appURL == nil || link == nil || !strings.HasPrefix(link[1], appURL[1]+"/#") || appURL[1] == base[1] {
		t.Fatalf("welcome lacks the app's own URL or its enrolment link:\n%s", text)
	}
	eb, _ := json.Marshal(map[string]string{"code": link[2]})
	res, err := http.Post(appURL[1]+"/v1/app/enrol", "application/json", bytes.NewReader(eb))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("enrol with the printed link's code: %d", res.StatusCode)
	}

	res, err = http.Get(base[1] + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "default-src 'none'; script-src 'self'") {
		t.Errorf("dashboard: %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}

	code, err := staff.TOTPCode(staff.Secret(login[3]), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	body, _ := json.Marshal(map[string]string{"username": login[1], "password": login[2], "totp": code})
	res, err = c.Post(base[1]+"/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("sign in with the printed password and code: %d", res.StatusCode)
	}

	// The simulation raises an SMS code word, an app panic and a missed
	// check-in within its first few ticks.
	want := map[string]bool{"sms": false, "app": false, "checkin": false}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !want["sms"] || !want["app"] || !want["checkin"] {
		select {
		case <-deadline:
			t.Fatalf("simulated alerts by source: %v\n%s", want, out)
		case <-tick.C:
		}
		res, err := c.Get(base[1] + "/v1/alerts?state=open")
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Alerts []struct {
				Class  string `json:"class"`
				Source string `json:"source"`
			} `json:"alerts"`
		}
		json.NewDecoder(res.Body).Decode(&list)
		res.Body.Close()
		for _, a := range list.Alerts {
			want[a.Source] = true
		}
	}
	if strings.Contains(out.String(), "simulate: ") && regexp.MustCompile(`simulate: [^\n]*: `).MatchString(out.String()) {
		t.Errorf("the simulation reported errors:\n%s", out)
	}
}
