package oncall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"waymark/casework"
	"waymark/problem"
	"waymark/wallclock"
)

// --- what escalation consumes ---

// PolicySource reads a team's policies; nil (and no error) when the team
// set none.
type PolicySource interface {
	Policies(ctx context.Context, team string) (*PolicySet, error)
}

// RotaSource reads a team's rota; nil (and no error) when it has none.
type RotaSource interface {
	Rota(ctx context.Context, team string) (*Rota, error)
}

// Tier is a level of a team's on-call rota.
type Tier string

// Rota tiers, in the order escalation usually reaches them.
const (
	TierPrimary     Tier = "primary"
	TierSecondary   Tier = "secondary"
	TierDutyManager Tier = "duty-manager"
)

// Tiers lists the tiers in order.
func Tiers() []Tier { return []Tier{TierPrimary, TierSecondary, TierDutyManager} }

// Valid reports whether t is a known tier.
func (t Tier) Valid() bool { return slices.Contains(Tiers(), t) }

// Shift is one weekly shift of a rota: a staff member in a tier, on some
// days of the week, from Start to End in Europe/London wall-clock minutes
// after midnight. End at or before Start runs past midnight into the next
// day; End 1440 is midnight at the end of the day.
//
// Shifts are wall-clock: a 09:00 shift starts at 09:00 on the clock on the
// wall every day, summer or winter, so no shift moves by an hour at a clock
// change. A shift that spans the change is an hour shorter or longer in
// elapsed time. A wall time the clocks skip (01:30 on the last Sunday of
// March) falls at the jump; one they repeat (01:30 on the last Sunday of
// October) at its first occurrence.
type Shift struct {
	Tier  Tier           `json:"tier"`
	Staff string         `json:"staff"`
	Days  []time.Weekday `json:"days"`
	Start int            `json:"start"`
	End   int            `json:"end"`
}

// OverrideKind says how an override changes the weekly pattern.
type OverrideKind string

// Override kinds.
const (
	// OverrideSwap puts Staff in place of Replaces in a tier, wherever
	// Replaces would have been on call in that tier.
	OverrideSwap OverrideKind = "swap"
	// OverrideCover puts Staff in a tier, in addition to whoever is there.
	OverrideCover OverrideKind = "cover"
)

// Override changes the rota between two instants.
type Override struct {
	Kind     OverrideKind `json:"kind"`
	Tier     Tier         `json:"tier"`
	Staff    string       `json:"staff"`
	Replaces string       `json:"replaces,omitempty"`
	From     time.Time    `json:"from"`
	To       time.Time    `json:"to"`
}

// Rota is a team's on-call rota: weekly shifts and dated overrides. Staff
// are named by staff id. Overlaps, within and across tiers, are normal.
type Rota struct {
	Team string `json:"team"`
	// Version counts the rota's changes; a change commits only onto the
	// version it was checked against.
	Version   int64      `json:"version"`
	Shifts    []Shift    `json:"shifts"`
	Overrides []Override `json:"overrides"`
	SetAt     time.Time  `json:"set_at"`
	SetBy     string     `json:"set_by,omitempty"`
}

// midnight is the End of a shift that runs to the end of its day.
const midnight = 24 * 60

// interval is the shift's span when it starts on the London date of day.
func (s Shift) interval(y int, m time.Month, d int, loc *time.Location) (from, to time.Time) {
	from = wallclock.At(y, m, d, s.Start, loc)
	endDay := d
	if s.End <= s.Start {
		endDay++
	}
	end := s.End
	if end == midnight {
		end, endDay = 0, d+1
	}
	// time.Date normalises day overflow; wallClock wants a real date.
	e := time.Date(y, m, endDay, 12, 0, 0, 0, time.UTC)
	to = wallclock.At(e.Year(), e.Month(), e.Day(), end, loc)
	return from, to
}

func (s Shift) on(w time.Weekday) bool { return slices.Contains(s.Days, w) }

