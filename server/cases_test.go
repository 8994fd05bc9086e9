package server

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/casework"
	"waymark/internal/randid"
	"waymark/internal/testenv"
	"waymark/staff"
)

// caseBody is a full, valid POST /v1/cases body with canary values.
func caseBody() map[string]any {
	return map[string]any{
		"phone": "07700 900123", "alias": "Heron", "team": "south", "risk_level": "high",
		"risk_date": "2026-01-10",
		"marac":     map[string]any{"referred": true, "date": "2026-01-12"},
		"communication": map[string]any{"language": "pl", "needs": []string{"interpreter"},
			"interpreter_gender": "female"},
		"children":     map[string]any{"count": 1, "age_bands": []string{"5-10"}},
		"code_words":   []string{"purple umbrella weather"},
		"duress_words": []string{"grandmother teapot"},
		"pin":          "24681357", "duress_pin": "97531864",
		"notes": "Canary-notes: spare key under the blue flowerpot",
		"safe_contact": map[string]any{
			"windows":      []map[string]any{{"days": []string{"mon", "thu"}, "from": "09:00", "to": "11:30"}},
			"channels":     map[string]any{"call": true, "sms": true, "voicemail": false},
			"opening_line": "Hello, it's the library about your renewal",
		},
		"response_plan": "Non-molestation order; no weapons known",
	}
}

// secrets of caseBody that no caseworker answer may carry.
var caseSecrets = []string{"7700", "Canary-notes", "purple", "umbrella", "teapot", "24681357", "97531864"}

func caseJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, b)
	}
	return m
}

