// Package web serves the responder dashboard: a small set of static files
// (HTML, CSS and JavaScript modules, no build step, no framework) embedded
// in the binary, under a strict Content-Security-Policy. The page talks to
// the JSON API and the live hub of the same origin and nothing else: no
// CDN, no external font, no third-party request of any kind.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// asset is one embedded file, read once when the handler is built.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// handler serves the dashboard's files.
type handler struct {
	index  asset
	assets map[string]asset
}

// Handler serves the dashboard at "/" (and at "/setup", where a new
// account's setup link lands), its files under "/assets/" and its service
// worker at "/sw.js" (at the root, so that its scope is the whole
// dashboard without a Service-Worker-Allowed header). Register it for
// exactly those patterns ("GET /{$}", "GET /setup", "GET /assets/",
// "GET /sw.js"); anything else it answers with 404.
func Handler() http.Handler {
	h := &handler{assets: map[string]asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a := asset{body: b, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`, contentType: contentType(p)}
		if p == "static/index.html" {
			h.index = a
			return nil
		}
		h.assets["/"+strings.TrimPrefix(p, "static/")] = a
		return nil
	})
	if err != nil {
		// The files are compiled in: failing to read them is a broken build.
		panic("web: read embedded files: " + err.Error())
	}
	return h
}

// contentType names the types the dashboard uses; anything else is served
// as bytes, which nosniff keeps the browser from guessing at.
func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".json", ".webmanifest":
		return "application/manifest+json"
	default:
		return "application/octet-stream"
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var a asset
	switch {
	case r.URL.Path == "/" || r.URL.Path == "/setup":
		a = h.index
	case strings.HasPrefix(r.URL.Path, "/assets/") || r.URL.Path == "/sw.js":
		var ok bool
		if a, ok = h.assets[r.URL.Path]; !ok {
			http.NotFound(w, r)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP(r.Host))
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	// Revalidate every time: the files are small, the ETag makes a
	// repeat cheap, and a responder never runs yesterday's dashboard.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	hd.Set("Content-Type", a.contentType)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// CSP is the dashboard's Content-Security-Policy for a page served to
// host. Scripts and styles come only from the same origin (no inline code
// or style attributes), connections only to the same origin's API and
// WebSocket, images only from the origin or data: URLs, workers only from
// the origin (the Web Push service worker). Trusted Types make any
// HTML-string sink (innerHTML and the like) throw, so the page can only
// build its DOM node by node; the one policy allowed, "waymark-sw", makes
// only script URLs, and push.js lets it make exactly "/sw.js" (registering
// a service worker is a Trusted Types sink).
func CSP(host string) string {
	connect := "'self'"
	if validHost(host) {
		// 'self' covers ws: and wss: of the same host in CSP Level 3;
		// naming them keeps older engines working.
		connect += " ws://" + host + " wss://" + host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src " + connect,
		"manifest-src 'self'",
		"worker-src 'self'",
		"base-uri 'none'",
		// Every form is handled by script; a native submission would put
		// its fields in a request the server does not expect.
		"form-action 'none'",
		"frame-ancestors 'none'",
		"require-trusted-types-for 'script'",
		"trusted-types waymark-sw",
	}, "; ")
}

// validHost accepts a Host header that can go into a CSP source
// expression as it is: a DNS name, an IPv4 address or a bracketed IPv6
// address, with an optional port. Anything else only loses the explicit
// ws: and wss: sources.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}