// OnCall returns who is on call in each tier at the instant at: staff ids,
// sorted, without duplicates. Tiers with nobody are absent.
func (r *Rota) OnCall(at time.Time) map[Tier][]string {
	out := map[Tier][]string{}
	if r == nil {
		return out
	}
	loc := wallclock.London()
	ly, lm, ld := at.In(loc).Date()
	// A shift on air at `at` started today or (past midnight) yesterday.
	for back := -1; back <= 0; back++ {
		day := time.Date(ly, lm, ld+back, 12, 0, 0, 0, time.UTC)
		for _, s := range r.Shifts {
			if !s.on(day.Weekday()) {
				continue
			}
			from, to := s.interval(day.Year(), day.Month(), day.Day(), loc)
			if !at.Before(from) && at.Before(to) {
				out[s.Tier] = append(out[s.Tier], s.Staff)
			}
		}
	}
	for t, ids := range out {
		slices.Sort(ids)
		out[t] = slices.Compact(ids)
	}
	for _, o := range r.Overrides {
		if at.Before(o.From) || !at.Before(o.To) {
			continue
		}
		ids := out[o.Tier]
		switch o.Kind {
		case OverrideCover:
			ids = append(ids, o.Staff)
		case OverrideSwap:
			i := slices.Index(ids, o.Replaces)
			if i < 0 {
				continue
			}
			ids[i] = o.Staff
		}
		slices.Sort(ids)
		out[o.Tier] = slices.Compact(ids)
	}
	return out
}

// Gap is a span in which no tier of a rota has anyone.
type Gap struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Gaps lists the spans within [from, to) in which nobody is on call in any
// tier, in order. A swap only ever replaces someone, so coverage is the
// union of the shifts and the covers.
func (r *Rota) Gaps(from, to time.Time) []Gap {
	if !from.Before(to) {
		return nil
	}
	if r == nil || len(r.Shifts) == 0 && len(r.Overrides) == 0 {
		return []Gap{{From: from, To: to}}
	}
	loc := wallclock.London()
	var spans []Gap
	fy, fm, fd := from.In(loc).Date()
	for day := time.Date(fy, fm, fd-1, 12, 0, 0, 0, time.UTC); ; day = day.AddDate(0, 0, 1) {
		start := wallclock.At(day.Year(), day.Month(), day.Day(), 0, loc)
		if !start.Before(to) {
			break
		}
		for _, s := range r.Shifts {
			if s.on(day.Weekday()) {
				a, b := s.interval(day.Year(), day.Month(), day.Day(), loc)
				spans = append(spans, Gap{From: a, To: b})
			}
		}
	}
	for _, o := range r.Overrides {
		if o.Kind == OverrideCover {
			spans = append(spans, Gap{From: o.From, To: o.To})
		}
	}
	slices.SortFunc(spans, func(a, b Gap) int { return a.From.Compare(b.From) })
	var gaps []Gap
	cursor := from
	for _, s := range spans {
		if !s.To.After(cursor) {
			continue
		}
		if s.From.After(cursor) {
			end := s.From
			if end.After(to) {
				end = to
			}
			gaps = append(gaps, Gap{From: cursor, To: end})
		}
		cursor = s.To
		if !cursor.Before(to) {
			break
		}
	}
	if cursor.Before(to) {
		gaps = append(gaps, Gap{From: cursor, To: to})
	}
	return gaps
}