// redisCLI runs a command against the env's redis-server.
func redisCLI(t *testing.T, env *testEnv, args ...string) string {
	t.Helper()
	testenv.RequireBinary(t, "redis-cli", "apt-get install -y redis-tools")
	out, err := exec.Command("redis-cli", append([]string{"-s", env.Redis.Addr()}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// stateDigest is a digest of every stored key and value except sessions
// (every request refreshes its session's last-seen time) and sign-in
// throttles, to show a refused request changed nothing. Hashes and sets
// are digested from their sorted contents, not DUMP: a read may finish an
// incremental rehash, which reorders DUMP's output without any change.
const stateDigestLua = `
local out = {}
for _, k in ipairs(redis.call('KEYS', '*')) do
  if not string.find(k, ':session:', 1, true) and not string.find(k, ':throttle:', 1, true) then
    local t = redis.call('TYPE', k)['ok']
    local v
    if t == 'hash' then
      local h = redis.call('HGETALL', k)
      local kv = {}
      for i = 1, #h, 2 do table.insert(kv, h[i] .. '\0' .. h[i + 1]) end
      table.sort(kv)
      v = table.concat(kv, '\1')
    elseif t == 'set' then
      local m = redis.call('SMEMBERS', k)
      table.sort(m)
      v = table.concat(m, '\1')
    else
      v = redis.call('DUMP', k)
    end
    table.insert(out, k .. '=' .. t .. ':' .. redis.sha1hex(v))
  end
end
table.sort(out)
return table.concat(out, '\n')
`

func stateDigest(t *testing.T, env *testEnv) string {
	t.Helper()
	out := redisCLI(t, env, "EVAL", stateDigestLua, "0")
	if !strings.Contains(out, ":case:") {
		t.Fatalf("state digest failed: %s", out)
	}
	return out
}

// claimAlert writes what the alert service keeps for a case's open alert,
// under the same key names as store/keys.go (caseOpenAlert, alertRecord).
func claimAlert(t *testing.T, env *testEnv, caseID, state, owner string) {
	t.Helper()
	aid := randid.New("a_", 20)
	redisCLI(t, env, "SET", "wm:{test}:case:"+caseID+":open", aid)
	redisCLI(t, env, "HSET", "wm:{test}:alert:"+aid, "case", caseID, "team", "south", "state", state, "owner", owner)
}

func TestCaseAPI(t *testing.T) {
	env := newTestEnv(t)
	cw := env.login(t, "carol", []staff.Role{staff.RoleCaseworker}, []string{"south"})

	status, hdr, body := env.call(t, cw, "POST", "/v1/cases", caseBody())
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s", status, body)
	}
	created := caseJSON(t, body)
	id, _ := created["id"].(string)
	if !strings.HasPrefix(id, "c_") || hdr.Get("Location") != "/v1/cases/"+id {
		t.Fatalf("create answer id %q, Location %q", id, hdr.Get("Location"))
	}
	for _, s := range caseSecrets {
		if strings.Contains(string(body), s) {
			t.Errorf("create answer shows %q", s)
		}
	}

	status, _, body = env.call(t, cw, "GET", "/v1/cases/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("get = %d %s", status, body)
	}
	got := caseJSON(t, body)
	if got["alias"] != "Heron" || got["risk_level"] != "high" || got["phone_set"] != true || got["pins_set"] != true {
		t.Errorf("get = %s", body)
	}
	if diff := cmp.Diff(map[string]any{"code": 1.0, "duress": 1.0}, got["words_set"]); diff != "" {
		t.Errorf("words_set: %s", diff)
	}
	for _, s := range caseSecrets {
		if strings.Contains(string(body), s) {
			t.Errorf("get answer shows %q", s)
		}
	}
	for _, k := range []string{"phone", "notes", "safety_notes", "pin", "duress_pin", "code_words", "duress_words"} {
		if _, ok := got[k]; ok {
			t.Errorf("get answer has field %q", k)
		}
	}

	// The team list: aliases and risk only.
	status, _, body = env.call(t, cw, "GET", "/v1/cases?team=south", nil)
	var list struct {
		Cases []map[string]any `json:"cases"`
	}
	json.Unmarshal(body, &list)
	if status != http.StatusOK || len(list.Cases) != 1 {
		t.Fatalf("list = %d %s", status, body)
	}
	if diff := cmp.Diff(map[string]any{"id": id, "alias": "Heron", "risk_level": "high", "expiring_soon": false}, list.Cases[0]); diff != "" {
		t.Errorf("list entry (-want +got):\n%s", diff)
	}
	if status, _, _ := env.call(t, cw, "GET", "/v1/cases?team=north", nil); status != http.StatusForbidden {
		t.Errorf("list of another team = %d", status)
	}

	status, _, body = env.call(t, cw, "PATCH", "/v1/cases/"+id, map[string]any{"risk_level": "medium", "duress_words": []string{"sunny garden party"}})
	if status != http.StatusOK || caseJSON(t, body)["risk_level"] != "medium" {
		t.Errorf("patch = %d %s", status, body)
	}
	status, _, body = env.call(t, cw, "POST", "/v1/cases/"+id+"/renew", nil)
	if status != http.StatusOK || caseJSON(t, body)["expires_at"] == nil {
		t.Errorf("renew = %d %s", status, body)
	}

	// App enrolment.
	status, _, body = env.call(t, cw, "POST", "/v1/cases/"+id+"/enrolments", map[string]any{
		"tech_safety_check": map[string]any{"others_have_access": false, "notes": "new phone"}})
	if status != http.StatusCreated {
		t.Fatalf("enrolment = %d %s", status, body)
	}
	var en struct {
		Code      string    `json:"code"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	json.Unmarshal(body, &en)
	if len(en.Code) != 8 || en.ExpiresAt.IsZero() {
		t.Fatalf("enrolment = %s", body)
	}
	app := env.client()
	status, _, body = env.call(t, app, "POST", "/v1/app/enrol", map[string]string{"code": en.Code})
	var dev struct {
		Token    string `json:"token"`
		DeviceID string `json:"device_id"`
	}
	json.Unmarshal(body, &dev)
	if status != http.StatusOK || len(dev.Token) < 43 || !strings.HasPrefix(dev.DeviceID, "d_") {
		t.Fatalf("app enrol = %d %s", status, body)
	}
	status, _, body = env.call(t, cw, "GET", "/v1/cases/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("get case = %d %s", status, body)
	}
	if !strings.Contains(string(body), dev.DeviceID) || !strings.Contains(string(body), `"recorded_by"`) {
		t.Errorf("case lacks its device or tech-safety record: %s", body)
	}
	if status, _, body := env.call(t, cw, "DELETE", "/v1/cases/"+id+"/devices/"+dev.DeviceID, nil); status != http.StatusNoContent {
		t.Errorf("revoke = %d %s", status, body)
	}
	if status, _, _ := env.call(t, cw, "DELETE", "/v1/cases/"+id+"/devices/"+dev.DeviceID, nil); status != http.StatusNotFound {
		t.Errorf("revoke twice = %d", status)
	}

	// Legal hold (admin) blocks erasure with 409.
	admin := env.login(t, "ada", []staff.Role{staff.RoleAdmin}, nil)
	if status, _, body := env.call(t, admin, "PUT", "/v1/cases/"+id+"/legal-hold", map[string]any{"hold": true}); status != http.StatusNoContent {
		t.Fatalf("legal hold = %d %s", status, body)
	}
	if status, _, _ := env.call(t, cw, "PUT", "/v1/cases/"+id+"/legal-hold", map[string]any{"hold": false}); status != http.StatusForbidden {
		t.Errorf("legal hold by a caseworker = %d", status)
	}
	if status, _, _ := env.call(t, cw, "DELETE", "/v1/cases/"+id, nil); status != http.StatusConflict {
		t.Errorf("erase on hold = %d, want 409", status)
	}
	env.call(t, admin, "PUT", "/v1/cases/"+id+"/legal-hold", map[string]any{"hold": false})
	if status, _, body := env.call(t, cw, "DELETE", "/v1/cases/"+id, nil); status != http.StatusNoContent {
		t.Fatalf("erase = %d %s", status, body)
	}
	if status, _, _ := env.call(t, cw, "GET", "/v1/cases/"+id, nil); status != http.StatusNotFound {
		t.Errorf("get after erasure = %d", status)
	}
}

func TestCaseRoles(t *testing.T) {
	env := newTestEnv(t)
	cw := env.login(t, "carol", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	_, _, body := env.call(t, cw, "POST", "/v1/cases", caseBody())
	id, _ := caseJSON(t, body)["id"].(string)

	responder := env.login(t, "rita", []staff.Role{staff.RoleResponder}, []string{"south"})
	helpline := env.login(t, "hal", []staff.Role{staff.RoleHelpline}, []string{"south"})
	north := env.login(t, "nora", []staff.Role{staff.RoleCaseworker}, []string{"north"})
	anon := env.client()
	for _, tc := range []struct {
		name   string
		c      *http.Client
		method string
		path   string
		body   any
		want   int
	}{
		{"anonymous create", anon, "POST", "/v1/cases", caseBody(), http.StatusUnauthorized},
		{"responder create", responder, "POST", "/v1/cases", caseBody(), http.StatusForbidden},
		{"responder get", responder, "GET", "/v1/cases/" + id, nil, http.StatusForbidden},
		{"helpline reveal", helpline, "POST", "/v1/cases/" + id + "/reveal", map[string]string{"reason": "x"}, http.StatusForbidden},
		{"other team get", north, "GET", "/v1/cases/" + id, nil, http.StatusNotFound},
		{"other team erase", north, "DELETE", "/v1/cases/" + id, nil, http.StatusNotFound},
		{"other team create", north, "POST", "/v1/cases", caseBody(), http.StatusUnprocessableEntity},
		{"unknown case", cw, "GET", "/v1/cases/" + randid.New("c_", 20), nil, http.StatusNotFound},
		{"malformed id", cw, "GET", "/v1/cases/not-a-case", nil, http.StatusNotFound},
		{"cross-site create", cw, "POST", "/v1/cases", caseBody(), http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if strings.HasPrefix(tc.name, "cross-site") {
				hdr = []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}
			}
			if status, _, body := env.call(t, tc.c, tc.method, tc.path, tc.body, hdr...); status != tc.want {
				t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, status, body, tc.want)
			}
		})
	}
}

func TestCaseBadInput(t *testing.T) {
	env := newTestEnv(t)
	cw := env.login(t, "carol", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	_, _, body := env.call(t, cw, "POST", "/v1/cases", caseBody())
	id, _ := caseJSON(t, body)["id"].(string)
	before := stateDigest(t, env)

	with := func(k string, v any) map[string]any {
		b := caseBody()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		fields []string
		text   string
	}{
		{"carrier keyword", "POST", "/v1/cases", with("code_words", []string{"STOP"}), []string{"code_words[0]"}, `"STOP"`},
		{"short word", "POST", "/v1/cases", with("duress_words", []string{"sos"}), []string{"duress_words[0]"}, `"sos"`},
		{"phone", "POST", "/v1/cases", with("phone", "call me maybe"), []string{"phone"}, ""},
		{"phone missing", "POST", "/v1/cases", with("phone", nil), []string{"phone"}, "required"},
		{"alias too long", "POST", "/v1/cases", with("alias", strings.Repeat("a", 81)), []string{"alias"}, ""},
		{"risk level", "POST", "/v1/cases", with("risk_level", "extreme"), []string{"risk_level"}, "one of"},
		{"risk date", "POST", "/v1/cases", with("risk_date", "10/01/2026"), []string{"risk_date"}, "YYYY-MM-DD"},
		{"pin letters", "POST", "/v1/cases", with("pin", "abcd"), []string{"pin"}, ""},
		{"pin too long", "POST", "/v1/cases", with("pin", "123456789"), []string{"pin"}, ""},
		{"same pins", "POST", "/v1/cases", with("duress_pin", "24681357"), []string{"duress_pin"}, "differ"},
		{"pin type", "POST", "/v1/cases", with("pin", 1234), []string{"pin"}, "string"},
		{"window day", "POST", "/v1/cases", with("safe_contact", map[string]any{
			"windows": []map[string]any{{"days": []string{"funday"}, "from": "09:00", "to": "10:00"}}}),
			[]string{"safe_contact.windows[0].days[0]"}, ""},
		{"children count", "POST", "/v1/cases", with("children", map[string]any{"count": -2}), []string{"children.count"}, ""},
		{"marac date", "POST", "/v1/cases", with("marac", map[string]any{"referred": true}), []string{"marac.date"}, "required"},
		{"under 18", "POST", "/v1/cases", with("under_18", true), []string{"safeguarding_lead"}, ""},
		{"excluded", "POST", "/v1/cases", with("excluded_staff", []string{"bob"}), []string{"excluded_staff[0]"}, ""},
		{"unknown field", "POST", "/v1/cases", with("ssn", "x"), []string{"ssn"}, "unknown field"},
		{"unknown nested field", "POST", "/v1/cases", with("marac", map[string]any{"referred": false, "colour": "red"}), []string{"colour"}, "unknown field"},
		{"patch unknown field", "PATCH", "/v1/cases/" + id, map[string]any{"pin_hash": "x"}, []string{"pin_hash"}, "unknown field"},
		{"patch carrier keyword", "PATCH", "/v1/cases/" + id, map[string]any{"code_words": []string{"help"}}, []string{"code_words[0]"}, `"help"`},
		{"patch pin", "PATCH", "/v1/cases/" + id, map[string]any{"pin": "97531864"}, []string{"pin"}, "differ"},
		{"reveal no reason", "POST", "/v1/cases/" + id + "/reveal", map[string]any{}, []string{"reason"}, "required"},
		{"enrolment without check", "POST", "/v1/cases/" + id + "/enrolments", map[string]any{}, []string{"tech_safety_check"}, "required"},
		{"enrolment unknown field", "POST", "/v1/cases/" + id + "/enrolments", map[string]any{
			"tech_safety_check": map[string]any{"others_have_access": false, "owner_name": "x"}}, []string{"owner_name"}, "unknown field"},
		{"app enrol no code", "POST", "/v1/app/enrol", map[string]any{}, []string{"code"}, "required"},
		{"malformed", "POST", "/v1/cases", []byte(`{"phone":`), []string{"body"}, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := env.call(t, cw, tc.method, tc.path, tc.body)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("= %d %s, want 422", status, body)
			}
			var eb errorBody
			json.Unmarshal(body, &eb)
			var names []string
			for _, f := range eb.Fields {
				names = append(names, f.Name)
			}
			if diff := cmp.Diff(tc.fields, names); diff != "" {
				t.Errorf("fields (-want +got):\n%s\n%s", diff, body)
			}
			if tc.text != "" && (len(eb.Fields) == 0 || !strings.Contains(eb.Fields[0].Problem, tc.text)) {
				t.Errorf("problem lacks %q: %s", tc.text, body)
			}
		})
	}
	// Oversized bodies: 413.
	big := caseBody()
	big["notes"] = strings.Repeat("x", 70<<10)
	if status, _, _ := env.call(t, cw, "POST", "/v1/cases", big); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized = %d, want 413", status)
	}
	if after := stateDigest(t, env); after != before {
		t.Errorf("bad input changed stored state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestAppEnrolCodes: a wrong, expired or reused code gets the same 404 and
// changes nothing.
func TestAppEnrolCodes(t *testing.T) {
	env := newTestEnv(t)
	cw := env.login(t, "carol", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	_, _, body := env.call(t, cw, "POST", "/v1/cases", caseBody())
	id, _ := caseJSON(t, body)["id"].(string)
	code := func() string {
		_, _, body := env.call(t, cw, "POST", "/v1/cases/"+id+"/enrolments", map[string]any{"tech_safety_check": map[string]any{}})
		c, _ := caseJSON(t, body)["code"].(string)
		return c
	}
	used, expired := code(), code()
	app := env.client()
	if status, _, _ := env.call(t, app, "POST", "/v1/app/enrol", map[string]string{"code": used}); status != http.StatusOK {
		t.Fatalf("first use = %d", status)
	}
	env.Clock.Advance(16 * time.Minute)

	var bodies []string
	before := stateDigest(t, env)
	for _, c := range []string{"ABCDEFGH", "abcd-efgh", "0OIL1", used, expired, strings.ToLower(used)} {
		status, hdr, body := env.call(t, app, "POST", "/v1/app/enrol", map[string]string{"code": c})
		if status != http.StatusNotFound {
			t.Errorf("code %q = %d, want 404", c, status)
		}
		var eb errorBody
		json.Unmarshal(body, &eb)
		eb.RequestID = ""
		b, _ := json.Marshal(eb)
		bodies = append(bodies, string(b)+hdr.Get("Content-Type"))
	}
	if after := stateDigest(t, env); after != before {
		t.Errorf("refused codes changed stored state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if len(slices.Compact(slices.Clone(bodies))) != 1 {
		t.Errorf("404 answers differ: %q", bodies)
	}
}

func TestRevealAPI(t *testing.T) {
	env := newTestEnv(t)
	cw := env.login(t, "carol", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	rita := env.login(t, "rita", []staff.Role{staff.RoleResponder}, []string{"south"})
	banned := env.login(t, "bea", []staff.Role{staff.RoleResponder}, []string{"south"})
	b := caseBody()
	b["excluded_staff"] = []string{env.users["bea"].ID}
	status, _, body := env.call(t, cw, "POST", "/v1/cases", b)
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s", status, body)
	}
	id, _ := caseJSON(t, body)["id"].(string)
	reveal := func(c *http.Client) (int, map[string]any) {
		status, _, body := env.call(t, c, "POST", "/v1/cases/"+id+"/reveal", map[string]string{"reason": "calling back after the alert"})
		return status, caseJSON(t, body)
	}

	// No claim: 403.
	if status, body := reveal(rita); status != http.StatusForbidden || body["reauth_required"] != nil {
		t.Errorf("reveal without claim = %d %v", status, body)
	}
	// Excluded staff, even holding the claim: 404, as for no case at all.
	claimAlert(t, env, id, "acknowledged", env.users["bea"].ID)
	if status, body := reveal(banned); status != http.StatusNotFound {
		t.Errorf("reveal by excluded staff = %d %v", status, body)
	}
	// Claimed, but the sign-in is older than five minutes: 403, sign in again.
	claimAlert(t, env, id, "acknowledged", env.users["rita"].ID)
	env.Clock.Advance(6 * time.Minute)
	status, eb := reveal(rita)
	if status != http.StatusForbidden || eb["reauth_required"] != true || eb["error"] != "sign in again" {
		t.Errorf("reveal with old sign-in = %d %v", status, eb)
	}
	// Sign in again, then it is revealed.
	if status, _, body := env.call(t, rita, "POST", "/v1/auth/reauth", map[string]string{
		"password": testPassword, "totp": env.code(t, "rita")}); status != http.StatusOK {
		t.Fatalf("reauth = %d %s", status, body)
	}
	status, got := reveal(rita)
	if status != http.StatusOK || got["phone"] != "+447700900123" || got["safety_notes"] != "Canary-notes: spare key under the blue flowerpot" {
		t.Errorf("reveal = %d %v", status, got)
	}
}

// TestCaseListExpiringSoon checks the team list flags the cases whose
// owner must be warned (expiry within 14 days), with their expiry, and
// that renewing one clears its flag.
func TestCaseListExpiringSoon(t *testing.T) {
	env := newTestEnv(t)
	cw := env.login(t, "carol", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	var ids []string
	for i, phone := range []string{"07700 900123", "07700 900456"} {
		b := caseBody()
		b["phone"] = phone
		b["alias"] = []string{"Heron", "Wren"}[i]
		b["code_words"] = []string{[]string{"purple umbrella weather", "orange kettle morning"}[i]}
		b["duress_words"] = []string{[]string{"grandmother teapot", "velvet lighthouse"}[i]}
		delete(b, "marac") // an active MARAC referral keeps a case alive
		status, _, body := env.call(t, cw, "POST", "/v1/cases", b)
		if status != http.StatusCreated {
			t.Fatalf("create = %d %s", status, body)
		}
		ids = append(ids, caseJSON(t, body)["id"].(string))
	}
	type entry struct {
		ID           string     `json:"id"`
		ExpiringSoon bool       `json:"expiring_soon"`
		Expired      bool       `json:"expired"`
		ExpiresAt    *time.Time `json:"expires_at"`
	}
	list := func(c *http.Client) map[string]entry {
		t.Helper()
		status, _, body := env.call(t, c, "GET", "/v1/cases?team=south", nil)
		var res struct {
			Cases []entry `json:"cases"`
		}
		if err := json.Unmarshal(body, &res); status != http.StatusOK || err != nil {
			t.Fatalf("list = %d %s", status, body)
		}
		m := map[string]entry{}
		for _, e := range res.Cases {
			m[e.ID] = e
		}
		return m
	}
	created := env.Clock.Now()
	for id, e := range list(cw) {
		if e.ExpiringSoon || e.ExpiresAt != nil {
			t.Errorf("new case %s listed as expiring: %+v", id, e)
		}
	}

	// Ten days before expiry: both are due a warning; renew the second.
	env.Clock.Advance(casework.DefaultCaseLifetime - 10*24*time.Hour)
	cw = env.login(t, "cora", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	if status, _, body := env.call(t, cw, "POST", "/v1/cases/"+ids[1]+"/renew", nil); status != http.StatusOK {
		t.Fatalf("renew = %d %s", status, body)
	}
	got := list(cw)
	wantAt := created.Add(casework.DefaultCaseLifetime)
	tests := []struct {
		name string
		id   string
		soon bool
	}{
		{"not renewed", ids[0], true},
		{"renewed", ids[1], false},
	}
	for _, tt := range tests {
		e := got[tt.id]
		if e.ExpiringSoon != tt.soon || e.Expired {
			t.Errorf("%s: expiring_soon=%t expired=%t, want %t false", tt.name, e.ExpiringSoon, e.Expired, tt.soon)
		}
		if tt.soon && (e.ExpiresAt == nil || e.ExpiresAt.Sub(wantAt).Abs() > time.Second) {
			t.Errorf("%s: expires_at = %v, want %v", tt.name, e.ExpiresAt, wantAt)
		}
		if !tt.soon && e.ExpiresAt != nil {
			t.Errorf("%s: expires_at = %v, want none", tt.name, e.ExpiresAt)
		}
	}
}
