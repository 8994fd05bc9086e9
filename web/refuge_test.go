package web

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"waymark/internal/testenv"
)

// TestCoordinatorRefuge: an administrator links a refuge worker's account
// to their refuge on the Team set-up screen; the refuge worker updates its
// vacancies at phone size; a helpline search then shows them with their
// age, while another refuge's old report shows as stale.
func TestCoordinatorRefuge(t *testing.T) {
	chrome := testenv.StartChrome(t)
	s := newStack(t)
	// The fictional Southampton directory: two refuges with reports from
	// January.
	s.admin(t, nil, "directory", "import", filepath.Join(moduleRoot(t), "signpost", "oruk", "seed", "demo.json"))
	ada := s.addAccount(t, "ada", "Ada Achebe", "admin", "north")
	rosa := s.addAccount(t, "rosa", "Rosa Reid", "refuge", "north")
	hana := s.addAccount(t, "hana", "Hana Hill", "helpline", "north")

	a := openBrowser(t, chrome, s.direct, 1)
	a.signIn(t, ada)
	a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/coord/staff'`))
	a.waitJS(t, 10*time.Second, "refuge link offered", `(() => {
		const s = document.getElementById('refuge-of-rosa');
		return !!s && [...s.options].some(o => o.text.startsWith('Solent Harbour Refuge'));
	})()`)
	a11y(t, a, "staff with a refuge account")
	a.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.getElementById('refuge-of-rosa');
		s.value = [...s.options].find(o => o.text.startsWith('Solent Harbour Refuge')).value;
	})()`), chromedp.Click(chromedp.ID("refuge-link-rosa")))
	a.waitJS(t, 5*time.Second, "linked", `document.getElementById('toast').innerText.includes('Solent Harbour Refuge')`)

	r := openBrowser(t, chrome, s.direct, 1)
	r.signIn(t, rosa)
	r.waitJS(t, 10*time.Second, "the refuge's screen", `(document.getElementById('refuge-name')||{innerText:''}).innerText.includes('Solent Harbour Refuge')`)
	if got := eval[string](t, r, `document.getElementById('refuge-vacancies').innerText`); !strings.Contains(got, "stale") {
		t.Errorf("January's report reads %q; want it shown as stale", got)
	}
	a11y(t, r, "refuge vacancies")
	if eval[bool](t, r, `!document.getElementById('tab-queue').hidden || !document.getElementById('tab-cases').hidden`) {
		t.Error("a refuge account is offered alerts or cases")
	}
	r.do(t, 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('vacancy-count').value = ''`),
		chromedp.SendKeys(chromedp.ID("vacancy-count"), "3"),
		chromedp.Click(chromedp.ID("vacancy-save")))
	r.waitJS(t, 5*time.Second, "saved", `(document.getElementById('refuge-vacancies')||{innerText:''}).innerText.startsWith('3 spaces, updated just now')`)

	h := openBrowser(t, chrome, s.direct, 1)
	h.signIn(t, hana)
	h.do(t, 10*time.Second, chromedp.Evaluate[chromedp.Void](`location.hash = '#/directory'`), chromedp.WaitVisible(chromedp.ID("dir-form")))
	h.do(t, 10*time.Second,
		chromedp.SendKeys(chromedp.ID("dir-near"), "SO14"),
		chromedp.SetValue(chromedp.ID("dir-category"), "refuge"))
	// Every instance rebuilds its index within its 5 s directory poll:
	// search again until the new count shows.
	found := eval[string](t, h, `(async () => {
		for (let i = 0; i < 40; i++) {
			document.querySelector('#dir-form button[type=submit]').click();
			await new Promise(r => setTimeout(r, 250));
			const li = [...document.querySelectorAll('#dir-list li')].find(e => e.innerText.includes('Solent Harbour Refuge'));
			if (li && li.innerText.includes('Vacancies: 3 spaces, updated just now')) return li.innerText;
		}
		return document.getElementById('dir-results').innerText;
	})()`)
	if !strings.Contains(found, "Vacancies: 3 spaces, updated just now") {
		t.Fatalf("the helpline search does not show the new vacancies: %q", found)
	}
	other := eval[string](t, h, `([...document.querySelectorAll('#dir-list li')].find(e => e.innerText.includes('Itchen Haven Refuge')) || {innerText: ''}).innerText`)
	if !strings.Contains(other, "stale") {
		t.Errorf("Itchen Haven's January report reads %q; want it shown as stale", other)
	}
	a11y(t, h, "directory with vacancies")
	// The same screens at desktop size.
	h.do(t, 10*time.Second, chromedp.EmulateViewport(1280, 900))
	a11y(t, h, "directory with vacancies, desktop")
	r.do(t, 10*time.Second, chromedp.EmulateViewport(1280, 900))
	a11y(t, r, "refuge vacancies, desktop")
	// The refuge account reaches nothing else.
	if st, _ := s.call(t, s.client(t, rosa), "GET", "/v1/alerts?state=open", nil); st != 403 {
		t.Errorf("a refuge account listing alerts: %d, want 403", st)
	}
}
