package signpost

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"waymark/postcode"
)

// ErrInvalid is wrapped by every ValidationError.
var ErrInvalid = errors.New("signpost: invalid")

// FieldProblem names a field (in the JSON spelling, e.g.
// "schedules[0].closes_at") and what is wrong with it. Problems never quote
// the value: a message may end up in a log.
type FieldProblem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

func (p FieldProblem) String() string { return p.Field + ": " + p.Problem }

// ValidationError lists the problems that made a record or a query
// unusable.
type ValidationError struct {
	What     string // "service" or "query"
	Problems []FieldProblem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "signpost: invalid " + e.What + ": " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// problems collects hard errors and soft warnings during validation.
type problems struct {
	hard, soft []FieldProblem
}

func (p *problems) fail(field, format string, args ...any) {
	p.hard = append(p.hard, FieldProblem{field, fmt.Sprintf(format, args...)})
}

func (p *problems) warn(field, format string, args ...any) {
	p.soft = append(p.soft, FieldProblem{field, fmt.Sprintf(format, args...)})
}

// Limits on stored text, generous for real records and small enough that
// one record cannot bloat every search result.
const (
	maxIDLen   = 128
	maxNameLen = 300
	maxTextLen = 8000
)

// Validate checks and normalises s in place. Hard problems — no id, no
// name, an unreadable or impossible schedule — reject the record and come
// back as a *ValidationError. Soft problems — impossible coordinates, an
// unknown category or language, a malformed e-mail — drop that field, and
// come back as warnings naming it; the record stays usable.
//
// For a confidential service Validate also removes everything that could
// place it: addresses, coordinates, location names and descriptions, and
// any free text that contains a full postcode.
func Validate(s *Service) (warnings []FieldProblem, err error) {
	var p problems
	validateService(s, &p)
	if len(p.hard) > 0 {
		return p.soft, &ValidationError{What: "service", Problems: p.hard}
	}
	return p.soft, nil
}

func validateService(s *Service, p *problems) {
	s.ID = strings.TrimSpace(s.ID)
	switch {
	case s.ID == "":
		p.fail("id", "required")
	case len(s.ID) > maxIDLen:
		p.fail("id", "longer than %d characters", maxIDLen)
	case !validID(s.ID):
		p.fail("id", "may hold only letters, digits and . _ : -")
	}
	s.Name = strings.TrimSpace(s.Name)
	switch {
	case s.Name == "":
		p.fail("name", "required")
	case len(s.Name) > maxNameLen:
		p.fail("name", "longer than %d characters", maxNameLen)
	}
	s.ShortName = trimText(p, "short_name", s.ShortName, 40)
	s.Description = trimText(p, "description", s.Description, maxTextLen)
	s.Organisation.ID = strings.TrimSpace(s.Organisation.ID)
	s.Organisation.Name = trimText(p, "organisation.name", s.Organisation.Name, maxNameLen)
	s.Organisation.Description = trimText(p, "organisation.description", s.Organisation.Description, maxTextLen)
	s.Organisation.URL = checkURL(p, "organisation.url", s.Organisation.URL)
	s.Organisation.Email = checkEmail(p, "organisation.email", s.Organisation.Email)

	switch s.Status = Status(strings.ToLower(strings.TrimSpace(string(s.Status)))); s.Status {
	case "":
		s.Status = StatusActive
	case StatusActive, StatusInactive, StatusDefunct, StatusTemporarilyClosed:
	default:
		p.warn("status", "unknown status; taken as active")
		s.Status = StatusActive
	}

	s.Categories = validateCategories(p, s.Categories)
	if s.RespectAccredited && !s.Has(CategoryPerpetratorProgramme) {
		p.warn("respect_accredited", "only a perpetrator programme can be Respect-accredited; dropped")
		s.RespectAccredited = false
	}

	s.Phones = validatePhones(p, "phones", s.Phones)
	s.URL = checkURL(p, "url", s.URL)
	s.Email = checkEmail(p, "email", s.Email)

	for i := range s.Locations {
		validateLocation(p, fmt.Sprintf("locations[%d]", i), &s.Locations[i])
	}
	validateArea(p, &s.Area)
	s.Nations = validateNations(p, "nations", s.Nations)
	validateHours(p, &s.Hours)
	s.Languages = validateLanguages(p, "languages", s.Languages)
	validateEligibility(p, &s.Eligibility)
	s.Referral.Description = trimText(p, "referral.description", s.Referral.Description, maxTextLen)

	if v := s.Vacancies; v != nil {
		switch {
		case v.Count < 0:
			p.warn("vacancies.count", "negative; vacancies dropped")
			s.Vacancies = nil
		case v.UpdatedAt.IsZero():
			p.warn("vacancies.updated_at", "required with a vacancy count; vacancies dropped")
			s.Vacancies = nil
		default:
			v.UpdatedAt = v.UpdatedAt.UTC()
			v.Note = trimText(p, "vacancies.note", v.Note, 500)
		}
	}
	if s.LastVerified = strings.TrimSpace(s.LastVerified); s.LastVerified != "" {
		if _, ok := parseDate(s.LastVerified); !ok {
			p.warn("last_verified", "not a YYYY-MM-DD date; dropped")
			s.LastVerified = ""
		}
	}
	s.Sources = trimList(s.Sources)
	s.VerificationNote = trimText(p, "verification_note", s.VerificationNote, maxTextLen)

	if g := s.Gateway; g != nil {
		g.Name = trimText(p, "gateway.name", g.Name, maxNameLen)
		g.Phone = strings.TrimSpace(g.Phone)
		if g.Phone != "" && !validPhoneNumber(g.Phone) {
			p.warn("gateway.phone", "not a phone number; dropped")
			g.Phone = ""
		}
		g.URL = checkURL(p, "gateway.url", g.URL)
		g.Description = trimText(p, "gateway.description", g.Description, maxTextLen)
		if *g == (Gateway{}) {
			s.Gateway = nil
		}
	}
	validateExchange(p, s)
	if s.ConfidentialAddress {
		confine(p, s)
	}
	assignIDs(s)
}

// assignIDs gives every sub-record without an id the stable UUID that
// the export would give it (the same derivation, ORUKRecordID), so that what is
// stored, exported and imported again stays the same record.
func assignIDs(s *Service) {
	if s.ID == "" {
		return
	}
	set := func(id *string, path string) {
		if *id == "" {
			*id = subID(s.ID, path)
		}
	}
	for i := range s.Phones {
		set(&s.Phones[i].ID, fmt.Sprintf("phones/%d", i))
	}
	for i := range s.Hours.Schedules {
		set(&s.Hours.Schedules[i].ID, fmt.Sprintf("schedules/%d", i))
	}
	if !s.ConfidentialAddress {
		for i := range s.Locations {
			l := &s.Locations[i]
			set(&l.ID, fmt.Sprintf("locations/%d", i))
			set(&l.LinkID, fmt.Sprintf("service_at_locations/%d", i))
			if l.Address != nil {
				set(&l.Address.ID, fmt.Sprintf("addresses/%d", i))
			}
			for j := range l.Accessibility {
				set(&l.Accessibility[j].ID, fmt.Sprintf("locations/%d/accessibility/%d", i, j))
			}
		}
	}
	for i := range s.Organisation.Identifiers {
		set(&s.Organisation.Identifiers[i].ID, fmt.Sprintf("organization_identifiers/%d", i))
	}
	for i := range s.Funding {
		set(&s.Funding[i].ID, fmt.Sprintf("funding/%d", i))
	}
	for i := range s.CostOptions {
		set(&s.CostOptions[i].ID, fmt.Sprintf("cost_options/%d", i))
	}
	for i := range s.Contacts {
		set(&s.Contacts[i].ID, fmt.Sprintf("contacts/%d", i))
	}
	for i := range s.Terms {
		set(&s.Terms[i].ID, fmt.Sprintf("terms/%d", i))
		set(&s.Terms[i].AttributeID, fmt.Sprintf("term_attributes/%d", i))
	}
}

// validateExchange checks the values kept for Open Referral UK exchange:
// lengths, and the formats the UK profile asserts (e-mail, URI,
// date-time), so that what is kept exports valid.
func validateExchange(p *problems, s *Service) {
	x := &s.Exchange
	x.AlternateName = trimText(p, "alternate_name", x.AlternateName, maxNameLen)
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"alert", &x.Alert}, {"fees", &x.Fees}, {"fees_description", &x.FeesDescription},
		{"accreditations", &x.Accreditations}, {"wait_time", &x.WaitTime}, {"licenses", &x.Licenses},
		{"interpretation_services", &x.InterpretationServices},
	} {
		*f.v = trimText(p, f.name, *f.v, maxTextLen)
	}
	x.AssurerEmail = checkEmail(p, "assurer_email", x.AssurerEmail)
	if x.LastModified = strings.TrimSpace(x.LastModified); x.LastModified != "" {
		if _, err := time.Parse(time.RFC3339Nano, x.LastModified); err != nil {
			p.warn("last_modified", "not an RFC 3339 date-time; dropped")
			x.LastModified = ""
		}
	}
	for i := range x.Funding {
		x.Funding[i].Source = trimText(p, fmt.Sprintf("funding[%d].source", i), x.Funding[i].Source, maxTextLen)
	}
	for i := range x.CostOptions {
		c := &x.CostOptions[i]
		if c.Amount != nil && (math.IsNaN(*c.Amount) || math.IsInf(*c.Amount, 0)) {
			p.warn(fmt.Sprintf("cost_options[%d].amount", i), "not a number; dropped")
			c.Amount = nil
		}
	}
	for i := range x.Terms {
		t := &x.Terms[i]
		t.TermURI = checkURL(p, fmt.Sprintf("terms[%d].term_uri", i), t.TermURI)
		if t.Name == "" && t.Term == "" && t.Code == "" {
			p.warn(fmt.Sprintf("terms[%d]", i), "a taxonomy term needs a name; dropped")
		}
	}
	kept := x.Terms[:0]
	for _, t := range x.Terms {
		if t.Name != "" || t.Term != "" || t.Code != "" {
			kept = append(kept, t)
		}
	}
	x.Terms = kept
	if len(x.Terms) == 0 {
		x.Terms = nil
	}
	o := &s.Organisation
	o.Logo = strings.TrimSpace(o.Logo)
	o.URI = checkURL(p, "organisation.uri", o.URI)
	for i := range s.Hours.Schedules {
		sc := &s.Hours.Schedules[i]
		sc.Link = checkURL(p, fmt.Sprintf("schedules[%d].schedule_link", i), sc.Link)
	}
}

