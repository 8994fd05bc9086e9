package server

import (
	"net/http"

	"waymark/staff"
)

// routes is the table of contents: every route Waymark serves, one line
// each, with its middleware visible. A route not in this file does not exist.
func (s *server) routes(mux *http.ServeMux) {
	// Operators (/metrics is on the operator listener only).
	s.handle(mux, "GET /healthz", s.healthz())
	s.handle(mux, "GET /readyz", s.readyz())

	// Staff sign-in and sessions.
	s.handle(mux, "POST /v1/auth/login", s.csrf.Handler(s.login()))
	s.handle(mux, "POST /v1/auth/logout", s.authed()(s.logout()))
	s.handle(mux, "GET /v1/auth/me", s.authed()(s.me()))
	s.handle(mux, "POST /v1/auth/reauth", s.authed()(s.reauth()))
	s.handle(mux, "POST /v1/auth/setup", s.csrf.Handler(s.setupBegin()))
	s.handle(mux, "POST /v1/auth/setup/confirm", s.csrf.Handler(s.setupConfirm()))
	s.handle(mux, "POST /v1/auth/ws-ticket", s.authed()(s.wsTicket()))

	// Teams.
	s.handle(mux, "GET /v1/teams", s.authed()(s.listTeams()))
	s.handle(mux, "POST /v1/teams", s.authed(staff.RoleAdmin)(s.createTeam()))
	s.handle(mux, "GET /v1/teams/{id}", s.authed()(s.getTeam()))

	// On call: rotas, gaps, policies (team staff and admins); going off duty.
	if s.OnCall != nil {
		s.handle(mux, "GET /v1/teams/{id}/oncall", s.authed()(s.oncallNow()))
		s.handle(mux, "GET /v1/teams/{id}/gaps", s.authed()(s.oncallGaps()))
		s.handle(mux, "GET /v1/teams/{id}/rota", s.authed()(s.teamRota()))
		s.handle(mux, "GET /v1/teams/{id}/policies", s.authed()(s.teamPolicies()))
		// Coordinators (their teams) and admins: the CLI's rota set and policy set (coordinator.go).
		s.handle(mux, "PUT /v1/teams/{id}/rota", s.authed(staff.RoleAdmin, staff.RoleCoordinator)(s.putRota()))
		s.handle(mux, "PUT /v1/teams/{id}/policies", s.authed(staff.RoleAdmin, staff.RoleCoordinator)(s.putPolicies()))
	}
	s.handle(mux, "POST /v1/handover", s.authed(staff.RoleResponder)(s.goOffDuty()))

	// Staff accounts: admins (all) and coordinators (their teams); the CLI's staff add, set, enable, disable.
	s.handle(mux, "GET /v1/staff", s.authed(staff.RoleAdmin, staff.RoleCoordinator)(s.listStaff()))
	s.handle(mux, "POST /v1/staff", s.authed(staff.RoleAdmin, staff.RoleCoordinator)(s.createStaff()))
	s.handle(mux, "PATCH /v1/staff/{id}", s.authed(staff.RoleAdmin, staff.RoleCoordinator)(s.patchStaff()))

	// Refuges: an admin links a refuge account to its refuge; its staff keep the vacancies (server/directory).
	if s.Refuges != nil {
		s.handle(mux, "GET /v1/refuges", s.authed(staff.RoleAdmin)(s.dir.ListRefuges()))
		s.handle(mux, "PUT /v1/staff/{id}/refuge", s.authed(staff.RoleAdmin)(s.dir.LinkRefuge()))
		s.handle(mux, "GET /v1/refuge", s.authed(staff.RoleRefuge)(s.dir.OwnRefuge()))
		s.handle(mux, "PUT /v1/refuge/vacancies", s.authed(staff.RoleRefuge)(s.dir.PutVacancies()))
	}

	// Directory entries (admins): add, edit, retire, with the import's checks (server/directory).
	if s.Services != nil {
		s.handle(mux, "GET /v1/directory/records", s.authed(staff.RoleAdmin)(s.dir.ListServices()))
		s.handle(mux, "GET /v1/directory/records/{id}", s.authed(staff.RoleAdmin)(s.dir.GetServiceRecord()))
		s.handle(mux, "PUT /v1/directory/records/{id}", s.authed(staff.RoleAdmin)(s.dir.PutServiceRecord()))
		s.handle(mux, "PUT /v1/directory/records/{id}/retired", s.authed(staff.RoleAdmin)(s.dir.RetireService()))
	}

	// Cases (caseworkers) and app enrolment.
	s.handle(mux, "POST /v1/cases", s.authed(staff.RoleCaseworker)(s.createCase()))
	s.handle(mux, "GET /v1/cases", s.authed(staff.RoleCaseworker)(s.listCases()))
	s.handle(mux, "GET /v1/cases/{id}", s.authed(staff.RoleCaseworker)(s.getCase()))
	s.handle(mux, "PATCH /v1/cases/{id}", s.authed(staff.RoleCaseworker)(s.updateCase()))
	s.handle(mux, "DELETE /v1/cases/{id}", s.authed(staff.RoleCaseworker)(s.eraseCase()))
	s.handle(mux, "POST /v1/cases/{id}/renew", s.authed(staff.RoleCaseworker)(s.renewCase()))
	s.handle(mux, "POST /v1/cases/{id}/practice", s.authed(staff.RoleCaseworker)(s.openPractice()))
	s.handle(mux, "DELETE /v1/cases/{id}/practice", s.authed(staff.RoleCaseworker)(s.closePractice()))
	s.handle(mux, "POST /v1/cases/{id}/reveal", s.authed(staff.RoleResponder, staff.RoleCaseworker)(s.revealCase()))
	s.handle(mux, "POST /v1/cases/{id}/enrolments", s.authed(staff.RoleCaseworker)(s.createEnrolment()))
	s.handle(mux, "DELETE /v1/cases/{id}/devices/{device}", s.authed(staff.RoleCaseworker)(s.revokeDevice()))
	s.handle(mux, "PUT /v1/cases/{id}/legal-hold", s.authed(staff.RoleAdmin)(s.setLegalHold()))
	// Phones held because they are on a case the caseworker may not see.
	s.handle(mux, "GET /v1/reviews/phones", s.authed(staff.RoleAdmin)(s.phoneReviews()))
	s.handle(mux, "POST /v1/reviews/phones/{id}", s.authed(staff.RoleAdmin)(s.decidePhoneReview()))
	s.handle(mux, "GET /v1/cases/{id}/checkins", s.authed(staff.RoleCaseworker)(s.caseCheckins()))
	s.handle(mux, "PUT /v1/cases/{id}/checkins", s.authed(staff.RoleCaseworker)(s.caseSetCheckins()))
	s.handle(mux, "DELETE /v1/cases/{id}/checkins", s.authed(staff.RoleCaseworker)(s.caseStopCheckins()))

	// The disguised app's API, here too (its own listener is the one the
	// app uses; tools and the bench reach it here).
	s.appRoutes(mux)

	// Alerts (responders).
	s.handle(mux, "GET /v1/alerts", s.authed(staff.RoleResponder, staff.RoleCaseworker)(s.listAlerts()))
	s.handle(mux, "GET /v1/alerts/{id}", s.authed(staff.RoleResponder, staff.RoleCaseworker)(s.getAlert()))
	// A caseworker reaches these only for their own practice alerts (the
	// alert service decides; anything else is 404).
	s.handle(mux, "POST /v1/alerts/{id}/ack", s.authed(staff.RoleResponder, staff.RoleCaseworker)(s.ackAlert()))
	s.handle(mux, "POST /v1/alerts/{id}/working", s.authed(staff.RoleResponder, staff.RoleCaseworker)(s.workingAlert()))
	s.handle(mux, "POST /v1/alerts/{id}/notes", s.authed(staff.RoleResponder, staff.RoleCaseworker)(s.noteAlert()))
	// Contact through Waymark, the owner only, when the verdict allows (contact.go).
	s.handle(mux, "POST /v1/alerts/{id}/call", s.authed(staff.RoleResponder)(s.callSurvivor()))
	s.handle(mux, "POST /v1/alerts/{id}/text", s.authed(staff.RoleResponder)(s.textSurvivor()))
	s.handle(mux, "POST /v1/alerts/{id}/resolve", s.authed(staff.RoleResponder, staff.RoleCaseworker)(s.resolveAlert()))

	// Records and reports (admin): no identities, no free text.
	s.handle(mux, "PUT /v1/alerts/{id}/legal-hold", s.authed(staff.RoleAdmin)(s.setAlertHold()))
	s.handle(mux, "GET /v1/reports/summary", s.authed(staff.RoleAdmin)(s.reportSummary()))
	s.handle(mux, "GET /v1/reports/chart.svg", s.authed(staff.RoleAdmin)(s.reportChart()))
	s.handle(mux, "GET /v1/reports/handoffs", s.authed(staff.RoleAdmin)(s.handoffStats()))

	// Live hub.
	s.handle(mux, "GET /v1/ws", s.ws())

	// Web Push for responders away from the dashboard.
	if s.WebPush != nil && s.WebPushSubs != nil {
		s.handle(mux, "GET /v1/push/vapid-key", s.authed()(s.vapidKey()))
		s.handle(mux, "POST /v1/push/subscriptions", s.authed(staff.RoleResponder)(s.subscribePush()))
		s.handle(mux, "DELETE /v1/push/subscriptions", s.authed(staff.RoleResponder)(s.unsubscribePush()))
	}

	// SMS (Twilio, signed).
	if s.SMS != nil {
		s.handle(mux, "POST /sms/inbound", s.smsInbound())
		s.handle(mux, "POST /sms/status", s.smsStatus())
		s.handle(mux, "POST /sms/voice/answer", s.voiceAnswer()) // a voice page's press of 1
		s.handle(mux, "POST /sms/voice/status", s.voiceStatus()) // a voice page's call ended
	}
	if s.SMS != nil && s.SMS.Directory != nil {
		s.handle(mux, "POST /sms/directory", s.smsDirectory()) // the signposting number, answered; never the intake number
	}

	// Directory (signposting): any staff member, or anyone where configured public.
	s.handle(mux, "GET /v1/directory/search", s.directoryAccess(s.DirectoryPublic)(s.dir.Search(s.Directory)))
	s.handle(mux, "GET /v1/directory/services/{id}", s.directoryAccess(s.DirectoryPublic)(s.dir.Service(s.Directory)))
	if s.ORUKAPI { // the Open Referral UK API: public by design, off unless configured
		s.handle(mux, "GET /oruk/services", s.dir.ORUKServices(s.Directory))
		s.handle(mux, "GET /oruk/services/{id}", s.dir.ORUKService(s.Directory))
	}

	// Dashboard.
	if s.Web != nil {
		s.handle(mux, "GET /{$}", s.Web)
		s.handle(mux, "GET /setup", s.Web)
		s.handle(mux, "GET /assets/", s.Web)
		s.handle(mux, "GET /sw.js", s.Web)
	}
}

