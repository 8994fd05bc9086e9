package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"waymark/audit"
	"waymark/casework"
	"waymark/oncall"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
)

// The coordinators' screens: rotas, escalation policies and staff accounts,
// for an administrator (any team) or a coordinator (their own teams only).
// Every write goes through the same domain calls as the CLI (rota set,
// policy set, staff add/set/enable/disable), so it is checked by exactly
// the same rules and refused with the same per-field problems, and nothing
// is stored on a bad input. Each write is audited with who made it.
// Anything outside a coordinator's teams is the same 404 as a team or
// account that does not exist.

// mayCoordinate reports whether the principal may change team's on-call
// arrangements and accounts: an admin, or a coordinator of the team.
func mayCoordinate(r *http.Request, team string) bool {
	p := principal(r)
	return p != nil && (p.Has(staff.RoleAdmin) || (p.Has(staff.RoleCoordinator) && p.InTeam(team)))
}

// coordinatorTeams says which teams' accounts the principal may manage:
// all (an admin), or the coordinator's own.
func coordinatorTeams(p *staff.Principal) (all bool, teams []string) {
	if p.Has(staff.RoleAdmin) {
		return true, nil
	}
	return false, p.Teams
}

// auditConfig records a coordinator's write like the CLI's: action
// config.<what>, and whether it was stored or refused.
func (s *server) auditConfig(r *http.Request, action, subject string, err error) {
	p := principal(r)
	if s.Records == nil || p == nil {
		return
	}
	outcome := "ok: " + subject
	var inv *problem.Invalid
	switch {
	case err == nil:
	case errors.As(err, &inv):
		outcome = "refused: invalid: " + subject
	case errors.Is(err, problem.ErrNotFound):
		outcome = "refused: not found: " + subject
	default:
		outcome = "failed: " + subject
	}
	s.Records.Audit(r.Context(), audit.AuditEntry{Actor: p.StaffID, Action: "config." + action, Outcome: outcome})
}

// rotaWritten is the answer to PUT /v1/teams/{id}/rota: the rota now in
// force, and the CLI's warnings (gaps, people without a page phone).
type rotaWritten struct {
	Rota     *oncall.Rota `json:"rota"`
	Warnings []string     `json:"warnings"`
}

// putRota is PUT /v1/teams/{id}/rota: the body is the rota file of
// `waymark rota set`, in JSON.
func (s *server) putRota() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		team := r.PathValue("id")
		if !mayCoordinate(r, team) {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		var f oncall.RotaFile
		if err := s.decode(w, r, &f); err != nil {
			s.error(w, r, err)
			return
		}
		rota, warnings, err := s.OnCall.SetRota(r.Context(), team, f, principal(r).StaffID)
		s.auditConfig(r, "rota.set", "team "+team, err)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if warnings == nil {
			warnings = []string{}
		}
		s.json(w, r, http.StatusOK, rotaWritten{Rota: rota, Warnings: warnings})
	})
}

// putPolicies is PUT /v1/teams/{id}/policies: the body is the policy file
// of `waymark policy set`, in JSON. New alerts of the team follow it.
func (s *server) putPolicies() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		team := r.PathValue("id")
		if !mayCoordinate(r, team) {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		var f oncall.PolicyFile
		if err := s.decode(w, r, &f); err != nil {
			s.error(w, r, err)
			return
		}
		ps, err := s.OnCall.SetPolicies(r.Context(), team, f, principal(r).StaffID)
		s.auditConfig(r, "policy.set", "team "+team, err)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, ps)
	})
}

// staffView is one account as the coordinators' screen shows it: never
// its phone number (only whether pages can reach it), never a credential.
type staffView struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Roles       []string  `json:"roles"`
	Teams       []string  `json:"teams"`
	PagePhone   bool      `json:"page_phone"`
	Status      string    `json:"status"`
	Disabled    bool      `json:"disabled"`
	Created     time.Time `json:"created"`
}

