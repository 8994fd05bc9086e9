package signpost

import (
	"time"

	"waymark/postcode"
)

// Service is one entry in the directory, aligned with the Open Referral UK
// (HSDS 3.0) service record and extended where domestic-abuse work needs it.
// Its JSON form is Waymark's own storage format; Open Referral UK JSON is
// produced by oruk.Encode and read by oruk.Decode.
//
// A Service that has passed Validate is normalised: strings trimmed, codes
// lower-cased, districts upper-cased, schedules in canonical form, and a
// confidential service holds no address, coordinates or location name.
type Service struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	ShortName    string       `json:"short_name,omitempty"` // for SMS replies, e.g. "Nat. DA Helpline"
	Organisation Organisation `json:"organisation"`
	Description  string       `json:"description,omitempty"`
	Status       Status       `json:"status,omitempty"`

	Categories []Category `json:"categories,omitempty"`
	// RespectAccredited marks a perpetrator programme accredited by Respect;
	// it is meaningless (and dropped) without CategoryPerpetratorProgramme.
	RespectAccredited bool `json:"respect_accredited,omitempty"`

	// Phones holds every number; text-only numbers have Type PhoneText.
	Phones []Phone `json:"phones,omitempty"`
	URL    string  `json:"url,omitempty"`
	Email  string  `json:"email,omitempty"`

	Locations []Location `json:"locations,omitempty"`
	// ConfidentialAddress marks a service (a refuge) whose address is never
	// kept: its locations carry only a postcode district.
	ConfidentialAddress bool     `json:"confidential_address,omitempty"`
	Gateway             *Gateway `json:"gateway,omitempty"`

	Area    ServiceArea `json:"service_area"`
	Nations []Nation    `json:"nations,omitempty"` // nations served

	Hours // opening hours, inline: open_24_7, schedules, bank_holidays, ...

	Languages    []string `json:"languages,omitempty"` // ISO 639 codes, e.g. "ur", "bfi"
	Interpreting bool     `json:"interpreting,omitempty"`

	Eligibility Eligibility `json:"eligibility"`
	Referral    Referral    `json:"referral"`
	Vacancies   *Vacancies  `json:"vacancies,omitempty"`

	LastVerified     string   `json:"last_verified,omitempty"` // YYYY-MM-DD
	Sources          []string `json:"sources,omitempty"`
	VerificationNote string   `json:"verification_note,omitempty"`
	// Reverify marks an entry whose facts must be checked again before
	// anyone relies on them.
	Reverify bool `json:"reverify,omitempty"`
	// Example marks invented demonstration data.
	Example bool `json:"example,omitempty"`
	// Feed is the ORUK API base a synchronised service came from (waymark
	// directory sync); a later sync of the same feed retires the service
	// when the feed no longer lists it. Not exported.
	Feed string `json:"feed,omitempty"`

	Exchange // what Open Referral UK carries that search does not use
}

// Exchange holds the Open Referral UK (HSDS 3.0) values of a service that
// Waymark keeps so that an import exports again whole, but does not search
// on. Export writes each in its Open Referral UK place, or, where the UK
// profile has no place for it, under x_waymark.
type Exchange struct {
	AlternateName          string       `json:"alternate_name,omitempty"`
	Alert                  string       `json:"alert,omitempty"` // a short-term notice ("closed for refurbishment")
	Fees                   string       `json:"fees,omitempty"`
	FeesDescription        string       `json:"fees_description,omitempty"`
	Accreditations         string       `json:"accreditations,omitempty"`
	AssurerEmail           string       `json:"assurer_email,omitempty"`
	LastModified           string       `json:"last_modified,omitempty"` // RFC 3339
	WaitTime               string       `json:"wait_time,omitempty"`
	Licenses               string       `json:"licenses,omitempty"`
	InterpretationServices string       `json:"interpretation_services,omitempty"`
	Funding                []Funding    `json:"funding,omitempty"`
	CostOptions            []CostOption `json:"cost_options,omitempty"`
	Contacts               []Contact    `json:"contacts,omitempty"`
	// Terms are taxonomy terms outside Waymark's category vocabulary,
	// kept as given.
	Terms []Term `json:"terms,omitempty"`
}

