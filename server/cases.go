package server

import (
	"net/http"
	"time"

	"waymark/casework"
	"waymark/wallclock"
)

// Case routes (caseworkers; reveal also responders; legal hold admins).
// Answers never carry a PIN, a code or duress word, the phone number or the
// safety notes: those leave only through the audited reveal, and the
// responder-facing alert view is the alert service's.

// maracView is a MARAC referral as the API shows it.
type maracView struct {
	Referred bool   `json:"referred"`
	Date     string `json:"date,omitempty"`
}

type safeContactView struct {
	Windows     []casework.Window `json:"windows"`
	Channels    casework.Channels `json:"channels"`
	OpeningLine string            `json:"opening_line"`
}

type techSafetyView struct {
	OthersHaveAccess bool      `json:"others_have_access"`
	Notes            string    `json:"notes"`
	RecordedAt       time.Time `json:"recorded_at"`
	RecordedBy       string    `json:"recorded_by"`
}

type wordsSetView struct {
	Code   int `json:"code"`
	Duress int `json:"duress"`
}

type deviceView struct {
	ID         string    `json:"device_id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	// RemovedAt is set when the phone forgot itself ("removed from the
	// phone"); the device no longer works.
	RemovedAt time.Time `json:"removed_at,omitzero"`
}

// caseView is a case as its team's caseworkers see it.
type caseView struct {
	ID               string                 `json:"id"`
	Alias            string                 `json:"alias"`
	Team             string                 `json:"team"`
	RiskLevel        casework.Risk          `json:"risk_level"`
	RiskDate         string                 `json:"risk_date,omitempty"`
	MARAC            maracView              `json:"marac"`
	Communication    casework.Communication `json:"communication"`
	Children         casework.Children      `json:"children"`
	SafeContact      safeContactView        `json:"safe_contact"`
	ResponsePlan     string                 `json:"response_plan"`
	Owner            string                 `json:"owner"`
	ExcludedStaff    []string               `json:"excluded_staff"`
	LinkedCase       string                 `json:"linked_case,omitempty"`
	Under18          bool                   `json:"under_18"`
	SafeguardingLead string                 `json:"safeguarding_lead,omitempty"`
	TechSafetyCheck  *techSafetyView        `json:"tech_safety_check,omitempty"`
	// PhoneSet, NotesSet, PINsSet and WordsSet say what is recorded without
	// showing it.
	PhoneSet   bool         `json:"phone_set"`
	NotesSet   bool         `json:"notes_set"`
	PINsSet    bool         `json:"pins_set"`
	WordsSet   wordsSetView `json:"words_set"`
	LegalHold  bool         `json:"legal_hold"`
	SMSBlocked bool         `json:"sms_blocked"`
	Review     bool         `json:"review"`
	Expired    bool         `json:"expired"`
	CreatedAt  time.Time    `json:"created_at"`
	RenewedAt  time.Time    `json:"renewed_at"`
	ExpiresAt  time.Time    `json:"expires_at"`
	Devices    []deviceView `json:"devices"`
	Version    int64        `json:"version"`
	// Practice is the open practice window, if any.
	Practice *practiceView `json:"practice,omitempty"`
}

type practiceView struct {
	Until time.Time `json:"until"`
	By    string    `json:"by"`
}

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(wallclock.London()).Format(time.DateOnly)
}

func viewOf(c *casework.Case, now time.Time) caseView {
	v := caseView{
		ID: c.ID, Alias: c.Alias.Reveal(), Team: c.Team, RiskLevel: c.Risk, RiskDate: dateOf(c.RiskDate),
		MARAC:         maracView{Referred: c.MARAC.Referred, Date: dateOf(c.MARAC.Date)},
		Communication: c.Communication, Children: c.Children,
		SafeContact: safeContactView{Windows: c.Contact.Windows, Channels: c.Contact.Channels,
			OpeningLine: c.Contact.OpeningLine.Reveal()},
		ResponsePlan: c.ResponsePlan.Reveal(), Owner: c.Owner, ExcludedStaff: c.Excluded,
		LinkedCase: c.LinkedCase, Under18: c.Under18, SafeguardingLead: c.SafeguardingLead.Reveal(),
		PhoneSet: !c.Phone.IsZero(), NotesSet: !c.SafetyNotes.IsZero(),
		PINsSet:   len(c.PINHash) > 0 && len(c.DuressPINHash) > 0,
		WordsSet:  wordsSetView{Code: len(c.CodeWords), Duress: len(c.DuressWords)},
		LegalHold: c.LegalHold, SMSBlocked: c.SMSBlocked, Review: c.Review, Expired: c.Expired,
		CreatedAt: c.CreatedAt, RenewedAt: c.RenewedAt, ExpiresAt: c.ExpiresAt,
		Devices: []deviceView{}, Version: c.Version,
	}
	if v.ExcludedStaff == nil {
		v.ExcludedStaff = []string{}
	}
	if c.Practice.OpenAt(now) {
		v.Practice = &practiceView{Until: c.Practice.Until, By: c.Practice.By}
	}
	if v.SafeContact.Windows == nil {
		v.SafeContact.Windows = []casework.Window{}
	}
	if t := c.TechSafety; t != nil {
		v.TechSafetyCheck = &techSafetyView{OthersHaveAccess: t.OthersHaveAccess, Notes: t.Notes.Reveal(),
			RecordedAt: t.RecordedAt, RecordedBy: t.RecordedBy}
	}
	for _, d := range c.Devices {
		v.Devices = append(v.Devices, deviceView{ID: d.ID, CreatedAt: d.CreatedAt, LastUsedAt: d.LastUsedAt, RemovedAt: d.RemovedAt})
	}
	return v
}

// withCases answers 404 for every case route when no case service is wired.
func (s *server) withCases(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Cases == nil {
			s.error(w, r, casework.ErrNotFound)
			return
		}
		h(w, r)
	})
}

// createCase is POST /v1/cases.
func (s *server) createCase() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		var in casework.CaseInput
		if err := s.decode(w, r, &in); err != nil {
			s.error(w, r, err)
			return
		}
		c, err := s.Cases.Create(r.Context(), principal(r), in)
		if err != nil {
			s.error(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/cases/"+c.ID)
		s.json(w, r, http.StatusCreated, viewOf(c, s.Now()))
	})
}

// caseSummaryView is one line of a team's case list: alias and risk, and
// whether the case expires within alert.ExpiryWarning (the owner is warned
// 14 days ahead, so the caseworker can renew it in time). ExpiresAt is
// given only for a case that expires soon (or has expired): the summary
// carries no expiry of its own.
type caseSummaryView struct {
	ID           string        `json:"id"`
	Alias        string        `json:"alias"`
	RiskLevel    casework.Risk `json:"risk_level"`
	ExpiringSoon bool          `json:"expiring_soon"`
	Expired      bool          `json:"expired,omitempty"`
	ExpiresAt    *time.Time    `json:"expires_at,omitempty"`
}

type caseListQuery struct {
	Team string `query:"team" validate:"required,max=64"`
}

// listCases is GET /v1/cases?team=.
func (s *server) listCases() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		q := caseListQuery{Team: r.URL.Query().Get("team")}
		if err := s.check(&q); err != nil {
			s.error(w, r, err)
			return
		}
		list, err := s.Cases.List(r.Context(), principal(r), q.Team)
		if err != nil {
			s.error(w, r, err)
			return
		}
		// One read of the expiring cases per list; cases nothing keeps
		// alive (no MARAC, check-ins or recent app use) and not on legal
		// hold are the ones to warn about.
		expiring, err := s.Cases.ExpiringCases(r.Context(), casework.ExpiryWarning)
		if err != nil {
			s.error(w, r, err)
			return
		}
		soon := make(map[string]casework.ExpiringCase, len(expiring))
		for _, e := range expiring {
			if e.Team == q.Team {
				soon[e.ID] = e
			}
		}
		out := make([]caseSummaryView, len(list))
		for i, c := range list {
			out[i] = caseSummaryView{ID: c.ID, Alias: c.Alias.Reveal(), RiskLevel: c.Risk}
			if e, ok := soon[c.ID]; ok {
				at := e.ExpiresAt
				out[i].ExpiringSoon, out[i].Expired, out[i].ExpiresAt = true, e.Expired, &at
			}
		}
		s.json(w, r, http.StatusOK, map[string]any{"cases": out})
	})
}

// getCase is GET /v1/cases/{id}.
func (s *server) getCase() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Cases.Get(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, viewOf(c, s.Now()))
	})
}

// updateCase is PATCH /v1/cases/{id}: fields present replace, fields
// absent (or null) stay.
func (s *server) updateCase() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		var in casework.CaseInput
		if err := s.decode(w, r, &in); err != nil {
			s.error(w, r, err)
			return
		}
		p, id := principal(r), r.PathValue("id")
		if _, err := s.Cases.Update(r.Context(), p, id, in); err != nil {
			s.error(w, r, err)
			return
		}
		c, err := s.Cases.Get(r.Context(), p, id)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, viewOf(c, s.Now()))
	})
}

// eraseCase is DELETE /v1/cases/{id}.
func (s *server) eraseCase() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Cases.Erase(r.Context(), principal(r), r.PathValue("id")); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type renewView struct {
	ID        string    `json:"id"`
	RenewedAt time.Time `json:"renewed_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// renewCase is POST /v1/cases/{id}/renew.
func (s *server) renewCase() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Cases.Renew(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, renewView{ID: c.ID, RenewedAt: c.RenewedAt, ExpiresAt: c.ExpiresAt})
	})
}

