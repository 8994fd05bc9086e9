package disguise

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite generated files: static/a/t.js, the icons, docs/screenshots/app-*.png")

// labels are the words of the hidden screens. Several would give the app
// away ("help", "safe"), so t.js holds them base64-encoded and decodes
// them at run time; this table is where they are written and read.
var labels = map[string]string{
	"title":     "Settings",
	"exit":      "Quick exit",
	"sched":     "Check-in schedule",
	"mode":      "Check in",
	"modeEvery": "Every few minutes",
	"modeTimes": "At set times each day",
	"every":     "Every (minutes)",
	"times":     "Times each day (for example 08:00, 20:00)",
	"grace":     "Grace (minutes) before it counts as missed",
	"save":      "Save schedule",
	"off":       "Stop check-ins",
	"saved":     "Schedule saved.",
	"stopped":   "Check-ins stopped.",
	"bad":       "That was not accepted. Check and try again.",
	"net":       "No connection. Try again when you are online.",
	"loc":       "Share my location when I raise an alert",
	"conf":      "Discreet confirmation: the display flashes once when a check-in or alert has been received",
	"find":      "Find help and support near you",
	"postcode":  "Postcode",
	"category":  "Kind of help",
	"any":       "Any",
	"isOpen":    "Open now",
	"keyword":   "Name or keyword",
	"search":    "Search",
	"none":      "Nothing found. Try a wider search.",
	"call":      "Call",
	"web":       "Website",
	"forget":    "Forget this phone",
	"sure":      "Tap again to forget this phone: the app becomes a plain calculator",
}

const labelsPath = "static/a/t.js"

var labelsBlob = regexp.MustCompile(`const B = '([A-Za-z0-9+/=]+)';`)

func labelsJS(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(labels)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.WriteString("// The words of the hidden screens, encoded so that none of them is\n")
	out.WriteString("// served as text. Written by labels_test.go (go test -run TestLabels\n")
	out.WriteString("// ./disguise/ -args -update); do not edit.\n")
	out.WriteString("const B = '" + base64.StdEncoding.EncodeToString(b) + "';\n")
	out.WriteString("const s = atob(B);\n")
	out.WriteString("export const T = JSON.parse(new TextDecoder().decode(Uint8Array.from(s, (c) => c.charCodeAt(0))));\n")
	return out.Bytes()
}

// TestLabels decodes the hidden screens' words from t.js and checks that
// they read as intended, that the file holds no banned word, and that
// every label the JavaScript uses exists.
func TestLabels(t *testing.T) {
	if *update {
		if err := os.WriteFile(labelsPath, labelsJS(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	js, err := os.ReadFile(labelsPath)
	if err != nil {
		t.Fatal(err)
	}
	m := labelsBlob.FindSubmatch(js)
	if m == nil {
		t.Fatalf("%s: no encoded labels", labelsPath)
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(labels, got); diff != "" {
		t.Errorf("labels in %s differ (-want +got), run with -update:\n%s", labelsPath, diff)
	}
	if w, ok := Clean(js); !ok {
		t.Errorf("%s holds %q", labelsPath, w)
	}
	// The decoded words may hold banned words: that is why they are
	// encoded. Check the test is not vacuous.
	if _, ok := Clean(raw); ok {
		t.Error("the decoded labels hold no banned word: is the decoding test still looking at them?")
	}
	used := regexp.MustCompile(`\bT\.([a-zA-Z]+)`)
	for _, f := range []string{"static/a/h.js"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range used.FindAllStringSubmatch(string(src), -1) {
			if _, ok := labels[u[1]]; !ok {
				t.Errorf("%s uses T.%s, which has no label", f, u[1])
			}
		}
	}
}