// confine strips from a confidential service everything that could place
// it more precisely than its postcode district.
func confine(p *problems, s *Service) {
	for i := range s.Locations {
		l := &s.Locations[i]
		path := fmt.Sprintf("locations[%d]", i)
		if l.Address != nil {
			p.warn(path+".address", "confidential address not kept")
		}
		if l.Point != nil {
			p.warn(path+".point", "coordinates of a confidential address not kept")
		}
		if l.Name != "" || l.Description != "" {
			p.warn(path+".name", "location name and description of a confidential address not kept")
		}
		*l = Location{District: l.District}
	}
	// Keep one location per district: duplicates say nothing more.
	seen := map[string]bool{}
	kept := s.Locations[:0]
	for _, l := range s.Locations {
		if l.District != "" && !seen[l.District] {
			seen[l.District] = true
			kept = append(kept, l)
		}
	}
	s.Locations = kept
	for _, f := range []struct {
		name string
		text *string
	}{
		{"name", &s.Name}, {"short_name", &s.ShortName}, {"description", &s.Description},
		{"eligibility.description", &s.Eligibility.Description}, {"referral.description", &s.Referral.Description},
		{"hours_text", &s.Hours.Text}, {"service_area.description", &s.Area.Description},
		{"vacancies.note", vacancyNote(s)}, {"alert", &s.Alert}, {"alternate_name", &s.AlternateName},
		{"fees", &s.Fees}, {"fees_description", &s.FeesDescription}, {"accreditations", &s.Accreditations},
	} {
		if f.text != nil && containsPostcode(*f.text) {
			p.warn(f.name, "contains a postcode and the address is confidential; dropped")
			*f.text = ""
		}
	}
	if s.Name == "" {
		p.fail("name", "required (it was dropped because it contained a postcode)")
	}
	// A service area's shape or text can place a refuge as well as an
	// address can.
	for i := range s.Area.Records {
		r := &s.Area.Records[i]
		if r.Extent != "" {
			p.warn(fmt.Sprintf("service_areas[%d].extent", i), "the extent of a confidential service is not kept")
			r.Extent, r.ExtentType = "", ""
		}
		for _, t := range []*string{&r.Name, &r.Description, &r.Text} {
			if containsPostcode(*t) {
				p.warn(fmt.Sprintf("service_areas[%d]", i), "contains a postcode and the address is confidential; dropped")
				*t = ""
			}
		}
	}
	for i := range s.Hours.Schedules {
		if containsPostcode(s.Hours.Schedules[i].Description) {
			p.warn(fmt.Sprintf("schedules[%d].description", i), "contains a postcode and the address is confidential; dropped")
			s.Hours.Schedules[i].Description = ""
		}
	}
	if s.Gateway == nil || (s.Gateway.Phone == "" && s.Gateway.URL == "") {
		p.warn("gateway", "a confidential service needs a gateway phone or web address to be reachable")
	}
}