func staffViewOf(a *staff.Account) staffView {
	v := staffView{ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Roles: []string{}, Teams: []string{},
		PagePhone: !a.Phone.IsZero(), Status: a.Status(), Disabled: a.Disabled, Created: a.Created.UTC()}
	for _, r := range a.Roles {
		v.Roles = append(v.Roles, string(r))
	}
	v.Teams = append(v.Teams, a.Teams...)
	return v
}

// manages reports whether a coordinator (all=false, teams) may manage
// account a: every team of it is one of theirs, and it is not an admin's.
// An admin (all) manages every account.
func manages(all bool, teams []string, a *staff.Account) bool {
	if all {
		return true
	}
	if len(a.Teams) == 0 || slices.Contains(a.Roles, staff.RoleAdmin) {
		return false
	}
	for _, t := range a.Teams {
		if !slices.Contains(teams, t) {
			return false
		}
	}
	return true
}

// scopeProblems is what a coordinator may not ask for: admin rights, or
// a team that is not theirs. An admin may ask for anything.
func scopeProblems(all bool, mine []string, roles []staff.Role, teams []string) error {
	if all {
		return nil
	}
	inv := &problem.Invalid{}
	if slices.Contains(roles, staff.RoleAdmin) {
		inv.Add("roles", "only an administrator can give the admin role")
	}
	if teams != nil && len(teams) == 0 {
		inv.Add("teams", "must name at least one of your teams")
	}
	for _, t := range teams {
		if !slices.Contains(mine, t) {
			inv.Add("teams", "team "+t+" is not one of yours")
			break
		}
	}
	return inv.Err()
}

// listStaff is GET /v1/staff: the accounts the principal manages.
func (s *server) listStaff() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all, mine := coordinatorTeams(principal(r))
		list, err := s.Staff.List(r.Context())
		if err != nil {
			s.error(w, r, err)
			return
		}
		out := []staffView{}
		for _, a := range list {
			if manages(all, mine, a) {
				out = append(out, staffViewOf(a))
			}
		}
		s.json(w, r, http.StatusOK, map[string][]staffView{"staff": out})
	})
}

type staffCreateRequest struct {
	Username    string   `json:"username" validate:"max=64"`
	DisplayName string   `json:"display_name" validate:"max=200"`
	Roles       []string `json:"roles" validate:"max=8,dive,max=32"`
	Teams       []string `json:"teams" validate:"max=50,dive,max=32"`
	Phone       string   `json:"phone" validate:"max=32"`
}

// staffCreated is the answer to POST /v1/staff: the account and its
// one-time setup link (the path, for the dashboard's own origin, and its
// QR code), through which its owner chooses a password and enrols an
// authenticator app. The link is shown once.
type staffCreated struct {
	staffView
	SetupPath    string    `json:"setup_path"`
	SetupLink    string    `json:"setup_link,omitempty"`
	SetupQRSVG   string    `json:"setup_qr_svg,omitempty"`
	SetupExpires time.Time `json:"setup_expires_at"`
}

// createStaff is POST /v1/staff: `waymark staff add` without
// --password-stdin. A coordinator adds accounts to their own teams only
// and cannot give the admin role.
func (s *server) createStaff() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req staffCreateRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		n := staff.NewAccount{Username: req.Username, DisplayName: req.DisplayName, Teams: req.Teams}
		for _, ro := range req.Roles {
			n.Roles = append(n.Roles, staff.Role(strings.ToLower(strings.TrimSpace(ro))))
		}
		if strings.TrimSpace(req.Phone) != "" {
			ph, err := pii.ParsePhone(req.Phone, "GB")
			if err != nil {
				// Never echo the number.
				s.error(w, r, problem.Invalidf("phone", "is not a valid phone number"))
				return
			}
			n.Phone = ph
		}
		all, mine := coordinatorTeams(principal(r))
		teams := n.Teams
		if teams == nil {
			teams = []string{}
		}
		if err := scopeProblems(all, mine, n.Roles, teams); err != nil {
			s.auditConfig(r, "staff.add", "account", err)
			s.error(w, r, err)
			return
		}
		acct, token, err := s.Staff.Add(r.Context(), n)
		if errors.Is(err, problem.ErrConflict) {
			err = problem.Invalidf("username", "is taken: choose another")
		}
		s.auditConfig(r, "staff.add", "account "+accountID(acct), err)
		if err != nil {
			s.error(w, r, err)
			return
		}
		out := staffCreated{staffView: staffViewOf(acct), SetupPath: "/setup#" + token.Reveal(),
			SetupExpires: s.Now().Add(staff.SetupLinkLifetime).UTC()}
		if origin := s.dashboardOrigin(r); origin != "" {
			out.SetupLink = origin + out.SetupPath
			if svg, err := qrSVG(out.SetupLink); err == nil {
				out.SetupQRSVG = svg
			}
		}
		s.json(w, r, http.StatusCreated, out)
	})
}

