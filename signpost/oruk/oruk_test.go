package oruk

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"waymark/postcode"
	"waymark/signpost"
)

func decodeFile(t *testing.T, path string) []ImportItem {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	items, err := Decode(f)
	if err != nil {
		t.Fatalf("Decode(%s): %v", path, err)
	}
	return items
}

func fields(ps []signpost.FieldProblem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Field)
	}
	return out
}

// The Open Referral UK examples must import: their impossible coordinates
// (latitude 100, longitude 101) are dropped with warnings naming the
// fields, and nothing is rejected.
func TestDecodeORUKExamples(t *testing.T) {
	for _, name := range []string{"uk-profile-3.0_service_full.json", "uk-profile-3.0_service_list.json"} {
		items := decodeFile(t, filepath.Join("testdata", "oruk", name))
		if len(items) != 1 {
			t.Fatalf("%s: %d items, want 1", name, len(items))
		}
		it := items[0]
		if it.Err != nil || it.Service == nil {
			t.Fatalf("%s: rejected: %v", name, it.Err)
		}
		if it.ID != "ac148810-d857-441c-9679-408f346de14b" || it.Service.Name != "Community Counselling" {
			t.Errorf("%s: id %q name %q", name, it.ID, it.Service.Name)
		}
		s := it.Service
		if s.Organisation.Name != "Example Organization Inc." || s.Eligibility.MinAge != 12 || s.Eligibility.MaxAge != 100 || s.Email != "email@example.com" {
			t.Errorf("%s: fields not mapped: %+v", name, s)
		}
		if name == "uk-profile-3.0_service_full.json" {
			wantWarn := []string{
				"service_at_locations[0].location.latitude",
				"service_at_locations[0].location.longitude",
				"languages[0]",
				"languages[0].id",
				"locations[0].address.postal_code",
			}
			if diff := cmp.Diff(wantWarn, fields(it.Warnings)); diff != "" {
				t.Errorf("%s: warnings (-want +got):\n%s", name, diff)
			}
			if len(s.Locations) != 1 || s.Locations[0].Point != nil || s.Locations[0].Name != "MyCity Civic Center" {
				t.Errorf("%s: location %+v", name, s.Locations)
			}
			want := []signpost.Schedule{{ID: "48102e86-bb50-41c4-8f1e-e269368c41d1", ByDay: "TH,FR", ByMonthDay: "2,3,4", DTStart: "2005-01-01",
				OpensAt: "10:00", ClosesAt: "18:00", ValidFrom: "2005-01-01", ValidTo: "2005-01-01",
				Description:   "The service is available from 10 am to 6pm weekdays. The service is not available on public holidays.",
				Link:          "http://example.com",
				AttendingType: "You can attend this service in-person or remotely via video conferencing",
				Notes:         "Some of our staff will be unavailable during their lunch break which may be any 30 minute period between 1200 and 1400"}}
			if diff := cmp.Diff(want, s.Hours.Schedules); diff != "" {
				t.Errorf("%s: schedules (-want +got):\n%s", name, diff)
			}
			if s.LastVerified != "2005-01-01" || !strings.HasPrefix(s.Area.Description, "The service is available to all residents") {
				t.Errorf("%s: last verified %q, area %q", name, s.LastVerified, s.Area.Description)
			}
		}
	}
}

