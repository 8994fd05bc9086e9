package testenv

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestChrome starts the browser, opens a page, and checks that two
// browsers of one process keep their cookies apart.
func TestChrome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if who := r.URL.Query().Get("who"); who != "" {
			http.SetCookie(w, &http.Cookie{Name: "who", Value: who})
		}
		w.Write([]byte(`<!doctype html><title>t</title><p id=p>hello</p>`))
	}))
	defer srv.Close()
	c := StartChrome(t)
	a, b := c.NewBrowser(t), c.NewBrowser(t)
	if err := chromedp.Do(a, chromedp.Navigate(srv.URL+"/?who=a")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(a, chromedp.Text(chromedp.CSS("#p")))
	if err != nil {
		t.Fatal(err)
	}
	if got != "hello" {
		t.Errorf("text = %q, want hello", got)
	}
	if err := chromedp.Do(b, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	ca, err := chromedp.Run(a, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := chromedp.Run(b, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if ca != "who=a" || cb != "" {
		t.Errorf("cookies a=%q b=%q, want who=a and none", ca, cb)
	}
}
