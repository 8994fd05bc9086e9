package accounts

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"waymark/internal/randid"
	"waymark/internal/testenv"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
	"waymark/staff/stafftest"
)

func staffAccount(t *testing.T, username string, phone string) *staff.Account {
	t.Helper()
	a := &staff.Account{
		ID: randid.New("s_", 20), Username: username, DisplayName: "Sam Okafor",
		Roles: []staff.Role{staff.RoleResponder, staff.RoleCaseworker}, Teams: []string{"south"},
		Created:      time.UnixMilli(time.Now().UnixMilli()),
		PasswordHash: staff.Secret(staff.HashPassword("correct horse battery", stafftest.Params())),
		TOTPSecret:   "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		TOTPStep:     100,
	}
	if phone != "" {
		p, err := pii.ParsePhone(phone, "GB")
		if err != nil {
			t.Fatal(err)
		}
		a.Phone = p
	}
	return a
}

// staffDump is every key and value of the test tenant, for looking for
// plaintext.
func staffDump(t *testing.T, s *testStore) []byte {
	t.Helper()
	ctx := context.Background()
	var out bytes.Buffer
	keys, err := s.RDB.Keys(ctx, s.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		out.WriteString(k + "\n")
		switch s.RDB.Type(ctx, k).Val() {
		case "hash":
			for f, v := range s.RDB.HGetAll(ctx, k).Val() {
				out.WriteString(f + "=" + v + "\n")
			}
		case "set":
			out.WriteString(strings.Join(s.RDB.SMembers(ctx, k).Val(), ",") + "\n")
		case "string":
			out.WriteString(s.RDB.Get(ctx, k).Val() + "\n")
		}
	}
	return out.Bytes()
}

func TestStaffRoundTripSealed(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	a := staffAccount(t, "sam.okafor", "07700 900123")
	if err := s.CreateStaff(ctx, a); err != nil {
		t.Fatal(err)
	}
	for name, load := range map[string]func() (*staff.Account, error){
		"by id":       func() (*staff.Account, error) { return s.StaffByID(ctx, a.ID) },
		"by username": func() (*staff.Account, error) { return s.StaffByUsername(ctx, "sam.okafor") },
		"by phone":    func() (*staff.Account, error) { return s.StaffByPhone(ctx, a.Phone) },
	} {
		got, err := load()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	dump := staffDump(t, s)
	for _, plain := range []string{"sam.okafor", "Sam Okafor", "447700900123", "7700900123", "900123", "JBSWY3DP", "argon2id"} {
		if bytes.Contains(dump, []byte(plain)) {
			t.Errorf("redis holds %q in the clear", plain)
		}
	}

	if err := s.CreateStaff(ctx, staffAccount(t, "sam.okafor", "")); !errors.Is(err, problem.ErrConflict) {
		t.Errorf("second account with the username: %v, want conflict", err)
	}
	other, _ := pii.ParsePhone("07700 900124", "GB")
	if _, err := s.StaffByPhone(ctx, other); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("StaffByPhone(other) = %v, want not found", err)
	}
	if _, err := s.StaffByUsername(ctx, "nobody"); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("StaffByUsername(nobody) = %v, want not found", err)
	}
	b := staffAccount(t, "alex", "")
	if err := s.CreateStaff(ctx, b); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListStaff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Errorf("ListStaff = %d accounts, want 2", len(all))
	}
}

