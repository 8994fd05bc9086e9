package oruk

import (
	"fmt"
	"strings"

	"waymark/signpost"
)

// Export: a Service in the UK profile's shape, for Encode and the
// ORUK API. Confidential services go through confidentialLocations only.

// toORUK maps s to its UK profile record.
func toORUK(s *signpost.Service) orukService {
	oid := signpost.ORUKID(s.ID)
	o := orukService{
		ID: oid, Name: s.Name, Description: s.Description, URL: s.URL, Email: s.Email,
		Status: string(s.Status), Fees: s.Fees, Accreditations: s.Accreditations,
		AssuredDate: s.LastVerified, AssurerEmail: s.AssurerEmail, Alert: s.Alert, LastModified: s.LastModified,
	}
	if o.Status == "" {
		o.Status = string(signpost.StatusActive)
	}
	if s.Eligibility.MinAge > 0 {
		o.MinimumAge = num(float64(s.Eligibility.MinAge))
	}
	if s.Eligibility.MaxAge > 0 {
		o.MaximumAge = num(float64(s.Eligibility.MaxAge))
	}
	if org := &s.Organisation; org.Name != "" {
		oo := &orukOrganization{
			ID: keepID(org.ID, "", "organization/"+firstNonEmpty(org.ID, org.Name)), Name: org.Name,
			Description: org.Description, Email: org.Email, Website: org.URL, Logo: org.Logo, URI: org.URI,
		}
		if oo.Description == "" {
			// Required by the profile; Waymark often knows only the name.
			oo.Description = org.Name
		}
		if org.ID != "" && !signpost.IsUUID(org.ID) {
			oo.Waymark = &orukOrgWaymark{ID: org.ID}
		}
		if signpost.IsUUID(org.ParentID) {
			oo.ParentID = strings.ToLower(org.ParentID)
		}
		for i, id := range org.Identifiers {
			oo.Identifiers = append(oo.Identifiers, orukOrgIdent{
				ID: keepID(id.ID, s.ID, fmt.Sprintf("organization_identifiers/%d", i)), Scheme: id.Scheme, Type: id.Type, Identifier: id.Identifier,
			})
		}
		o.Organization, o.OrganizationID = oo, oo.ID
	}
	for i, sc := range s.Hours.Schedules {
		o.Schedules = append(o.Schedules, orukSchedule{
			ID: keepID(sc.ID, s.ID, fmt.Sprintf("schedules/%d", i)), Freq: "WEEKLY", Interval: num(1),
			ByDay: sc.ByDay, ByMonthDay: sc.ByMonthDay, DTStart: sc.DTStart,
			OpensAt: orukClock(sc.OpensAt), ClosesAt: orukClock(sc.ClosesAt),
			ValidFrom: sc.ValidFrom, ValidTo: sc.ValidTo, Description: sc.Description,
			Link: sc.Link, AttendingType: sc.AttendingType, Notes: sc.Notes,
			Overnight: sc.Overnight, BankHoliday: sc.BankHoliday,
		})
	}
	if s.Hours.Open247 && len(s.Hours.Schedules) == 0 {
		o.Schedules = append(o.Schedules, orukSchedule{
			ID: subID(s.ID, "schedules/24-7"), Freq: "WEEKLY", Interval: num(1),
			ByDay: "MO,TU,WE,TH,FR,SA,SU", OpensAt: "00:00:00", ClosesAt: "23:59:59",
			Description: "Open 24 hours, every day", Generated: true,
		})
	}
	o.ServiceAreas = orukAreas(s)
	if s.ConfidentialAddress {
		o.ServiceAtLocations = confidentialLocations(s.ID, locationDistricts(s.Locations))
	} else {
		o.ServiceAtLocations = publicLocations(s.ID, s.Locations)
	}
	for i, f := range s.Funding {
		o.Funding = append(o.Funding, orukFunding{ID: keepID(f.ID, s.ID, fmt.Sprintf("funding/%d", i)), Source: f.Source})
	}
	for i, c := range s.CostOptions {
		oc := orukCostOption{
			ID: keepID(c.ID, s.ID, fmt.Sprintf("cost_options/%d", i)), ValidFrom: c.ValidFrom, ValidTo: c.ValidTo,
			Option: c.Option, AmountDescription: c.AmountDescription, XCurrency: c.Currency,
		}
		if c.Amount != nil {
			oc.Amount = num(*c.Amount)
		}
		o.CostOptions = append(o.CostOptions, oc)
	}
	for i, c := range s.Contacts {
		o.Contacts = append(o.Contacts, orukContact{ID: keepID(c.ID, s.ID, fmt.Sprintf("contacts/%d", i)), Name: c.Name, Title: c.Title})
	}
	for _, c := range s.Categories {
		info := categoryInfo[c]
		o.Attributes = append(o.Attributes, orukAttribute{
			ID: subID(s.ID, "attributes/"+string(c)), LinkType: "service",
			TaxonomyTerm: &orukTaxonomyTerm{
				ID: subID("", "taxonomy/"+string(c)), Name: info.label, Description: info.description,
				Taxonomy: categoryTaxonomy, Term: string(c),
			},
		})
	}
	for i, t := range s.Terms {
		ot := &orukTaxonomyTerm{
			ID: keepID(t.ID, s.ID, fmt.Sprintf("terms/%d", i)), Name: firstNonEmpty(t.Name, t.Term, t.Code),
			Description: t.Description, Taxonomy: t.Taxonomy, TermURI: t.TermURI, Term: t.Term, XCode: t.Code,
		}
		if signpost.IsUUID(t.ParentID) {
			ot.ParentID = strings.ToLower(t.ParentID)
		}
		o.Attributes = append(o.Attributes, orukAttribute{
			ID: keepID(t.AttributeID, s.ID, fmt.Sprintf("term_attributes/%d", i)), LinkType: t.LinkType, TaxonomyTerm: ot,
		})
	}
	x := orukWaymark{
		ShortName: s.ShortName, AlternateName: s.AlternateName, Phones: s.Phones, Languages: s.Languages,
		Interpreting: s.Interpreting, InterpretationText: s.InterpretationServices,
		FeesDescription: s.FeesDescription, WaitTime: s.WaitTime, Licenses: s.Licenses,
		RespectAccredited: s.RespectAccredited, ConfidentialAddress: s.ConfidentialAddress,
		Gateway: s.Gateway, Nations: s.Nations,
		Open247: s.Hours.Open247, BankHolidays: s.Hours.BankHolidays, HoursUnverified: s.Hours.Unverified, HoursText: s.Hours.Text,
		Vacancies: s.Vacancies, LastVerified: s.LastVerified, Sources: s.Sources, VerificationNote: s.VerificationNote,
		Reverify: s.Reverify, Example: s.Example,
	}
	if oid != s.ID {
		x.ID = s.ID
	}
	if len(s.Area.Records) > 0 {
		x.AreaDescription = s.Area.Description
	}
	if e := s.Eligibility; e.Gender != signpost.GenderAny || e.AcceptsChildren || e.ChildrenMaxAge > 0 || e.NRPF || e.WheelchairAccess || e.Description != "" {
		x.Eligibility = &orukEligibility{Gender: e.Gender, AcceptsChildren: e.AcceptsChildren, ChildrenMaxAge: e.ChildrenMaxAge,
			NRPF: e.NRPF, WheelchairAccess: e.WheelchairAccess, Description: e.Description}
	}
	if r := s.Referral; r.Self || r.Professional || r.Description != "" {
		x.Referral = &orukReferral{Self: r.Self, Professional: r.Professional, Description: r.Description}
	}
	o.Waymark = &x
	return o
}