func vacancyNote(s *Service) *string {
	if s.Vacancies == nil {
		return nil
	}
	return &s.Vacancies.Note
}

func containsPostcode(s string) bool {
	_, ok := postcode.Find(s)
	return ok
}

func validID(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func trimText(p *problems, field, s string, max int) string {
	s = strings.TrimSpace(s)
	if len(s) > max {
		p.warn(field, "longer than %d bytes; dropped", max)
		return ""
	}
	return s
}

func trimList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func checkURL(p *problems, field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 2000 {
		p.warn(field, "not an http(s) address; dropped")
		return ""
	}
	return s
}

// checkEmail accepts the shape local@domain.tld with no spaces, brackets
// or quotes: enough to catch a phone number or a name in the wrong field,
// without net/mail's full grammar (and its dependency on package net).
func checkEmail(p *problems, field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(s) > 254 || strings.ContainsAny(s, " \t<>()[]\\,;:\"") ||
		strings.Contains(domain, "@") || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		p.warn(field, "not an e-mail address; dropped")
		return ""
	}
	return s
}

func validateCategories(p *problems, in []Category) []Category {
	var out []Category
	seen := map[Category]bool{}
	for i, c := range in {
		cat, ok := ParseCategory(string(c))
		if !ok {
			p.warn(fmt.Sprintf("categories[%d]", i), "not in the category vocabulary; dropped")
			continue
		}
		if !seen[cat] {
			seen[cat] = true
			out = append(out, cat)
		}
	}
	return out
}

