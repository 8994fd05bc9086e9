package casework

import (
	"context"
	"slices"
	"time"

	"waymark/pii"
)

// CaseBrief is what a responder sees of a case on an alert: never code
// words, PINs or the phone number, which it does not even hold.
type CaseBrief struct {
	CaseFacts
	Alias         pii.Text
	RiskDate      time.Time
	MARAC         MARAC
	Children      Children
	Communication Communication
	ResponsePlan  pii.Text
	Contact       ContactPlan
	// Excluded are staff ids who must never see the case.
	Excluded []string
	// Review is the case's review flag.
	Review bool
}

// Source is what the alert service reads of cases (alert.CaseSource):
// the facts a signal is decided on, with the PIN it carried checked, and
// the responder's brief.
type Source struct{ c *Cases }

// NewSource returns the cases service's Source.
func NewSource(c *Cases) Source { return Source{c} }

// FactsFrom decides the facts of a case and its pin on c, the record the
// store read with the case's alert state (nil when the case does not
// exist). The plain fields hold everything raising needs: no data key is
// unwrapped and nothing sealed is opened.
func (s Source) FactsFrom(ctx context.Context, caseID string, c *Case, pin string) (CaseFacts, PIN, error) {
	if c == nil || !ValidCaseID(c.ID) {
		return CaseFacts{}, PINNone, ErrNotFound
	}
	if err := s.c.DecideExpiry(ctx, c); err != nil {
		return CaseFacts{}, PINNone, err
	}
	return s.check(c, pin)
}

func (s Source) check(c *Case, pin string) (CaseFacts, PIN, error) {
	// Check even an empty PIN: every path costs the same.
	isReal, isDuress := s.c.CheckPIN(c, pin)
	p := PINWrong
	switch {
	case isDuress:
		p = PINDuress
	case isReal:
		p = PINReal
	}
	return FactsOf(c), p, nil
}

// FactsOf is what deciding on a signal needs of c.
func FactsOf(c *Case) CaseFacts {
	return CaseFacts{ID: c.ID, Team: c.Team, Risk: c.Risk, Owner: c.Owner, Expired: c.Expired, Practice: c.Practice}
}

// Brief reads case caseID's responder view.
func (s Source) Brief(ctx context.Context, caseID string) (*CaseBrief, error) {
	c, err := s.c.Load(ctx, caseID)
	if err != nil {
		return nil, err
	}
	return &CaseBrief{
		CaseFacts:     FactsOf(c),
		Alias:         c.Alias,
		RiskDate:      c.RiskDate,
		MARAC:         c.MARAC,
		Children:      c.Children,
		Communication: c.Communication,
		ResponsePlan:  c.ResponsePlan,
		Contact:       c.Contact,
		Excluded:      slices.Clone(c.Excluded),
		Review:        c.Review,
	}, nil
}

// FlagReview flags the case for a caseworker's review.
func (s Source) FlagReview(ctx context.Context, caseID string) error {
	return s.c.FlagReview(ctx, caseID)
}

// PIN is what the PIN check said about the PIN a signal carried.
type PIN int

// PIN check results. Every PIN check computes both comparisons
// (seal.PINKey.Check), so which of these it is costs no time to learn.
const (
	PINNone   PIN = iota // no PIN sent
	PINReal              // the survivor's own PIN
	PINDuress            // the duress PIN: looks like success, raises the alarm
	PINWrong             // neither
)

// CaseFacts is what deciding on a signal needs to know about its case.
type CaseFacts struct {
	ID    string
	Team  string
	Risk  Risk
	Owner string // caseworker who owns the case
	// Expired says the case is past its expiry: its signals still raise
	// alerts, flagged so a caseworker renews or closes it.
	Expired bool
	// Practice is the case's practice window (zero if none).
	Practice PracticeWindow
}
