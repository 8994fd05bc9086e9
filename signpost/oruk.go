package signpost

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"waymark/postcode"
)

// ErrORUK reports input that is not Open Referral UK JSON at all. Problems
// with single records are reported per ImportItem instead.
var ErrORUK = errors.New("signpost: oruk")

// MaxImportBytes bounds what DecodeORUK reads: about 100 times the largest
// UK directory, and small enough to hold in memory.
const MaxImportBytes = 256 << 20

// ImportItem is the outcome of one record of an import.
type ImportItem struct {
	Index    int            // position in the input, from 0
	ID       string         // the record's id ("" when it has none; x_waymark.id when it gives one)
	Service  *Service       // the validated service; nil when rejected
	Warnings []FieldProblem // fields dropped from an otherwise good record
	Err      error          // why the record was rejected; nil when imported
}

// DecodeORUK reads Open Referral UK (HSDS 3.0) JSON: a single service
// object, a /services page (items under "contents", or "content" as the
// older ORUK API spelled it, with either style of paging keys, which are
// ignored: one page is one input), a bare JSON array of services, or
// newline-delimited services. Each record is mapped and validated on its
// own: a bad record is rejected with its reason and the rest still import.
// The error is non-nil only when the input as a whole cannot be read.
//
// Waymark-specific fields travel in extension fields named x_waymark
// (on the service) and x_waymark_* (on locations, schedules and service
// areas); other ORUK consumers ignore them.
func DecodeORUK(r io.Reader) ([]ImportItem, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read: %w", ErrORUK, err)
	}
	if len(data) > MaxImportBytes {
		return nil, fmt.Errorf("%w: input larger than %d bytes", ErrORUK, MaxImportBytes)
	}
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrORUK)
	}
	records, err := splitRecords(data)
	if err != nil {
		return nil, err
	}
	items := make([]ImportItem, len(records))
	for i, rec := range records {
		items[i] = decodeRecord(i, rec)
	}
	return items, nil
}

// record is one service's raw JSON, or the reason it could not be cut out.
type record struct {
	raw json.RawMessage
	err error
}

func splitRecords(data []byte) ([]record, error) {
	if json.Valid(data) {
		switch data[0] {
		case '[':
			return arrayRecords(data)
		case '{':
			var top map[string]json.RawMessage
			if err := json.Unmarshal(data, &top); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrORUK, err)
			}
			items, ok := top["contents"]
			if !ok {
				items, ok = top["content"]
			}
			if !ok {
				return []record{{raw: data}}, nil
			}
			if t := bytes.TrimSpace(items); len(t) == 0 || t[0] != '[' {
				return nil, fmt.Errorf("%w: page contents is not an array", ErrORUK)
			}
			return arrayRecords(items)
		}
		return nil, fmt.Errorf("%w: expected a service, a page of services or newline-delimited services", ErrORUK)
	}
	// Several values: newline-delimited JSON, one service a line. A line
	// that does not parse is rejected on its own.
	var recs []record
	valid := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxImportBytes)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if !json.Valid(b) || b[0] != '{' {
			recs = append(recs, record{err: fmt.Errorf("%w: line %d: not a JSON object", ErrORUK, line)})
			continue
		}
		valid++
		recs = append(recs, record{raw: append(json.RawMessage(nil), b...)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrORUK, err)
	}
	if valid == 0 {
		// Not NDJSON either: say what is wrong with it as one document.
		var v any
		err := json.Unmarshal(data, &v)
		return nil, fmt.Errorf("%w: not JSON: %w", ErrORUK, err)
	}
	return recs, nil
}

func arrayRecords(data []byte) ([]record, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrORUK, err)
	}
	recs := make([]record, len(raws))
	for i, r := range raws {
		recs[i] = record{raw: r}
	}
	return recs, nil
}

func decodeRecord(i int, rec record) ImportItem {
	item := ImportItem{Index: i}
	if rec.err != nil {
		item.Err = rec.err
		return item
	}
	var head struct {
		ID any `json:"id"`
	}
	if err := json.Unmarshal(rec.raw, &head); err != nil {
		item.Err = fmt.Errorf("%w: record %d: not a JSON object", ErrORUK, i)
		return item
	}
	switch id := head.ID.(type) {
	case string:
		item.ID = id
	case float64:
		item.ID = strconv.FormatFloat(id, 'f', -1, 64)
	}
	var o orukService
	if err := json.Unmarshal(rec.raw, &o); err != nil {
		item.Err = fmt.Errorf("%w: record %d: %w", ErrORUK, i, err)
		return item
	}
	s, p := fromORUK(&o)
	reportDrops(&p, rec.raw)
	if s.ID != "" {
		item.ID = s.ID // the readable id x_waymark.id gave, if any
	}
	if len(p.hard) > 0 {
		item.Warnings = p.soft
		item.Err = &ValidationError{What: "service", Problems: p.hard}
		return item
	}
	warnings, err := Validate(&s)
	item.Warnings = append(p.soft, warnings...)
	if err != nil {
		item.Err = err
		return item
	}
	item.Service = &s
	return item
}

