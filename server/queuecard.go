package server

import (
	"net/http"
	"strings"
	"time"

	"waymark/alert"
	"waymark/casework"
)

// queueCard is what a queue card shows for choosing the next alert,
// beside the summary: the contact verdict now, the postcode district of
// the latest location fix (never the fix itself on the list), and when
// the alert becomes overdue if nobody claims it.
type queueCard struct {
	// Verdict is SAFE TO CALL, TEXT ONLY or DO NOT CONTACT, as the alert
	// view gives it at this moment.
	Verdict string `json:"verdict"`
	// District is the postcode district (such as SO14) nearest the latest
	// fix; empty without a fix or postcode data.
	District string `json:"district,omitempty"`
	// OverdueAt is when the first step of the alert's policy has passed:
	// unclaimed after that, the alert is overdue.
	OverdueAt time.Time `json:"overdue_at,omitzero"`
}

// cardOf builds an alert's queue card from its verdict and the latest fix
// on its trail (nil when none).
func (s *server) cardOf(a *alert.Alert, verdict casework.Verdict, last *alertTrailView) queueCard {
	c := queueCard{Verdict: string(verdict.Code), OverdueAt: a.OverdueAt()}
	if c.Verdict == "" {
		c.Verdict = string(casework.ContactPlan{}.VerdictAt(s.Now(), a.Duress()).Code)
	}
	if last != nil {
		c.District = districtOf(last.Sector)
	}
	return c
}

// listCard is cardOf for a line of the alert list: the verdict comes from
// the case's contact plan, and the latest fix from the alert's trail,
// read only for alerts that have one.
func (s *server) listCard(r *http.Request, l alert.Listed) queueCard {
	var plan casework.ContactPlan
	if l.Case != nil {
		plan = l.Case.Contact
	}
	v := plan.VerdictAt(s.Now(), l.Alert.Duress())
	var last *alertTrailView
	if l.Alert.TrailSeq > 0 && s.Postcodes != nil {
		if full, err := s.Alerts.Get(r.Context(), principal(r), l.Alert.ID); err == nil && len(full.Alert.Trail) > 0 {
			p := full.Alert.Trail[len(full.Alert.Trail)-1]
			last = s.alertTrailPoint(p.Location, p.Received, s.Now())
		}
	}
	return s.cardOf(l.Alert, v, last)
}

// districtOf is the district part of a postcode sector ("SO14 3" → "SO14").
func districtOf(sector string) string {
	d, _, _ := strings.Cut(strings.TrimSpace(sector), " ")
	return d
}
