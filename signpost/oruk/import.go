package oruk

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"waymark/postcode"
	"waymark/signpost"
)

// Import: an ORUK record mapped to a Service, for Decode. Problems are
// named by the record's ORUK field paths.

// problems collects what is wrong with one record, named by its ORUK
// field paths: a hard problem rejects the record, a soft one drops a
// field.
type problems struct {
	hard, soft []signpost.FieldProblem
}

func (p *problems) warn(field, format string, args ...any) {
	p.soft = append(p.soft, signpost.FieldProblem{Field: field, Problem: fmt.Sprintf(format, args...)})
}

// schedule checks one schedule as signpost.Validate does, named by its
// place in the record, before any schedule is dropped.
func (p *problems) schedule(path string, s *signpost.Schedule) {
	warnings, err := signpost.ValidateSchedule(path, s)
	p.soft = append(p.soft, warnings...)
	var ve *signpost.ValidationError
	if errors.As(err, &ve) {
		p.hard = append(p.hard, ve.Problems...)
	}
}

// fromORUK maps a decoded ORUK service to a Service, with problems named by
// their ORUK field paths. signpost.Validate runs afterwards for the rest.
func fromORUK(o *orukService) (signpost.Service, problems) {
	var p problems
	x := o.Waymark
	if x == nil {
		x = &orukWaymark{}
	}
	s := signpost.Service{
		ID: o.ID, Name: o.Name, ShortName: x.ShortName, Description: o.Description,
		Status: signpost.Status(o.Status), URL: o.URL, Email: o.Email,
		RespectAccredited: x.RespectAccredited, ConfidentialAddress: x.ConfidentialAddress,
		Gateway: x.Gateway, Nations: x.Nations,
		Vacancies: x.Vacancies, LastVerified: x.LastVerified, Sources: x.Sources,
		VerificationNote: x.VerificationNote, Reverify: x.Reverify, Example: x.Example,
	}
	if x.ID != "" {
		if signpost.ORUKID(x.ID) == strings.ToLower(strings.TrimSpace(o.ID)) {
			s.ID = x.ID
		} else {
			p.warn("x_waymark.id", "does not match the record's id; the record's id is used")
		}
	}
	s.Exchange = signpost.Exchange{
		AlternateName: firstNonEmpty(o.AlternateName, x.AlternateName), Alert: o.Alert, Fees: o.Fees,
		FeesDescription: firstNonEmpty(o.FeesDescription, x.FeesDescription), Accreditations: o.Accreditations,
		AssurerEmail: o.AssurerEmail, LastModified: o.LastModified,
		WaitTime: firstNonEmpty(o.WaitTime, x.WaitTime), Licenses: firstNonEmpty(o.Licenses, x.Licenses),
		InterpretationServices: firstNonEmpty(o.InterpretationServices, x.InterpretationText),
	}
	s.Interpreting = x.Interpreting || strings.TrimSpace(s.InterpretationServices) != ""
	if s.LastVerified == "" {
		s.LastVerified = o.AssuredDate
	}
	if org := o.Organization; org != nil {
		s.Organisation = signpost.Organisation{
			ID: org.ID, Name: org.Name, Description: org.Description, URL: org.Website, Email: org.Email,
			Logo: org.Logo, URI: org.URI, ParentID: org.ParentID,
		}
		switch {
		case org.Waymark != nil && org.Waymark.ID != "":
			s.Organisation.ID = org.Waymark.ID
		case strings.EqualFold(org.ID, subID("", "organization/"+org.Name)):
			s.Organisation.ID = "" // the id toORUK derives when there is none
		}
		if s.Organisation.Description == s.Organisation.Name {
			s.Organisation.Description = "" // what toORUK writes when it knows none
		}
		for _, id := range org.Identifiers {
			s.Organisation.Identifiers = append(s.Organisation.Identifiers, signpost.OrgIdentifier(id))
		}
	}
	if x.Phones != nil {
		s.Phones = x.Phones
	} else {
		for _, ph := range o.Phones {
			phone := signpost.Phone{ID: ph.ID, Number: strings.Trim(ph.Number, "\"' "), Extension: string(ph.Extension), Type: signpost.PhoneType(ph.Type), Description: ph.Description}
			for _, l := range ph.Languages {
				phone.Languages = append(phone.Languages, languageCode(l))
			}
			s.Phones = append(s.Phones, phone)
		}
	}

	// Categories come from taxonomy terms that match the vocabulary; terms
	// of other taxonomies are kept as given too, so that they export again.
	for _, a := range o.Attributes {
		t := a.TaxonomyTerm
		if t == nil {
			continue
		}
		matched := false
		for _, term := range []string{t.Term, firstNonEmpty(t.Code, t.XCode), t.Name} {
			if c, ok := signpost.ParseCategory(term); ok {
				s.Categories = append(s.Categories, c)
				matched = true
				break
			}
		}
		if matched && t.Taxonomy == categoryTaxonomy {
			continue
		}
		s.Terms = append(s.Terms, signpost.Term{
			AttributeID: a.ID, LinkType: a.LinkType, ID: t.ID, Code: firstNonEmpty(t.Code, t.XCode), Name: t.Name,
			Description: t.Description, ParentID: t.ParentID, Taxonomy: t.Taxonomy, TermURI: t.TermURI, Term: t.Term,
		})
	}

	for i, sal := range o.ServiceAtLocations {
		if sal.Location == nil {
			continue
		}
		l := mapLocation(&p, fmt.Sprintf("service_at_locations[%d].location", i), sal.Location)
		l.LinkID = sal.ID
		s.Locations = append(s.Locations, l)
	}

	var descs []string
	for i, a := range o.ServiceAreas {
		path := fmt.Sprintf("service_areas[%d]", i)
		s.Area.Districts = append(s.Area.Districts, a.Districts...)
		if a.Centre != nil {
			if s.Area.Centre != nil {
				p.warn(path+".x_waymark_centre", "only one centre and radius is kept; dropped")
			} else {
				s.Area.Centre, s.Area.RadiusKm = a.Centre, a.RadiusKm
			}
		}
		rec := signpost.AreaRecord{
			ID: a.ID, Name: a.Name, Description: firstNonEmpty(a.Description, a.XDescription), Text: a.ServiceArea,
			Extent: a.Extent, ExtentType: a.ExtentType, URI: a.URI,
		}
		for _, d := range []string{rec.Description, rec.Text, rec.Name} {
			if d = strings.TrimSpace(d); d != "" {
				descs = append(descs, d)
				break
			}
		}
		// An area Waymark itself wrote from its own fields is not a record
		// to keep: its content is the districts and description above.
		own := rec.Extent == "" && rec.URI == "" && rec.Description == "" && rec.Name == rec.Text &&
			a.ID == subID(s.ID, "service_areas/0")
		if !own {
			s.Area.Records = append(s.Area.Records, rec)
		}
	}
	s.Area.Description = firstNonEmpty(x.AreaDescription, strings.Join(descs, "; "))

	s.Hours = signpost.Hours{Open247: x.Open247, BankHolidays: x.BankHolidays, Unverified: x.HoursUnverified, Text: x.HoursText}
	for i, sc := range o.Schedules {
		path := fmt.Sprintf("schedules[%d]", i)
		if sc.Generated {
			continue
		}
		if f := strings.ToUpper(strings.TrimSpace(sc.Freq)); (f != "" && f != "WEEKLY") || (sc.Interval != nil && (sc.Interval.bad || sc.Interval.v != 1)) {
			p.warn(path+".freq", "only weekly schedules are understood; schedule dropped and hours marked unverified")
			s.Hours.Unverified = true
			continue
		}
		ours := signpost.Schedule{
			ID: sc.ID, ByDay: sc.ByDay, ByMonthDay: sc.ByMonthDay, DTStart: sc.DTStart,
			OpensAt: sc.OpensAt, ClosesAt: sc.ClosesAt, Overnight: sc.Overnight,
			BankHoliday: sc.BankHoliday, ValidFrom: sc.ValidFrom, ValidTo: sc.ValidTo, Description: sc.Description,
			Link: sc.Link, AttendingType: sc.AttendingType, Notes: sc.Notes,
		}
		if strings.TrimSpace(sc.ByDay) == "" && (sc.OpensAt != "" || sc.ClosesAt != "") {
			p.warn(path+".byday", "missing; taken as every day")
		}
		p.schedule(path, &ours)
		s.Hours.Schedules = append(s.Hours.Schedules, ours)
	}

	if x.Languages != nil {
		s.Languages = x.Languages
	} else {
		for i, l := range o.Languages {
			code := languageCode(l)
			if code == "" {
				p.warn(fmt.Sprintf("languages[%d]", i), "no ISO 639 code or known language name; dropped")
				continue
			}
			s.Languages = append(s.Languages, code)
		}
	}

	for _, f := range o.Funding {
		s.Funding = append(s.Funding, signpost.Funding(f))
	}
	for i, c := range o.CostOptions {
		co := signpost.CostOption{
			ID: c.ID, ValidFrom: c.ValidFrom, ValidTo: c.ValidTo, Option: c.Option,
			Currency: firstNonEmpty(c.Currency, c.XCurrency), AmountDescription: c.AmountDescription,
		}
		if a := c.Amount; a != nil {
			if a.bad {
				p.warn(fmt.Sprintf("cost_options[%d].amount", i), "not a number; dropped")
			} else {
				v := a.v
				co.Amount = &v
			}
		}
		s.CostOptions = append(s.CostOptions, co)
	}
	for _, c := range o.Contacts {
		s.Contacts = append(s.Contacts, signpost.Contact(c))
	}

	s.Eligibility.MinAge = mapAge(&p, "minimum_age", o.MinimumAge)
	s.Eligibility.MaxAge = mapAge(&p, "maximum_age", o.MaximumAge)
	s.Eligibility.Description = o.EligibilityDescription
	if e := x.Eligibility; e != nil {
		s.Eligibility.Gender, s.Eligibility.AcceptsChildren, s.Eligibility.ChildrenMaxAge = e.Gender, e.AcceptsChildren, e.ChildrenMaxAge
		s.Eligibility.NRPF, s.Eligibility.WheelchairAccess = e.NRPF, e.WheelchairAccess
		s.Eligibility.Description = firstNonEmpty(s.Eligibility.Description, e.Description)
	}
	s.Referral.Description = o.ApplicationProcess
	if r := x.Referral; r != nil {
		s.Referral.Self, s.Referral.Professional = r.Self, r.Professional
		s.Referral.Description = firstNonEmpty(s.Referral.Description, r.Description)
	}
	return s, p
}