// validPhoneNumber accepts UK-style numbers and short codes: digits with
// optional spaces, a leading +, and brackets; 3 to 16 digits.
func validPhoneNumber(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '(' || r == ')' || r == '-':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 16
}

func validatePhones(p *problems, path string, in []Phone) []Phone {
	var out []Phone
	for i, ph := range in {
		field := fmt.Sprintf("%s[%d]", path, i)
		ph.Number = strings.TrimSpace(ph.Number)
		if !validPhoneNumber(ph.Number) {
			p.warn(field+".number", "not a phone number; phone dropped")
			continue
		}
		ph.Extension = strings.TrimSpace(ph.Extension)
		switch ph.Type = PhoneType(strings.ToLower(strings.TrimSpace(string(ph.Type)))); ph.Type {
		case "", "cell":
			ph.Type = PhoneVoice
		case PhoneVoice, PhoneText, PhoneTextphone, PhoneVideo:
		case "sms":
			ph.Type = PhoneText
		default:
			p.warn(field+".type", "unknown phone type; taken as voice")
			ph.Type = PhoneVoice
		}
		ph.Description = trimText(p, field+".description", ph.Description, 500)
		ph.Languages = validateLanguages(p, field+".languages", ph.Languages)
		out = append(out, ph)
	}
	return out
}

