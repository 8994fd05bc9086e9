package server

import (
	"context"
	"time"

	"waymark/alert"
	"waymark/audit"
	"waymark/oncall"
	"waymark/store"
)

// testStore is every store aggregate over one DB, so a test hands each
// service the one it needs from a single value.
type testStore struct {
	*store.DB
	*store.Alerts
	*store.Cases
	*store.Staff
	*store.Outbox
	*store.Records
	*store.OnCall
	*store.Gaps
	*store.Directory
	*store.Hub
	*store.WebPush
	*store.SMSStatuses
}

// CountUnmet counts through the gaps aggregate (Records does the same).
func (s *testStore) CountUnmet(ctx context.Context, at time.Time, area string, categories []string) error {
	return s.Gaps.CountUnmet(ctx, at, area, categories)
}

// Policies reads through the on-call aggregate; Alerts reads the same sets
// for the intake (alert.Store).
func (s *testStore) Policies(ctx context.Context, team string) (*oncall.PolicySet, error) {
	return s.OnCall.Policies(ctx, team)
}

func newTestStore(db *store.DB) *testStore {
	return &testStore{DB: db, Alerts: store.NewAlerts(db), Cases: store.NewCases(db), Staff: store.NewStaff(db),
		Outbox: store.NewOutbox(db), Records: store.NewRecords(db, nil), OnCall: store.NewOnCall(db),
		Gaps: store.NewGaps(db), Directory: store.NewDirectory(db), Hub: store.NewHub(db),
		WebPush: store.NewWebPush(db), SMSStatuses: store.NewSMSStatuses(db)}
}

// Alert is Alerts.Alert (Records reads the same).
func (s *testStore) Alert(ctx context.Context, id string) (*alert.Alert, error) {
	return s.Alerts.Alert(ctx, id)
}

// SeenBy is Records.SeenBy (Hub reads the same).
func (s *testStore) SeenBy(ctx context.Context, alertID string) (map[string]time.Time, error) {
	return s.Records.SeenBy(ctx, alertID)
}

// AppendAudit is Cases.AppendAudit.
func (s *testStore) AppendAudit(ctx context.Context, e audit.AuditEntry) error {
	return s.Cases.AppendAudit(ctx, e)
}
