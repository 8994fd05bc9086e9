package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	r.Host = "waymark.example:8443"
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestHandlerServes(t *testing.T) {
	h := Handler()
	tests := []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"HEAD", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/setup", 200, "text/html; charset=utf-8"},
		{"GET", "/assets/app.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/assets/app.css", 200, "text/css; charset=utf-8"},
		{"GET", "/sw.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/assets/sw.js", 404, ""},
		{"GET", "/app.js", 404, ""},
		{"GET", "/assets/", 404, ""},
		{"GET", "/assets/nope.js", 404, ""},
		{"GET", "/assets/../index.html", 404, ""},
		{"GET", "/index.html", 404, ""},
		{"GET", "/v1/alerts", 404, ""},
		{"POST", "/", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := get(t, h, tt.method, tt.path)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if tt.ctype != "" && res.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", res.Header.Get("Content-Type"), tt.ctype)
			}
			if tt.status == 200 {
				if got := res.Header.Get("Content-Security-Policy"); got != CSP("waymark.example:8443") {
					t.Errorf("CSP = %q", got)
				}
				if res.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Error("no nosniff")
				}
			}
		})
	}
}

func TestHandlerETag(t *testing.T) {
	h := Handler()
	res := get(t, h, "GET", "/assets/app.js")
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	res = get(t, h, "GET", "/assets/app.js", "If-None-Match", etag)
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: status = %d, want 304", res.StatusCode)
	}
}

func TestCSP(t *testing.T) {
	tests := []struct {
		host string
		want string
	}{
		{"127.0.0.1:8080", "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"},
		{"[::1]:80", "connect-src 'self' ws://[::1]:80 wss://[::1]:80;"},
		{"evil.example; script-src *", "connect-src 'self';"},
		{"", "connect-src 'self';"},
	}
	for _, tt := range tests {
		got := CSP(tt.host)
		for _, must := range []string{"worker-src 'self';", "trusted-types waymark-sw", "require-trusted-types-for 'script';"} {
			if !strings.Contains(got, must) {
				t.Errorf("CSP(%q) = %q, want it to contain %q", tt.host, got, must)
			}
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("CSP(%q) = %q, want it to contain %q", tt.host, got, tt.want)
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
			if strings.Contains(strings.ReplaceAll(got, "'self'", ""), bad) {
				t.Errorf("CSP(%q) contains %q", tt.host, bad)
			}
		}
	}
}

// TestAssetsStayLocal checks the files themselves: no inline script or
// style, no style attributes, nothing fetched from another origin, no
// HTML-string sinks (Trusted Types would throw on them anyway), and no
// storage that outlives the tab.
func TestAssetsStayLocal(t *testing.T) {
	h := Handler().(*handler)
	files := map[string][]byte{"/": h.index.body}
	for p, a := range h.assets {
		files[p] = a.body
	}
	rules := []struct {
		name string
		re   *regexp.Regexp
		only string // file extension the rule applies to; "" = all
	}{
		{"external URL", regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`), ""},
		{"@import or url() from elsewhere", regexp.MustCompile(`(?i)(@import|url\(\s*["']?(https?:)?//)`), ".css"},
		{"inline style element", regexp.MustCompile(`(?i)<style`), "/"},
		{"style attribute", regexp.MustCompile(`(?i)\sstyle\s*=`), "/"},
		{"inline event handler", regexp.MustCompile(`(?i)\son[a-z]+\s*=\s*["']`), "/"},
		{"innerHTML-like sink", regexp.MustCompile(`\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(`), ".js"},
		{"persistent storage", regexp.MustCompile(`localStorage|indexedDB|document\.cookie`), ".js"},
		{"style attribute from script", regexp.MustCompile(`setAttribute\(\s*['"]style`), ".js"},
	}
	scriptTag := regexp.MustCompile(`(?i)<script[^>]*>`)
	for _, tag := range scriptTag.FindAll(h.index.body, -1) {
		if !strings.Contains(string(tag), `src="/assets/`) {
			t.Errorf("index: inline or foreign script: %s", tag)
		}
	}
	for path, body := range files {
		for _, r := range rules {
			if r.only != "" && !strings.HasSuffix(path, r.only) && path != r.only {
				continue
			}
			if r.re.Match(body) {
				t.Errorf("%s: %s: %q", path, r.name, r.re.Find(body))
			}
		}
	}
}

func TestHandlerReadsEveryAsset(t *testing.T) {
	h := Handler().(*handler)
	for _, want := range []string{"/assets/app.js", "/assets/app.css", "/assets/live.js", "/assets/alertview.js"} {
		if _, ok := h.assets[want]; !ok {
			t.Errorf("%s not embedded", want)
		}
	}
	res := get(t, h, "GET", "/")
	b, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(b), `src="/assets/app.js"`) {
		t.Error("index does not load app.js")
	}
}