// orukAreas writes the imported service areas as they came, with Waymark's
// districts and circle on the first; or one area made from Waymark's own.
func orukAreas(s *signpost.Service) []orukServiceArea {
	a := s.Area
	var out []orukServiceArea
	for i, r := range a.Records {
		oa := orukServiceArea{
			ID: keepID(r.ID, s.ID, fmt.Sprintf("service_areas/%d", i)), Name: r.Name, ServiceArea: r.Text,
			Extent: r.Extent, ExtentType: r.ExtentType, URI: r.URI, XDescription: r.Description,
		}
		if s.ConfidentialAddress {
			oa.Extent, oa.ExtentType = "", ""
		}
		out = append(out, oa)
	}
	if len(out) == 0 && (len(a.Districts) > 0 || a.Centre != nil || a.Description != "") {
		out = []orukServiceArea{{ID: subID(s.ID, "service_areas/0"), Name: a.Description, ServiceArea: a.Description}}
	}
	if len(out) > 0 {
		out[0].Districts, out[0].Centre, out[0].RadiusKm = a.Districts, a.Centre, a.RadiusKm
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// orukClock writes HH:MM as HSDS's HH:MM:SS.
func orukClock(s string) string {
	if len(s) == 5 {
		return s + ":00"
	}
	return s
}

func locationDistricts(ls []signpost.Location) []string {
	var ds []string
	for _, l := range ls {
		if l.District != "" {
			ds = append(ds, l.District)
		}
	}
	return ds
}

// confidentialLocations is the only way a confidential service's places
// are exported. It is given district codes and nothing else.
func confidentialLocations(serviceID string, districts []string) []orukSAL {
	var out []orukSAL
	for i, d := range districts {
		out = append(out, orukSAL{
			ID: subID(serviceID, fmt.Sprintf("service_at_locations/%d", i)),
			Location: &orukLocation{
				ID: subID(serviceID, fmt.Sprintf("locations/%d", i)), LocationType: "physical", District: d,
			},
		})
	}
	return out
}

func publicLocations(serviceID string, ls []signpost.Location) []orukSAL {
	var out []orukSAL
	for i, l := range ls {
		ol := &orukLocation{
			ID: keepID(l.ID, serviceID, fmt.Sprintf("locations/%d", i)), LocationType: firstNonEmpty(l.Type, "physical"),
			Name: l.Name, Description: l.Description, District: l.District,
			ExternalID: l.ExternalID, ExternalIDType: l.ExternalIDType,
		}
		if l.Point != nil {
			ol.Latitude, ol.Longitude = num(l.Point.Lat), num(l.Point.Lon)
		}
		if a := l.Address; a != nil {
			oa := orukAddress{
				ID: keepID(a.ID, serviceID, fmt.Sprintf("addresses/%d", i)), Attention: a.Attention,
				Address1: a.Line1, XAddress2: a.Line2, City: a.City, Region: a.Region,
				StateProvince: a.StateProvince, PostalCode: a.PostalCode, Country: firstNonEmpty(a.Country, "GB"),
				AddressType: firstNonEmpty(a.Type, "physical"),
			}
			if oa.StateProvince == "" {
				oa.StateProvince = nationName(signpost.NationOfDistrict(l.District))
			}
			if oa.Address1 == "" || oa.City == "" || oa.PostalCode == "" || oa.StateProvince == "" {
				ol.PartAddress = &oa
			} else {
				ol.Addresses = []orukAddress{oa}
			}
		}
		for j, ac := range l.Accessibility {
			ol.Accessibility = append(ol.Accessibility, orukAccessibility{
				ID:          keepID(ac.ID, serviceID, fmt.Sprintf("locations/%d/accessibility/%d", i, j)),
				Description: ac.Description, Details: ac.Details, URL: ac.URL, Text: ac.Text,
			})
		}
		out = append(out, orukSAL{ID: keepID(l.LinkID, serviceID, fmt.Sprintf("service_at_locations/%d", i)), Location: ol})
	}
	return out
}

// nationName is a nation as an address's state_province spells it.
func nationName(n signpost.Nation) string {
	switch n {
	case signpost.England:
		return "England"
	case signpost.Wales:
		return "Wales"
	case signpost.Scotland:
		return "Scotland"
	case signpost.NorthernIreland:
		return "Northern Ireland"
	}
	return ""
}

// categoryInfo gives each category the label and description an Open
// Referral UK taxonomy term needs (the profile requires both). Never
// mutated.
var categoryInfo = map[signpost.Category]struct{ label, description string }{
	signpost.CategoryHelpline:             {"Helpline", "A telephone, text or online chat line giving support, information and referral."},
	signpost.CategoryRefuge:               {"Refuge", "Safe emergency accommodation for people fleeing domestic abuse, reached through a gateway contact."},
	signpost.CategoryIDVAISVA:             {"IDVA / ISVA", "Independent domestic or sexual violence advisers supporting people at high risk through safety planning and the justice system."},
	signpost.CategoryOutreach:             {"Outreach", "Community-based support for people experiencing domestic abuse who are not in refuge."},
	signpost.CategoryPerpetratorProgramme: {"Perpetrator programme", "Programmes and advice for people who use abusive behaviour and want to change."},
	signpost.CategoryChildrenYoungPeople:  {"Children and young people", "Support for children and young people affected by domestic abuse."},
	signpost.CategoryMaleVictims:          {"Male victims", "Support for men experiencing domestic abuse."},
	signpost.CategoryLGBT:                 {"LGBT+", "Support for lesbian, gay, bisexual, trans and queer people experiencing abuse."},
	signpost.CategoryForcedMarriageHonour: {"Forced marriage and honour-based abuse", "Support for people at risk of forced marriage or so-called honour-based abuse."},
	signpost.CategorySexualViolence:       {"Sexual violence", "Support after rape, sexual assault or sexual abuse."},
	signpost.CategorySanctuaryScheme:      {"Sanctuary scheme", "Security measures that let people at risk stay safely in their own home."},
	signpost.CategoryLegal:                {"Legal", "Legal advice and help with protective orders."},
	signpost.CategoryHousing:              {"Housing", "Housing advice and homelessness help."},
	signpost.CategoryMentalHealth:         {"Mental health", "Emotional and mental health support."},
	signpost.CategorySubstanceUse:         {"Substance use", "Support with alcohol or drug use."},
	signpost.CategoryEmergency:            {"Emergency", "Emergency services and ways to reach them silently."},
	signpost.CategoryDomesticAbuse:        {"Domestic abuse", "Services open to any domestic-abuse need."},
	signpost.CategoryStalking:             {"Stalking", "Support and advice for people being stalked or harassed."},
}
