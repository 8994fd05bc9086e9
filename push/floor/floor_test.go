package floor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"waymark/push"
)

func TestFloorFansOutByTeamInOrder(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?team="
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(team string) *push.Client {
		c, err := push.Dial(ctx, ws+team, strings.Repeat("t", 24), push.ClientOptions{Origin: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := c.Next(ctx); err != nil || m.Type != push.TypeReady {
			t.Fatalf("first frame = %+v, %v; want ready", m, err)
		}
		return c
	}
	north, south := dial("north"), dial("south")
	defer north.Close()
	defer south.Close()
	for _, a := range []string{"a_one", "a_two", "a_three"} {
		resp, err := http.Post(srv.URL+"/signal", "application/json", strings.NewReader(`{"team":"north","alert":"`+a+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("signal = %d", resp.StatusCode)
		}
	}
	http.Post(srv.URL+"/signal", "application/json", strings.NewReader(`{"team":"south","alert":"a_four"}`))
	var got []string
	for range 3 {
		m, err := north.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Event.Alert)
	}
	if strings.Join(got, ",") != "a_one,a_two,a_three" {
		t.Errorf("north got %v, want a_one, a_two, a_three in order", got)
	}
	if m, err := south.Next(ctx); err != nil || m.Event.Alert != "a_four" {
		t.Errorf("south got %+v, %v; want a_four", m, err)
	}
}

// TestOnlyTheBenchImportsTheFloor: a hub with no auth and no origin check
// stays out of everything that serves.
func TestOnlyTheBenchImportsTheFloor(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "waymark/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == "waymark/cmd/waymark/internal/benchlab" {
			continue
		}
		if slices.Contains(fields[1:], "waymark/push/floor") {
			t.Errorf("%s imports waymark/push/floor; only the bench lab may", fields[0])
		}
	}
}