// People returns every staff id the rota names.
func (r *Rota) People() []string {
	var ids []string
	for _, s := range r.Shifts {
		ids = append(ids, s.Staff)
	}
	for _, o := range r.Overrides {
		ids = append(ids, o.Staff)
		if o.Replaces != "" {
			ids = append(ids, o.Replaces)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// RotaFile is a rota as an administrator writes it (YAML or JSON), before
// its people are looked up and its times checked:
//
//	team: north
//	timezone: Europe/London
//	shifts:
//	  - {tier: primary, staff: alice, days: weekdays, start: "09:00", end: "17:00"}
//	  - {tier: primary, staff: bob, days: [mon, tue, wed, thu, fri], start: "17:00", end: "09:00"}
//	  - {tier: duty-manager, staff: dora, days: daily, start: "00:00", end: "24:00"}
//	overrides:
//	  - {kind: swap, tier: primary, staff: carol, replaces: alice, from: 2026-10-24T09:00, to: 2026-10-26T09:00}
//
// Staff are usernames or staff ids. Times are Europe/London wall clock.
type RotaFile struct {
	Team      string         `json:"team,omitempty" yaml:"team,omitempty"`
	Timezone  string         `json:"timezone,omitempty" yaml:"timezone,omitempty"`
	Shifts    []ShiftFile    `json:"shifts" yaml:"shifts"`
	Overrides []OverrideFile `json:"overrides,omitempty" yaml:"overrides,omitempty"`
}

// ShiftFile is one shift as written. Days is a list of day names (mon …
// sun, or in full) or one of "daily", "weekdays", "weekends", or a single
// day name.
type ShiftFile struct {
	Tier  string   `json:"tier" yaml:"tier"`
	Staff string   `json:"staff" yaml:"staff"`
	Days  DayNames `json:"days" yaml:"days"`
	Start string   `json:"start" yaml:"start"`
	End   string   `json:"end" yaml:"end"`
}

// DayNames is a list of day names, written as a list or as one word.
type DayNames []string

// UnmarshalJSON accepts a list of strings or one string.
func (d *DayNames) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*d = DayNames{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("days must be a day name or a list of them")
	}
	*d = many
	return nil
}

// OverrideFile is one override as written. From and To are Europe/London
// wall-clock date-times (2026-10-24T09:00) or RFC 3339 with an offset.
type OverrideFile struct {
	Kind     string `json:"kind" yaml:"kind"`
	Tier     string `json:"tier" yaml:"tier"`
	Staff    string `json:"staff" yaml:"staff"`
	Replaces string `json:"replaces,omitempty" yaml:"replaces,omitempty"`
	From     string `json:"from" yaml:"from"`
	To       string `json:"to" yaml:"to"`
}

// Resolver turns a username or staff id into a staff id, or says what is
// wrong with it (unknown, disabled, not in the team).
type Resolver func(ref string) (id string, problem string)

// Rota bounds: generous for a real service, small enough that a gap check
// over a year stays fast.
const (
	maxShifts    = 500
	maxOverrides = 1000
	// maxOverrideSpan bounds one override; longer arrangements belong in
	// the weekly pattern.
	maxOverrideSpan = 92 * 24 * time.Hour
)

// CompileRota checks a rota file and turns it into a Rota for team, naming
// every problem by its place in the file (shifts[2].end). resolve looks the
// people up.
func CompileRota(f RotaFile, team string, resolve Resolver) (*Rota, error) {
	inv := &problem.Invalid{}
	if f.Team != "" && f.Team != team {
		inv.Add("team", "the file is for team "+quoteID(f.Team)+", not "+team)
	}
	if f.Timezone != "" && f.Timezone != "Europe/London" {
		inv.Add("timezone", "must be Europe/London (rotas are in UK wall-clock time)")
	}
	if len(f.Shifts) > maxShifts {
		inv.Add("shifts", fmt.Sprintf("at most %d shifts", maxShifts))
		return nil, inv.Err()
	}
	if len(f.Overrides) > maxOverrides {
		inv.Add("overrides", fmt.Sprintf("at most %d overrides", maxOverrides))
		return nil, inv.Err()
	}
	r := &Rota{Team: team, Shifts: []Shift{}, Overrides: []Override{}}
	person := func(field, ref string) string {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			inv.Add(field, "is required")
			return ""
		}
		id, bad := resolve(ref)
		if bad != "" {
			inv.Add(field, bad)
			return ""
		}
		return id
	}
	for i, sf := range f.Shifts {
		at := fmt.Sprintf("shifts[%d].", i)
		s := Shift{Tier: Tier(strings.TrimSpace(sf.Tier))}
		if !s.Tier.Valid() {
			inv.Add(at+"tier", "must be primary, secondary or duty-manager")
		}
		s.Staff = person(at+"staff", sf.Staff)
		days, bad := parseDays(sf.Days)
		if bad != "" {
			inv.Add(at+"days", bad)
		}
		s.Days = days
		var ok1, ok2 bool
		if s.Start, ok1 = rotaClock(sf.Start, false); !ok1 {
			inv.Add(at+"start", "must be a time of day HH:MM from 00:00 to 23:59")
		}
		if s.End, ok2 = rotaClock(sf.End, true); !ok2 {
			inv.Add(at+"end", "must be a time of day HH:MM from 00:00 to 24:00")
		}
		if ok1 && ok2 && s.Start == s.End {
			inv.Add(at+"end", "must differ from start (a shift cannot be empty; 00:00 to 24:00 is a whole day)")
		}
		r.Shifts = append(r.Shifts, s)
	}
	for i, of := range f.Overrides {
		at := fmt.Sprintf("overrides[%d].", i)
		o := Override{Kind: OverrideKind(strings.TrimSpace(of.Kind)), Tier: Tier(strings.TrimSpace(of.Tier))}
		if o.Kind != OverrideSwap && o.Kind != OverrideCover {
			inv.Add(at+"kind", "must be swap or cover")
		}
		if !o.Tier.Valid() {
			inv.Add(at+"tier", "must be primary, secondary or duty-manager")
		}
		o.Staff = person(at+"staff", of.Staff)
		if o.Kind == OverrideSwap {
			o.Replaces = person(at+"replaces", of.Replaces)
			if o.Replaces != "" && o.Replaces == o.Staff {
				inv.Add(at+"replaces", "must be someone other than staff")
			}
		} else if strings.TrimSpace(of.Replaces) != "" {
			inv.Add(at+"replaces", "is only for a swap")
		}
		var bad string
		if o.From, bad = wallclock.ParseLondonTime(of.From); bad != "" {
			inv.Add(at+"from", bad)
		}
		if o.To, bad = wallclock.ParseLondonTime(of.To); bad != "" {
			inv.Add(at+"to", bad)
		}
		if !o.From.IsZero() && !o.To.IsZero() {
			switch {
			case !o.To.After(o.From):
				inv.Add(at+"to", "must be after from")
			case o.To.Sub(o.From) > maxOverrideSpan:
				inv.Add(at+"to", "an override may last at most 92 days; change the weekly shifts instead")
			}
		}
		r.Overrides = append(r.Overrides, o)
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// RotaCheckSpan is how far ahead a new rota is checked for gaps: a year and
// a week, so both clock changes and every week of the pattern are covered.
const RotaCheckSpan = 371 * 24 * time.Hour

// DescribeGaps names up to three gaps for an administrator, in London time.
func DescribeGaps(gaps []Gap) string {
	loc := wallclock.London()
	var parts []string
	for i, g := range gaps {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(gaps)-3))
			break
		}
		parts = append(parts, g.From.In(loc).Format("Mon 2006-01-02 15:04")+" to "+g.To.In(loc).Format("Mon 2006-01-02 15:04 MST"))
	}
	return strings.Join(parts, "; ")
}

