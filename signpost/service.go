package signpost

import (
	"time"

	"waymark/postcode"
)

// Service is one entry in the directory, aligned with the Open Referral UK
// (HSDS 3.0) service record and extended where domestic-abuse work needs it.
// Its JSON form is Waymark's own storage format; Open Referral UK JSON is
// produced by EncodeORUK and read by DecodeORUK.
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
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	Email       string `json:"email,omitempty"`
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
	Number      string    `json:"number"`
	Extension   string    `json:"extension,omitempty"`
	Type        PhoneType `json:"type,omitempty"`
	Description string    `json:"description,omitempty"`
	Languages   []string  `json:"languages,omitempty"`
}

// Location is a place where a service is delivered. For a confidential
// service only District is ever set.
type Location struct {
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Point       *postcode.Point `json:"point,omitempty"`
	Address     *Address        `json:"address,omitempty"`
	// District is the postcode district ("SO14"), derived from the address
	// when not given.
	District string `json:"district,omitempty"`
}

// Address is a postal address of a non-confidential location.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
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
