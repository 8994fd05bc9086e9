package disguise

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func serve(t *testing.T, h http.Handler, method, target string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return res, b
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
		{"GET", "/?x=1", 200, "text/html; charset=utf-8"},
		{"GET", "/sw.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/manifest.webmanifest", 200, "application/manifest+json"},
		{"GET", "/a/m.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/a/s.css", 200, "text/css; charset=utf-8"},
		{"GET", "/a/i1-192.png", 200, "image/png"},
		{"GET", "/a/", 404, "application/json"},
		{"GET", "/a", 404, "application/json"},
		{"GET", "/a/nope.js", 404, "application/json"},
		{"GET", "/a/../index.html", 404, "application/json"},
		{"GET", "/index.html", 404, "application/json"},
		{"GET", "/static/index.html", 404, "application/json"},
		{"GET", "/a/sw.js", 404, "application/json"},
		{"GET", "/setup", 404, "application/json"},
		{"GET", "/v1/alerts", 404, "application/json"},
		{"POST", "/", 405, "application/json"},
		{"DELETE", "/sw.js", 405, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res, body := serve(t, h, tt.method, tt.path)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			for k, want := range map[string]string{
				"Content-Security-Policy": CSP,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if res.Header.Get("Cache-Control") == "" {
				t.Error("no Cache-Control")
			}
			switch tt.status {
			case 404:
				if string(body) != `{"error":"not found"}`+"\n" {
					t.Errorf("body = %q", body)
				}
			case 405:
				if res.Header.Get("Allow") != "GET, HEAD" {
					t.Errorf("Allow = %q", res.Header.Get("Allow"))
				}
			}
		})
	}
}

func TestHandlerETag(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/", "/a/c.js", "/sw.js", "/manifest.webmanifest?look=converter"} {
		res, _ := serve(t, h, "GET", p)
		etag := res.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", p)
		}
		res, _ = serve(t, h, "GET", p, "If-None-Match", etag)
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("%s: conditional GET: status = %d, want 304", p, res.StatusCode)
		}
	}
}