var rotaDayNames = map[string]time.Weekday{
	"mon": time.Monday, "monday": time.Monday, "tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday, "thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday,
	"thursday": time.Thursday, "fri": time.Friday, "friday": time.Friday, "sat": time.Saturday, "saturday": time.Saturday,
	"sun": time.Sunday, "sunday": time.Sunday,
}

// parseDays reads day names; it returns them sorted (Sunday first, as
// time.Weekday counts) without duplicates.
func parseDays(names DayNames) ([]time.Weekday, string) {
	var out []time.Weekday
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		switch n {
		case "daily", "every day", "all":
			out = append(out, time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday)
		case "weekdays":
			out = append(out, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)
		case "weekends":
			out = append(out, time.Saturday, time.Sunday)
		default:
			w, ok := rotaDayNames[n]
			if !ok {
				return nil, "must be day names (mon … sun), daily, weekdays or weekends"
			}
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return nil, "is required: which days of the week the shift starts on"
	}
	slices.Sort(out)
	return slices.Compact(out), ""
}

// parseClock reads HH:MM (or H:MM) as minutes after midnight; 24:00 only
// when end is set.
func rotaClock(s string, end bool) (int, bool) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || strings.ContainsAny(s, "+- ") {
		return 0, false
	}
	v := hh*60 + mm
	switch {
	case end && v == midnight:
		return v, true
	case hh > 23:
		return 0, false
	}
	return v, true
}

// quoteID shows an identifier from a file only when it looks like one, so
// an error never echoes something pasted by mistake.
func quoteID(s string) string {
	if len(s) > 32 || strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return "(another team)"
	}
	return s
}

