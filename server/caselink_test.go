package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"waymark/pii"
	"waymark/staff"
)

// newCase creates a case through the API with phone (and linked, if not
// empty) and returns the status and answer.
func newCase(t *testing.T, env *testEnv, c *http.Client, team, phone, linked string) (int, map[string]any) {
	t.Helper()
	b := caseBody()
	b["team"], b["phone"] = team, phone
	words := map[string][2]string{"north": {"red lantern", "silver spoon"}, "south": {"blue kettle", "green door"}}[team]
	b["code_words"], b["duress_words"] = []string{words[0]}, []string{words[1]}
	if linked != "" {
		b["linked_case"] = linked
	}
	status, _, body := env.call(t, c, "POST", "/v1/cases", b)
	var m map[string]any
	json.Unmarshal(body, &m)
	return status, m
}

// routed lists the cases a text from phone would reach.
func routed(t *testing.T, env *testEnv, phone string) []string {
	t.Helper()
	p, err := pii.ParseE164(phone)
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := env.Store.CasesByPhone(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestLinkAcrossTeamsNeedsAdmin: a caseworker links only cases they can
// see; another team's case answers as a missing one; a link across teams
// is an administrator's decision; both cases then show it.
func TestLinkAcrossTeamsNeedsAdmin(t *testing.T) {
	env := newTestEnv(t)
	amy := env.login(t, "amy", []staff.Role{staff.RoleCaseworker}, []string{"north"})
	ben := env.login(t, "ben", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	admin := env.login(t, "ada", []staff.Role{staff.RoleAdmin}, nil)
	const phone = "+447700900555"
	status, a := newCase(t, env, amy, "north", phone, "")
	if status != http.StatusCreated {
		t.Fatalf("create in north = %d %v", status, a)
	}
	aID := a["id"].(string)

	// Team south names north's case: the same answer as for no case at all.
	status, viaLink := newCase(t, env, ben, "south", phone, aID)
	missing := aID[:len(aID)-1] + map[bool]string{true: "b", false: "a"}[aID[len(aID)-1] == 'a']
	status2, viaMissing := newCase(t, env, ben, "south", phone, missing)
	delete(viaLink, "request_id")
	delete(viaMissing, "request_id")
	if status != http.StatusUnprocessableEntity || status2 != status || !equalJSON(viaLink, viaMissing) {
		t.Fatalf("link to another team's case = %d %v; to a missing case = %d %v; want the same 422", status, viaLink, status2, viaMissing)
	}
	if got := routed(t, env, phone); !slices.Equal(got, []string{aID}) {
		t.Fatalf("texts from the phone reach %v, want only north's case", got)
	}

	// Without the link the case is created, its phone held for review.
	status, b := newCase(t, env, ben, "south", phone, "")
	if status != http.StatusCreated {
		t.Fatalf("create in south = %d %v", status, b)
	}
	bID := b["id"].(string)
	if got := routed(t, env, phone); !slices.Equal(got, []string{aID}) {
		t.Fatalf("before review, texts reach %v, want only north's case", got)
	}
	if status, _, body := env.call(t, ben, "GET", "/v1/reviews/phones", nil); status != http.StatusForbidden {
		t.Errorf("caseworker lists reviews = %d %s", status, body)
	}
	status, _, body := env.call(t, admin, "GET", "/v1/reviews/phones", nil)
	var list struct {
		Reviews []phoneReviewView `json:"reviews"`
	}
	json.Unmarshal(body, &list)
	if status != http.StatusOK || len(list.Reviews) != 1 || list.Reviews[0].Case != bID || list.Reviews[0].Team != "south" ||
		len(list.Reviews[0].Others) != 1 || list.Reviews[0].Others[0].ID != aID {
		t.Fatalf("reviews = %d %s", status, body)
	}

	// The administrator links them: both cases show it, texts reach both.
	if status, _, body := env.call(t, admin, "POST", "/v1/reviews/phones/"+bID, map[string]string{"decision": "link"}); status != http.StatusNoContent {
		t.Fatalf("link = %d %s", status, body)
	}
	want := []string{aID, bID}
	slices.Sort(want)
	if got := routed(t, env, phone); !slices.Equal(got, want) {
		t.Errorf("after the link, texts reach %v, want %v", got, want)
	}
	for _, tc := range []struct {
		c        *http.Client
		id, link string
	}{{amy, aID, bID}, {ben, bID, aID}} {
		status, _, body := env.call(t, tc.c, "GET", "/v1/cases/"+tc.id, nil)
		if got := caseJSON(t, body)["linked_case"]; status != http.StatusOK || got != tc.link {
			t.Errorf("case %s shows linked_case %v (%d), want %s", tc.id, got, status, tc.link)
		}
	}
	if status, _, body := env.call(t, admin, "GET", "/v1/reviews/phones", nil); status != http.StatusOK || string(body) != "{\"reviews\":[]}\n" {
		t.Errorf("reviews after the decision = %d %s", status, body)
	}
}

// TestLinkInTeamShowsOnBoth: a caseworker linking a case of their own
// team needs no administrator, and both cases show the link.
func TestLinkInTeamShowsOnBoth(t *testing.T) {
	env := newTestEnv(t)
	cw := env.login(t, "carol", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	const phone = "+447700900556"
	status, a := newCase(t, env, cw, "south", phone, "")
	if status != http.StatusCreated {
		t.Fatalf("create = %d %v", status, a)
	}
	b := caseBody()
	b["phone"], b["linked_case"] = phone, a["id"]
	b["code_words"], b["duress_words"] = []string{"orange bicycle"}, []string{"yellow piano"}
	status, _, body := env.call(t, cw, "POST", "/v1/cases", b)
	if status != http.StatusCreated {
		t.Fatalf("create linked = %d %s", status, body)
	}
	bID := caseJSON(t, body)["id"].(string)
	status, _, body = env.call(t, cw, "GET", "/v1/cases/"+a["id"].(string), nil)
	if got := caseJSON(t, body)["linked_case"]; status != http.StatusOK || got != bID {
		t.Errorf("the first case shows linked_case %v, want %s", got, bID)
	}
}

// TestPhoneClashAnswerSameEitherWay: whether a number is enrolled in
// another team changes nothing in a caseworker's answers, creating or
// changing a case.
func TestPhoneClashAnswerSameEitherWay(t *testing.T) {
	env := newTestEnv(t)
	amy := env.login(t, "amy", []staff.Role{staff.RoleCaseworker}, []string{"north"})
	ben := env.login(t, "ben", []staff.Role{staff.RoleCaseworker}, []string{"south"})
	const enrolled, fresh, fresh2 = "+447700900601", "+447700900602", "+447700900603"
	if status, m := newCase(t, env, amy, "north", enrolled, ""); status != http.StatusCreated {
		t.Fatalf("create = %d %v", status, m)
	}
	s1, m1 := newCase(t, env, ben, "south", enrolled, "")
	s2, m2 := newCase(t, env, ben, "south", fresh, "")
	if s1 != s2 || s1 != http.StatusCreated || !slices.Equal(keysOf(m1), keysOf(m2)) {
		t.Fatalf("create with an enrolled number = %d %v; with a fresh one = %d %v", s1, m1, s2, m2)
	}
	// Changing a case's phone: the same.
	p1, _, b1 := env.call(t, ben, "PATCH", "/v1/cases/"+m2["id"].(string), map[string]string{"phone": enrolled})
	_, m3 := newCase(t, env, ben, "south", fresh2, "")
	p2, _, b2 := env.call(t, ben, "PATCH", "/v1/cases/"+m3["id"].(string), map[string]string{"phone": "+447700900604"})
	k1, k2 := caseJSON(t, b1), caseJSON(t, b2)
	if p1 != p2 || p1 != http.StatusOK || !slices.Equal(keysOf(k1), keysOf(k2)) {
		t.Fatalf("patch to an enrolled number = %d %s; to a fresh one = %d %s", p1, b1, p2, b2)
	}
}

func equalJSON(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