func TestCSP(t *testing.T) {
	for _, bad := range []string{"unsafe", "*", "http:", "https:", "data:", "blob:"} {
		if strings.Contains(CSP, bad) {
			t.Errorf("CSP allows %q", bad)
		}
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "require-trusted-types-for 'script'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
}

func TestServiceWorkerFilled(t *testing.T) {
	h := Handler()
	_, sw := serve(t, h, "GET", "/sw.js")
	if bytes.Contains(sw, []byte("@files")) || bytes.Contains(sw, []byte("@version")) {
		t.Fatal("sw.js placeholders not filled")
	}
	for _, p := range []string{`"/"`, `"/a/m.js"`, `"/a/c.js"`, `"/a/s.css"`, `"/manifest.webmanifest"`} {
		if !bytes.Contains(sw, []byte(p)) {
			t.Errorf("sw.js does not precache %s", p)
		}
	}
}

func TestManifest(t *testing.T) {
	tests := []struct {
		query      string
		name, icon string
		theme      string
	}{
		{"", "Calculator", "1", "#000000"},
		{"look=converter&name=Units&icon=3", "Units", "3", "#f2efe8"},
		{"look=calculator&name=My%20Sums&icon=2", "My Sums", "2", "#000000"},
		{"look=weather&name=x&icon=2", "x", "2", "#000000"},
		{"look=converter&name=&icon=9", "Converter", "1", "#f2efe8"},
		{"name=" + strings.Repeat("a", 21), "Calculator", "1", "#000000"},
		{"name=" + strings.Repeat("é", 20), strings.Repeat("é", 20), "1", "#000000"},
		{"name=%3Cscript%3E", "Calculator", "1", "#000000"},
		{"name=%20%20", "Calculator", "1", "#000000"},
		{"name=Safe%20Sums", "Calculator", "1", "#000000"},
		{"name=HELP", "Calculator", "1", "#000000"},
		{"icon=..%2F..%2Fx", "Calculator", "1", "#000000"},
	}
	h := Handler()
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, body := serve(t, h, "GET", "/manifest.webmanifest?"+tt.query)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if m["name"] != tt.name || m["short_name"] != tt.name {
				t.Errorf("name = %v/%v, want %q", m["name"], m["short_name"], tt.name)
			}
			if m["theme_color"] != tt.theme {
				t.Errorf("theme_color = %v, want %s", m["theme_color"], tt.theme)
			}
			for k, want := range map[string]string{"display": "standalone", "start_url": "/", "scope": "/", "id": "/"} {
				if m[k] != want {
					t.Errorf("%s = %v, want %q", k, m[k], want)
				}
			}
			var icons []string
			for _, i := range m["icons"].([]any) {
				src := i.(map[string]any)["src"].(string)
				icons = append(icons, src)
				if res, _ := serve(t, h, "GET", src); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
					t.Errorf("icon %s: %d %s", src, res.StatusCode, res.Header.Get("Content-Type"))
				}
			}
			want := []string{"/a/i" + tt.icon + "-192.png", "/a/i" + tt.icon + "-512.png"}
			if diff := cmp.Diff(want, icons); diff != "" {
				t.Errorf("icons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		text string
		word string // "" if clean
	}{
		{"a calculator", ""},
		{"Waymark", "waymark"},
		{"WAYMARK", "waymark"},
		{"new alerts", "alert"},
		{"nonviolent", "violent"},
		{"sendSos()", "sos"},
		{"SOS", "sos"},
		{"an episode", ""},
		{"cosos", ""},
		{"call 999 now", "999"},
		{"x999", "999"},
		{"19998", ""},
		{"helper", "help"},
		{"Helpline", "help"},
		{"whelp", ""},
		{"unsafe", ""},
		{"Safety", "safe"},
		{"idValue", "idva"},
		{"userIdValue", "idva"},
		{"rapidvalue", ""},
		{"idva", "idva"},
		{"Content-Security-Policy: default-src 'none'", ""},
		{"\x00sos\x00", "sos"},
		{"É sos", "sos"},
	}
	for _, tt := range tests {
		word, ok := Clean([]byte(tt.text))
		if ok != (tt.word == "") || word != tt.word {
			t.Errorf("Clean(%q) = %q, %v; want %q", tt.text, word, ok, tt.word)
		}
	}
}

// TestNoWordServed scans every embedded file, and every answer the
// handler gives (files, manifests for each look, 404, 405, headers
// included), for the banned words.
func TestNoWordServed(t *testing.T) {
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if w, ok := Clean([]byte(p)); !ok {
			t.Errorf("file name %s holds %q", p, w)
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		if w, ok := Clean(b); !ok {
			t.Errorf("%s holds %q", p, w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := Handler().(*handler)
	var targets []string
	for p := range h.files {
		targets = append(targets, p)
	}
	targets = append(targets, "/manifest.webmanifest", "/manifest.webmanifest?look=converter&name=Units&icon=3",
		"/manifest.webmanifest?look=calculator&icon=2", "/nope", "/a/nope.js", "/v1/app/x", "/index.html")
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"} {
		for _, p := range targets {
			res, body := serve(t, h, method, p)
			var hdr bytes.Buffer
			res.Header.Write(&hdr)
			if w, ok := Clean(hdr.Bytes()); !ok {
				t.Errorf("%s %s: headers hold %q", method, p, w)
			}
			if w, ok := Clean(body); !ok {
				t.Errorf("%s %s: body holds %q", method, p, w)
			}
		}
	}
}

// TestShellSize keeps the app shell (everything the service worker
// precaches) within 60 KB gzipped, each file gzipped on its own as a
// server would send it.
func TestShellSize(t *testing.T) {
	const budget = 60 << 10
	h := Handler().(*handler)
	total, code := 0, 0
	for p, a := range h.files {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(a.body)
		zw.Close()
		total += buf.Len()
		if !strings.HasSuffix(p, ".png") {
			code += buf.Len()
		}
	}
	t.Logf("app shell: %d bytes gzipped (%d without icons), budget %d", total, code, budget)
	if total > budget {
		t.Errorf("app shell is %d bytes gzipped, over %d", total, budget)
	}
}

func TestLooksAndIcons(t *testing.T) {
	h := Handler()
	for _, k := range Looks() {
		if _, ok := looks[k]; !ok {
			t.Errorf("look %q has no theme", k)
		}
		for _, i := range Icons() {
			_, b := serve(t, h, "GET", "/manifest.webmanifest?look="+k+"&icon="+i)
			if !bytes.Contains(b, []byte(`"/a/i`+i+`-192.png"`)) {
				t.Errorf("look %s icon %s: %s", k, i, b)
			}
		}
	}
	if len(looks) != len(Looks()) {
		t.Errorf("Looks() = %v, but %d looks exist", Looks(), len(looks))
	}
}

// FuzzManifest: whatever the query, the manifest is valid JSON, names a
// valid name and an existing icon, and holds no banned word.
func FuzzManifest(f *testing.F) {
	f.Add("calculator", "Sums", "1")
	f.Add("converter", "Help me", "3")
	f.Add("x", "\u0130\u212a", "../1")
	f.Add("converter", strings.Repeat("ä", 20), "2")
	h := Handler().(*handler)
	f.Fuzz(func(t *testing.T, kind, name, icon string) {
		b := Manifest(kind, name, icon)
		var m struct {
			Name  string `json:"name"`
			Icons []struct{ Src string }
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("manifest is not JSON: %v", err)
		}
		if !ValidName(m.Name) {
			t.Errorf("name %q", m.Name)
		}
		if ValidName(name) && m.Name != name {
			t.Errorf("valid name %q became %q", name, m.Name)
		}
		for _, i := range m.Icons {
			if _, ok := h.files[i.Src]; !ok {
				t.Errorf("icon %q is not served", i.Src)
			}
		}
		if w, ok := Clean(b); !ok {
			t.Errorf("manifest holds %q", w)
		}
	})
}

// Looks lists the disguises a caseworker can choose at enrolment (the
// look's "kind"): "calculator" and "converter".
func Looks() []string { return []string{"calculator", "converter"} }

// Icons lists the home-screen icons a caseworker can choose (the look's
// "icon"): "1" a dark calculator keypad, "2" a calculator on orange,
// "3" two arrows on green.
func Icons() []string { return slices.Clone(icons) }
