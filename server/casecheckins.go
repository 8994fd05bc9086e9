package server

import (
	"net/http"
	"time"

	"waymark/casework"
	"waymark/problem"
)

// A case's check-in schedule, as its caseworkers see and set it on the
// case screen (the survivor sets it from the app's hidden settings).

type caseCheckinsRequest struct {
	EveryMinutes int      `json:"every_minutes"`
	Times        []string `json:"times"`
	GraceMinutes int      `json:"grace_minutes"`
}

type checkinsView struct {
	Active       bool      `json:"active"`
	EveryMinutes int       `json:"every_minutes,omitempty"`
	Times        []string  `json:"times,omitempty"`
	GraceMinutes int       `json:"grace_minutes,omitempty"`
	NextDue      time.Time `json:"next_due,omitzero"`
	Last         time.Time `json:"last_checkin,omitzero"`
	// Paused: a missed check-in raised its alert; nothing more is due
	// until the survivor checks in again.
	Paused bool        `json:"paused"`
	Log    []entryView `json:"log"`
}

type entryView struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Detail string    `json:"detail"`
}

// caseCheckins is GET /v1/cases/{id}/checkins: the schedule and the log of
// its changes, for the case's caseworkers.
func (s *server) caseCheckins() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := s.Cases.Get(r.Context(), principal(r), id); err != nil {
			s.error(w, r, err)
			return
		}
		ci, log, err := s.Alerts.CheckinLog(r.Context(), id)
		if err != nil {
			s.error(w, r, err)
			return
		}
		v := checkinsView{Log: []entryView{}}
		if ci != nil {
			v.Active, v.Paused, v.Last = ci.Active, ci.Paused, ci.Last
			if ci.Active {
				v.EveryMinutes = int(ci.Schedule.Every / time.Minute)
				v.Times = ci.Schedule.Times
				v.GraceMinutes = int(ci.Schedule.Grace / time.Minute)
				v.NextDue = ci.NextDue
			}
		}
		for _, e := range log {
			v.Log = append(v.Log, entryView{At: e.At, By: e.By, Detail: e.Detail})
		}
		s.json(w, r, http.StatusOK, v)
	})
}

// caseSetCheckins is PUT /v1/cases/{id}/checkins: a caseworker sets the
// schedule agreed with the survivor (every N minutes, or daily
// Europe/London times, with a grace period). Missed check-ins stay
// server-side, as ever.
func (s *server) caseSetCheckins() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		var req caseCheckinsRequest
		if err := s.decode(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
		inv := &problem.Invalid{}
		if req.EveryMinutes < 0 {
			inv.Add("every_minutes", "must not be negative")
		}
		if req.GraceMinutes < 0 {
			inv.Add("grace_minutes", "must not be negative")
		}
		if err := inv.Err(); err != nil {
			s.error(w, r, err)
			return
		}
		sched := &casework.Schedule{
			Every: time.Duration(req.EveryMinutes) * time.Minute,
			Times: req.Times,
			Grace: time.Duration(req.GraceMinutes) * time.Minute,
		}
		if err := s.Alerts.SetSchedule(r.Context(), principal(r), r.PathValue("id"), sched); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// caseStopCheckins is DELETE /v1/cases/{id}/checkins.
func (s *server) caseStopCheckins() http.Handler {
	return s.withCases(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Alerts.SetSchedule(r.Context(), principal(r), r.PathValue("id"), nil); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
