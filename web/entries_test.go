package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// searchShows searches the helpline directory for SO51 outreach until the
// result list holds (want true) or lacks (want false) name, within the
// directory's 5 s poll and some.
func searchShows(t *testing.T, b *browser, name string, want bool) bool {
	t.Helper()
	return eval[bool](t, b, `(async () => {
		for (let i = 0; i < 60; i++) {
			document.querySelector('#dir-form button[type=submit]').click();
			await new Promise(r => setTimeout(r, 250));
			const has = [...document.querySelectorAll('#dir-list li')].some(e => e.innerText.includes('`+name+`'));
			if (has === `+map[bool]string{true: "true", false: "false"}[want]+`) return true;
		}
		return false;
	})()`)
}

// TestCoordinatorDirectoryEntries: an administrator adds a directory entry
// on the Team set-up screen (an empty name refused next to the field, with
// the import's own word, and nothing stored), edits it and retires it; a
// helpline search follows each change.
func TestCoordinatorDirectoryEntries(t *testing.T) {
	chrome := testenv.StartChrome(t)
	s := newStack(t)
	ada := s.addAccount(t, "ada", "Ada Achebe", "admin", "north")
	hana := s.addAccount(t, "hana", "Hana Hill", "helpline", "north")

	a := openBrowser(t, chrome, s.direct, 1)
	a.signIn(t, ada)
	a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/coord/directory'`))
	a.waitJS(t, 10*time.Second, "directory entries", `document.getElementById('svc-new') !== null`)
	a11y(t, a, "directory entries")
	before := eval[int](t, a, `fetch('/v1/directory/records').then(r => r.json()).then(j => j.services.length)`)

	a.do(t, 10*time.Second, chromedp.Click(chromedp.ID("svc-new")), chromedp.WaitVisible(chromedp.ID("svc-form")))
	a11y(t, a, "new directory entry")
	a.do(t, 10*time.Second, chromedp.Click(chromedp.ID("svc-save")))
	a.waitJS(t, 5*time.Second, "name refused", `document.querySelector('[data-field=name] .field-error:not([hidden])') !== null`)
	if got := fieldError(t, a, "name"); got != "required" {
		t.Errorf("empty name: %q, want the import's \"required\"", got)
	}
	if n := eval[int](t, a, `fetch('/v1/directory/records').then(r => r.json()).then(j => j.services.length)`); n != before {
		t.Errorf("a refused entry changed the directory: %d services, was %d", n, before)
	}
	a.do(t, 10*time.Second,
		chromedp.SendKeys(chromedp.ID("svc-name"), "Test Valley Outreach"),
		chromedp.SendKeys(chromedp.ID("svc-org"), "Test Valley Women's Aid"),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#svc-form [name=categories]').forEach(c => c.checked = ['outreach', 'domestic-abuse'].includes(c.value))`),
		chromedp.SendKeys(chromedp.ID("svc-phone"), "023 8000 0000"),
		chromedp.SendKeys(chromedp.ID("svc-district"), "SO51"),
		chromedp.Click(chromedp.ID("svc-save")))
	a.waitJS(t, 5*time.Second, "saved", `document.getElementById('toast').innerText.includes('Test Valley Outreach saved')`)

	h := openBrowser(t, chrome, s.direct, 1)
	h.signIn(t, hana)
	h.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/directory'`), chromedp.WaitVisible(chromedp.ID("dir-form")))
	h.do(t, 10*time.Second, chromedp.SendKeys(chromedp.ID("dir-near"), "SO51"), chromedp.SetValue(chromedp.ID("dir-category"), "outreach"))
	if !searchShows(t, h, "Test Valley Outreach", true) {
		t.Fatalf("the new entry is not found: %s", eval[string](t, h, `document.getElementById('dir-results').innerText`))
	}

	// Edited: the search shows the new name.
	a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/coord/rota'`))
	a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/coord/directory'`))
	a.waitJS(t, 10*time.Second, "list", `document.getElementById('svc-filter') !== null`)
	a.do(t, 10*time.Second, chromedp.SendKeys(chromedp.ID("svc-filter"), "Test Valley"))
	a.waitJS(t, 5*time.Second, "filtered", `document.querySelectorAll('#svc-list li').length === 1`)
	a.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#svc-list li button`)), chromedp.WaitVisible(chromedp.ID("svc-retire")))
	a.do(t, 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('svc-name').value = ''`),
		chromedp.SendKeys(chromedp.ID("svc-name"), "Test Valley Outreach Service"),
		chromedp.Click(chromedp.ID("svc-save")))
	a.waitJS(t, 5*time.Second, "edited", `document.getElementById('toast').innerText.includes('Test Valley Outreach Service saved')`)
	a11y(t, a, "editing a directory entry")
	a.do(t, 10*time.Second, chromedp.EmulateViewport(1280, 900))
	a11y(t, a, "editing a directory entry, desktop")
	if !searchShows(t, h, "Test Valley Outreach Service", true) {
		t.Errorf("the edited name is not found")
	}

	// Retired: gone from search.
	a.do(t, 10*time.Second, chromedp.Click(chromedp.ID("svc-retire")))
	a.waitJS(t, 5*time.Second, "retired", `document.getElementById('toast').innerText.includes('retired')`)
	if !searchShows(t, h, "Test Valley Outreach", false) {
		t.Errorf("the retired entry is still found")
	}
	a11y(t, h, "directory search")
	if got := eval[string](t, a, `fetch('/v1/directory/records').then(r => r.json()).then(j => JSON.stringify(j.services.find(x => x.name.startsWith('Test Valley'))))`); !strings.Contains(got, `"retired":true`) {
		t.Errorf("the retired entry as listed: %s", got)
	}
}
