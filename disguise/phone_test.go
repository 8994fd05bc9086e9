package disguise

import (
	"net/http/httptest"
	"testing"
	"time"

	"waymark/disguise/phonetest"
	"waymark/internal/testenv"
)

// phone is the app in a tab, with the fake API it talks to.
type phone struct {
	*phonetest.Phone
	api *fakeAPI
}

// eval evaluates a JavaScript expression in the phone's page.
func eval[T any](p *phone, expr string) T {
	p.T.Helper()
	return phonetest.Eval[T](p.Phone, expr)
}

// openPhone opens the app at path in a new, isolated browser at phone
// size and waits for the disguise to be on screen.
func openPhone(t *testing.T, chrome *testenv.Chrome, srv *httptest.Server, api *fakeAPI, scale float64, path string) *phone {
	t.Helper()
	return &phone{Phone: phonetest.Open(t, chrome, srv.URL, path, scale), api: api}
}

// enrol opens the enrolment link for code in the open tab (a fragment
// change, as when the link is opened again) and waits for the token.
func (p *phone) enrol(code string) {
	p.T.Helper()
	eval[bool](p, `(location.hash = '`+code+`', true)`)
	p.WaitEnrolled(10 * time.Second)
}

// enrolled starts a server, a fake API and a phone enrolled with a look.
func enrolled(t *testing.T, chrome *testenv.Chrome, kind string, scale float64) *phone {
	t.Helper()
	srv, api := newServer(t)
	code := "K7M2P9QX"
	api.addCode(code, kind, "Sums", "2")
	p := openPhone(t, chrome, srv, api, scale, "/")
	p.enrol(code)
	return p
}