// plausibleUK bounds coordinates Waymark can place: the UK with a margin.
// Anything outside is either impossible or not somewhere Waymark serves.
func plausibleUK(lat, lon float64) bool {
	return lat >= 49 && lat <= 61.5 && lon >= -11 && lon <= 2.5
}

func checkPoint(p *problems, field string, pt *postcode.Point) *postcode.Point {
	if pt == nil {
		return nil
	}
	switch {
	case math.IsNaN(pt.Lat) || math.IsNaN(pt.Lon) || math.Abs(pt.Lat) > 90 || math.Abs(pt.Lon) > 180:
		p.warn(field, "impossible coordinates; dropped")
		return nil
	case !plausibleUK(pt.Lat, pt.Lon):
		p.warn(field, "coordinates outside the UK; dropped")
		return nil
	}
	return pt
}

func validateLocation(p *problems, path string, l *Location) {
	l.Name = trimText(p, path+".name", l.Name, maxNameLen)
	l.Description = trimText(p, path+".description", l.Description, maxTextLen)
	l.Point = checkPoint(p, path+".point", l.Point)
	if a := l.Address; a != nil {
		a.Line1, a.Line2 = strings.TrimSpace(a.Line1), strings.TrimSpace(a.Line2)
		a.City, a.Region = strings.TrimSpace(a.City), strings.TrimSpace(a.Region)
		a.Country = strings.TrimSpace(a.Country)
		if a.PostalCode = strings.TrimSpace(a.PostalCode); a.PostalCode != "" {
			if pc, err := postcode.Parse(a.PostalCode); err == nil {
				a.PostalCode = pc.String()
			} else {
				p.warn(path+".address.postal_code", "not a UK postcode; kept as written, not used to place the service")
			}
		}
		if *a == (Address{}) {
			l.Address = nil
		}
	}
	if l.District = strings.ToUpper(strings.TrimSpace(l.District)); l.District != "" {
		if a, err := postcode.ParseArea(l.District); err != nil || a.Kind != postcode.District {
			p.warn(path+".district", "not a postcode district; dropped")
			l.District = ""
		}
	}
	if l.District == "" && l.Address != nil && l.Address.PostalCode != "" {
		if pc, err := postcode.Parse(l.Address.PostalCode); err == nil {
			l.District = pc.District()
		}
	}
	switch l.Type = strings.ToLower(strings.TrimSpace(l.Type)); l.Type {
	case "", "postal", "virtual":
	case "physical":
		l.Type = ""
	default:
		p.warn(path+".type", "must be physical, postal or virtual; taken as physical")
		l.Type = ""
	}
	l.ExternalID = trimText(p, path+".external_id", l.ExternalID, maxNameLen)
	l.ExternalIDType = trimText(p, path+".external_id_type", l.ExternalIDType, maxNameLen)
	for i := range l.Accessibility {
		ac := &l.Accessibility[i]
		f := fmt.Sprintf("%s.accessibility[%d]", path, i)
		ac.Description = trimText(p, f+".description", ac.Description, maxTextLen)
		ac.Details = trimText(p, f+".details", ac.Details, maxTextLen)
		ac.Text = trimText(p, f+".accessibility", ac.Text, maxTextLen)
		ac.URL = checkURL(p, f+".url", ac.URL)
	}
}

