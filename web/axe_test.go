package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axe-core is vendored in testdata/axe (its README says from where): the
// tests read it from disk and inject it through DevTools, so nothing is
// fetched from the network and the page's CSP is not loosened for it.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	return string(b), err
})

// axeViolation is one rule axe-core found broken, with where.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axeRunJS runs axe-core over the whole page against WCAG 2.0–2.2 A and
// AA and best practice, and returns only the violations.
const axeRunJS = `axe.run(document, {
  runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
  resultTypes: ['violations'],
}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.slice(0, 5).map(n => ({target: n.target, failureSummary: n.failureSummary}))}))))`

// axeCheck runs axe-core on the current screen and fails the test for
// every violation.
func axeCheck(t *testing.T, b *browser, screen string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		t.Fatalf("%s: axe: %v", screen, err)
	}
	if !loaded {
		// Evaluated as DevTools' own script, not the page's: the CSP's
		// script-src does not apply, and the page's code is unchanged.
		if _, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: src}); err != nil {
			t.Fatalf("%s: inject axe-core: %v", screen, err)
		}
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](axeRunJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", screen, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("%s: axe result: %v", screen, err)
	}
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+" — "+strings.ReplaceAll(n.Summary, "\n", " "))
		}
		t.Errorf("%s: axe %s (%s): %s\n    %s", screen, v.ID, v.Impact, v.Help, strings.Join(where, "\n    "))
	}
}
