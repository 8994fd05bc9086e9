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
	ID       string         // the record's id as found ("" when it has none)
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
// 3.0 paging keys, all items on page 1), indented for people to read. A
// page rather than NDJSON because it is what ORUK consumers expect from
// GET /services, and DecodeORUK reads it back to the same services.
//
// Confidential services are written through a path that is handed only
// their postcode districts: no address, coordinates or location name can
// be written for them, whatever the Service value holds.
func EncodeORUK(w io.Writer, services []Service) error {
	page := orukPage{
		TotalItems: len(services), TotalPages: 1, PageNumber: 1, Size: len(services),
		FirstPage: true, LastPage: true, Empty: len(services) == 0,
		Contents: make([]orukService, len(services)),
	}
	for i := range services {
		page.Contents[i] = toORUK(&services[i])
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(page); err != nil {
		return fmt.Errorf("%w: encode: %w", ErrORUK, err)
	}
	return nil
}

// EncodeORUKService writes one service in Open Referral UK shape, as
// GET /v1/directory/services/{id} answers it.
func EncodeORUKService(w io.Writer, s Service) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(toORUK(&s)); err != nil {
		return fmt.Errorf("%w: encode: %w", ErrORUK, err)
	}
	return nil
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

type orukService struct {
	ID                     string            `json:"id"`
	Name                   string            `json:"name"`
	Description            string            `json:"description,omitempty"`
	URL                    string            `json:"url,omitempty"`
	Email                  string            `json:"email,omitempty"`
	Status                 string            `json:"status,omitempty"`
	InterpretationServices string            `json:"interpretation_services,omitempty"`
	ApplicationProcess     string            `json:"application_process,omitempty"`
	EligibilityDescription string            `json:"eligibility_description,omitempty"`
	MinimumAge             *flexNumber       `json:"minimum_age,omitempty"`
	MaximumAge             *flexNumber       `json:"maximum_age,omitempty"`
	AssuredDate            string            `json:"assured_date,omitempty"`
	Organization           *orukOrganization `json:"organization,omitempty"`
	Phones                 []orukPhone       `json:"phones,omitempty"`
	Schedules              []orukSchedule    `json:"schedules,omitempty"`
	ServiceAreas           []orukServiceArea `json:"service_areas,omitempty"`
	ServiceAtLocations     []orukSAL         `json:"service_at_locations,omitempty"`
	Languages              []orukLanguage    `json:"languages,omitempty"`
	Attributes             []orukAttribute   `json:"attributes,omitempty"`
	Waymark                *orukWaymark      `json:"x_waymark,omitempty"`
}

type orukOrganization struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Website     string `json:"website,omitempty"`
	Email       string `json:"email,omitempty"`
}

type orukPhone struct {
	ID          string         `json:"id,omitempty"`
	Number      string         `json:"number"`
	Extension   string         `json:"extension,omitempty"`
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
	ID          string `json:"id,omitempty"`
	Freq        string `json:"freq,omitempty"`
	Interval    *int   `json:"interval,omitempty"`
	ByDay       string `json:"byday,omitempty"`
	ByMonthDay  string `json:"bymonthday,omitempty"`
	ByWeekNo    string `json:"byweekno,omitempty"`
	ByYearDay   string `json:"byyearday,omitempty"`
	OpensAt     string `json:"opens_at,omitempty"`
	ClosesAt    string `json:"closes_at,omitempty"`
	ValidFrom   string `json:"valid_from,omitempty"`
	ValidTo     string `json:"valid_to,omitempty"`
	Description string `json:"description,omitempty"`
	Overnight   bool   `json:"x_waymark_overnight,omitempty"`
	BankHoliday bool   `json:"x_waymark_bank_holiday,omitempty"`
	// Generated marks the schedule EncodeORUK writes for a 24/7 service so
	// that plain ORUK consumers see the hours; DecodeORUK skips it.
	Generated bool `json:"x_waymark_generated,omitempty"`
}

