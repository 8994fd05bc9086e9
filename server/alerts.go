package server

import (
	"net/http"
	"time"

	"waymark/alert"
	"waymark/casework"
	"waymark/pii"
	"waymark/postcode"
	"waymark/records"
	"waymark/wallclock"
)

// The responder API. A responder sees the alerts of their own teams and
// never those of a case that excludes them; anyone else's alert is the
// same 404 as one that does not exist. The alert view carries what a
// responder needs to act safely and nothing more: never code words, PINs
// or the survivor's phone number (a reveal is a separate, audited route).

// alertSummary is one line of GET /v1/alerts.
type alertSummary struct {
	ID       string `json:"id"`
	CaseID   string `json:"case_id,omitempty"`
	Alias    string `json:"alias,omitempty"`
	Team     string `json:"team"`
	State    string `json:"state"`
	Status   string `json:"status"`
	Class    string `json:"class"`
	Duress   bool   `json:"duress"`
	Priority int    `json:"priority"`
	Risk     string `json:"risk,omitempty"`
	Source   string `json:"source"`
	// Mode is "practice" or "drill"; absent for a real alert.
	Mode     string          `json:"mode,omitempty"`
	Owner    *alertOwnerView `json:"owner,omitempty"`
	FollowUp bool            `json:"welfare_followup"`
	RaisedAt time.Time       `json:"raised_at"`
	// PhoneRaisedAt is when the phone says it raised the alert, given only
	// when the app's outbox held it a minute or more (no network): the
	// dashboard shows "raised 14 min ago, arrived now". The phone's clock
	// may be off, so it is shown, never used to decide anything.
	PhoneRaisedAt time.Time `json:"phone_raised_at,omitzero"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
	CancelUntil   time.Time `json:"cancel_until,omitzero"`
	// ClaimLapsedAt is when the alert went back to the queue because its
	// claim lapsed (the owner showed no progress); OwnerWarnedAt when the
	// owner of a claim was warned that it will lapse.
	ClaimLapsedAt time.Time `json:"claim_lapsed_at,omitzero"`
	OwnerWarnedAt time.Time `json:"owner_warned_at,omitzero"`
	// Handoff is where the closing record is: pending ("record not yet
	// filed"), filed or exported; empty while the alert is open.
	Handoff string `json:"handoff,omitempty"`
	// queueCard: verdict, district and overdue time (queuecard.go).
	queueCard
}

type alertOwnerView struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

type alertList struct {
	Alerts []alertSummary `json:"alerts"`
}

type alertContactView struct {
	Code        string    `json:"code"`
	Reason      string    `json:"reason"`
	Until       time.Time `json:"until,omitzero"`
	OpeningLine string    `json:"opening_line,omitempty"`
	// Texts says texts are agreed for the case, so under SAFE TO CALL the
	// agreed text may be sent too.
	Texts bool `json:"texts"`
	// ThroughWaymark says this deployment can ring and text survivors
	// through Waymark (a survivor-facing number is configured).
	ThroughWaymark bool `json:"through_waymark"`
}

type alertRiskView struct {
	Level      string `json:"level"`
	AssessedOn string `json:"assessed_on,omitempty"`
}

type alertMARACView struct {
	Referred bool   `json:"referred"`
	Date     string `json:"date,omitempty"`
	Active   bool   `json:"active"`
}

type alertCommView struct {
	casework.Communication
	Summary string `json:"summary,omitempty"`
}

type alertTrailView struct {
	Lat        float64   `json:"lat"`
	Lon        float64   `json:"lon"`
	AccuracyM  float64   `json:"accuracy_m"`
	At         time.Time `json:"at"`
	ReceivedAt time.Time `json:"received_at"`
	AgeSeconds int64     `json:"age_seconds"`
	// Sector is the nearest postcode sector, for describing the place
	// without a map; SectorKM how far its centroid is.
	Sector   string  `json:"sector,omitempty"`
	SectorKM float64 `json:"sector_km,omitempty"`
}

type alertEntryView struct {
	Seq      int             `json:"seq"`
	At       time.Time       `json:"at"`
	Type     string          `json:"type"`
	By       string          `json:"by,omitempty"`
	ByName   string          `json:"by_name,omitempty"`
	Text     string          `json:"text,omitempty"`
	Detail   string          `json:"detail,omitempty"`
	Location *alertTrailView `json:"location,omitempty"`
}

type alertCheckinsView struct {
	Active  bool      `json:"active"`
	Paused  bool      `json:"paused"`
	NextDue time.Time `json:"next_due,omitzero"`
	Last    time.Time `json:"last,omitzero"`
}

type alertView struct {
	alertSummary
	Outcome       string             `json:"outcome,omitempty"`
	AckedAt       time.Time          `json:"acked_at,omitzero"`
	ClosedAt      time.Time          `json:"closed_at,omitzero"`
	Contact       alertContactView   `json:"contact"`
	RiskDetail    *alertRiskView     `json:"risk_assessment,omitempty"`
	MARAC         *alertMARACView    `json:"marac,omitempty"`
	Children      *casework.Children `json:"children,omitempty"`
	Communication *alertCommView     `json:"communication,omitempty"`
	ResponsePlan  string             `json:"response_plan,omitempty"`
	ReviewFlagged bool               `json:"review_flagged"`
	ExpiredCase   bool               `json:"expired_case"`
	Checkins      *alertCheckinsView `json:"checkins,omitempty"`
	// RecordStatus says "record not yet filed" until the hand-off is
	// confirmed (alertSummary.Handoff says where it is).
	RecordStatus   string           `json:"record_status,omitempty"`
	HandoffTries   int              `json:"handoff_tries,omitempty"`
	HandoffError   string           `json:"handoff_error,omitempty"`
	LegalHold      bool             `json:"legal_hold"`
	PossibleRepeat bool             `json:"possible_repeat"`
	PoliceRef      string           `json:"police_reference,omitempty"`
	ChildrenRef    string           `json:"childrens_services_reference,omitempty"`
	Trail          []alertTrailView `json:"location_trail"`
	Timeline       []alertEntryView `json:"timeline"`
}

// alertStatus is the queue's wording for an alert's state.
func alertStatus(a *alert.Alert) string {
	switch {
	case a.FollowUp:
		return "welfare follow-up due"
	case a.State == alert.StateRaised && !a.Esc.Lapsed.IsZero():
		return "claim lapsed"
	}
	return string(a.State)
}

func alertSummaryOf(a *alert.Alert, b *casework.CaseBrief) alertSummary {
	v := alertSummary{
		ID: a.ID, CaseID: a.CaseID, Team: a.Team, State: string(a.State), Status: alertStatus(a),
		Class: a.Class.String(), Duress: a.Duress(), Priority: int(a.Priority), Risk: string(a.Risk),
		Source: string(a.Source), Mode: string(a.Mode), FollowUp: a.FollowUp, RaisedAt: a.RaisedAt, UpdatedAt: a.UpdatedAt,
		CancelUntil: a.CancelUntil, ClaimLapsedAt: a.Esc.Lapsed, OwnerWarnedAt: a.Esc.Warned,
	}
	if held := a.RaisedAt.Sub(a.PhoneAt); !a.PhoneAt.IsZero() && held >= time.Minute && held <= alert.DedupeFor {
		v.PhoneRaisedAt = a.PhoneAt
	}
	if a.Owner != "" {
		v.Owner = &alertOwnerView{ID: a.Owner, Name: a.OwnerName}
	}
	if b != nil {
		v.Alias = b.Alias.Reveal()
	}
	return v
}

func (s *server) alertTrailPoint(l pii.Location, received, now time.Time) *alertTrailView {
	if l.IsZero() {
		return nil
	}
	lat, lon, acc, at := l.Reveal()
	if at.IsZero() {
		at = received
	}
	v := &alertTrailView{Lat: lat, Lon: lon, AccuracyM: acc, At: at, ReceivedAt: received, AgeSeconds: int64(now.Sub(at) / time.Second)}
	if s.Postcodes != nil {
		v.Sector, v.SectorKM = s.Postcodes.Nearest(postcode.Point{Lat: lat, Lon: lon})
		v.SectorKM = float64(int(v.SectorKM*10+0.5)) / 10
	}
	return v
}

func (s *server) alertViewOf(v *alert.View) alertView {
	a, b, now := v.Alert, v.Case, s.Now()
	out := alertView{
		alertSummary: alertSummaryOf(a, b),
		Outcome:      string(a.Outcome),
		AckedAt:      a.AckedAt,
		ClosedAt:     a.ClosedAt,
		Contact: alertContactView{Code: string(v.Verdict.Code), Reason: v.Verdict.Reason, Until: v.Verdict.Until,
			ThroughWaymark: s.Contact != nil},
		ReviewFlagged: v.Review,
		PoliceRef:     a.PoliceRef.Reveal(),
		ChildrenRef:   a.ChildrenRef.Reveal(),
		Trail:         []alertTrailView{},
		Timeline:      []alertEntryView{},
	}
	if b != nil {
		out.Contact.OpeningLine = b.Contact.OpeningLine.Reveal()
		out.Contact.Texts = b.Contact.Channels.SMS
		out.RiskDetail = &alertRiskView{Level: string(b.Risk)}
		if !b.RiskDate.IsZero() {
			out.RiskDetail.AssessedOn = b.RiskDate.In(wallclock.London()).Format(time.DateOnly)
		}
		out.MARAC = &alertMARACView{Referred: b.MARAC.Referred}
		if !b.MARAC.Date.IsZero() {
			out.MARAC.Date = b.MARAC.Date.In(wallclock.London()).Format(time.DateOnly)
			out.MARAC.Active = b.MARAC.Referred && now.Before(b.MARAC.Date.AddDate(1, 0, 0))
		}
		children := b.Children
		out.Children = &children
		out.Communication = &alertCommView{Communication: b.Communication, Summary: b.Communication.Summary()}
		out.ResponsePlan = b.ResponsePlan.Reveal()
		out.ExpiredCase = b.Expired
	}
	out.Handoff, out.LegalHold = string(a.Record.Handoff), a.Record.Hold
	if a.Record.Handoff == alert.HandoffPending {
		out.RecordStatus, out.HandoffTries, out.HandoffError = "record not yet filed", a.Record.Tries, a.Record.LastError
	}
	out.PossibleRepeat = records.PossibleRepeat(b, a.RaisedAt)
	if ci := v.Checkins; ci != nil {
		out.Checkins = &alertCheckinsView{Active: ci.Active, Paused: ci.Paused, NextDue: ci.NextDue, Last: ci.Last}
	}
	for _, p := range a.Trail {
		if t := s.alertTrailPoint(p.Location, p.Received, now); t != nil {
			out.Trail = append(out.Trail, *t)
		}
	}
	var last *alertTrailView
	if n := len(out.Trail); n > 0 {
		last = &out.Trail[n-1]
	}
	out.queueCard = s.cardOf(a, v.Verdict, last)
	for _, e := range a.Timeline {
		out.Timeline = append(out.Timeline, alertEntryView{
			Seq: e.Seq, At: e.At, Type: string(e.Type), By: e.By, ByName: e.ByName,
			Text: e.Text.Reveal(), Detail: e.Detail, Location: s.alertTrailPoint(e.Location, e.At, now),
		})
	}
	return out
}

// withAlerts answers 404 for every alert route when no service is wired.
func (s *server) withAlerts(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Alerts == nil {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		h(w, r)
	})
}

// listAlerts is GET /v1/alerts?state=open|recent.
func (s *server) listAlerts() http.Handler {
	return s.withAlerts(func(w http.ResponseWriter, r *http.Request) {
		ls, err := s.Alerts.ListBriefs(r.Context(), principal(r), r.URL.Query().Get("state"))
		if err != nil {
			s.error(w, r, err)
			return
		}
		out := alertList{Alerts: make([]alertSummary, 0, len(ls))}
		for _, l := range ls {
			sum := alertSummaryOf(l.Alert, l.Case)
			sum.queueCard = s.listCard(r, l)
			out.Alerts = append(out.Alerts, sum)
		}
		s.json(w, r, http.StatusOK, out)
	})
}

// getAlert is GET /v1/alerts/{id}.
func (s *server) getAlert() http.Handler {
	return s.withAlerts(func(w http.ResponseWriter, r *http.Request) {
		s.answerAlertView(w, r, http.StatusOK)
	})
}

func (s *server) answerAlertView(w http.ResponseWriter, r *http.Request, status int) {
	v, err := s.Alerts.Get(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.json(w, r, status, s.alertViewOf(v))
}

// ackAlert is POST /v1/alerts/{id}/ack: the first claim wins; anyone else
// gets 409 naming who has it.
func (s *server) ackAlert() http.Handler {
	return s.withAlerts(func(w http.ResponseWriter, r *http.Request) {
		err := s.Alerts.Ack(r.Context(), principal(r), r.PathValue("id"))
		s.auditAction(r, "alert.claim", r.PathValue("id"), err)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.answerAlertView(w, r, http.StatusOK)
	})
}

// workingAlert is POST /v1/alerts/{id}/working.
func (s *server) workingAlert() http.Handler {
	return s.withAlerts(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Alerts.Working(r.Context(), principal(r), r.PathValue("id")); err != nil {
			s.error(w, r, err)
			return
		}
		s.answerAlertView(w, r, http.StatusOK)
	})
}

type alertNoteRequest struct {
	Note string `json:"note" validate:"required,max=4000"`
}

// noteAlert is POST /v1/alerts/{id}/notes.
func (s *server) noteAlert() http.Handler {
	return s.withAlerts(func(w http.ResponseWriter, r *http.Request) {
		var req alertNoteRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.Alerts.Note(r.Context(), principal(r), r.PathValue("id"), pii.NewText(req.Note)); err != nil {
			s.error(w, r, err)
			return
		}
		s.answerAlertView(w, r, http.StatusCreated)
	})
}

type alertResolveRequest struct {
	Outcome     string `json:"outcome" validate:"required,oneof=safe police-attended referred accidental suspected-third-party unverified no-contact"`
	Note        string `json:"note,omitempty" validate:"max=4000"`
	PoliceRef   string `json:"police_reference,omitempty" validate:"max=64"`
	ChildrenRef string `json:"childrens_services_reference,omitempty" validate:"max=64"`
}

// resolveAlert is POST /v1/alerts/{id}/resolve.
func (s *server) resolveAlert() http.Handler {
	return s.withAlerts(func(w http.ResponseWriter, r *http.Request) {
		var req alertResolveRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		res := alert.Resolution{
			Outcome: alert.Outcome(req.Outcome), Note: pii.NewText(req.Note),
			PoliceRef: pii.NewText(req.PoliceRef), ChildrenRef: pii.NewText(req.ChildrenRef),
		}
		err := s.Alerts.Resolve(r.Context(), principal(r), r.PathValue("id"), res)
		s.auditAction(r, "alert.resolve", r.PathValue("id"), err)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.answerAlertView(w, r, http.StatusOK)
	})
}