type practiceRequest struct {
	Minutes int `json:"minutes" validate:"min=1,max=30"`
}

// openPractice is POST /v1/cases/{id}/practice: a practice window of
// 1–30 minutes, during which the survivor's panics and messages reach
// only the caseworker who opened it, marked PRACTICE.
func (s *server) openPractice() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		var req practiceRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.check(req); err != nil {
			s.error(w, r, err)
			return
		}
		pw, err := s.Cases.OpenPractice(r.Context(), principal(r), r.PathValue("id"), time.Duration(req.Minutes)*time.Minute)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, practiceView{Until: pw.Until, By: pw.By})
	})
}

// closePractice is DELETE /v1/cases/{id}/practice: from now on every
// signal is real.
func (s *server) closePractice() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Cases.ClosePractice(r.Context(), principal(r), r.PathValue("id")); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type revealRequest struct {
	Reason string `json:"reason" validate:"required,max=500"`
}

type revealView struct {
	ID          string `json:"id"`
	Phone       string `json:"phone"`
	SafetyNotes string `json:"safety_notes"`
}

// revealCase is POST /v1/cases/{id}/reveal: the audited way to the phone
// number and safety notes.
func (s *server) revealCase() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		var req revealRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		id := r.PathValue("id")
		got, err := s.Cases.Reveal(r.Context(), principal(r), id, req.Reason)
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.json(w, r, http.StatusOK, revealView{ID: id, Phone: got.Phone.Reveal(), SafetyNotes: got.SafetyNotes.Reveal()})
	})
}