// EncodeORUK writes services as one Open Referral UK /services page (HSDS
// 3.0 paging keys, all items on page 1, each a full service), indented for
// people to read. A page rather than NDJSON because it is what ORUK
// consumers expect from GET /services, and DecodeORUK reads it back to the
// same services.
//
// The output is exact Open Referral UK: every object holds only the UK
// profile's own properties, ids are UUIDs, and what Waymark keeps beyond
// the profile travels in x_waymark extensions (see toORUK).
//
// Confidential services are written through a path that is handed only
// their postcode districts: no address, coordinates or location name can
// be written for them, whatever the Service value holds.
func EncodeORUK(w io.Writer, services []Service) error {
	return encodeJSON(w, newPage(services, Page{Number: 1, Size: len(services), Total: len(services)}, true), "  ")
}

// Page places a slice of services in a paged listing: page Number (from
// 1) of pages of Size, out of Total services.
type Page struct {
	Number, Size, Total int
}

// EncodeORUKPage writes services as page p of an Open Referral UK
// /services listing. With full false each item holds only the one-to-one
// fields of the UK profile's service_list schema (and the organisation),
// as GET /services answers; with full true each item is a whole service.
func EncodeORUKPage(w io.Writer, services []Service, p Page, full bool) error {
	return encodeJSON(w, newPage(services, p, full), "")
}

// EncodeORUKService writes one service in Open Referral UK shape, as
// GET /oruk/services/{id} and GET /v1/directory/services/{id} answer it.
func EncodeORUKService(w io.Writer, s Service) error {
	return encodeJSON(w, toORUK(&s), "")
}

// ORUKID returns the id a service has in Open Referral UK: its own id when
// that is a UUID (as every imported service's is), otherwise a UUID
// derived from it (Waymark's shipped services have readable ids such as
// "national-da-helpline"; the readable id travels in x_waymark.id).
func ORUKID(id string) string {
	if isUUID(id) {
		return strings.ToLower(id)
	}
	return subID("", "service/"+id)
}

func encodeJSON(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("%w: encode: %w", ErrORUK, err)
	}
	return nil
}

func newPage(services []Service, p Page, full bool) orukPage {
	size := max(p.Size, 1)
	pages := (p.Total + size - 1) / size
	page := orukPage{
		TotalItems: p.Total, TotalPages: pages, PageNumber: p.Number, Size: len(services),
		FirstPage: p.Number <= 1, LastPage: p.Number >= pages, Empty: len(services) == 0,
		Contents: make([]orukService, len(services)),
	}
	for i := range services {
		o := toORUK(&services[i])
		if !full {
			o = o.listItem()
		}
		page.Contents[i] = o
	}
	return page
}

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
	// Generated marks the schedule EncodeORUK writes for a 24/7 service so
	// that plain ORUK consumers see the hours; DecodeORUK skips it.
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
	// then derived from it: ORUKID).
	ID                  string           `json:"id,omitempty"`
	ShortName           string           `json:"short_name,omitempty"`
	AlternateName       string           `json:"alternate_name,omitempty"`
	Phones              []Phone          `json:"phones,omitempty"`
	Languages           []string         `json:"languages,omitempty"`
	Interpreting        bool             `json:"interpreting,omitempty"`
	InterpretationText  string           `json:"interpretation_services,omitempty"`
	FeesDescription     string           `json:"fees_description,omitempty"`
	WaitTime            string           `json:"wait_time,omitempty"`
	Licenses            string           `json:"licenses,omitempty"`
	RespectAccredited   bool             `json:"respect_accredited,omitempty"`
	ConfidentialAddress bool             `json:"confidential_address,omitempty"`
	Gateway             *Gateway         `json:"gateway,omitempty"`
	Nations             []Nation         `json:"nations,omitempty"`
	Open247             bool             `json:"open_24_7,omitempty"`
	BankHolidays        BankHolidayRule  `json:"bank_holidays,omitempty"`
	HoursUnverified     bool             `json:"hours_unverified,omitempty"`
	HoursText           string           `json:"hours_text,omitempty"`
	Eligibility         *orukEligibility `json:"eligibility,omitempty"`
	Referral            *orukReferral    `json:"referral,omitempty"`
	AreaDescription     string           `json:"service_area_description,omitempty"`
	Vacancies           *Vacancies       `json:"vacancies,omitempty"`
	LastVerified        string           `json:"last_verified,omitempty"`
	Sources             []string         `json:"sources,omitempty"`
	VerificationNote    string           `json:"verification_note,omitempty"`
	Reverify            bool             `json:"reverify,omitempty"`
	Example             bool             `json:"example,omitempty"`
}