// Funding is one source of a service's funding.
type Funding struct {
	ID     string `json:"id,omitempty"`
	Source string `json:"source,omitempty"`
}

// CostOption is one price of a service.
type CostOption struct {
	ID                string   `json:"id,omitempty"`
	ValidFrom         string   `json:"valid_from,omitempty"`
	ValidTo           string   `json:"valid_to,omitempty"`
	Option            string   `json:"option,omitempty"`
	Currency          string   `json:"currency,omitempty"`
	Amount            *float64 `json:"amount,omitempty"`
	AmountDescription string   `json:"amount_description,omitempty"`
}

// Contact is a named role at a service (its own phones and e-mail are not
// kept: the UK profile has no place for them).
type Contact struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Title string `json:"title,omitempty"`
}

// Term is a taxonomy term linked to a service through an attribute.
type Term struct {
	AttributeID string `json:"attribute_id,omitempty"`
	LinkType    string `json:"link_type,omitempty"`
	ID          string `json:"id,omitempty"`
	Code        string `json:"code,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	ParentID    string `json:"parent_id,omitempty"`
	Taxonomy    string `json:"taxonomy,omitempty"`
	TermURI     string `json:"term_uri,omitempty"`
	Term        string `json:"term,omitempty"`
}

// TextNumbers returns the service's text-message numbers.
func (s *Service) TextNumbers() []Phone {
	var out []Phone
	for _, p := range s.Phones {
		if p.Type == PhoneText {
			out = append(out, p)
		}
	}
	return out
}

// Has reports whether the service is in category c.
func (s *Service) Has(c Category) bool {
	for _, x := range s.Categories {
		if x == c {
			return true
		}
	}
	return false
}

// National reports whether the service is tied to no place: no location
// with a position or district, no service area, but nations it serves. Such
// services are offered after local ones.
func (s *Service) National() bool {
	if len(s.Nations) == 0 || !s.Area.empty() {
		return false
	}
	for _, l := range s.Locations {
		if l.Point != nil || l.District != "" {
			return false
		}
	}
	return true
}

// Organisation runs a service.
type Organisation struct {
	ID          string          `json:"id,omitempty"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	URL         string          `json:"url,omitempty"`
	Email       string          `json:"email,omitempty"`
	Logo        string          `json:"logo,omitempty"`
	URI         string          `json:"uri,omitempty"`
	ParentID    string          `json:"parent_id,omitempty"`
	Identifiers []OrgIdentifier `json:"identifiers,omitempty"`
}

// OrgIdentifier is an organisation's number in a register ("GB-CHC",
// "Charity number", "1234567").
type OrgIdentifier struct {
	ID         string `json:"id,omitempty"`
	Scheme     string `json:"scheme,omitempty"`
	Type       string `json:"type,omitempty"`
	Identifier string `json:"identifier,omitempty"`
}

// Status is the HSDS service status.
type Status string

// Service statuses (HSDS 3.0). Only active services are found by search.
const (
	StatusActive            Status = "active"
	StatusInactive          Status = "inactive"
	StatusDefunct           Status = "defunct"
	StatusTemporarilyClosed Status = "temporarily closed"
)

// PhoneType says how a number is used.
type PhoneType string

// Phone types (a subset of HSDS 3.0's).
const (
	PhoneVoice     PhoneType = "voice"
	PhoneText      PhoneType = "text"
	PhoneTextphone PhoneType = "textphone"
	PhoneVideo     PhoneType = "video"
)

// Phone is a number to call, text or reach by textphone or video relay.
type Phone struct {
	ID          string    `json:"id,omitempty"`
	Number      string    `json:"number"`
	Extension   string    `json:"extension,omitempty"`
	Type        PhoneType `json:"type,omitempty"`
	Description string    `json:"description,omitempty"`
	Languages   []string  `json:"languages,omitempty"`
}