func validateArea(p *problems, a *ServiceArea) {
	var ds []string
	seen := map[string]bool{}
	for i, d := range a.Districts {
		ar, err := postcode.ParseArea(d)
		if err != nil || ar.Kind != postcode.District {
			p.warn(fmt.Sprintf("service_area.districts[%d]", i), "not a postcode district; dropped")
			continue
		}
		if !seen[ar.String()] {
			seen[ar.String()] = true
			ds = append(ds, ar.String())
		}
	}
	a.Districts = ds
	a.Centre = checkPoint(p, "service_area.centre", a.Centre)
	switch {
	case a.Centre != nil && (a.RadiusKm <= 0 || a.RadiusKm > 1000 || math.IsNaN(a.RadiusKm)):
		p.warn("service_area.radius_km", "a centre needs a radius between 0 and 1000 km; centre and radius dropped")
		a.Centre, a.RadiusKm = nil, 0
	case a.Centre == nil && a.RadiusKm != 0:
		p.warn("service_area.radius_km", "a radius needs a centre; dropped")
		a.RadiusKm = 0
	}
	a.Description = trimText(p, "service_area.description", a.Description, maxTextLen)
}

func validateNations(p *problems, path string, in []Nation) []Nation {
	var out []Nation
	var mask uint8
	for i, n := range in {
		nat, ok := ParseNation(string(n))
		if !ok {
			p.warn(fmt.Sprintf("%s[%d]", path, i), "not a UK nation; dropped")
			continue
		}
		mask |= nationBit(nat)
	}
	for _, n := range nations { // canonical order
		if mask&nationBit(n) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func validateLanguages(p *problems, path string, in []string) []string {
	var out []string
	seen := map[string]bool{}
	for i, code := range in {
		code = strings.ToLower(strings.TrimSpace(code))
		if !ValidLanguage(code) {
			p.warn(fmt.Sprintf("%s[%d]", path, i), "not an ISO 639 language code; dropped")
			continue
		}
		if !seen[code] {
			seen[code] = true
			out = append(out, code)
		}
	}
	return out
}

func validateHours(p *problems, h *Hours) {
	switch h.BankHolidays = BankHolidayRule(strings.ToLower(strings.TrimSpace(string(h.BankHolidays)))); h.BankHolidays {
	case BankHolidaysUnknown, BankHolidaysClosed, BankHolidaysNormal:
	default:
		p.warn("bank_holidays", "must be closed or normal; dropped")
		h.BankHolidays = BankHolidaysUnknown
	}
	h.Text = trimText(p, "hours_text", h.Text, 2000)
	for i := range h.Schedules {
		validateSchedule(p, fmt.Sprintf("schedules[%d]", i), &h.Schedules[i])
	}
}

// ValidateSchedule checks and normalises one schedule as Validate does,
// naming its fields under path ("schedules[2]"): the Open Referral UK
// import checks each schedule by its place in the record, before any
// schedule is dropped.
func ValidateSchedule(path string, s *Schedule) (warnings []FieldProblem, err error) {
	var p problems
	validateSchedule(&p, path, s)
	if len(p.hard) > 0 {
		return p.soft, &ValidationError{What: "schedule", Problems: p.hard}
	}
	return p.soft, nil
}

// validateSchedule checks one schedule and puts it in canonical form
// (HH:MM times, Monday-first day list). Times and days that cannot be read
// are hard problems: a wrong opening time misleads someone in danger more
// than a missing one.
func validateSchedule(p *problems, path string, s *Schedule) {
	s.Description = trimText(p, path+".description", s.Description, 2000)
	s.Notes = trimText(p, path+".notes", s.Notes, 2000)
	s.AttendingType = trimText(p, path+".attending_type", s.AttendingType, 500)
	s.DTStart = strings.TrimSpace(s.DTStart)
	if s.ByMonthDay = strings.ReplaceAll(s.ByMonthDay, " ", ""); s.ByMonthDay != "" {
		if _, ok := parseByMonthDay(s.ByMonthDay); !ok {
			p.warn(path+".bymonthday", "not a list of days of the month (1 to 31, -1 for the last); dropped")
			s.ByMonthDay = ""
		}
	}
	days, ok := parseByDay(s.ByDay)
	if !ok {
		p.fail(path+".byday", "must list day codes MO,TU,WE,TH,FR,SA,SU")
	} else {
		s.ByDay = fmtByDay(days)
	}
	for _, d := range []struct {
		name string
		v    *string
	}{{"valid_from", &s.ValidFrom}, {"valid_to", &s.ValidTo}} {
		if *d.v = strings.TrimSpace(*d.v); *d.v != "" {
			if _, ok := parseDate(*d.v); !ok {
				p.fail(path+"."+d.name, "not a YYYY-MM-DD date")
			}
		}
	}
	if s.ValidFrom != "" && s.ValidTo != "" && s.ValidTo < s.ValidFrom {
		p.fail(path+".valid_to", "before valid_from")
	}
	s.OpensAt, s.ClosesAt = strings.TrimSpace(s.OpensAt), strings.TrimSpace(s.ClosesAt)
	if s.OpensAt == "" && s.ClosesAt == "" {
		if s.Overnight {
			p.fail(path+".overnight", "needs opens_at and closes_at")
		}
		return // a description-only schedule ("by appointment")
	}
	open, ok1 := parseClock(s.OpensAt, false)
	closeAt, ok2 := parseClock(s.ClosesAt, true)
	if !ok1 {
		p.fail(path+".opens_at", "not a time of day (HH:MM, 00:00 to 23:59)")
	}
	if !ok2 {
		p.fail(path+".closes_at", "not a time of day (HH:MM, 00:00 to 24:00)")
	}
	if !ok1 || !ok2 {
		return
	}
	if closeAt == 24*60 {
		closeAt = 0 // one spelling of midnight
	}
	s.OpensAt, s.ClosesAt = fmtClock(open), fmtClock(closeAt)
	switch {
	case s.Overnight && closeAt > open:
		p.fail(path+".overnight", "an overnight period must close at or before its opening time")
	case !s.Overnight && closeAt != 0 && closeAt <= open:
		p.fail(path+".closes_at", "not after opens_at, and the period is not marked overnight")
	case !s.Overnight && closeAt == 0 && open == 0:
		p.fail(path+".closes_at", "a whole day is 00:00 to 24:00 or open_24_7")
	}
}

func validateEligibility(p *problems, e *Eligibility) {
	switch e.Gender = Gender(strings.ToLower(strings.TrimSpace(string(e.Gender)))); e.Gender {
	case GenderAny, GenderWomen, GenderMen:
	case "any", "all":
		e.Gender = GenderAny
	case "female", "woman":
		e.Gender = GenderWomen
	case "male", "man":
		e.Gender = GenderMen
	default:
		p.warn("eligibility.gender", "must be women, men or empty for anyone; dropped")
		e.Gender = GenderAny
	}
	for _, a := range []struct {
		name string
		v    *int
	}{{"eligibility.min_age", &e.MinAge}, {"eligibility.max_age", &e.MaxAge}, {"eligibility.children_max_age", &e.ChildrenMaxAge}} {
		if *a.v < 0 || *a.v > 130 {
			p.warn(a.name, "not an age; dropped")
			*a.v = 0
		}
	}
	if e.MinAge > 0 && e.MaxAge > 0 && e.MaxAge < e.MinAge {
		p.warn("eligibility.max_age", "below min_age; both dropped")
		e.MinAge, e.MaxAge = 0, 0
	}
	if e.ChildrenMaxAge > 0 && !e.AcceptsChildren {
		p.warn("eligibility.children_max_age", "set without accepts_children; dropped")
		e.ChildrenMaxAge = 0
	}
	e.Description = trimText(p, "eligibility.description", e.Description, maxTextLen)
}