type orukEligibility struct {
	Gender           Gender `json:"gender,omitempty"`
	AcceptsChildren  bool   `json:"accepts_children,omitempty"`
	ChildrenMaxAge   int    `json:"children_max_age,omitempty"`
	NRPF             bool   `json:"nrpf,omitempty"`
	WheelchairAccess bool   `json:"wheelchair_access,omitempty"`
	Description      string `json:"description,omitempty"`
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

// subID gives sub-records (phones, schedules, locations) stable UUIDs
// (version 5, SHA-1 of the service id and the path), as HSDS asks for ids
// and Waymark keeps none for them.
func subID(serviceID, path string) string {
	h := sha1.Sum([]byte("waymark/" + serviceID + "/" + path))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], h[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], h[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], h[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], h[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], h[10:16])
	return string(b[:])
}

// categoryTaxonomy names Waymark's vocabulary in exported attributes.
const categoryTaxonomy = "waymark-signposting"

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex spelling, as
// the UK profile's "uuid" format asks.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// keepID returns id when it is a UUID, else a stable one derived from the
// service and the record's path.
func keepID(id, serviceID, path string) string {
	if isUUID(id) {
		return strings.ToLower(id)
	}
	return subID(serviceID, path)
}

func toORUK(s *Service) orukService {
	oid := ORUKID(s.ID)
	o := orukService{
		ID: oid, Name: s.Name, Description: s.Description, URL: s.URL, Email: s.Email,
		Status: string(s.Status), Fees: s.Fees, Accreditations: s.Accreditations,
		AssuredDate: s.LastVerified, AssurerEmail: s.AssurerEmail, Alert: s.Alert, LastModified: s.LastModified,
	}
	if o.Status == "" {
		o.Status = string(StatusActive)
	}
	if s.Eligibility.MinAge > 0 {
		o.MinimumAge = num(float64(s.Eligibility.MinAge))
	}
	if s.Eligibility.MaxAge > 0 {
		o.MaximumAge = num(float64(s.Eligibility.MaxAge))
	}
	if org := &s.Organisation; !org.empty() && org.Name != "" {
		oo := &orukOrganization{
			ID: keepID(org.ID, "", "organization/"+firstNonEmpty(org.ID, org.Name)), Name: org.Name,
			Description: org.Description, Email: org.Email, Website: org.URL, Logo: org.Logo, URI: org.URI,
		}
		if oo.Description == "" {
			// Required by the profile; Waymark often knows only the name.
			oo.Description = org.Name
		}
		if org.ID != "" && !isUUID(org.ID) {
			oo.Waymark = &orukOrgWaymark{ID: org.ID}
		}
		if isUUID(org.ParentID) {
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
		if isUUID(t.ParentID) {
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
	if e := s.Eligibility; e.Gender != GenderAny || e.AcceptsChildren || e.ChildrenMaxAge > 0 || e.NRPF || e.WheelchairAccess || e.Description != "" {
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
func orukAreas(s *Service) []orukServiceArea {
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
	if len(out) == 0 && (!a.empty() || a.Description != "") {
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

func locationDistricts(ls []Location) []string {
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

func publicLocations(serviceID string, ls []Location) []orukSAL {
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
				oa.StateProvince = nationName(NationOfDistrict(l.District))
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
func nationName(n Nation) string {
	switch n {
	case England:
		return "England"
	case Wales:
		return "Wales"
	case Scotland:
		return "Scotland"
	case NorthernIreland:
		return "Northern Ireland"
	}
	return ""
}

// fromORUK maps a decoded ORUK service to a Service, with problems named by
// their ORUK field paths. Validate runs afterwards for the rest.
func fromORUK(o *orukService) (Service, problems) {
	var p problems
	x := o.Waymark
	if x == nil {
		x = &orukWaymark{}
	}
	s := Service{
		ID: o.ID, Name: o.Name, ShortName: x.ShortName, Description: o.Description,
		Status: Status(o.Status), URL: o.URL, Email: o.Email,
		RespectAccredited: x.RespectAccredited, ConfidentialAddress: x.ConfidentialAddress,
		Gateway: x.Gateway, Nations: x.Nations,
		Vacancies: x.Vacancies, LastVerified: x.LastVerified, Sources: x.Sources,
		VerificationNote: x.VerificationNote, Reverify: x.Reverify, Example: x.Example,
	}
	if x.ID != "" {
		if ORUKID(x.ID) == strings.ToLower(strings.TrimSpace(o.ID)) {
			s.ID = x.ID
		} else {
			p.warn("x_waymark.id", "does not match the record's id; the record's id is used")
		}
	}
	s.Exchange = Exchange{
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
		s.Organisation = Organisation{
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
			s.Organisation.Identifiers = append(s.Organisation.Identifiers, OrgIdentifier(id))
		}
	}
	if x.Phones != nil {
		s.Phones = x.Phones
	} else {
		for _, ph := range o.Phones {
			phone := Phone{ID: ph.ID, Number: strings.Trim(ph.Number, "\"' "), Extension: string(ph.Extension), Type: PhoneType(ph.Type), Description: ph.Description}
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
			if c, ok := ParseCategory(term); ok {
				s.Categories = append(s.Categories, c)
				matched = true
				break
			}
		}
		if matched && t.Taxonomy == categoryTaxonomy {
			continue
		}
		s.Terms = append(s.Terms, Term{
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
		rec := AreaRecord{
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

	s.Hours = Hours{Open247: x.Open247, BankHolidays: x.BankHolidays, Unverified: x.HoursUnverified, Text: x.HoursText}
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
		ours := Schedule{
			ID: sc.ID, ByDay: sc.ByDay, ByMonthDay: sc.ByMonthDay, DTStart: sc.DTStart,
			OpensAt: sc.OpensAt, ClosesAt: sc.ClosesAt, Overnight: sc.Overnight,
			BankHoliday: sc.BankHoliday, ValidFrom: sc.ValidFrom, ValidTo: sc.ValidTo, Description: sc.Description,
			Link: sc.Link, AttendingType: sc.AttendingType, Notes: sc.Notes,
		}
		if strings.TrimSpace(sc.ByDay) == "" && (sc.OpensAt != "" || sc.ClosesAt != "") {
			p.warn(path+".byday", "missing; taken as every day")
		}
		validateSchedule(&p, path, &ours)
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
		s.Funding = append(s.Funding, Funding(f))
	}
	for i, c := range o.CostOptions {
		co := CostOption{
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
		s.Contacts = append(s.Contacts, Contact(c))
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

func mapLocation(p *problems, path string, ol *orukLocation) Location {
	l := Location{
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
		addr := Address{
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
		if addr.StateProvince != "" && addr.StateProvince == nationName(NationOfDistrict(district)) {
			addr.StateProvince = "" // the nation toORUK writes from the postcode
		}
		l.Address = &addr
	}
	for _, ac := range ol.Accessibility {
		l.Accessibility = append(l.Accessibility, Accessibility(ac))
	}
	return l
}

func languageCode(l orukLanguage) string {
	if c := strings.ToLower(strings.TrimSpace(l.Code)); ValidLanguage(c) {
		return c
	}
	return languageNames[normTerm(l.Name)]
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

// HasTaxonomyTerm reports whether the service carries the taxonomy term
// with ORUK id id: one of its categories (as the export writes them) or a
// term kept from an import.
func (s *Service) HasTaxonomyTerm(id string) bool {
	id = strings.ToLower(strings.TrimSpace(id))
	for _, c := range s.Categories {
		if subID("", "taxonomy/"+string(c)) == id {
			return true
		}
	}
	for i, t := range s.Terms {
		if strings.ToLower(keepID(t.ID, s.ID, fmt.Sprintf("terms/%d", i))) == id {
			return true
		}
	}
	return false
}

// MatchesWords reports whether every word of text (as search tokenizes
// it) starts a word of the service's name, short name, description or
// organisation: the ORUK API's "search" parameter.
func (s *Service) MatchesWords(text string) bool {
	have := uniqueWords(s.Name, s.ShortName, s.Description, s.Organisation.Name, s.AlternateName)
	for _, w := range tokenize(text) {
		found := false
		for _, h := range have {
			if h == w || (len(w) >= 3 && strings.HasPrefix(h, w)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