// OnCallStore keeps rotas and policies. Package store implements it.
type OnCallStore interface {
	RotaSource
	PolicySource
	// SaveRota puts r in force if the stored rota is still at version
	// r.Version-1; an error wrapping ErrConflict otherwise.
	SaveRota(ctx context.Context, r *Rota) error
	// SavePolicies does the same for a policy set.
	SavePolicies(ctx context.Context, p *PolicySet) error
}

// OnCall manages teams' rotas and escalation policies and answers who is
// on call. Build it with NewOnCall.
type OnCall struct {
	store    OnCallStore
	people   People
	presence Presence
	fallback Fallback
	now      func() time.Time
}

// NewOnCall builds the on-call service. presence may be nil (a team with
// no rota then shows nobody on call); now nil means time.Now.
func NewOnCall(st OnCallStore, people People, presence Presence, fallback Fallback, now func() time.Time) *OnCall {
	if now == nil {
		now = time.Now
	}
	return &OnCall{store: st, people: people, presence: presence, fallback: fallback, now: now}
}

// Fallback is the deployment's 24/7 fallback.
func (o *OnCall) Fallback() Fallback { return o.fallback }

// resolver looks people up for team: by staff id or username, active and
// a member of the team.
func (o *OnCall) resolver(ctx context.Context, team string, errp *error) Resolver {
	return func(ref string) (string, string) {
		if len(ref) > 64 {
			return "", "is not a known staff id or username"
		}
		p, err := o.people.Person(ctx, ref)
		switch {
		case errors.Is(err, problem.ErrNotFound):
			return "", "is not a known staff id or username"
		case err != nil:
			if *errp == nil {
				*errp = err
			}
			return "", "could not be checked"
		case !p.Active:
			return "", "is disabled or has not finished setting up their account"
		case !slices.Contains(p.Teams, team):
			return "", "is not a member of team " + team
		}
		return p.ID, ""
	}
}

func (o *OnCall) checkTeam(ctx context.Context, team string) error {
	ok, err := o.people.HasTeam(ctx, team)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("alert: team %s: %w", team, casework.ErrNotFound)
	}
	return nil
}

// SetRota checks a rota file and puts it in force for team. It is refused,
// and the rota in force stays, when a person is unknown, a time is
// impossible, or some time in the coming year has nobody on call in any
// tier and no 24/7 fallback is configured. warnings name people the rota
// cannot page by phone.
func (o *OnCall) SetRota(ctx context.Context, team string, f RotaFile, by string) (r *Rota, warnings []string, err error) {
	if err := o.checkTeam(ctx, team); err != nil {
		return nil, nil, err
	}
	var lookupErr error
	r, err = CompileRota(f, team, o.resolver(ctx, team, &lookupErr))
	if lookupErr != nil {
		return nil, nil, lookupErr
	}
	if err != nil {
		return nil, nil, err
	}
	now := o.now()
	if gaps := r.Gaps(now, now.Add(RotaCheckSpan)); len(gaps) > 0 {
		if !o.fallback.Set() {
			return nil, nil, problem.Invalidf("shifts", "leave times with nobody on call in any tier and no 24/7 fallback is configured (WAYMARK_FALLBACK_PHONE): "+DescribeGaps(gaps))
		}
		warnings = append(warnings, fmt.Sprintf("%d gap(s) in the coming year are covered only by the 24/7 fallback: %s", len(gaps), DescribeGaps(gaps)))
	}
	for _, id := range r.People() {
		p, err := o.people.Person(ctx, id)
		if err == nil && p.Phone.IsZero() {
			warnings = append(warnings, "staff "+id+" has no page phone: only their dashboard can reach them")
		}
	}
	cur, err := o.store.Rota(ctx, team)
	if err != nil {
		return nil, nil, err
	}
	r.Version = 1
	if cur != nil {
		r.Version = cur.Version + 1
	}
	r.SetAt, r.SetBy = now, by
	if err := o.store.SaveRota(ctx, r); err != nil {
		return nil, nil, err
	}
	return r, warnings, nil
}

// Rota returns team's rota in force; nil when it has none.
func (o *OnCall) Rota(ctx context.Context, team string) (*Rota, error) {
	if err := o.checkTeam(ctx, team); err != nil {
		return nil, err
	}
	return o.store.Rota(ctx, team)
}