func mapLocation(p *problems, path string, ol *orukLocation) signpost.Location {
	l := signpost.Location{
		ID: ol.ID, Type: ol.LocationType, Name: ol.Name, Description: ol.Description, District: ol.District,
		ExternalID: ol.ExternalID, ExternalIDType: ol.ExternalIDType,
	}
	if l.Type == "physical" {
		l.Type = "" // the default
	}
	lat, lon := ol.Latitude, ol.Longitude
	switch {
	case lat == nil && lon == nil:
	case lat == nil || lon == nil:
		p.warn(path+".latitude", "latitude and longitude must come together; dropped")
	default:
		ok := true
		if lat.bad || math.Abs(lat.v) > 90 {
			p.warn(path+".latitude", "impossible latitude; coordinates dropped")
			ok = false
		} else if lat.v < 49 || lat.v > 61.5 {
			p.warn(path+".latitude", "outside the UK; coordinates dropped")
			ok = false
		}
		if lon.bad || math.Abs(lon.v) > 180 {
			p.warn(path+".longitude", "impossible longitude; coordinates dropped")
			ok = false
		} else if lon.v < -11 || lon.v > 2.5 {
			p.warn(path+".longitude", "outside the UK; coordinates dropped")
			ok = false
		}
		if ok {
			l.Point = &postcode.Point{Lat: lat.v, Lon: lon.v}
		}
	}
	// The first physical address, or the first of any kind.
	addrs := ol.Addresses
	if len(addrs) == 0 && ol.PartAddress != nil {
		addrs = []orukAddress{*ol.PartAddress}
	}
	ai := -1
	for i := range addrs {
		if strings.EqualFold(addrs[i].AddressType, "physical") {
			ai = i
			break
		}
	}
	if ai < 0 && len(addrs) > 0 {
		ai = 0
	}
	for i := range addrs {
		if i != ai {
			p.warn(fmt.Sprintf("%s.addresses[%d]", path, i), "only one address per location is kept; dropped")
		}
	}
	if ai >= 0 {
		a := addrs[ai]
		addr := signpost.Address{
			ID: a.ID, Attention: a.Attention, Line1: a.Address1, Line2: firstNonEmpty(a.Address2, a.XAddress2), City: a.City,
			Region: a.Region, StateProvince: a.StateProvince, PostalCode: a.PostalCode, Country: a.Country, Type: a.AddressType,
		}
		if strings.EqualFold(addr.Type, "physical") {
			addr.Type = ""
		}
		if strings.EqualFold(addr.Country, "GB") {
			addr.Country = "" // the default toORUK writes
		}
		district := l.District
		if pc, err := postcode.Parse(addr.PostalCode); district == "" && err == nil {
			district = pc.District()
		}
		if addr.StateProvince != "" && addr.StateProvince == nationName(signpost.NationOfDistrict(district)) {
			addr.StateProvince = "" // the nation toORUK writes from the postcode
		}
		l.Address = &addr
	}
	for _, ac := range ol.Accessibility {
		l.Accessibility = append(l.Accessibility, signpost.Accessibility(ac))
	}
	return l
}

func languageCode(l orukLanguage) string {
	if c := strings.ToLower(strings.TrimSpace(l.Code)); signpost.ValidLanguage(c) {
		return c
	}
	return signpost.LanguageByName(l.Name)
}

func mapAge(p *problems, field string, f *flexNumber) int {
	if f == nil {
		return 0
	}
	if f.bad || f.v < 0 || f.v > 130 || f.v != math.Trunc(f.v) {
		p.warn(field, "not an age in whole years; dropped")
		return 0
	}
	return int(f.v)
}