// appRoutes is the disguised app's API. Every answer is the same for the
// real, duress and wrong PIN (server/appapi).
func (s *server) appRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST /v1/app/enrol", s.app.Body(s.app.Enrol()))
	s.handle(mux, "POST /v1/app/signal", s.app.Body(s.app.Signal()))
	s.handle(mux, "PUT /v1/app/checkins", s.app.Body(s.app.SetCheckins()))
	s.handle(mux, "DELETE /v1/app/checkins", s.app.Body(s.app.StopCheckins()))
	s.handle(mux, "POST /v1/app/open", s.app.Body(s.app.Open()))
	s.handle(mux, "DELETE /v1/app/device", s.app.Body(s.app.Forget()))
	s.handle(mux, "GET /v1/app/find", s.app.Find())
}

// appListenerRoutes is the app listener: the app's API and its files. The
// app's file handler answers every other path (a neutral 404), so nothing
// else is reachable there: no dashboard, staff API, /metrics or /sms.
func (s *server) appListenerRoutes(mux *http.ServeMux) {
	s.appRoutes(mux)
	if s.App != nil {
		s.handle(mux, "/", s.App)
	} else {
		s.handle(mux, "/", s.app.NotFound())
	}
}

// operatorRoutes is the operator listener (--metrics-addr).
func (s *server) operatorRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /metrics", s.metricsHandler())
	s.handle(mux, "GET /healthz", s.healthz())
	s.handle(mux, "GET /readyz", s.readyz())
}
