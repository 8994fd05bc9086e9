package oruk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"waymark/postcode"
	"waymark/signpost"
)

// The Open Referral UK JSON shape as Waymark reads and writes it: the
// UK profile's records, the HSDS 3.0 fields it removed (read only), and
// the x_waymark extensions.

type orukPage struct {
	TotalItems int           `json:"total_items"`
	TotalPages int           `json:"total_pages"`
	PageNumber int           `json:"page_number"`
	Size       int           `json:"size"`
	FirstPage  bool          `json:"first_page"`
	LastPage   bool          `json:"last_page"`
	Empty      bool          `json:"empty"`
	Contents   []orukService `json:"contents"`
}

// orukService is a service on the wire. The fields up to Waymark are the
// UK profile's; those after it are HSDS 3.0 fields the UK profile removed,
// read on import and never written (export carries their values under
// x_waymark).
type orukService struct {
	ID                 string            `json:"id"`
	OrganizationID     string            `json:"organization_id,omitempty"`
	Name               string            `json:"name"`
	Description        string            `json:"description,omitempty"`
	URL                string            `json:"url,omitempty"`
	Email              string            `json:"email,omitempty"`
	Status             string            `json:"status"`
	Fees               string            `json:"fees,omitempty"`
	Accreditations     string            `json:"accreditations,omitempty"`
	MinimumAge         *flexNumber       `json:"minimum_age,omitempty"`
	MaximumAge         *flexNumber       `json:"maximum_age,omitempty"`
	AssuredDate        string            `json:"assured_date,omitempty"`
	AssurerEmail       string            `json:"assurer_email,omitempty"`
	Alert              string            `json:"alert,omitempty"`
	LastModified       string            `json:"last_modified,omitempty"`
	Schedules          []orukSchedule    `json:"schedules,omitempty"`
	ServiceAreas       []orukServiceArea `json:"service_areas,omitempty"`
	ServiceAtLocations []orukSAL         `json:"service_at_locations,omitempty"`
	Organization       *orukOrganization `json:"organization,omitempty"`
	Funding            []orukFunding     `json:"funding,omitempty"`
	CostOptions        []orukCostOption  `json:"cost_options,omitempty"`
	Contacts           []orukContact     `json:"contacts,omitempty"`
	Attributes         []orukAttribute   `json:"attributes,omitempty"`
	Waymark            *orukWaymark      `json:"x_waymark,omitempty"`

	AlternateName          string         `json:"alternate_name,omitempty"`
	InterpretationServices string         `json:"interpretation_services,omitempty"`
	ApplicationProcess     string         `json:"application_process,omitempty"`
	EligibilityDescription string         `json:"eligibility_description,omitempty"`
	FeesDescription        string         `json:"fees_description,omitempty"`
	WaitTime               string         `json:"wait_time,omitempty"`
	Licenses               string         `json:"licenses,omitempty"`
	Phones                 []orukPhone    `json:"phones,omitempty"`
	Languages              []orukLanguage `json:"languages,omitempty"`
}

// listItem keeps what the UK profile's service_list schema allows: the
// one-to-one fields and the organisation without its identifiers.
func (o orukService) listItem() orukService {
	l := orukService{
		ID: o.ID, OrganizationID: o.OrganizationID, Name: o.Name, Description: o.Description, URL: o.URL,
		Email: o.Email, Status: o.Status, Fees: o.Fees, Accreditations: o.Accreditations,
		MinimumAge: o.MinimumAge, MaximumAge: o.MaximumAge, AssuredDate: o.AssuredDate,
		AssurerEmail: o.AssurerEmail, Alert: o.Alert, LastModified: o.LastModified,
	}
	if org := o.Organization; org != nil {
		c := *org
		c.Identifiers = nil
		l.Organization = &c
	}
	return l
}

type orukOrganization struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Email       string          `json:"email,omitempty"`
	Website     string          `json:"website,omitempty"`
	Logo        string          `json:"logo,omitempty"`
	URI         string          `json:"uri,omitempty"`
	ParentID    string          `json:"parent_organization_id,omitempty"`
	Identifiers []orukOrgIdent  `json:"organization_identifiers,omitempty"`
	Waymark     *orukOrgWaymark `json:"x_waymark,omitempty"`
}

type orukOrgWaymark struct {
	ID string `json:"id,omitempty"` // a non-UUID id as Waymark holds it
}

type orukOrgIdent struct {
	ID         string `json:"id"`
	Scheme     string `json:"identifier_scheme,omitempty"`
	Type       string `json:"identifier_type"`
	Identifier string `json:"identifier"`
}