func accountID(a *staff.Account) string {
	if a == nil {
		return "(none)"
	}
	return a.ID
}

// dashboardOrigin is the origin the request came from, when it is the
// server's own or an allowed dashboard origin: the setup link is for the
// dashboard the coordinator is using.
func (s *server) dashboardOrigin(r *http.Request) string {
	o := r.Header.Get("Origin")
	if o == "" {
		return ""
	}
	if slices.Contains(s.AllowedOrigins, o) || o == "http://"+r.Host || o == "https://"+r.Host {
		return o
	}
	return ""
}

type staffPatchRequest struct {
	Roles    []string `json:"roles" validate:"omitempty,max=8,dive,max=32"`
	Teams    []string `json:"teams" validate:"omitempty,max=50,dive,max=32"`
	Disabled *bool    `json:"disabled"`
}

// patchStaff is PATCH /v1/staff/{id}: change roles or teams (`waymark
// staff set`), disable (`staff disable`) or enable (`staff enable`). Any
// of them ends the account's sessions. A coordinator changes only
// accounts wholly within their teams, keeps them there, and cannot
// disable their own.
func (s *server) patchStaff() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req staffPatchRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		p := principal(r)
		all, mine := coordinatorTeams(p)
		acct, err := s.Staff.ByID(r.Context(), r.PathValue("id"))
		if err == nil && !manages(all, mine, acct) {
			err = staff.ErrNotFound
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
		if req.Roles == nil && req.Teams == nil && req.Disabled == nil {
			s.error(w, r, problem.Invalidf("body", "change at least one of roles, teams, disabled"))
			return
		}
		var ch staff.AccessChange
		if req.Roles != nil {
			ch.Roles = []staff.Role{}
			for _, ro := range req.Roles {
				ch.Roles = append(ch.Roles, staff.Role(strings.ToLower(strings.TrimSpace(ro))))
			}
		}
		if req.Teams != nil {
			ch.Teams = append([]string{}, req.Teams...)
		}
		if err := scopeProblems(all, mine, ch.Roles, ch.Teams); err != nil {
			s.auditConfig(r, "staff.set", "account "+acct.ID, err)
			s.error(w, r, err)
			return
		}
		if req.Disabled != nil && *req.Disabled && acct.ID == p.StaffID {
			s.error(w, r, problem.Invalidf("disabled", "you cannot disable your own account"))
			return
		}
		action := "staff.set"
		if ch.Roles != nil || ch.Teams != nil || (req.Disabled != nil && !*req.Disabled) {
			if req.Disabled != nil && !*req.Disabled {
				ch.Enable = true
				action = "staff.enable"
			}
			_, err = s.Staff.ChangeAccess(r.Context(), acct.Username, ch)
		}
		if err == nil && req.Disabled != nil && *req.Disabled {
			action = "staff.disable"
			err = s.Staff.Disable(r.Context(), acct.Username)
		}
		s.auditConfig(r, action, "account "+acct.ID, err)
		if err != nil {
			s.error(w, r, err)
			return
		}
		now, err := s.Staff.ByID(r.Context(), acct.ID)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, staffViewOf(now))
	})
}