func TestDecodeORUKShapes(t *testing.T) {
	svc := func(id string) string {
		return `{"id":"` + id + `","name":"Service ` + id + `","schedules":[{"freq":"WEEKLY","byday":"MO","opens_at":"09:00","closes_at":"17:00"}]}`
	}
	bad := `{"id":"bad","name":"Bad","schedules":[{"byday":"MO","opens_at":"25:00","closes_at":"26:00"}]}`
	tests := []struct {
		name     string
		in       string
		ids      []string
		rejected []string // ids (or "#index") of rejected records
	}{
		{"single", svc("a"), []string{"a"}, nil},
		{"hsds page", `{"total_items":2,"total_pages":1,"page_number":1,"size":2,"first_page":true,"last_page":true,"empty":false,"contents":[` + svc("a") + `,` + svc("b") + `]}`, []string{"a", "b"}, nil},
		{"old oruk page", `{"totalElements":2,"totalPages":1,"number":1,"size":2,"first":true,"last":true,"content":[` + svc("a") + `,` + svc("b") + `]}`, []string{"a", "b"}, nil},
		{"empty page", `{"total_items":0,"empty":true,"contents":[]}`, nil, nil},
		{"array", `[` + svc("a") + `,` + svc("b") + `]`, []string{"a", "b"}, nil},
		{"ndjson", svc("a") + "\n\n" + svc("b") + "\r\n" + svc("c") + "\n", []string{"a", "b", "c"}, nil},
		{"ndjson with a broken line", svc("a") + "\n{\"id\":\"x\",\n" + svc("c"), []string{"a", "", "c"}, []string{"#1"}},
		{"bad record in a page", `{"contents":[` + svc("a") + `,` + bad + `,` + svc("c") + `]}`, []string{"a", "bad", "c"}, []string{"bad"}},
		{"wrong type", `{"contents":[` + svc("a") + `,{"id":"t","name":7},"str"]}`, []string{"a", "t", ""}, []string{"t", "#2"}},
		{"missing id and name", `{"contents":[{"description":"nothing"}]}`, []string{""}, []string{"#0"}},
		{"numeric id", `{"id":42,"name":"Number"}`, []string{"42"}, []string{"42"}},
		{"byte order mark", "\xef\xbb\xbf" + svc("a"), []string{"a"}, nil},
	}
	for _, tt := range tests {
		items, err := Decode(strings.NewReader(tt.in))
		if err != nil {
			t.Errorf("%s: Decode error %v", tt.name, err)
			continue
		}
		var ids, rejected []string
		for i, it := range items {
			if it.Index != i {
				t.Errorf("%s: item %d has Index %d", tt.name, i, it.Index)
			}
			ids = append(ids, it.ID)
			if it.Err != nil {
				if it.Service != nil {
					t.Errorf("%s: rejected item %d has a service", tt.name, i)
				}
				key := it.ID
				if key == "" {
					key = "#" + string(rune('0'+i))
				}
				rejected = append(rejected, key)
			} else if it.Service == nil {
				t.Errorf("%s: item %d has neither service nor error", tt.name, i)
			}
		}
		if diff := cmp.Diff(tt.ids, ids); diff != "" {
			t.Errorf("%s: ids (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.rejected, rejected); diff != "" {
			t.Errorf("%s: rejected (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDecodeORUKRejectionNamesField(t *testing.T) {
	in := `{"id":"x","name":"X","schedules":[{"byday":"MO","opens_at":"09:00","closes_at":"08:00"}]}`
	items, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var ve *signpost.ValidationError
	if !errors.As(items[0].Err, &ve) || ve.Problems[0].Field != "schedules[0].closes_at" {
		t.Fatalf("error = %v, want one naming schedules[0].closes_at", items[0].Err)
	}
	in = `{"id":"x","name":"X","schedules":[{"freq":"MONTHLY","byday":"1MO","opens_at":"09:00","closes_at":"10:00"},{"byday":"TU","opens_at":"09:00","closes_at":"10:00"}]}`
	items, _ = Decode(strings.NewReader(in))
	if items[0].Err != nil || !items[0].Service.Hours.Unverified || len(items[0].Service.Hours.Schedules) != 1 {
		t.Errorf("monthly schedule: %+v", items[0])
	}
	if got := fields(items[0].Warnings); !cmp.Equal(got, []string{"schedules[0].freq"}) {
		t.Errorf("monthly schedule warnings %v", got)
	}
}

func TestDecodeORUKWholeInputErrors(t *testing.T) {
	for _, in := range []string{"", "   ", "not json", `"a string"`, `{"contents": 5}`, "{\n\"id\": \"a\",\n", "42"} {
		if items, err := Decode(strings.NewReader(in)); !errors.Is(err, ErrFormat) {
			t.Errorf("Decode(%q) = %v, %v; want ErrFormat", in, items, err)
		}
	}
}

func allSeeds(t testing.TB) []signpost.Service {
	t.Helper()
	national, err := Seed()
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	demo, err := DemoSeed()
	if err != nil {
		t.Fatalf("DemoSeed: %v", err)
	}
	return append(national, demo...)
}

func importAll(t *testing.T, r *bytes.Buffer) []signpost.Service {
	t.Helper()
	items, err := Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []signpost.Service
	for _, it := range items {
		if it.Err != nil {
			t.Fatalf("record %s: %v %v", it.ID, it.Err, it.Warnings)
		}
		for _, w := range it.Warnings {
			// A foreign postcode is kept and said again on every import.
			if !strings.Contains(w.Problem, "kept as written") {
				t.Fatalf("record %s: %v", it.ID, w)
			}
		}
		out = append(out, *it.Service)
	}
	return out
}

// Import → export → import gives the same services, for the seeds, the
// ORUK examples and a record using every field.
func TestORUKRoundTrip(t *testing.T) {
	first := allSeeds(t)
	for _, name := range []string{"uk-profile-3.0_service_full.json", "uk-profile-3.0_service_list.json"} {
		first = append(first, *decodeFile(t, filepath.Join("testdata", "oruk", name))[0].Service)
	}
	first[len(first)-1].ID = "list-copy" // the two examples share an id
	full := signpost.Service{
		ID: "every-field", Name: "Every Field", ShortName: "Every", Description: "All of it.", Status: signpost.StatusTemporarilyClosed,
		Organisation: signpost.Organisation{ID: "org-1", Name: "Org", Description: "An org", URL: "https://example.org", Email: "org@example.org",
			Logo: "https://example.org/logo.png", URI: "https://example.org/org", ParentID: "cd09a387-91f4-4555-94ec-e799c35344cd",
			Identifiers: []signpost.OrgIdentifier{{Scheme: "GB-CHC", Type: "Charity number", Identifier: "123"}}},
		Categories: []signpost.Category{signpost.CategoryPerpetratorProgramme, signpost.CategoryLGBT}, RespectAccredited: true,
		Phones: []signpost.Phone{{Number: "023 8049 6999", Extension: "12", Type: signpost.PhoneVoice, Description: "Main", Languages: []string{"cy"}},
			{Number: "07700 900999", Type: signpost.PhoneText}, {Number: "0808 157 0999", Type: signpost.PhoneTextphone}},
		URL: "https://example.org/svc", Email: "svc@example.org",
		Locations: []signpost.Location{{Name: "Hall", Description: "Back door", Point: &postcode.Point{Lat: 50.91, Lon: -1.41},
			Address:    &signpost.Address{Line1: "1 Road", Line2: "Flat 2", City: "Southampton", Region: "Hampshire", PostalCode: "SO14 7DU", Country: "UK", Attention: "Reception"},
			ExternalID: "10092008082", ExternalIDType: "UPRN",
			Accessibility: []signpost.Accessibility{{Description: "Ramp", Details: "At the side", URL: "https://example.org/access"}}},
			{Name: "PO box", Type: "postal", Address: &signpost.Address{Line1: "PO Box 1", City: "Cardiff", PostalCode: "CF10 1AA"}}},
		Area:    signpost.ServiceArea{Districts: []string{"SO14", "SO15"}, Centre: &postcode.Point{Lat: 50.9, Lon: -1.4}, RadiusKm: 12.5, Description: "Around"},
		Nations: []signpost.Nation{signpost.England, signpost.Wales},
		Hours: signpost.Hours{Schedules: []signpost.Schedule{
			{ByDay: "MO,WE", OpensAt: "09:00", ClosesAt: "17:30", ValidFrom: "2026-01-01", ValidTo: "2026-12-31", Description: "Days",
				ByMonthDay: "1,-1", DTStart: "2026-01-01", Link: "https://example.org/book", AttendingType: "in person", Notes: "Knock"},
			{ByDay: "FR,SA", OpensAt: "22:00", ClosesAt: "02:00", Overnight: true},
			{ByDay: "MO,TU,WE,TH,FR,SA,SU", OpensAt: "10:00", ClosesAt: "12:00", BankHoliday: true},
		}, BankHolidays: signpost.BankHolidaysClosed, Unverified: true, Text: "Days and nights"},
		Languages: []string{"en", "bfi"}, Interpreting: true,
		Eligibility:  signpost.Eligibility{Gender: signpost.GenderMen, MinAge: 16, MaxAge: 99, AcceptsChildren: true, ChildrenMaxAge: 10, NRPF: true, WheelchairAccess: true, Description: "Men"},
		Referral:     signpost.Referral{Self: true, Professional: true, Description: "Ring us"},
		Vacancies:    &signpost.Vacancies{Count: 2, UpdatedAt: time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC), Note: "Two rooms"},
		LastVerified: "2026-01-20", Sources: []string{"https://example.org/a", "phone call"}, VerificationNote: "Rang them", Reverify: true, Example: true,
		Exchange: signpost.Exchange{
			AlternateName: "EF", Alert: "Closed on Friday", Fees: "None", FeesDescription: "Free", Accreditations: "Respect",
			AssurerEmail: "check@example.org", LastModified: "2026-01-20T10:00:00.5Z", WaitTime: "A week", Licenses: "None",
			InterpretationServices: "Language Line",
			Funding:                []signpost.Funding{{ID: "1f2df32c-bf08-4b8e-bd6f-e834014b19bc", Source: "Council"}},
			CostOptions:            []signpost.CostOption{{ValidFrom: "2026-01-01", Option: "Group", Currency: "GBP", Amount: func() *float64 { v := 0.0; return &v }(), AmountDescription: "free"}},
			Contacts:               []signpost.Contact{{Name: "Duty worker", Title: "Coordinator"}},
			Terms:                  []signpost.Term{{Name: "Domestic abuse support", Taxonomy: "lga", Code: "DA1", Description: "LGA term", TermURI: "https://example.org/t"}},
		},
	}
	if w, err := signpost.Validate(&full); err != nil || len(w) > 0 {
		t.Fatalf("full record: %v %v", w, err)
	}
	first = append(first, full)

	var buf bytes.Buffer
	if err := Encode(&buf, first); err != nil {
		t.Fatal(err)
	}
	second := importAll(t, &buf)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("round trip (-first +second):\n%s", diff)
	}
	buf.Reset()
	if err := Encode(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := importAll(t, &buf); len(got) != 0 {
		t.Errorf("empty export re-imports %d services", len(got))
	}
}

// The confidential address never reaches an export, even when a Service
// value that skipped Validate holds one.
func TestORUKExportOmitsConfidentialAddress(t *testing.T) {
	s := signpost.Service{
		ID: "refuge", Name: "Refuge", ConfidentialAddress: true, Gateway: &signpost.Gateway{Phone: "0808 157 0101"},
		Locations: []signpost.Location{{Name: "Secret House", Description: "By the park", District: "SO15",
			Point:   &postcode.Point{Lat: 50.9171234, Lon: -1.4261234},
			Address: &signpost.Address{Line1: "12 Secret Road", City: "Southampton", PostalCode: "SO15 2ZZ"}}},
	}
	var buf bytes.Buffer
	if err := Encode(&buf, []signpost.Service{s}); err != nil {
		t.Fatal(err)
	}
	if err := EncodeService(&buf, s); err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"Secret", "12 ", "SO15 2ZZ", "50.917", "-1.426", "park", "latitude", "addresses"} {
		if bytes.Contains(buf.Bytes(), []byte(leak)) {
			t.Errorf("export contains %q:\n%s", leak, buf.String())
		}
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"x_waymark_district": "SO15"`)) {
		t.Errorf("export lost the district:\n%s", buf.String())
	}
}

func TestEncodeORUKServiceShape(t *testing.T) {
	s := allSeeds(t)[0]
	var buf bytes.Buffer
	if err := EncodeService(&buf, s); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "name", "status", "organization", "x_waymark"} {
		if _, ok := m[k]; !ok {
			t.Errorf("service JSON lacks %q", k)
		}
	}
	// The UK profile has no phones: they travel in the extension.
	if _, ok := m["phones"]; ok {
		t.Error("service JSON has phones, which the UK profile removed")
	}
	if x, _ := m["x_waymark"].(map[string]any); x["phones"] == nil || x["id"] != s.ID || m["id"] != signpost.ORUKID(s.ID) {
		t.Errorf("x_waymark lacks the phones or the readable id: %v", x)
	}
	items, err := Decode(&buf)
	if err != nil || len(items) != 1 || !cmp.Equal(*items[0].Service, s) {
		t.Errorf("single service does not re-import: %v %v", err, items)
	}
}

func FuzzDecodeORUK(f *testing.F) {
	// Small seeds: the official examples (tested whole elsewhere) are so
	// large that minimising inputs derived from them stalls the fuzzer.
	// The corpus in testdata/fuzz/FuzzDecodeORUK holds more.
	f.Add([]byte(`{"id":"ac148810-d857-441c-9679-408f346de14b","name":"N","status":"active","phones":[{"id":"1554f2e2-a373-45db-a3fa-9fc48a61c15e","number":"\"+44 1234 234567\"","extension":100,"languages":[{"name":"Urdu","code":"ur","note":"x"}]}]}`))
	f.Add([]byte(`{"id":"x","name":"N","x_waymark":{"id":"y"},"schedules":[{"id":"s","freq":"WEEKLY","byday":"TH,FR","bymonthday":"2,-1","opens_at":"10:00:00","closes_at":"18:00:00","schedule_link":"http://e.x"}],"cost_options":[{"amount":"35"}],"attributes":[{"taxonomy_term":{"name":"Refuge","taxonomy":"other"}}]}`))
	f.Add([]byte(`{"contents":[{"id":"a","name":"A","service_areas":[{"extent":"{}","x_waymark_districts":["SO14"]}],"service_at_locations":[{"location":{"id":"l","location_type":"postal","addresses":[{"address_1":"1 R","city":"C","postal_code":"ABC 1234","country":"US"}]}}]}]}`))
	f.Add([]byte(`{"id":"a","name":"A","schedules":[{"byday":"MO","opens_at":"22:00","closes_at":"02:00","x_waymark_overnight":true}]}` + "\n" + `{"id":"b"}`))
	f.Add([]byte(`{"content":[{"id":"c","name":"C","x_waymark":{"confidential_address":true},"service_at_locations":[{"location":{"latitude":"50.9","longitude":"-1.4","x_waymark_district":"so15"}}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		// A second decoding gives copies that share no memory with the first.
		copies, _ := Decode(bytes.NewReader(data))
		var good []signpost.Service
		for _, it := range items {
			if (it.Err == nil) == (it.Service == nil) {
				t.Fatalf("item %d: service %v, err %v", it.Index, it.Service != nil, it.Err)
			}
			if it.Service == nil {
				continue
			}
			s := *it.Service
			if s.ConfidentialAddress {
				for _, l := range s.Locations {
					if l.Address != nil || l.Point != nil || l.Name != "" {
						t.Fatalf("confidential service kept a place: %+v", l)
					}
				}
			}
			// A validated service validates again without change.
			again := *copies[it.Index].Service
			if _, err := signpost.Validate(&again); err != nil {
				t.Fatalf("validated service fails again: %v", err)
			}
			good = append(good, s)
		}
		// What imports, exports and re-imports.
		var buf bytes.Buffer
		if err := Encode(&buf, good); err != nil {
			t.Fatal(err)
		}
		back, err := Decode(&buf)
		if err != nil {
			t.Fatalf("re-import: %v", err)
		}
		for _, it := range back {
			if it.Err != nil {
				t.Fatalf("re-import rejects %s: %v", it.ID, it.Err)
			}
		}
	})
}
