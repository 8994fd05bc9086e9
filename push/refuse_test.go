package push

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAcceptRefusalsGoToRefuse: every refused handshake is answered by
// the caller's Refuse (the server's JSON error body), never by the
// WebSocket library's plain text.
func TestAcceptRefusalsGoToRefuse(t *testing.T) {
	th := newTestHub(t, Limits{}, nil)
	var got []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		th.h.Accept(w, r, []string{th.origin}, func(w http.ResponseWriter, r *http.Request, status int) {
			got = append(got, status)
			w.WriteHeader(status)
		})
	}))
	defer srv.Close()
	upgrade := func(origin string) *http.Request {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/ws", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		req.Header.Set("Origin", origin)
		return req
	}
	plain, _ := http.NewRequest("GET", srv.URL+"/v1/ws", nil)
	for _, tc := range []struct {
		req  *http.Request
		want int
	}{
		{plain, http.StatusBadRequest},
		{upgrade("https://elsewhere.example"), http.StatusForbidden},
	} {
		got = nil
		resp, err := http.DefaultClient.Do(tc.req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want || len(got) != 1 || got[0] != tc.want {
			t.Errorf("status %d, refuse called with %v; want %d through refuse", resp.StatusCode, got, tc.want)
		}
	}
}
