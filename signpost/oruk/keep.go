package oruk

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// keep describes which properties of an ORUK object Waymark keeps: a key
// mapped to nil is kept whole; a key mapped to a keep is an object (or an
// array of objects) whose own properties are checked against it. Every
// other property of an imported record is reported as dropped, by path,
// with the reason in dropReasons (or a general one), so that an import
// never loses a value without saying so.
type keep map[string]keep

var (
	keepLanguage = keep{"code": nil}
	keepPhone    = keep{"id": nil, "number": nil, "extension": nil, "type": nil, "description": nil, "languages": keepLanguage}
	keepTerm     = keep{"id": nil, "code": nil, "name": nil, "description": nil, "parent_id": nil, "taxonomy": nil,
		"term_uri": nil, "term": nil, "x_waymark_code": nil}
	keepService = keep{
		"id": nil, "organization_id": nil, "name": nil, "description": nil, "url": nil, "email": nil, "status": nil,
		"fees": nil, "accreditations": nil, "minimum_age": nil, "maximum_age": nil, "assured_date": nil,
		"assurer_email": nil, "alert": nil, "last_modified": nil, "x_waymark": nil,
		"alternate_name": nil, "interpretation_services": nil, "application_process": nil,
		"eligibility_description": nil, "fees_description": nil, "wait_time": nil, "licenses": nil,
		"phones":    keepPhone,
		"languages": keepLanguage,
		"schedules": {"id": nil, "service_id": nil, "valid_from": nil, "valid_to": nil, "dtstart": nil, "freq": nil,
			"interval": nil, "byday": nil, "bymonthday": nil, "description": nil, "opens_at": nil, "closes_at": nil,
			"schedule_link": nil, "attending_type": nil, "notes": nil,
			"x_waymark_overnight": nil, "x_waymark_bank_holiday": nil, "x_waymark_generated": nil},
		"service_areas": {"id": nil, "service_id": nil, "name": nil, "description": nil, "service_area": nil,
			"extent": nil, "extent_type": nil, "uri": nil, "x_waymark_districts": nil, "x_waymark_centre": nil,
			"x_waymark_radius_km": nil, "x_waymark_description": nil},
		"service_at_locations": {"id": nil, "service_id": nil, "location_id": nil, "location": {
			"id": nil, "location_type": nil, "name": nil, "description": nil, "latitude": nil, "longitude": nil,
			"external_identifier": nil, "external_identifier_type": nil, "x_waymark_district": nil,
			"x_waymark_address": nil,
			"addresses": {"id": nil, "location_id": nil, "attention": nil, "address_1": nil, "address_2": nil,
				"city": nil, "region": nil, "state_province": nil, "postal_code": nil, "country": nil,
				"address_type": nil, "x_waymark_address_2": nil},
			"accessibility": {"id": nil, "location_id": nil, "description": nil, "details": nil, "url": nil, "accessibility": nil},
		}},
		"organization": {"id": nil, "name": nil, "description": nil, "email": nil, "website": nil, "logo": nil,
			"uri": nil, "parent_organization_id": nil, "x_waymark": nil,
			"organization_identifiers": {"id": nil, "organization_id": nil, "identifier_scheme": nil,
				"identifier_type": nil, "identifier": nil}},
		"funding":      {"id": nil, "service_id": nil, "source": nil},
		"cost_options": {"id": nil, "service_id": nil, "valid_from": nil, "valid_to": nil, "option": nil, "amount": nil, "amount_description": nil, "currency": nil, "x_waymark_currency": nil},
		"contacts":     {"id": nil, "service_id": nil, "name": nil, "title": nil},
		"attributes":   {"id": nil, "link_id": nil, "link_type": nil, "taxonomy_term_id": nil, "taxonomy_term": keepTerm},
	}
)

// dropReasons says why a property Waymark does not keep is dropped, by
// property name. Never mutated.
var dropReasons = map[string]string{
	"program":                "programs are not kept (the UK profile has none)",
	"programs":               "programs are not kept (the UK profile has none)",
	"required_documents":     "required documents are not kept (the UK profile has none)",
	"metadata":               "change history is not kept; Waymark records its own",
	"capacities":             "capacities are not kept; refuge vacancies live in x_waymark.vacancies",
	"timezone":               "schedules are always in Europe/London",
	"until":                  "a weekly schedule's end is kept as valid_to only",
	"count":                  "a weekly schedule's count of occurrences is not kept",
	"wkst":                   "the week start does not change a weekly schedule",
	"byweekno":               "not used with a weekly schedule",
	"byyearday":              "not used with a weekly schedule",
	"service_at_location_id": "a schedule belongs to the service; its place is not kept",
	"name":                   "a language is kept as its ISO 639 code (read from the name when there is no code)",
	"note":                   "language notes are not kept (the UK profile has none)",
	"contacts":               "only the service's own contacts are kept",
	"phones":                 "only the service's own phones are kept",
	"schedules":              "only the service's own schedules are kept",
	"languages":              "only the service's own languages are kept",
	"department":             "a contact's department, e-mail and phones are not kept (the UK profile has none)",
	"email":                  "a contact's department, e-mail and phones are not kept (the UK profile has none)",
	"url":                    "not in the Open Referral UK profile; not kept",
	"alternate_name":         "not in the Open Referral UK profile; not kept",
	"transportation":         "not in the Open Referral UK profile; not kept",
	"tax_status":             "not in the Open Referral UK profile; not kept",
	"year_incorporated":      "not in the Open Referral UK profile; not kept",
	"legal_status":           "not in the Open Referral UK profile; not kept",
	"funding":                "only the service's own funding is kept",
	"locations":              "an organisation's locations are not kept; the service's are",
	"link_entity":            "attribute values are not kept",
	"value":                  "attribute values are not kept",
	"taxonomy_detail":        "taxonomy details are not kept; the term's taxonomy name is",
	"language":               "a taxonomy term's language is not kept",
	"id":                     "language ids are not kept: Waymark keeps languages as ISO 639 codes",
}

// reportDrops walks one raw ORUK record and warns, by path, about every
// property that keepService does not keep.
func reportDrops(p *problems, raw json.RawMessage) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return
	}
	walkDrops(p, "", v, keepService)
}

func walkDrops(p *problems, path string, v any, k keep) {
	switch t := v.(type) {
	case []any:
		for i, e := range t {
			walkDrops(p, fmt.Sprintf("%s[%d]", path, i), e, k)
		}
	case map[string]any:
		names := make([]string, 0, len(t))
		for name := range t {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			val := t[name]
			if isEmptyJSON(val) {
				continue
			}
			sub, ok := k[name]
			field := name
			if path != "" {
				field = path + "." + name
			}
			switch {
			case !ok:
				p.warn(field, "%s", dropReason(name))
			case sub != nil:
				walkDrops(p, field, val, sub)
			}
		}
	}
}

func dropReason(name string) string {
	if r, ok := dropReasons[name]; ok {
		return r
	}
	if strings.HasPrefix(name, "x_") {
		return "an extension Waymark does not know; not kept"
	}
	return "not a property Waymark keeps; not kept"
}

func isEmptyJSON(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}
