package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"waymark/casework"
	"waymark/codeword"
	"waymark/internal/randid"
	"waymark/internal/testclock"
	"waymark/internal/testenv"
	"waymark/pii"
	"waymark/problem"
	"waymark/seal"
	"waymark/staff"
)

// caseEnv is a Cases service on a Store on a private redis-server.
type caseEnv struct {
	s     *testStore
	r     *testenv.Redis
	cases *casework.Cases
	clock *testclock.Clock
	pins  *seal.PINKey
	// k1 is the secret of the active key-encryption key "k1".
	k1 []byte
	// worker is a caseworker of team "south"; responder a responder there.
	worker, responder *staff.Principal
}

const testCheckinWord = "OK"

func newCaseEnv(t *testing.T, opts testenv.RedisOptions) *caseEnv {
	t.Helper()
	s, r := newTestStore(t, opts)
	clock := testclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	s.Now = clock.Now
	pins, err := seal.NewPINKey(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	e := &caseEnv{s: s, r: r, clock: clock, pins: pins, k1: seal.NewRandomKey()}
	kr, err := seal.NewKeyring([]seal.Key{{ID: "k1", Secret: e.k1}})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := seal.NewIndex(seal.NewRandomKey(), 8)
	if err != nil {
		t.Fatal(err)
	}
	s.swapCrypto(Crypto{Keyring: kr, Index: ix, TagKey: seal.NewRandomKey()})
	e.cases = e.service(t, s)
	e.worker = e.principal(staff.RoleCaseworker)
	e.responder = e.principal(staff.RoleResponder)
	return e
}

func (e *caseEnv) service(t *testing.T, s *testStore) *casework.Cases {
	t.Helper()
	c, err := casework.NewCases(casework.CasesOptions{Store: s, PINs: e.pins, CheckinWord: testCheckinWord,
		Lifetime: 90 * 24 * time.Hour, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *caseEnv) principal(roles ...staff.Role) *staff.Principal {
	return &staff.Principal{StaffID: randid.New("s_", 20), Roles: roles, Teams: []string{"south"}, AuthAt: e.clock.Now()}
}

func ptr[T any](v T) *T { return &v }

// canary values: none of them may ever appear in Redis in the clear.
const (
	canaryPhone    = "07700 900123"
	canaryNotes    = "Canary-notes: spare key under the blue flowerpot"
	canaryPlan     = "Canary-plan: non-molestation order until June"
	canaryAlias    = "Canary Heron"
	canaryOpening  = "Canary-opening: hello, is that about the yoga class?"
	canaryLead     = "Canary Safeguarding Lead"
	canaryCode     = "purple umbrella weather"
	canaryDuress   = "grandmother teapot"
	canaryPIN      = "24681357"
	canaryDuressPN = "97531864"
)

func canaryInput() casework.CaseInput {
	return casework.CaseInput{
		Phone:         ptr(canaryPhone),
		Alias:         ptr(canaryAlias),
		Team:          ptr("south"),
		RiskLevel:     ptr("high"),
		RiskDate:      ptr("2026-02-20"),
		MARAC:         &casework.MARACInput{Referred: true, Date: "2026-02-25"},
		Communication: &casework.Communication{Language: "ur", Needs: []casework.CommNeed{casework.NeedInterpreter}, InterpreterGender: "female"},
		Children:      &casework.Children{Count: 2, AgeBands: []string{"0-4", "5-10"}},
		CodeWords:     []string{canaryCode},
		DuressWords:   []string{canaryDuress},
		PIN:           ptr(canaryPIN),
		DuressPIN:     ptr(canaryDuressPN),
		Notes:         ptr(canaryNotes),
		SafeContact: &casework.SafeContactInput{
			Windows:     []casework.Window{{Days: []string{"mon", "wed"}, From: "10:00", To: "12:00"}},
			Channels:    casework.Channels{Call: true, SMS: true},
			OpeningLine: canaryOpening,
		},
		ResponsePlan:     ptr(canaryPlan),
		Under18:          ptr(true),
		SafeguardingLead: ptr(canaryLead),
	}
}

func (e *caseEnv) create(t *testing.T, in casework.CaseInput) *casework.Case {
	t.Helper()
	c, err := e.cases.Create(context.Background(), e.worker, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return c
}

// simpleInput is a minimal valid case on phone.
func simpleInput(phone, code string) casework.CaseInput {
	return casework.CaseInput{Phone: ptr(phone), Alias: ptr("Robin"), Team: ptr("south"), RiskLevel: ptr("medium"),
		CodeWords: []string{code}, PIN: ptr("1111"), DuressPIN: ptr("2222")}
}

// claimAlert writes what the alert service keeps for a case's open alert:
// keys.caseOpenAlert → alert id, and the alert hash's plain case, state and
// owner fields.
func claimAlert(t *testing.T, s *testStore, caseID, state, owner string) {
	t.Helper()
	ctx := context.Background()
	aid := randid.New("a_", 20)
	if err := s.RDB.Set(ctx, s.k.caseOpenAlert(caseID), aid, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.RDB.HSet(ctx, s.k.AlertRecord(aid), "case", caseID, "team", "south", "state", state, "owner", owner).Err(); err != nil {
		t.Fatal(err)
	}
}

// caseDigest is a digest of every key and value of the tenant, to show an
// operation changed nothing. It needs --enable-debug-command.
func caseDigest(t *testing.T, s *testStore) string {
	t.Helper()
	ctx := context.Background()
	keys, err := s.scanKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range keys {
		d, err := s.RDB.Do(ctx, "DEBUG", "DIGEST-VALUE", k).StringSlice()
		if err != nil {
			t.Fatalf("DEBUG DIGEST-VALUE: %v (start redis with --enable-debug-command yes)", err)
		}
		b.WriteString(k + "=" + strings.Join(d, "") + "\n")
	}
	return b.String()
}

var debugArgs = []string{"--enable-debug-command", "yes"}

// dumpArgs make redis-cli --rdb answer at once: Redis 7 otherwise waits
// five seconds for more replicas before a diskless transfer.
var dumpArgs = []string{"--repl-diskless-sync-delay", "0"}

func TestCaseRoundTrip(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	c := e.create(t, canaryInput())
	got, err := e.cases.Get(ctx, e.worker, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pii.ParsePhone(canaryPhone, "GB")
	if !got.Phone.Equal(want) || got.SafetyNotes.Reveal() != canaryNotes || got.Alias.Reveal() != canaryAlias ||
		got.ResponsePlan.Reveal() != canaryPlan || got.Contact.OpeningLine.Reveal() != canaryOpening ||
		got.SafeguardingLead.Reveal() != canaryLead {
		t.Error("sealed text fields did not round-trip")
	}
	if diff := cmp.Diff(c, got, cmpopts.IgnoreFields(casework.Case{}, "Devices"), cmpopts.EquateEmpty(),
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("Get (-created +loaded):\n%s", diff)
	}
	if got.Owner != e.worker.StaffID || got.Version != 1 || !got.MARAC.Referred || got.Risk != casework.RiskHigh {
		t.Errorf("loaded owner/version/marac/risk = %s/%d/%v/%s", got.Owner, got.Version, got.MARAC.Referred, got.Risk)
	}
	meta, err := e.s.LoadCaseMeta(ctx, c.ID)
	if err != nil || meta.Team != "south" || !meta.Alias.IsZero() || !meta.Phone.IsZero() || len(meta.CodeWords) != 0 {
		t.Errorf("LoadCaseMeta = %v: want plain fields only", err)
	}
	if r, d := e.cases.CheckPIN(meta, canaryDuressPN); r || !d {
		t.Error("LoadCaseMeta lacks the PIN hashes")
	}
	isReal, isDuress := e.cases.CheckPIN(got, canaryPIN)
	if !isReal || isDuress {
		t.Errorf("CheckPIN(real) = %v,%v", isReal, isDuress)
	}
	isReal, isDuress = e.cases.CheckPIN(got, canaryDuressPN)
	if isReal || !isDuress {
		t.Errorf("CheckPIN(duress) = %v,%v", isReal, isDuress)
	}
	m, err := e.cases.Matcher(got)
	if err != nil {
		t.Fatal(err)
	}
	if mt := m.Match("Purple umbrella weather today?"); mt.Kind != codeword.Panic {
		t.Errorf("match = %+v", mt)
	}
	list, err := e.cases.List(ctx, e.worker, "south")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != c.ID || list[0].Alias.Reveal() != canaryAlias || list[0].Risk != casework.RiskHigh {
		t.Errorf("List = %+v", list)
	}
	if _, err := e.cases.List(ctx, e.worker, "north"); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("List of another team = %v, want forbidden", err)
	}
	// A caseworker of another team sees nothing.
	other := e.principal(staff.RoleCaseworker)
	other.Teams = []string{"north"}
	if _, err := e.cases.Get(ctx, other, c.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("Get by another team = %v, want not found", err)
	}
}

// TestRedisDumpHoldsNoPersonalData is the canary: after enrolling a case, an
// uncompressed RDB dump holds none of its phone forms, notes, words or PINs.
func TestRedisDumpHoldsNoPersonalData(t *testing.T) {
	testenv.RequireBinary(t, "redis-cli", "apt-get install -y redis-tools")
	e := newCaseEnv(t, testenv.RedisOptions{Args: append([]string{"--rdbcompression", "no"}, dumpArgs...)})
	c := e.create(t, canaryInput())
	ctx := context.Background()
	if _, err := e.cases.IssueEnrolment(ctx, e.worker, c.ID, casework.TechSafetyInput{Notes: canaryNotes + " (tech)"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cases.Reveal(ctx, e.worker, c.ID, "Canary-reason: checking the number"); err != nil {
		t.Fatal(err)
	}
	dump := rdbDump(t, e.r)
	if len(dump) < 100 || !bytes.Contains(dump, []byte(c.ID)) {
		t.Fatalf("dump of %d bytes lacks the case id: not a real dump?", len(dump))
	}
	for _, s := range []string{
		"07700900123", "+447700900123", "447700900123", "07700 900123", "7700900123", "7700 900123",
		canaryNotes, "spare key", canaryPlan, canaryAlias, canaryOpening, canaryLead, "Canary-reason",
		canaryCode, strings.ToUpper(canaryCode), "umbrella", canaryDuress, "teapot", canaryPIN, canaryDuressPN,
	} {
		if bytes.Contains(bytes.ToLower(dump), bytes.ToLower([]byte(s))) {
			t.Errorf("redis dump contains %q", s)
		}
	}
}

// rdbDump takes an RDB snapshot of r through redis-cli --rdb.
func rdbDump(t *testing.T, r *testenv.Redis) []byte {
	t.Helper()
	file := filepath.Join(t.TempDir(), "dump.RDB")
	out, err := exec.Command("redis-cli", "-s", r.Addr(), "--rdb", file).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --rdb: %v\n%s", err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBackupUnreadableAfterEraseAndRotation: a copy of Redis taken before an
// erasure stays readable only until the key-encryption key that wrapped the
// case's data key is retired.
func TestBackupUnreadableAfterEraseAndRotation(t *testing.T) {
	testenv.RequireBinary(t, "redis-cli", "apt-get install -y redis-tools")
	e := newCaseEnv(t, testenv.RedisOptions{Args: dumpArgs})
	ctx := context.Background()
	c := e.create(t, canaryInput())
	keep := e.create(t, simpleInput("07700900456", "lemon drizzle cake"))
	old := e.s.Crypto

	backup := rdbDump(t, e.r)
	if err := e.cases.Erase(ctx, e.worker, c.ID); err != nil {
		t.Fatal(err)
	}

	// Rotate: the new key first, the old one second; then retire the old.
	newKey := seal.Key{ID: "k2", Secret: seal.NewRandomKey()}
	both, err := seal.NewKeyring([]seal.Key{newKey, {ID: "k1", Secret: e.k1}})
	if err != nil {
		t.Fatal(err)
	}
	e.s.swapCrypto(Crypto{Keyring: both, Index: old.Index, TagKey: old.TagKey})
	var steps [][2]int
	rep, err := e.s.Rotate(ctx, func(done, total int) { steps = append(steps, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Remaining["k1"] != 0 || !rep.Retirable("k1") || rep.Unreadable != 0 {
		t.Fatalf("after rotation: %+v, want nothing left under k1", rep)
	}
	if rep.Rewrapped != 1 { // the kept case's data key (no reason audited yet, so no audit key)
		t.Errorf("rewrapped %d data keys, want 1", rep.Rewrapped)
	}
	if len(steps) == 0 || steps[len(steps)-1][0] != steps[len(steps)-1][1] {
		t.Errorf("progress = %v, want it to end at done == total", steps)
	}
	newOnly, err := both.Without("k1")
	if err != nil {
		t.Fatal(err)
	}
	e.s.swapCrypto(Crypto{Keyring: newOnly, Index: old.Index, TagKey: old.TagKey})
	if _, err := e.s.LoadCase(ctx, keep.ID); err != nil {
		t.Fatalf("kept case unreadable after rotation: %v", err)
	}
	if recs, err := e.s.ReadAudit(ctx, 100); err != nil || len(recs) == 0 {
		t.Fatalf("audit unreadable after rotation: %v", err)
	}

	// Restore the pre-erasure copy into a fresh redis-server.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "backup.RDB"), backup, 0o600); err != nil {
		t.Fatal(err)
	}
	restored := testenv.StartRedis(t, testenv.RedisOptions{Args: []string{"--dir", dir, "--dbfilename", "backup.RDB"}})
	rs, err := testOpen(Options{Tenant: "test", URL: restored.URL(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	// With the old key the copy opens: it really holds the case.
	rs.swapCrypto(old)
	if got, err := rs.LoadCase(ctx, c.ID); err != nil || got.SafetyNotes.Reveal() != canaryNotes {
		t.Fatalf("backup with the old key: %v", err)
	}
	// With the new keyring only, nothing of it opens.
	rs.swapCrypto(Crypto{Keyring: newOnly, Index: old.Index, TagKey: old.TagKey})
	if _, err := rs.LoadCase(ctx, c.ID); !errors.Is(err, seal.ErrUnknownKey) {
		t.Errorf("backup LoadCase with new keys = %v, want unknown key", err)
	}
	phone, _ := pii.ParsePhone(canaryPhone, "GB")
	if got, _, err := rs.CasesByPhone(ctx, phone); err != nil || len(got) != 0 {
		t.Errorf("backup CasesByPhone with new keys = %v, %v; want nothing found", got, err)
	}
	h, err := rs.RDB.HGetAll(ctx, rs.k.CaseRecord(c.ID)).Result()
	if err != nil || len(h) == 0 {
		t.Fatalf("backup lacks the record: %v", err)
	}
	wrapped, _ := rs.RDB.Get(ctx, rs.k.caseDataKey(c.ID)).Bytes()
	if _, err := newOnly.UnwrapDataKey(wrapped, seal.AD{Key: rs.k.caseDataKey(c.ID)}); err == nil {
		t.Error("the backup's data key unwraps with the new keyring")
	}
}

func TestCaseValidation(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{Args: debugArgs})
	ctx := context.Background()
	before := caseDigest(t, e.s)
	for _, tc := range []struct {
		name   string
		edit   func(*casework.CaseInput)
		fields []string
		text   string // in the problem of the first field
	}{
		{"carrier keyword", func(in *casework.CaseInput) { in.CodeWords = []string{"STOP"} }, []string{"code_words[0]"}, `"STOP"`},
		{"carrier keyword help", func(in *casework.CaseInput) { in.DuressWords = []string{"Help"} }, []string{"duress_words[0]"}, `"Help"`},
		{"short word", func(in *casework.CaseInput) { in.CodeWords = []string{"sos"} }, []string{"code_words[0]"}, "shorter"},
		{"clash", func(in *casework.CaseInput) { in.DuressWords = []string{"purple umbrella weather"} }, []string{"duress_words[0]"}, "clashes"},
		{"checkin clash", func(in *casework.CaseInput) { in.CodeWords = []string{"ok"} }, []string{"code_words[0]", "code_words[0]"}, ""},
		{"bad phone", func(in *casework.CaseInput) { in.Phone = ptr("12") }, []string{"phone"}, "valid phone"},
		{"same pins", func(in *casework.CaseInput) { in.DuressPIN = in.PIN }, []string{"duress_pin"}, "differ"},
		{"short pin", func(in *casework.CaseInput) { in.PIN = ptr("12") }, []string{"pin"}, "4 to 8"},
		{"letters pin", func(in *casework.CaseInput) { in.PIN = ptr("12ab") }, []string{"pin"}, "4 to 8"},
		{"missing", func(in *casework.CaseInput) { *in = casework.CaseInput{} }, []string{"alias", "code_words", "duress_pin", "phone", "pin", "risk_level", "team"}, "required"},
		{"other team", func(in *casework.CaseInput) { in.Team = ptr("north") }, []string{"team"}, "your teams"},
		{"under 18 without lead", func(in *casework.CaseInput) { in.SafeguardingLead = ptr("") }, []string{"safeguarding_lead"}, "under 18"},
		{"future risk date", func(in *casework.CaseInput) { in.RiskDate = ptr("2030-01-01") }, []string{"risk_date"}, "future"},
		{"marac without date", func(in *casework.CaseInput) { in.MARAC = &casework.MARACInput{Referred: true} }, []string{"marac.date"}, "required"},
		{"bad window", func(in *casework.CaseInput) {
			in.SafeContact = &casework.SafeContactInput{Windows: []casework.Window{{Days: []string{"someday"}, From: "25:00", To: "x"}}}
		}, []string{"safe_contact.windows[0].days", "safe_contact.windows[0].from", "safe_contact.windows[0].to"}, ""},
		{"children", func(in *casework.CaseInput) {
			in.Children = &casework.Children{Count: 1, AgeBands: []string{"0-4", "99"}}
		},
			[]string{"children.age_bands", "children.age_bands[1]"}, ""},
		{"communication", func(in *casework.CaseInput) {
			in.Communication = &casework.Communication{Language: "Urdu", Needs: []casework.CommNeed{"telepathy"}, InterpreterGender: "x"}
		}, []string{"communication.interpreter_gender", "communication.language", "communication.needs[0]"}, ""},
		{"excluded owner", func(in *casework.CaseInput) {
			id := randid.New("s_", 20)
			in.Owner, in.ExcludedStaff = ptr(id), []string{id}
		}, []string{"owner"}, "excluded"},
		{"exclude self", func(in *casework.CaseInput) { in.ExcludedStaff = []string{e.worker.StaffID} }, []string{"excluded_staff[0]"}, "yourself"},
		{"bad staff id", func(in *casework.CaseInput) { in.ExcludedStaff = []string{"bob"} }, []string{"excluded_staff[0]"}, "staff id"},
		{"unknown linked case", func(in *casework.CaseInput) { in.LinkedCase = ptr(randid.New("c_", 20)) }, []string{"linked_case"}, "another case"},
		{"control chars", func(in *casework.CaseInput) { in.Alias = ptr("a\x00b") }, []string{"alias"}, "control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := canaryInput()
			tc.edit(&in)
			_, err := e.cases.Create(ctx, e.worker, in)
			var inv *problem.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("Create = %v, want *problem.Invalid", err)
			}
			var names []string
			for _, f := range inv.Fields {
				names = append(names, f.Name)
			}
			if diff := cmp.Diff(tc.fields, names); diff != "" {
				t.Errorf("fields (-want +got):\n%s\n%v", diff, inv)
			}
			if tc.text != "" && !strings.Contains(inv.Fields[0].Problem, tc.text) {
				t.Errorf("problem %q lacks %q", inv.Fields[0].Problem, tc.text)
			}
		})
	}
	if after := caseDigest(t, e.s); after != before {
		t.Errorf("refused input changed stored state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestOnePhoneTwoCases(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	first := e.create(t, simpleInput("07700900123", "lemon drizzle cake"))

	// Unlinked: refused.
	_, err := e.cases.Create(ctx, e.worker, simpleInput("+44 7700 900123", "carrot cake slice"))
	if !hasProblem(err, "phone", "linked_case") {
		t.Fatalf("unlinked second case = %v", err)
	}
	// Linked, but a word clashes with the other case's.
	in := simpleInput("447700900123", "Lemon Drizzle Cake")
	in.LinkedCase = ptr(first.ID)
	_, err = e.cases.Create(ctx, e.worker, in)
	if !hasProblem(err, "code_words[0]", "linked case") {
		t.Fatalf("clashing words = %v", err)
	}
	if strings.Contains(err.Error(), "lemon drizzle cake") {
		t.Error("refusal names the other case's word")
	}
	// Linked with different words: allowed, and the phone reaches both.
	in.CodeWords = []string{"carrot cake slice"}
	second := e.create(t, in)
	phone, _ := pii.ParsePhone("07700900123", "GB")
	got, err := e.cases.CasesByPhone(ctx, phone)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{got[0].ID}
	if len(got) == 2 {
		ids = append(ids, got[1].ID)
	}
	slices.Sort(ids)
	want := []string{first.ID, second.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("CasesByPhone = %v, want %v", ids, want)
	}
	// Both cases show the link.
	if got, err := e.cases.Get(ctx, e.worker, first.ID); err != nil || got.LinkedCase != second.ID {
		t.Errorf("first case links to %q (%v), want %s", got.LinkedCase, err, second.ID)
	}
	// A third case on that phone is refused even if linked.
	third := simpleInput("07700900123", "banana bread loaf")
	third.LinkedCase = ptr(second.ID)
	if _, err := e.cases.Create(ctx, e.worker, third); !hasProblem(err, "linked_case", "already linked") {
		t.Errorf("third case = %v", err)
	}
	third.LinkedCase = nil
	if _, err := e.cases.Create(ctx, e.worker, third); !hasProblem(err, "phone", "two cases") {
		t.Errorf("third case = %v", err)
	}
	// Unlinking while the phone is shared is refused.
	if _, err := e.cases.Update(ctx, e.worker, second.ID, casework.CaseInput{LinkedCase: ptr("")}); !hasProblem(err, "phone", "linked_case") {
		t.Errorf("unlink = %v", err)
	}
	// An unknown number finds nothing, with no error.
	none, _ := pii.ParsePhone("07700900999", "GB")
	if got, err := e.cases.CasesByPhone(ctx, none); err != nil || len(got) != 0 {
		t.Errorf("unknown number = %v, %v", got, err)
	}
}

func hasProblem(err error, field, text string) bool {
	var inv *problem.Invalid
	if !errors.As(err, &inv) {
		return false
	}
	for _, f := range inv.Fields {
		if f.Name == field && strings.Contains(f.Problem, text) {
			return true
		}
	}
	return false
}

func TestCaseUpdate(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	e.worker.Teams = []string{"south", "north"}
	c := e.create(t, simpleInput("07700900123", "lemon drizzle cake"))

	// A new real PIN equal to the stored duress PIN is refused.
	if _, err := e.cases.Update(ctx, e.worker, c.ID, casework.CaseInput{PIN: ptr("2222")}); !hasProblem(err, "pin", "differ") {
		t.Errorf("pin = stored duress: %v", err)
	}
	if _, err := e.cases.Update(ctx, e.worker, c.ID, casework.CaseInput{DuressPIN: ptr("1111")}); !hasProblem(err, "duress_pin", "differ") {
		t.Errorf("duress = stored pin: %v", err)
	}
	up, err := e.cases.Update(ctx, e.worker, c.ID, casework.CaseInput{
		PIN: ptr("3333"), Team: ptr("north"), Phone: ptr("07700900124"), Notes: ptr("moved house"),
		DuressWords: []string{"blue sky thinking"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.cases.Load(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Team != "north" || got.SafetyNotes.Reveal() != "moved house" || got.Version != up.Version ||
		!slices.Equal(got.DuressWords, []string{"blue sky thinking"}) || !slices.Equal(got.CodeWords, c.CodeWords) {
		t.Errorf("after update: team %s, version %d/%d, words %v %v", got.Team, got.Version, up.Version, got.CodeWords, got.DuressWords)
	}
	if r, _ := e.cases.CheckPIN(got, "3333"); !r {
		t.Error("new PIN does not check")
	}
	if _, d := e.cases.CheckPIN(got, "2222"); !d {
		t.Error("unchanged duress PIN no longer checks")
	}
	oldPhone, _ := pii.ParsePhone("07700900123", "GB")
	newPhone, _ := pii.ParsePhone("07700900124", "GB")
	if cs, _ := e.cases.CasesByPhone(ctx, oldPhone); len(cs) != 0 {
		t.Error("old phone still finds the case")
	}
	if cs, _ := e.cases.CasesByPhone(ctx, newPhone); len(cs) != 1 {
		t.Error("new phone does not find the case")
	}
	if ids, _ := e.s.RDB.SMembers(ctx, e.s.k.teamCases("south")).Result(); len(ids) != 0 {
		t.Errorf("old team still lists %v", ids)
	}
	// An update decided on an old version is refused as stale.
	stale := *got
	stale.Version--
	if err := e.s.UpdateCase(ctx, &stale, &stale, ""); !errors.Is(err, casework.ErrCaseStale) {
		t.Errorf("stale update = %v", err)
	}
}

func TestExcludedStaffSeeNothing(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	banned := e.principal(staff.RoleCaseworker, staff.RoleResponder, staff.RoleAdmin)
	in := canaryInput()
	in.ExcludedStaff = []string{banned.StaffID}
	c := e.create(t, in)
	claimAlert(t, e.s, c.ID, "acknowledged", banned.StaffID)
	notFound := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, problem.ErrNotFound) {
			t.Errorf("%s by excluded staff = %v, want not found", name, err)
		}
	}
	_, err := e.cases.Get(ctx, banned, c.ID)
	notFound("Get", err)
	_, err = e.cases.Update(ctx, banned, c.ID, casework.CaseInput{Notes: ptr("x")})
	notFound("Update", err)
	_, err = e.cases.Renew(ctx, banned, c.ID)
	notFound("Renew", err)
	notFound("Erase", e.cases.Erase(ctx, banned, c.ID))
	_, err = e.cases.IssueEnrolment(ctx, banned, c.ID, casework.TechSafetyInput{})
	notFound("IssueEnrolment", err)
	notFound("RevokeDevice", e.cases.RevokeDevice(ctx, banned, c.ID, randid.New("d_", 12)))
	notFound("SetLegalHold", e.cases.SetLegalHold(ctx, banned, c.ID, true))
	_, err = e.cases.Reveal(ctx, banned, c.ID, "on a call")
	notFound("Reveal", err)
	list, err := e.cases.List(ctx, banned, "south")
	if err != nil || len(list) != 0 {
		t.Errorf("List by excluded staff = %v, %v", list, err)
	}
	// A linked case may not name it either.
	in2 := simpleInput("07700900777", "lemon drizzle cake")
	in2.LinkedCase = ptr(c.ID)
	if _, err := e.cases.Create(ctx, banned, in2); !hasProblem(err, "linked_case", "another case") {
		t.Errorf("linking to a case one is excluded from = %v", err)
	}
}

func TestReveal(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	c := e.create(t, canaryInput())
	r := e.responder

	// No claim: refused.
	if _, err := e.cases.Reveal(ctx, r, c.ID, "checking in"); !errors.Is(err, problem.ErrForbidden) || errors.Is(err, casework.ErrReauth) {
		t.Errorf("reveal without claim = %v, want forbidden", err)
	}
	// Someone else's claim: refused.
	claimAlert(t, e.s, c.ID, "acknowledged", randid.New("s_", 20))
	if _, err := e.cases.Reveal(ctx, r, c.ID, "checking in"); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("reveal on someone else's claim = %v", err)
	}
	// Own claim of an alert merely raised: refused.
	claimAlert(t, e.s, c.ID, "raised", r.StaffID)
	if _, err := e.cases.Reveal(ctx, r, c.ID, "checking in"); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("reveal on a raised alert = %v", err)
	}
	// Own claim, but signed in too long ago: sign in again.
	claimAlert(t, e.s, c.ID, "working", r.StaffID)
	stale := *r
	stale.AuthAt = e.clock.Now().Add(-6 * time.Minute)
	if _, err := e.cases.Reveal(ctx, &stale, c.ID, "checking in"); !errors.Is(err, casework.ErrReauth) {
		t.Errorf("reveal with old sign-in = %v, want ErrReauth", err)
	}
	// Own claim, fresh sign-in, a reason: revealed.
	got, err := e.cases.Reveal(ctx, r, c.ID, "Canary-reason: calling back")
	if err != nil {
		t.Fatal(err)
	}
	if got.Phone.Reveal() != "+447700900123" || got.SafetyNotes.Reveal() != canaryNotes {
		t.Errorf("revealed the wrong data")
	}
	if _, err := e.cases.Reveal(ctx, r, c.ID, "  "); !hasProblem(err, "reason", "required") {
		t.Errorf("reveal without reason = %v", err)
	}
	// The owner caseworker may reveal without a claim.
	if _, err := e.cases.Reveal(ctx, e.worker, c.ID, "updating the record"); err != nil {
		t.Errorf("owner reveal = %v", err)
	}
	// Another caseworker of the team may not.
	if _, err := e.cases.Reveal(ctx, e.principal(staff.RoleCaseworker), c.ID, "curious"); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("non-owner caseworker reveal = %v", err)
	}
	// Rate limit: five attempts per hour per staff member (the responder
	// has made five), then refused.
	if _, err := e.cases.Reveal(ctx, r, c.ID, "once more"); !errors.Is(err, problem.ErrTooMany) {
		t.Errorf("6th reveal in an hour = %v, want too many", err)
	}
	e.clock.Advance(61 * time.Minute)
	r.AuthAt = e.clock.Now()
	if _, err := e.cases.Reveal(ctx, r, c.ID, "next hour"); err != nil {
		t.Errorf("reveal after the window = %v", err)
	}
	// A duress signal on the open alert: the reveal still works (police
	// may need the number) and records the verdict DO NOT CONTACT.
	aid, _ := e.s.RDB.Get(ctx, e.s.k.caseOpenAlert(c.ID)).Result()
	if err := e.s.RDB.HSet(ctx, e.s.k.AlertRecord(aid), "class", "duress").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cases.Reveal(ctx, r, c.ID, "for the police"); err != nil {
		t.Errorf("reveal under duress = %v", err)
	}

	// Every reveal and refusal is in the audit trail, reasons sealed.
	recs, err := e.s.ReadAudit(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, rec := range recs {
		if rec.Action == "case.reveal" {
			outcomes = append(outcomes, rec.Outcome)
			if rec.CaseID != c.ID || rec.At.IsZero() || rec.Actor == "" {
				t.Errorf("audit entry %+v lacks who/what/when", rec)
			}
		}
	}
	// Each reveal records the contact verdict at that moment.
	want := []string{"refused: no claim", "refused: no claim", "refused: no claim", "refused: sign-in too old", "ok: verdict SAFE TO CALL",
		"ok: verdict SAFE TO CALL", "refused: no claim", "refused: rate limit", "ok: verdict SAFE TO CALL", "ok: verdict DO NOT CONTACT"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("audit outcomes (-want +got):\n%s", diff)
	}
	found := false
	for _, rec := range recs {
		found = found || rec.Reason.Reveal() == "Canary-reason: calling back"
	}
	if !found {
		t.Error("audit lacks the reveal's reason")
	}
	raw, _ := e.s.RDB.XRange(ctx, e.s.k.audit(), "-", "+").Result()
	for _, m := range raw {
		for _, v := range m.Values {
			if strings.Contains(v.(string), "Canary-reason") {
				t.Error("audit stream holds a reason in the clear")
			}
		}
	}
}

func TestEnrolment(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{Args: debugArgs})
	ctx := context.Background()
	c := e.create(t, simpleInput("07700900123", "lemon drizzle cake"))

	en, err := e.cases.IssueEnrolment(ctx, e.worker, c.ID, casework.TechSafetyInput{OthersHaveAccess: false, Notes: "phone is new, own account"})
	if err != nil {
		t.Fatal(err)
	}
	if len(en.Code) != 8 || strings.ContainsAny(en.Code, "0O1IL") || !en.ExpiresAt.Equal(e.clock.Now().Add(15*time.Minute)) {
		t.Errorf("enrolment = %q, %v", en.Code, en.ExpiresAt)
	}
	loaded, _ := e.cases.Load(ctx, c.ID)
	if loaded.TechSafety == nil || loaded.TechSafety.RecordedBy != e.worker.StaffID || loaded.TechSafety.Notes.Reveal() != "phone is new, own account" {
		t.Errorf("tech-safety check not recorded: %+v", loaded.TechSafety)
	}

	before := caseDigest(t, e.s)
	for _, code := range []string{"ABCDEFGH", "", "0000000", strings.ToLower(en.Code) + "X"} {
		if _, _, err := e.cases.Enrol(ctx, code); !errors.Is(err, problem.ErrNotFound) {
			t.Errorf("Enrol(wrong %q) = %v, want not found", code, err)
		}
	}
	if after := caseDigest(t, e.s); after != before {
		t.Error("a wrong code changed stored state")
	}

	// Typed in lower case with a dash: accepted once.
	typed := strings.ToLower(en.Code[:4] + "-" + en.Code[4:])
	token, dev, err := e.cases.Enrol(ctx, typed)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 43 || !casework.ValidDeviceID(dev) {
		t.Errorf("token %d chars, device %q", len(token), dev)
	}
	before = caseDigest(t, e.s)
	if _, _, err := e.cases.Enrol(ctx, en.Code); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("reused code = %v, want not found", err)
	}
	if after := caseDigest(t, e.s); after != before {
		t.Error("a reused code changed stored state")
	}

	// Expired: refused the same way, without change.
	en2, err := e.cases.IssueEnrolment(ctx, e.worker, c.ID, casework.TechSafetyInput{})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(15*time.Minute + time.Second)
	before = caseDigest(t, e.s)
	if _, _, err := e.cases.Enrol(ctx, en2.Code); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("expired code = %v, want not found", err)
	}
	if after := caseDigest(t, e.s); after != before {
		t.Error("an expired code changed stored state")
	}

	// The token resolves, and records its use.
	e.clock.Advance(time.Hour)
	gotCase, gotDev, err := e.cases.DeviceByToken(ctx, token)
	if err != nil || gotCase != c.ID || gotDev != dev {
		t.Fatalf("DeviceByToken = %s %s %v", gotCase, gotDev, err)
	}
	devs, err := e.s.Devices(ctx, c.ID)
	if err != nil || len(devs) != 1 || devs[0].ID != dev || !devs[0].LastUsedAt.Equal(e.clock.Now().Truncate(time.Millisecond)) {
		t.Errorf("Devices = %+v, %v", devs, err)
	}
	if _, _, err := e.cases.DeviceByToken(ctx, token+"x"); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("wrong token = %v", err)
	}
	// Within a minute of the last recorded use, a use writes nothing.
	used := e.clock.Now().Truncate(time.Millisecond)
	e.clock.Advance(30 * time.Second)
	if _, _, err := e.cases.DeviceByToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	if devs, err := e.s.Devices(ctx, c.ID); err != nil || len(devs) != 1 || !devs[0].LastUsedAt.Equal(used) {
		t.Errorf("a use within the minute moved last use: %+v, %v", devs, err)
	}
	// Revoked: the token stops at once.
	if err := e.cases.RevokeDevice(ctx, e.worker, c.ID, dev); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if _, _, err := e.cases.DeviceByToken(ctx, token); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("revoked token = %v", err)
	}
	// Recording a use never brings a revoked device's hash back.
	if n := e.s.RDB.Exists(ctx, e.s.k.device(e.s.Tag("device", token))).Val(); n != 0 {
		t.Error("the revoked device's hash exists again")
	}
	if err := e.cases.RevokeDevice(ctx, e.worker, c.ID, dev); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("revoking twice = %v", err)
	}
}

func TestEnrolmentCodeAlphabet(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ABCD-EFGH", "ABCDEFGH"},
		{"abcd efgh", "ABCDEFGH"},
		{"ABCDEFG", ""},
		{"ABCDEFGO", ""},
		{"ABCDEFG1", ""},
		{"ABCDEFGÉ", ""},
		{"23456789", "23456789"},
	} {
		if got := casework.NormalizeEnrolmentCode(tc.in); got != tc.want {
			t.Errorf("NormalizeEnrolmentCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExpiry(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	plain := e.create(t, simpleInput("07700900123", "lemon drizzle cake"))
	maracIn := simpleInput("07700900124", "lemon drizzle cake")
	maracIn.MARAC = &casework.MARACInput{Referred: true, Date: "2026-03-01"}
	marac := e.create(t, maracIn)
	checkin := e.create(t, simpleInput("07700900125", "lemon drizzle cake"))
	device := e.create(t, simpleInput("07700900126", "lemon drizzle cake"))
	held := e.create(t, simpleInput("07700900127", "lemon drizzle cake"))
	admin := e.principal(staff.RoleAdmin)
	if err := e.cases.SetLegalHold(ctx, admin, held.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.s.RDB.HSet(ctx, e.s.k.checkins(checkin.ID), "active", "1").Err(); err != nil {
		t.Fatal(err)
	}
	en, _ := e.cases.IssueEnrolment(ctx, e.worker, device.ID, casework.TechSafetyInput{})
	token, _, err := e.cases.Enrol(ctx, en.Code)
	if err != nil {
		t.Fatal(err)
	}

	// 80 days in: four cases expire within 14 days (the held one does not).
	e.clock.Advance(80 * 24 * time.Hour)
	exp, err := e.cases.ExpiringCases(ctx, casework.ExpiryWarning)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range exp {
		ids = append(ids, x.ID)
		if x.Expired || x.Owner != e.worker.StaffID {
			t.Errorf("expiring %+v", x)
		}
	}
	// MARAC, check-ins, a device used within 90 days and legal hold keep
	// the others alive.
	if want := []string{plain.ID}; !slices.Equal(ids, want) {
		t.Errorf("ExpiringCases = %v, want %v", ids, want)
	}

	// 100 days in: the plain case has expired, the others are kept alive.
	e.clock.Advance(20 * 24 * time.Hour)
	if _, _, err := e.cases.DeviceByToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c       *casework.Case
		expired bool
	}{{plain, true}, {marac, false}, {checkin, false}, {device, false}, {held, false}} {
		got, err := e.cases.Load(ctx, tc.c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Expired != tc.expired {
			t.Errorf("case %s expired = %v, want %v", tc.c.ID, got.Expired, tc.expired)
		}
	}
	// An expired case still resolves by phone, flagged.
	phone, _ := pii.ParsePhone("07700900123", "GB")
	cs, err := e.cases.CasesByPhone(ctx, phone)
	if err != nil || len(cs) != 1 || !cs[0].Expired {
		t.Errorf("expired case by phone = %v, %v", cs, err)
	}
	// Renewal revives it.
	if _, err := e.cases.Renew(ctx, e.worker, plain.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.cases.Load(ctx, plain.ID); got.Expired || !got.ExpiresAt.Equal(e.clock.Now().Add(90*24*time.Hour).Truncate(time.Millisecond)) {
		t.Errorf("after renewal: expired %v, expires %v", got.Expired, got.ExpiresAt)
	}
}

func TestErase(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{Args: debugArgs})
	ctx := context.Background()
	keep := e.create(t, simpleInput("07700900456", "carrot cake slice"))
	c := e.create(t, canaryInput())
	en, _ := e.cases.IssueEnrolment(ctx, e.worker, c.ID, casework.TechSafetyInput{})
	token, _, err := e.cases.Enrol(ctx, en.Code)
	if err != nil {
		t.Fatal(err)
	}
	pending, _ := e.cases.IssueEnrolment(ctx, e.worker, c.ID, casework.TechSafetyInput{})
	if err := e.s.RDB.HSet(ctx, e.s.k.checkins(c.ID), "active", "1").Err(); err != nil {
		t.Fatal(err)
	}

	// Legal hold: 409, nothing erased.
	admin := e.principal(staff.RoleAdmin)
	if err := e.cases.SetLegalHold(ctx, admin, c.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.cases.SetLegalHold(ctx, e.worker, c.ID, false); !errors.Is(err, problem.ErrForbidden) {
		t.Errorf("legal hold by a caseworker = %v", err)
	}
	if err := e.cases.Erase(ctx, e.worker, c.ID); !errors.Is(err, problem.ErrConflict) || !errors.Is(err, casework.ErrLegalHold) {
		t.Errorf("erase on hold = %v, want conflict", err)
	}
	if err := e.cases.SetLegalHold(ctx, admin, c.ID, false); err != nil {
		t.Fatal(err)
	}
	// An open alert: 409 too.
	claimAlert(t, e.s, c.ID, "raised", "")
	if err := e.cases.Erase(ctx, e.worker, c.ID); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("erase with an open alert = %v, want conflict", err)
	}
	claimAlert(t, e.s, c.ID, "resolved", "")

	phone, _ := pii.ParsePhone(canaryPhone, "GB")
	if err := e.cases.Erase(ctx, e.worker, c.ID); err != nil {
		t.Fatal(err)
	}
	// No key of the case is left (the alert service's own pointers aside).
	keys, _ := e.s.scanKeys(ctx)
	for _, k := range keys {
		if strings.Contains(k, c.ID) && k != e.s.k.caseOpenAlert(c.ID) {
			t.Errorf("key %s left after erasure", k)
		}
		if vals, _ := e.s.RDB.SMembers(ctx, k).Result(); slices.Contains(vals, c.ID) {
			t.Errorf("set %s still holds the case", k)
		}
		if _, err := e.s.RDB.ZScore(ctx, k, c.ID).Result(); err == nil {
			t.Errorf("sorted set %s still holds the case", k)
		}
	}
	if _, _, err := e.cases.DeviceByToken(ctx, token); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("device token after erasure = %v", err)
	}
	if _, _, err := e.cases.Enrol(ctx, pending.Code); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("pending enrolment code after erasure = %v", err)
	}
	// A lookup by its phone answers as for a number never enrolled.
	never, _ := pii.ParsePhone("07700900998", "GB")
	for _, p := range []pii.Phone{phone, never} {
		got, err := e.cases.CasesByPhone(ctx, p)
		if err != nil || len(got) != 0 {
			t.Errorf("CasesByPhone after erasure = %v, %v; want none, nil", got, err)
		}
	}
	if _, err := e.cases.Get(ctx, e.worker, c.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("Get after erasure = %v", err)
	}
	if _, err := e.cases.Load(ctx, keep.ID); err != nil {
		t.Errorf("the other case suffered: %v", err)
	}
	if err := e.cases.Erase(ctx, e.worker, c.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("erasing twice = %v", err)
	}
}

func TestRotateResealsKEKRecords(t *testing.T) {
	e := newCaseEnv(t, testenv.RedisOptions{})
	ctx := context.Background()
	c := e.create(t, simpleInput("07700900123", "lemon drizzle cake"))
	old := e.s.Crypto
	// A KEK-sealed hash field and string, as other areas store them.
	hkey, skey := e.s.Prefix+"staff:s_testrotate", e.s.Prefix+"setup:testrotate"
	hv, _ := e.s.SealKEK(hkey, "display_name", []byte("Sam"))
	sv, _ := e.s.SealKEK(skey, "", []byte("payload"))
	e.s.RDB.HSet(ctx, hkey, "display_name", hv, "roles", "responder")
	e.s.RDB.Set(ctx, skey, sv, time.Hour)
	// A value that parses as a record under a key nobody holds is reported,
	// not touched.
	e.s.RDB.HSet(ctx, hkey, "odd", "\x01k\x02zz"+strings.Repeat("x", 60))
	// The audit trail's data key exists once a reason has been audited.
	if _, err := e.cases.Reveal(ctx, e.worker, c.ID, "checking"); err != nil {
		t.Fatal(err)
	}

	before, err := e.s.SealedByKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before["k1"] < 4 { // the case's data key, audit key, staff field, string
		t.Fatalf("before rotation under k1: %v", before)
	}
	both, _ := seal.NewKeyring([]seal.Key{{ID: "k2", Secret: seal.NewRandomKey()}, {ID: "k1", Secret: e.k1}})
	e.s.swapCrypto(Crypto{Keyring: both, Index: old.Index, TagKey: old.TagKey})
	rep, err := e.s.Rotate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resealed != 2 || rep.Rewrapped != 2 || rep.Remaining["k1"] != 0 || rep.Unreadable != 1 {
		t.Errorf("report = %+v", rep)
	}
	if got := FormatRemaining(rep.Remaining, []string{"k1"}); got != "k1=0 zz=1" {
		t.Errorf("FormatRemaining = %q", got)
	}
	if ttl, _ := e.s.RDB.PTTL(ctx, skey).Result(); ttl <= 0 {
		t.Errorf("rotation dropped the string's TTL: %v", ttl)
	}
	// A second run has nothing to do.
	rep2, err := e.s.Rotate(ctx, nil)
	if err != nil || rep2.Resealed+rep2.Rewrapped != 0 || rep2.Current != 4 {
		t.Errorf("second rotation = %+v, %v", rep2, err)
	}
	newOnly, _ := both.Without("k1")
	e.s.swapCrypto(Crypto{Keyring: newOnly, Index: old.Index, TagKey: old.TagKey})
	v, _ := e.s.RDB.HGet(ctx, hkey, "display_name").Bytes()
	if pt, err := e.s.OpenKEK(hkey, "display_name", v); err != nil || string(pt) != "Sam" {
		t.Errorf("re-sealed field = %q, %v", pt, err)
	}
	if got, err := e.cases.Load(ctx, c.ID); err != nil || got.CodeWords[0] != "lemon drizzle cake" {
		t.Errorf("case after rotation = %v", err)
	}
}
