package oruk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"waymark/signpost"
)

// ErrFormat reports input that is not Open Referral UK JSON at all. Problems
// with single records are reported per ImportItem instead.
var ErrFormat = errors.New("signpost: oruk")

// MaxImportBytes bounds what Decode reads: about 100 times the largest
// UK directory, and small enough to hold in memory.
const MaxImportBytes = 256 << 20

// ImportItem is the outcome of one record of an import.
type ImportItem struct {
	Index    int                     // position in the input, from 0
	ID       string                  // the record's id ("" when it has none; x_waymark.id when it gives one)
	Service  *signpost.Service       // the validated service; nil when rejected
	Warnings []signpost.FieldProblem // fields dropped from an otherwise good record
	Err      error                   // why the record was rejected; nil when imported
}

// Decode reads Open Referral UK (HSDS 3.0) JSON: a single service
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
func Decode(r io.Reader) ([]ImportItem, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read: %w", ErrFormat, err)
	}
	if len(data) > MaxImportBytes {
		return nil, fmt.Errorf("%w: input larger than %d bytes", ErrFormat, MaxImportBytes)
	}
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrFormat)
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
				return nil, fmt.Errorf("%w: %w", ErrFormat, err)
			}
			items, ok := top["contents"]
			if !ok {
				items, ok = top["content"]
			}
			if !ok {
				return []record{{raw: data}}, nil
			}
			if t := bytes.TrimSpace(items); len(t) == 0 || t[0] != '[' {
				return nil, fmt.Errorf("%w: page contents is not an array", ErrFormat)
			}
			return arrayRecords(items)
		}
		return nil, fmt.Errorf("%w: expected a service, a page of services or newline-delimited services", ErrFormat)
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
			recs = append(recs, record{err: fmt.Errorf("%w: line %d: not a JSON object", ErrFormat, line)})
			continue
		}
		valid++
		recs = append(recs, record{raw: append(json.RawMessage(nil), b...)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if valid == 0 {
		// Not NDJSON either: say what is wrong with it as one document.
		var v any
		err := json.Unmarshal(data, &v)
		return nil, fmt.Errorf("%w: not JSON: %w", ErrFormat, err)
	}
	return recs, nil
}

func arrayRecords(data []byte) ([]record, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
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
		item.Err = fmt.Errorf("%w: record %d: not a JSON object", ErrFormat, i)
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
		item.Err = fmt.Errorf("%w: record %d: %w", ErrFormat, i, err)
		return item
	}
	s, p := fromORUK(&o)
	reportDrops(&p, rec.raw)
	if s.ID != "" {
		item.ID = s.ID // the readable id x_waymark.id gave, if any
	}
	if len(p.hard) > 0 {
		item.Warnings = p.soft
		item.Err = &signpost.ValidationError{What: "service", Problems: p.hard}
		return item
	}
	warnings, err := signpost.Validate(&s)
	item.Warnings = append(p.soft, warnings...)
	if err != nil {
		item.Err = err
		return item
	}
	item.Service = &s
	return item
}

// Encode writes services as one Open Referral UK /services page (HSDS
// 3.0 paging keys, all items on page 1, each a full service), indented for
// people to read. A page rather than NDJSON because it is what ORUK
// consumers expect from GET /services, and Decode reads it back to the
// same services.
//
// The output is exact Open Referral UK: every object holds only the UK
// profile's own properties, ids are UUIDs, and what Waymark keeps beyond
// the profile travels in x_waymark extensions (see toORUK).
//
// Confidential services are written through a path that is handed only
// their postcode districts: no address, coordinates or location name can
// be written for them, whatever the Service value holds.
func Encode(w io.Writer, services []signpost.Service) error {
	return encodeJSON(w, newPage(services, Page{Number: 1, Size: len(services), Total: len(services)}, true), "  ")
}

// Page places a slice of services in a paged listing: page Number (from
// 1) of pages of Size, out of Total services.
type Page struct {
	Number, Size, Total int
}

// EncodePage writes services as page p of an Open Referral UK
// /services listing. With full false each item holds only the one-to-one
// fields of the UK profile's service_list schema (and the organisation),
// as GET /services answers; with full true each item is a whole service.
func EncodePage(w io.Writer, services []signpost.Service, p Page, full bool) error {
	return encodeJSON(w, newPage(services, p, full), "")
}

// EncodeService writes one service in Open Referral UK shape, as
// GET /oruk/services/{id} and GET /v1/directory/services/{id} answer it.
func EncodeService(w io.Writer, s signpost.Service) error {
	return encodeJSON(w, toORUK(&s), "")
}

func encodeJSON(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("%w: encode: %w", ErrFormat, err)
	}
	return nil
}

func newPage(services []signpost.Service, p Page, full bool) orukPage {
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

// HasTaxonomyTerm reports whether service s carries the taxonomy term
// with ORUK id id: one of its categories (as the export writes them) or a
// term kept from an import.
func HasTaxonomyTerm(s *signpost.Service, id string) bool {
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