type orukServiceArea struct {
	ID          string          `json:"id,omitempty"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	ServiceArea string          `json:"service_area,omitempty"` // the UK profile's free-text field
	Extent      string          `json:"extent,omitempty"`
	ExtentType  string          `json:"extent_type,omitempty"`
	Districts   []string        `json:"x_waymark_districts,omitempty"`
	Centre      *postcode.Point `json:"x_waymark_centre,omitempty"`
	RadiusKm    float64         `json:"x_waymark_radius_km,omitempty"`
}

type orukSAL struct {
	ID       string        `json:"id,omitempty"`
	Location *orukLocation `json:"location,omitempty"`
}

type orukLocation struct {
	ID           string        `json:"id,omitempty"`
	LocationType string        `json:"location_type,omitempty"`
	Name         string        `json:"name,omitempty"`
	Description  string        `json:"description,omitempty"`
	Latitude     *flexNumber   `json:"latitude,omitempty"`
	Longitude    *flexNumber   `json:"longitude,omitempty"`
	Addresses    []orukAddress `json:"addresses,omitempty"`
	District     string        `json:"x_waymark_district,omitempty"`
}

type orukAddress struct {
	ID            string `json:"id,omitempty"`
	Address1      string `json:"address_1,omitempty"`
	Address2      string `json:"address_2,omitempty"`
	City          string `json:"city,omitempty"`
	Region        string `json:"region,omitempty"`
	StateProvince string `json:"state_province,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
	AddressType   string `json:"address_type,omitempty"`
}

type orukAttribute struct {
	ID           string            `json:"id,omitempty"`
	LinkType     string            `json:"link_type,omitempty"`
	TaxonomyTerm *orukTaxonomyTerm `json:"taxonomy_term,omitempty"`
}

type orukTaxonomyTerm struct {
	ID       string `json:"id,omitempty"`
	Code     string `json:"code,omitempty"`
	Term     string `json:"term,omitempty"`
	Name     string `json:"name,omitempty"`
	Taxonomy string `json:"taxonomy,omitempty"`
}

// orukWaymark carries what HSDS has no field for.
type orukWaymark struct {
	ShortName           string           `json:"short_name,omitempty"`
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
}