type orukPhone struct {
	ID          string         `json:"id,omitempty"`
	Number      string         `json:"number"`
	Extension   flexString     `json:"extension,omitempty"`
	Type        string         `json:"type,omitempty"`
	Description string         `json:"description,omitempty"`
	Languages   []orukLanguage `json:"languages,omitempty"`
}

type orukLanguage struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Code string `json:"code,omitempty"`
}

type orukSchedule struct {
	ID            string      `json:"id"`
	ValidFrom     string      `json:"valid_from,omitempty"`
	ValidTo       string      `json:"valid_to,omitempty"`
	DTStart       string      `json:"dtstart,omitempty"`
	Freq          string      `json:"freq,omitempty"`
	Interval      *flexNumber `json:"interval,omitempty"`
	ByDay         string      `json:"byday,omitempty"`
	ByMonthDay    string      `json:"bymonthday,omitempty"`
	Description   string      `json:"description,omitempty"`
	OpensAt       string      `json:"opens_at,omitempty"`
	ClosesAt      string      `json:"closes_at,omitempty"`
	Link          string      `json:"schedule_link,omitempty"`
	AttendingType string      `json:"attending_type,omitempty"`
	Notes         string      `json:"notes,omitempty"`
	Overnight     bool        `json:"x_waymark_overnight,omitempty"`
	BankHoliday   bool        `json:"x_waymark_bank_holiday,omitempty"`
	// Generated marks the schedule Encode writes for a 24/7 service so
	// that plain ORUK consumers see the hours; Decode skips it.
	Generated bool `json:"x_waymark_generated,omitempty"`
}

type orukServiceArea struct {
	ID          string          `json:"id"`
	Name        string          `json:"name,omitempty"`
	Extent      string          `json:"extent,omitempty"`
	ExtentType  string          `json:"extent_type,omitempty"`
	URI         string          `json:"uri,omitempty"`
	ServiceArea string          `json:"service_area,omitempty"` // the UK profile's free-text field
	Districts   []string        `json:"x_waymark_districts,omitempty"`
	Centre      *postcode.Point `json:"x_waymark_centre,omitempty"`
	RadiusKm    float64         `json:"x_waymark_radius_km,omitempty"`
	// XDescription carries HSDS 3.0's description, which the UK profile
	// removed; Description reads it on import.
	XDescription string `json:"x_waymark_description,omitempty"`
	Description  string `json:"description,omitempty"`
}

type orukSAL struct {
	ID       string        `json:"id"`
	Location *orukLocation `json:"location,omitempty"`
}

type orukLocation struct {
	ID             string              `json:"id"`
	LocationType   string              `json:"location_type"`
	Name           string              `json:"name,omitempty"`
	Description    string              `json:"description,omitempty"`
	Latitude       *flexNumber         `json:"latitude,omitempty"`
	Longitude      *flexNumber         `json:"longitude,omitempty"`
	ExternalID     string              `json:"external_identifier,omitempty"`
	ExternalIDType string              `json:"external_identifier_type,omitempty"`
	Addresses      []orukAddress       `json:"addresses,omitempty"`
	Accessibility  []orukAccessibility `json:"accessibility,omitempty"`
	District       string              `json:"x_waymark_district,omitempty"`
	// PartAddress is an address without the parts the UK profile requires
	// (first line, town, postcode): kept, but not as an ORUK address.
	PartAddress *orukAddress `json:"x_waymark_address,omitempty"`
}

type orukAddress struct {
	ID            string `json:"id"`
	Attention     string `json:"attention,omitempty"`
	Address1      string `json:"address_1"`
	City          string `json:"city"`
	Region        string `json:"region,omitempty"`
	StateProvince string `json:"state_province"`
	PostalCode    string `json:"postal_code"`
	Country       string `json:"country"`
	AddressType   string `json:"address_type"`
	XAddress2     string `json:"x_waymark_address_2,omitempty"`
	Address2      string `json:"address_2,omitempty"` // HSDS 3.0; read only
}

type orukAccessibility struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Details     string `json:"details,omitempty"`
	URL         string `json:"url,omitempty"`
	Text        string `json:"accessibility,omitempty"`
}

type orukFunding struct {
	ID     string `json:"id"`
	Source string `json:"source,omitempty"`
}

type orukCostOption struct {
	ID                string      `json:"id"`
	ValidFrom         string      `json:"valid_from,omitempty"`
	ValidTo           string      `json:"valid_to,omitempty"`
	Option            string      `json:"option,omitempty"`
	Amount            *flexNumber `json:"amount,omitempty"`
	AmountDescription string      `json:"amount_description,omitempty"`
	XCurrency         string      `json:"x_waymark_currency,omitempty"`
	Currency          string      `json:"currency,omitempty"` // HSDS 3.0; read only
}