// OnCallPerson is someone on call.
type OnCallPerson struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// WhoIsOn is who is on call in a team at an instant.
type WhoIsOn struct {
	At    time.Time               `json:"at"`
	Tiers map[Tier][]OnCallPerson `json:"tiers"`
	// Fallback says nobody is on call and the 24/7 fallback covers.
	Fallback bool `json:"fallback"`
	// FallbackName names the 24/7 service (not a person).
	FallbackName string `json:"fallback_name,omitempty"`
	// RotaVersion is the rota's version; 0 when the team has none, and
	// then the primary tier is whoever is on duty on the dashboard now.
	RotaVersion int64 `json:"rota_version"`
}

// Who answers who is on call in team at at, tier by tier.
func (o *OnCall) Who(ctx context.Context, team string, at time.Time) (WhoIsOn, error) {
	r, err := o.Rota(ctx, team)
	if err != nil {
		return WhoIsOn{}, err
	}
	w := WhoIsOn{At: at, Tiers: map[Tier][]OnCallPerson{}}
	ids := map[Tier][]string{}
	if r != nil {
		w.RotaVersion = r.Version
		ids = r.OnCall(at)
	} else if o.presence != nil && !at.Before(o.now().Add(-time.Minute)) && !at.After(o.now().Add(time.Minute)) {
		on, err := o.presence.OnDashboard(ctx, team)
		if err != nil {
			return WhoIsOn{}, err
		}
		for id, duty := range on {
			if duty {
				ids[TierPrimary] = append(ids[TierPrimary], id)
			}
		}
		slices.Sort(ids[TierPrimary])
	}
	for _, t := range Tiers() {
		ps := []OnCallPerson{}
		for _, id := range ids[t] {
			p := OnCallPerson{ID: id}
			if pp, err := o.people.Person(ctx, id); err == nil {
				p.Name = pp.Name
				if p.Name == "" {
					p.Name = pp.Username
				}
			} else if !errors.Is(err, problem.ErrNotFound) {
				return WhoIsOn{}, err
			}
			ps = append(ps, p)
		}
		w.Tiers[t] = ps
	}
	if len(ids[TierPrimary])+len(ids[TierSecondary])+len(ids[TierDutyManager]) == 0 {
		w.Fallback = o.fallback.Set()
		w.FallbackName = o.fallback.Name
	}
	return w, nil
}

// Gaps lists the spans in [from, to) when nobody in team is on call in any
// tier (the 24/7 fallback is all there is then), for the dashboard.
func (o *OnCall) Gaps(ctx context.Context, team string, from, to time.Time) ([]Gap, error) {
	r, err := o.Rota(ctx, team)
	if err != nil {
		return nil, err
	}
	gaps := r.Gaps(from, to)
	if gaps == nil {
		gaps = []Gap{}
	}
	return gaps, nil
}

// SetPolicies checks a policy file and puts it in force for team: new
// alerts follow it, open ones keep the snapshot they were raised with. It
// is refused, and the policies in force stay, when a person is unknown, a
// wait is zero or impossible, or a level has no path to the fallback.
func (o *OnCall) SetPolicies(ctx context.Context, team string, f PolicyFile, by string) (*PolicySet, error) {
	if err := o.checkTeam(ctx, team); err != nil {
		return nil, err
	}
	var lookupErr error
	ps, err := CompilePolicies(f, team, o.resolver(ctx, team, &lookupErr))
	if lookupErr != nil {
		return nil, lookupErr
	}
	if err != nil {
		return nil, err
	}
	cur, err := o.store.Policies(ctx, team)
	if err != nil {
		return nil, err
	}
	ps.Version = 1
	if cur != nil {
		ps.Version = cur.Version + 1
	}
	ps.SetAt, ps.SetBy = o.now(), by
	if err := o.store.SavePolicies(ctx, ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// Policies returns team's policies in force (the defaults when it set
// none; their Version is then 0).
func (o *OnCall) Policies(ctx context.Context, team string) (*PolicySet, error) {
	if err := o.checkTeam(ctx, team); err != nil {
		return nil, err
	}
	ps, err := o.store.Policies(ctx, team)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = DefaultPolicies()
		ps.Team = team
	}
	return ps, nil
}
