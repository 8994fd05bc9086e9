// Package disguise is the survivor's app: a web app that looks and works
// like an ordinary calculator (or, as a second disguise, a unit
// converter), installed from a link the caseworker shows, which raises
// the service's signals without a trace on the screen.
//
// The app is a handful of static files (HTML, CSS and JavaScript modules,
// no build step, no framework, nothing third-party) embedded in the
// binary and served by Handler on the app listener's own origin, under a
// strict Content-Security-Policy. It talks only to the app API of the same
// origin (/v1/app/…), which this package does not serve.
//
// Nothing the app listener serves may hold a revealing word: Words is the
// one list and Clean the one check, used by this package's tests over
// every file and answer, and by the server's tests over every byte its
// app listener sends.
package disguise

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"waymark/internal/randid"
)

//go:embed static
var static embed.FS

// looks are the disguises, by kind (see Looks).
var looks = map[string]look{
	"calculator": {name: "Calculator", theme: "#000000", background: "#000000"},
	"converter":  {name: "Converter", theme: "#f2efe8", background: "#f2efe8"},
}

type look struct{ name, theme, background string }

// icons is the fixed set of home-screen icons, by number. Any look can
// use any icon.
var icons = []string{"1", "2", "3"}

// iconSizes are the sizes each icon is drawn at (see icons_test.go).
var iconSizes = []int{192, 512}

// prefix is the path under which the app's assets are served.
const prefix = "/a/"

// asset is one file, read once when the handler is built.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

func newAsset(p string, b []byte) asset {
	sum := sha256.Sum256(b)
	return asset{body: b, etag: `"` + randid.NeutralHash(sum[:12]) + `"`, contentType: contentType(p)}
}

type handler struct {
	files map[string]asset // by URL path: "/", "/sw.js", "/a/…"
}

// Handler serves the app's files and nothing else: the page at "/", the
// service worker at "/sw.js" (at the root, so that its scope is the whole
// app), the manifest at "/manifest.webmanifest" (made for the look asked
// for in its query: look, name, icon) and the assets under "/a/". Any
// other path gets 404 and any method but GET and HEAD 405, each with a
// small neutral JSON body; the app listener can mount it at "/" as the
// fallback for everything that is not its API.
func Handler() http.Handler {
	h := &handler{files: map[string]asset{}}
	var shell []string
	sum := sha256.New()
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		u := "/" + strings.TrimPrefix(p, "static/")
		switch u {
		case "/index.html":
			u = "/"
		case "/sw.js":
		default:
			if !strings.HasPrefix(u, prefix) {
				return nil
			}
		}
		sum.Write([]byte(u))
		sum.Write(b)
		if u != "/sw.js" {
			h.files[u] = newAsset(u, b)
			shell = append(shell, u)
		}
		return nil
	})
	if err != nil {
		// The files are compiled in: failing to read them is a broken build.
		panic("disguise: read embedded files: " + err.Error())
	}
	// The service worker learns the shell's files and a version from
	// their contents, so that any change to a file installs a new worker
	// whose cache holds the new files, and no list is kept by hand.
	slices.Sort(shell)
	shell = append(shell, "/manifest.webmanifest")
	sw, err := static.ReadFile("static/sw.js")
	if err != nil {
		panic("disguise: read embedded files: " + err.Error())
	}
	list, _ := json.Marshal(shell)
	version := randid.NeutralHash(sum.Sum(nil)[:12])
	sw = bytes.Replace(sw, []byte(`["@files"]`), list, 1)
	sw = bytes.Replace(sw, []byte(`"@version"`), []byte(`"`+version+`"`), 1)
	h.files["/sw.js"] = newAsset("/sw.js", sw)
	return h
}

// contentType names the types the app uses; anything else is served as
// bytes, which nosniff keeps the browser from guessing at.
func contentType(p string) string {
	switch path.Ext(p) {
	case "", ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".png":
		return "image/png"
	case ".webmanifest":
		return "application/manifest+json"
	default:
		return "application/octet-stream"
	}
}

// CSP is the app's Content-Security-Policy: everything from the same
// origin only, no inline script or style, connections only to the same
// origin's API. Trusted Types make any HTML-string sink throw, so the
// page builds its DOM node by node; the one policy, "d", makes only the
// service worker's URL (registering a worker is a Trusted Types sink).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types d"

// setCommon sets the headers every answer carries.
func setCommon(hd http.Header) {
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("Permissions-Policy", "geolocation=(self), camera=(), microphone=(), payment=(), usb=(), interest-cohort=()")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	setCommon(hd)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		writeJSONError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	var a asset
	if r.URL.Path == "/manifest.webmanifest" {
		a = newAsset(r.URL.Path, Manifest(r.URL.Query().Get("look"), r.URL.Query().Get("name"), r.URL.Query().Get("icon")))
	} else {
		var ok bool
		if a, ok = h.files[r.URL.Path]; !ok || r.URL.Path == prefix {
			writeJSONError(w, http.StatusNotFound, "not found")
			return
		}
	}
	// Revalidate every time: the files are small, the ETag makes a
	// repeat cheap, and the service worker keeps its own copies for
	// offline use.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	hd.Set("Content-Type", a.contentType)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// writeJSONError answers with a small JSON body that names nothing.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Write(append(b, '\n'))
}

// Manifest returns the web app manifest for a look (kind "calculator" or
// "converter"), a home-screen name (1 to 20 letters, digits and spaces,
// holding none of Words) and an icon number. Anything invalid falls back
// to the default: the calculator, the look's own name, icon 1.
func Manifest(kind, name, icon string) []byte {
	l, ok := looks[kind]
	if !ok {
		l = looks["calculator"]
	}
	if !ValidName(name) {
		name = l.name
	}
	if !slices.Contains(icons, icon) {
		icon = icons[0]
	}
	type img struct {
		Src     string `json:"src"`
		Sizes   string `json:"sizes"`
		Type    string `json:"type"`
		Purpose string `json:"purpose"`
	}
	var imgs []img
	for _, s := range iconSizes {
		n := strconv.Itoa(s)
		imgs = append(imgs, img{Src: prefix + "i" + icon + "-" + n + ".png", Sizes: n + "x" + n, Type: "image/png", Purpose: "any maskable"})
	}
	b, _ := json.MarshalIndent(map[string]any{
		"id":               "/",
		"name":             name,
		"short_name":       name,
		"start_url":        "/",
		"scope":            "/",
		"display":          "standalone",
		"orientation":      "portrait",
		"theme_color":      l.theme,
		"background_color": l.background,
		"icons":            imgs,
	}, "", " ")
	return b
}

// ValidName reports whether name can be a home-screen name: 1 to 20
// letters, digits and spaces, not all spaces, holding none of Words.
func ValidName(name string) bool {
	n := 0
	for _, r := range name {
		n++
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ') {
			return false
		}
	}
	if n < 1 || n > 20 || strings.TrimSpace(name) == "" {
		return false
	}
	_, ok := Clean([]byte(name))
	return ok
}