func TestStaffCredentials(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx := context.Background()
	a := staffAccount(t, "sam", "")
	a.PasswordHash, a.TOTPSecret = "", ""
	if err := s.CreateStaff(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, a.ID, "$argon2id$new"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPendingTOTP(ctx, a.ID, "PENDINGPENDING"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.StaffByID(ctx, a.ID)
	if got.PasswordHash != "$argon2id$new" || got.TOTPPending != "PENDINGPENDING" || got.TOTPSecret != "" {
		t.Fatalf("after setup step: %+v", got)
	}
	if err := s.EnrolTOTP(ctx, a.ID, "PENDINGPENDING", 500); err != nil {
		t.Fatal(err)
	}
	got, _ = s.StaffByID(ctx, a.ID)
	if got.TOTPSecret != "PENDINGPENDING" || got.TOTPPending != "" || got.TOTPStep != 500 {
		t.Fatalf("after enrol: %+v step %d", got, got.TOTPStep)
	}
	for _, tc := range []struct {
		step int64
		want bool
	}{{499, false}, {500, false}, {501, true}, {501, false}, {503, true}, {502, false}} {
		fresh, err := s.UseTOTPStep(ctx, a.ID, tc.step)
		if err != nil {
			t.Fatal(err)
		}
		if fresh != tc.want {
			t.Errorf("UseTOTPStep(%d) = %v, want %v", tc.step, fresh, tc.want)
		}
	}
	for name, err := range map[string]error{
		"set password": s.SetPassword(ctx, "s_nobody", "x"),
		"enrol":        s.EnrolTOTP(ctx, "s_nobody", "x", 1),
		"disable":      s.DisableStaff(ctx, "s_nobody"),
	} {
		if !errors.Is(err, problem.ErrNotFound) {
			t.Errorf("%s on a missing account = %v, want not found", name, err)
		}
	}
	if _, err := s.UseTOTPStep(ctx, "s_nobody", 1); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("UseTOTPStep on a missing account = %v", err)
	}
	// The missing-account calls above must not have made partial records.
	if n := s.RDB.Exists(ctx, s.k.staff("s_nobody")).Val(); n != 0 {
		t.Error("a write to a missing account created it")
	}
}

func TestDisableEndsSessionsAndAnnounces(t *testing.T) {
	s, _ := newTestStore(t, testenv.RedisOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := staffAccount(t, "sam", "")
	if err := s.CreateStaff(ctx, a); err != nil {
		t.Fatal(err)
	}
	revoked := s.SubscribeRevocations(ctx)
	if n := s.RDB.PubSubNumSub(ctx, s.k.revoked()).Val()[s.k.revoked()]; n != 1 {
		t.Fatalf("subscribers after SubscribeRevocations = %d, want 1", n)
	}

	now := time.Now()
	var tags []string
	for range 2 {
		tag := s.SessionTag(staff.Secret(randid.Token(32)))
		tags = append(tags, tag)
		if err := s.CreateSession(ctx, staff.Session{Tag: tag, StaffID: a.ID, Created: now, Seen: now, AuthAt: now}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DisableStaff(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if _, err := s.Session(ctx, tag); !errors.Is(err, problem.ErrNotFound) {
			t.Errorf("session after disable: %v, want not found", err)
		}
	}
	got, _ := s.StaffByID(ctx, a.ID)
	if !got.Disabled {
		t.Error("account not disabled")
	}
	var heard []string
	for range tags {
		select {
		case tag := <-revoked:
			heard = append(heard, tag)
		case <-time.After(5 * time.Second):
			t.Fatal("no revocation announced")
		}
	}
	if diff := cmp.Diff(tags, heard, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("announced (-want +got):\n%s", diff)
	}
	cancel()
	for range revoked {
	}
}

// TestStaffOnEmbedded: the demo seeds staff on the embedded server, so every
// staff script must run on miniredis too.
func TestStaffOnEmbedded(t *testing.T) {
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true)
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := testConn(t, "redis://"+m.Addr(), testCrypto(t))
	c.Prefix = "wm:{demo}:"
	s := newTestSet(c)
	ctx := context.Background()
	a := staffAccount(t, "sam", "07700 900123")
	if err := s.CreateStaff(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StaffByPhone(ctx, a.Phone); err != nil {
		t.Fatal(err)
	}
	if fresh, err := s.UseTOTPStep(ctx, a.ID, 101); err != nil || !fresh {
		t.Fatalf("UseTOTPStep = %v, %v", fresh, err)
	}
	if err := s.SetPassword(ctx, a.ID, "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnrolTOTP(ctx, a.ID, "ABCDEFGH", 200); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tag := s.SessionTag("token")
	if err := s.CreateSession(ctx, staff.Session{Tag: tag, StaffID: a.ID, Created: now, Seen: now, AuthAt: now}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, tag, now); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTicket(ctx, "ticket", a.ID, tag, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ConsumeTicket(ctx, "ticket"); err != nil {
		t.Fatal(err)
	}
	sub := staff.ThrottleSubject{Kind: staff.ThrottleUser, Value: "sam"}
	if _, err := s.Throttle(ctx, staff.DefaultThrottle(), now, sub); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgiveAttempt(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTeam(ctx, staff.Team{ID: "south", Name: "South", Areas: []string{"SO14"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DisableStaff(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
}
