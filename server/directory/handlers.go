// Package directory is the HTTP side of the signposting directory: search
// and one service (/v1/directory), the Open Referral UK API (/oruk), the
// administrators' directory records (/v1/directory/records) and refuges'
// vacancies (/v1/refuge, /v1/refuges). server/routes.go lists the routes
// and their middleware; the handlers here only decode, call the domain and
// answer through server/respond.
package directory

import (
	"log/slog"
	"net/http"
	"time"

	"waymark/records"
	"waymark/server/respond"
	"waymark/staff"
)

// Handlers holds what the directory routes share. A nil Services or
// Refuges means server/routes.go does not serve their routes.
type Handlers struct {
	Out    *respond.Responder
	Logger *slog.Logger
	Now    func() time.Time
	// Staff names the team covering an unmet search's district and finds
	// the account a refuge is linked to.
	Staff *staff.Service
	// Records counts unmet searches (nil: not counted) and audits
	// vacancies.
	Records  *records.Records
	Services ServiceStore
	Refuges  RefugeStore
	// Audit records an administrator's configuration change and its
	// outcome (server's audit of config.* actions).
	Audit func(r *http.Request, action, subject string, err error)
}