// Location is a place where a service is delivered. For a confidential
// service only District is ever set.
type Location struct {
	ID     string `json:"id,omitempty"`      // the ORUK location id
	LinkID string `json:"link_id,omitempty"` // the ORUK service_at_location id
	// Type is physical (the default), postal or virtual.
	Type        string          `json:"type,omitempty"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Point       *postcode.Point `json:"point,omitempty"`
	Address     *Address        `json:"address,omitempty"`
	// District is the postcode district ("SO14"), derived from the address
	// when not given.
	District string `json:"district,omitempty"`

	ExternalID     string          `json:"external_id,omitempty"`      // e.g. a UPRN
	ExternalIDType string          `json:"external_id_type,omitempty"` // e.g. "UPRN"
	Accessibility  []Accessibility `json:"accessibility,omitempty"`
}

// Accessibility describes how accessible a location is.
type Accessibility struct {
	ID          string `json:"id,omitempty"`
	Description string `json:"description,omitempty"`
	Details     string `json:"details,omitempty"`
	URL         string `json:"url,omitempty"`
	Text        string `json:"accessibility,omitempty"`
}

// Address is a postal address of a non-confidential location.
type Address struct {
	ID            string `json:"id,omitempty"`
	Attention     string `json:"attention,omitempty"`
	StateProvince string `json:"state_province,omitempty"`
	Type          string `json:"type,omitempty"` // physical or postal
	Line1         string `json:"line1,omitempty"`
	Line2         string `json:"line2,omitempty"`
	City          string `json:"city,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

// Gateway is how a confidential service is reached, e.g. a refuge's
// referral line or the national helpline that places people in refuges.
type Gateway struct {
	Name        string `json:"name,omitempty"`
	Phone       string `json:"phone,omitempty"`
	URL         string `json:"url,omitempty"`
	Description string `json:"description,omitempty"`
}

// ServiceArea is where a service accepts people from: postcode districts,
// a circle, or both. An empty area means "wherever its locations reach" for
// a local service and "the nations it serves" for a national one.
type ServiceArea struct {
	Districts   []string        `json:"districts,omitempty"`
	Centre      *postcode.Point `json:"centre,omitempty"`
	RadiusKm    float64         `json:"radius_km,omitempty"`
	Description string          `json:"description,omitempty"`
	// Records are the ORUK service areas an import brought, kept as given.
	Records []AreaRecord `json:"records,omitempty"`
}

// AreaRecord is one ORUK service area as imported.
type AreaRecord struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Text        string `json:"service_area,omitempty"`
	Extent      string `json:"extent,omitempty"`
	ExtentType  string `json:"extent_type,omitempty"`
	URI         string `json:"uri,omitempty"`
}

func (a ServiceArea) empty() bool { return len(a.Districts) == 0 && a.Centre == nil }

// Gender is who a service is for.
type Gender string

// Genders a service may be limited to. The empty Gender means anyone.
const (
	GenderAny   Gender = ""
	GenderWomen Gender = "women"
	GenderMen   Gender = "men"
)

// Eligibility says who a service accepts. Zero ages mean no limit.
type Eligibility struct {
	Gender          Gender `json:"gender,omitempty"`
	MinAge          int    `json:"min_age,omitempty"`
	MaxAge          int    `json:"max_age,omitempty"`
	AcceptsChildren bool   `json:"accepts_children,omitempty"`
	ChildrenMaxAge  int    `json:"children_max_age,omitempty"` // e.g. boys up to 14 in some refuges
	// NRPF marks a service that accepts people with no recourse to public funds.
	NRPF             bool   `json:"nrpf,omitempty"`
	WheelchairAccess bool   `json:"wheelchair_access,omitempty"`
	Description      string `json:"description,omitempty"`
}

// Referral says how people reach a service.
type Referral struct {
	Self         bool   `json:"self,omitempty"`
	Professional bool   `json:"professional,omitempty"`
	Description  string `json:"description,omitempty"`
}

// Vacancies is a refuge's last reported space. Reports older than the
// index's stale age are shown as stale, never as current.
type Vacancies struct {
	Count     int       `json:"count"`
	UpdatedAt time.Time `json:"updated_at"`
	Note      string    `json:"note,omitempty"`
}