type enrolmentRequest struct {
	TechSafetyCheck *casework.TechSafetyInput `json:"tech_safety_check" validate:"required"`
	// Look is the disguise chosen with the survivor (enrolment.go).
	Look *appLook `json:"look,omitempty"`
}

type enrolmentView struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
	// Link and QRSVG are the app link with the code in its fragment and
	// its QR code, when WAYMARK_APP_URL is known (enrolment.go).
	Link  string `json:"link,omitempty"`
	QRSVG string `json:"qr_svg,omitempty"`
}

// createEnrolment is POST /v1/cases/{id}/enrolments: records the
// tech-safety check and issues a one-time app enrolment code.
func (s *server) createEnrolment() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		var req enrolmentRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		if err := req.Look.check(); err != nil {
			s.error(w, r, err)
			return
		}
		e, err := s.Cases.IssueEnrolment(r.Context(), principal(r), r.PathValue("id"), *req.TechSafetyCheck)
		if err != nil {
			s.error(w, r, err)
			return
		}
		v := enrolmentView{Code: e.Code, ExpiresAt: e.ExpiresAt, Link: enrolmentLink(s.AppURL, e.Code, req.Look)}
		if v.Link != "" {
			if v.QRSVG, err = qrSVG(v.Link); err != nil {
				s.error(w, r, err)
				return
			}
		}
		s.json(w, r, http.StatusCreated, v)
	})
}

// revokeDevice is DELETE /v1/cases/{id}/devices/{device}.
func (s *server) revokeDevice() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Cases.RevokeDevice(r.Context(), principal(r), r.PathValue("id"), r.PathValue("device")); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type legalHoldRequest struct {
	Hold *bool `json:"hold" validate:"required"`
}

// setLegalHold is PUT /v1/cases/{id}/legal-hold (admin): a held case
// neither expires nor can be erased. Nothing of the case is returned.
func (s *server) setLegalHold() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		var req legalHoldRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.Cases.SetLegalHold(r.Context(), principal(r), r.PathValue("id"), *req.Hold); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