type orukContact struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Title string `json:"title,omitempty"`
}

type orukAttribute struct {
	ID           string            `json:"id"`
	LinkType     string            `json:"link_type,omitempty"`
	TaxonomyTerm *orukTaxonomyTerm `json:"taxonomy_term,omitempty"`
}

type orukTaxonomyTerm struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ParentID    string `json:"parent_id,omitempty"`
	Taxonomy    string `json:"taxonomy,omitempty"`
	TermURI     string `json:"term_uri,omitempty"`
	Term        string `json:"term,omitempty"`
	XCode       string `json:"x_waymark_code,omitempty"`
	Code        string `json:"code,omitempty"` // HSDS 3.0 and older Waymark exports; read only
}

// orukWaymark carries what the UK profile has no field for.
type orukWaymark struct {
	// ID is the service's Waymark id when it is not a UUID (the ORUK id is
	// then derived from it: signpost.ORUKID).
	ID                  string                   `json:"id,omitempty"`
	ShortName           string                   `json:"short_name,omitempty"`
	AlternateName       string                   `json:"alternate_name,omitempty"`
	Phones              []signpost.Phone         `json:"phones,omitempty"`
	Languages           []string                 `json:"languages,omitempty"`
	Interpreting        bool                     `json:"interpreting,omitempty"`
	InterpretationText  string                   `json:"interpretation_services,omitempty"`
	FeesDescription     string                   `json:"fees_description,omitempty"`
	WaitTime            string                   `json:"wait_time,omitempty"`
	Licenses            string                   `json:"licenses,omitempty"`
	RespectAccredited   bool                     `json:"respect_accredited,omitempty"`
	ConfidentialAddress bool                     `json:"confidential_address,omitempty"`
	Gateway             *signpost.Gateway        `json:"gateway,omitempty"`
	Nations             []signpost.Nation        `json:"nations,omitempty"`
	Open247             bool                     `json:"open_24_7,omitempty"`
	BankHolidays        signpost.BankHolidayRule `json:"bank_holidays,omitempty"`
	HoursUnverified     bool                     `json:"hours_unverified,omitempty"`
	HoursText           string                   `json:"hours_text,omitempty"`
	Eligibility         *orukEligibility         `json:"eligibility,omitempty"`
	Referral            *orukReferral            `json:"referral,omitempty"`
	AreaDescription     string                   `json:"service_area_description,omitempty"`
	Vacancies           *signpost.Vacancies      `json:"vacancies,omitempty"`
	LastVerified        string                   `json:"last_verified,omitempty"`
	Sources             []string                 `json:"sources,omitempty"`
	VerificationNote    string                   `json:"verification_note,omitempty"`
	Reverify            bool                     `json:"reverify,omitempty"`
	Example             bool                     `json:"example,omitempty"`
}

type orukEligibility struct {
	Gender           signpost.Gender `json:"gender,omitempty"`
	AcceptsChildren  bool            `json:"accepts_children,omitempty"`
	ChildrenMaxAge   int             `json:"children_max_age,omitempty"`
	NRPF             bool            `json:"nrpf,omitempty"`
	WheelchairAccess bool            `json:"wheelchair_access,omitempty"`
	Description      string          `json:"description,omitempty"`
}

type orukReferral struct {
	Self         bool   `json:"self,omitempty"`
	Professional bool   `json:"professional,omitempty"`
	Description  string `json:"description,omitempty"`
}

// flexString accepts a JSON string or number (HSDS 3.0's own example gives
// a phone extension as the number 100).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("not a string or a number")
	}
	*f = flexString(n.String())
	return nil
}

// flexNumber accepts a JSON number or a numeric string, and remembers a
// value that was neither, so that one bad coordinate drops that field with
// a warning instead of failing the whole record.
type flexNumber struct {
	v   float64
	bad bool
}

func (f *flexNumber) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err == nil {
			b = []byte(strings.TrimSpace(s))
		}
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		f.bad = true
		return nil
	}
	f.v = v
	return nil
}

func (f flexNumber) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, f.v, 'f', -1, 64), nil
}

func num(v float64) *flexNumber { return &flexNumber{v: v} }

// categoryTaxonomy names Waymark's vocabulary in exported attributes.
const categoryTaxonomy = "waymark-signposting"

// subID and keepID are signpost's derivation of ORUK ids (ORUKRecordID),
// under the names the mapping reads best with: subID for a record Waymark
// writes itself, keepID for one that may have kept its own UUID.
func subID(serviceID, path string) string { return signpost.ORUKRecordID("", serviceID, path) }

func keepID(id, serviceID, path string) string { return signpost.ORUKRecordID(id, serviceID, path) }