type orukReferral struct {
	Self         bool `json:"self,omitempty"`
	Professional bool `json:"professional,omitempty"`
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

func toORUK(s *Service) orukService {
	o := orukService{
		ID: s.ID, Name: s.Name, Description: s.Description, URL: s.URL, Email: s.Email,
		Status:                 string(s.Status),
		ApplicationProcess:     s.Referral.Description,
		EligibilityDescription: s.Eligibility.Description,
		AssuredDate:            s.LastVerified,
	}
	if s.Interpreting {
		o.InterpretationServices = "Interpreting available"
	}
	if s.Eligibility.MinAge > 0 {
		o.MinimumAge = num(float64(s.Eligibility.MinAge))
	}
	if s.Eligibility.MaxAge > 0 {
		o.MaximumAge = num(float64(s.Eligibility.MaxAge))
	}
	if s.Organisation != (Organisation{}) {
		o.Organization = &orukOrganization{
			ID: s.Organisation.ID, Name: s.Organisation.Name, Description: s.Organisation.Description,
			Website: s.Organisation.URL, Email: s.Organisation.Email,
		}
	}
	for i, ph := range s.Phones {
		op := orukPhone{
			ID: subID(s.ID, fmt.Sprintf("phones/%d", i)), Number: ph.Number, Extension: ph.Extension,
			Type: string(ph.Type), Description: ph.Description,
		}
		for _, l := range ph.Languages {
			op.Languages = append(op.Languages, orukLanguage{Code: l})
		}
		o.Phones = append(o.Phones, op)
	}
	for i, sc := range s.Hours.Schedules {
		o.Schedules = append(o.Schedules, orukSchedule{
			ID: subID(s.ID, fmt.Sprintf("schedules/%d", i)), Freq: "WEEKLY", Interval: intPtr(1),
			ByDay: sc.ByDay, OpensAt: orukClock(sc.OpensAt), ClosesAt: orukClock(sc.ClosesAt),
			ValidFrom: sc.ValidFrom, ValidTo: sc.ValidTo, Description: sc.Description,
			Overnight: sc.Overnight, BankHoliday: sc.BankHoliday,
		})
	}
	if s.Hours.Open247 && len(s.Hours.Schedules) == 0 {
		o.Schedules = append(o.Schedules, orukSchedule{
			ID: subID(s.ID, "schedules/24-7"), Freq: "WEEKLY", Interval: intPtr(1),
			ByDay: "MO,TU,WE,TH,FR,SA,SU", OpensAt: "00:00:00", ClosesAt: "23:59:59",
			Description: "Open 24 hours, every day", Generated: true,
		})
	}
	if !s.Area.empty() || s.Area.Description != "" {
		o.ServiceAreas = []orukServiceArea{{
			ID: subID(s.ID, "service_areas/0"), Name: s.Area.Description, Description: s.Area.Description,
			Districts: s.Area.Districts, Centre: s.Area.Centre, RadiusKm: s.Area.RadiusKm,
		}}
	}
	if s.ConfidentialAddress {
		o.ServiceAtLocations = confidentialLocations(s.ID, locationDistricts(s.Locations))
	} else {
		o.ServiceAtLocations = publicLocations(s.ID, s.Locations)
	}
	for i, l := range s.Languages {
		o.Languages = append(o.Languages, orukLanguage{ID: subID(s.ID, fmt.Sprintf("languages/%d", i)), Code: l})
	}
	for _, c := range s.Categories {
		o.Attributes = append(o.Attributes, orukAttribute{
			ID: subID(s.ID, "attributes/"+string(c)), LinkType: "service",
			TaxonomyTerm: &orukTaxonomyTerm{ID: subID("", "taxonomy/"+string(c)), Code: string(c), Term: string(c), Name: string(c), Taxonomy: categoryTaxonomy},
		})
	}
	x := orukWaymark{
		ShortName: s.ShortName, RespectAccredited: s.RespectAccredited, ConfidentialAddress: s.ConfidentialAddress,
		Gateway: s.Gateway, Nations: s.Nations,
		Open247: s.Hours.Open247, BankHolidays: s.Hours.BankHolidays, HoursUnverified: s.Hours.Unverified, HoursText: s.Hours.Text,
		Vacancies: s.Vacancies, LastVerified: s.LastVerified, Sources: s.Sources, VerificationNote: s.VerificationNote,
		Reverify: s.Reverify, Example: s.Example,
	}
	if e := s.Eligibility; e.Gender != GenderAny || e.AcceptsChildren || e.ChildrenMaxAge > 0 || e.NRPF || e.WheelchairAccess {
		x.Eligibility = &orukEligibility{Gender: e.Gender, AcceptsChildren: e.AcceptsChildren, ChildrenMaxAge: e.ChildrenMaxAge, NRPF: e.NRPF, WheelchairAccess: e.WheelchairAccess}
	}
	if s.Referral.Self || s.Referral.Professional {
		x.Referral = &orukReferral{Self: s.Referral.Self, Professional: s.Referral.Professional}
	}
	o.Waymark = &x
	return o
}

func intPtr(i int) *int { return &i }

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
			ID: subID(serviceID, fmt.Sprintf("locations/%d", i)), LocationType: "physical",
			Name: l.Name, Description: l.Description, District: l.District,
		}
		if l.Point != nil {
			ol.Latitude, ol.Longitude = num(l.Point.Lat), num(l.Point.Lon)
		}
		if a := l.Address; a != nil {
			ol.Addresses = []orukAddress{{
				ID: subID(serviceID, fmt.Sprintf("addresses/%d", i)), Address1: a.Line1, Address2: a.Line2,
				City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country, AddressType: "physical",
			}}
		}
		out = append(out, orukSAL{ID: subID(serviceID, fmt.Sprintf("service_at_locations/%d", i)), Location: ol})
	}
	return out
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
		Interpreting: strings.TrimSpace(o.InterpretationServices) != "",
		Vacancies:    x.Vacancies, LastVerified: x.LastVerified, Sources: x.Sources,
		VerificationNote: x.VerificationNote, Reverify: x.Reverify, Example: x.Example,
	}
	if s.LastVerified == "" {
		s.LastVerified = o.AssuredDate
	}
	if org := o.Organization; org != nil {
		s.Organisation = Organisation{ID: org.ID, Name: org.Name, Description: org.Description, URL: org.Website, Email: org.Email}
	}
	for _, ph := range o.Phones {
		phone := Phone{Number: ph.Number, Extension: ph.Extension, Type: PhoneType(ph.Type), Description: ph.Description}
		for _, l := range ph.Languages {
			phone.Languages = append(phone.Languages, languageCode(l))
		}
		s.Phones = append(s.Phones, phone)
	}

	// Categories come from taxonomy terms that match the vocabulary.
	for i, a := range o.Attributes {
		t := a.TaxonomyTerm
		if t == nil {
			continue
		}
		matched := false
		for _, term := range []string{t.Code, t.Term, t.Name} {
			if c, ok := ParseCategory(term); ok {
				s.Categories = append(s.Categories, c)
				matched = true
				break
			}
		}
		if !matched {
			p.warn(fmt.Sprintf("attributes[%d].taxonomy_term", i), "not in the category vocabulary; ignored")
		}
	}

	for i, sal := range o.ServiceAtLocations {
		if sal.Location == nil {
			continue
		}
		s.Locations = append(s.Locations, mapLocation(&p, fmt.Sprintf("service_at_locations[%d].location", i), sal.Location))
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
		if a.Extent != "" {
			p.warn(path+".extent", "extents are not used for search; kept as a description only")
		}
		for _, d := range []string{a.Description, a.ServiceArea, a.Name} {
			if d = strings.TrimSpace(d); d != "" {
				descs = append(descs, d)
				break
			}
		}
	}
	s.Area.Description = strings.Join(descs, "; ")

	s.Hours = Hours{Open247: x.Open247, BankHolidays: x.BankHolidays, Unverified: x.HoursUnverified, Text: x.HoursText}
	for i, sc := range o.Schedules {
		path := fmt.Sprintf("schedules[%d]", i)
		if sc.Generated {
			continue
		}
		if f := strings.ToUpper(strings.TrimSpace(sc.Freq)); (f != "" && f != "WEEKLY") || (sc.Interval != nil && *sc.Interval != 1) {
			p.warn(path+".freq", "only weekly schedules are understood; schedule dropped and hours marked unverified")
			s.Hours.Unverified = true
			continue
		}
		for _, extra := range []struct{ name, v string }{{"bymonthday", sc.ByMonthDay}, {"byweekno", sc.ByWeekNo}, {"byyearday", sc.ByYearDay}} {
			if strings.TrimSpace(extra.v) != "" {
				p.warn(path+"."+extra.name, "not used with a weekly schedule; ignored")
			}
		}
		ours := Schedule{
			ByDay: sc.ByDay, OpensAt: sc.OpensAt, ClosesAt: sc.ClosesAt, Overnight: sc.Overnight,
			BankHoliday: sc.BankHoliday, ValidFrom: sc.ValidFrom, ValidTo: sc.ValidTo, Description: sc.Description,
		}
		if strings.TrimSpace(sc.ByDay) == "" && (sc.OpensAt != "" || sc.ClosesAt != "") {
			p.warn(path+".byday", "missing; taken as every day")
		}
		validateSchedule(&p, path, &ours)
		s.Hours.Schedules = append(s.Hours.Schedules, ours)
	}

	for i, l := range o.Languages {
		code := languageCode(l)
		if code == "" {
			p.warn(fmt.Sprintf("languages[%d]", i), "no ISO 639 code or known language name; dropped")
			continue
		}
		s.Languages = append(s.Languages, code)
	}

	s.Eligibility.Description = o.EligibilityDescription
	s.Eligibility.MinAge = mapAge(&p, "minimum_age", o.MinimumAge)
	s.Eligibility.MaxAge = mapAge(&p, "maximum_age", o.MaximumAge)
	if e := x.Eligibility; e != nil {
		s.Eligibility.Gender, s.Eligibility.AcceptsChildren, s.Eligibility.ChildrenMaxAge = e.Gender, e.AcceptsChildren, e.ChildrenMaxAge
		s.Eligibility.NRPF, s.Eligibility.WheelchairAccess = e.NRPF, e.WheelchairAccess
	}
	s.Referral.Description = o.ApplicationProcess
	if r := x.Referral; r != nil {
		s.Referral.Self, s.Referral.Professional = r.Self, r.Professional
	}
	return s, p
}

func mapLocation(p *problems, path string, ol *orukLocation) Location {
	l := Location{Name: ol.Name, Description: ol.Description, District: ol.District}
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
	var a *orukAddress
	for i := range ol.Addresses {
		if strings.EqualFold(ol.Addresses[i].AddressType, "physical") {
			a = &ol.Addresses[i]
			break
		}
	}
	if a == nil && len(ol.Addresses) > 0 {
		a = &ol.Addresses[0]
	}
	if a != nil {
		region := a.Region
		if region == "" {
			region = a.StateProvince
		}
		addr := Address{Line1: a.Address1, Line2: a.Address2, City: a.City, Region: region, PostalCode: a.PostalCode, Country: a.Country}
		if pc := strings.TrimSpace(addr.PostalCode); pc != "" {
			if _, err := postcode.Parse(pc); err != nil {
				p.warn(path+".addresses[0].postal_code", "not a UK postcode; dropped")
				addr.PostalCode = ""
			}
		}
		l.Address = &addr
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
