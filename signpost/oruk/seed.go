package oruk

import (
	"bytes"
	_ "embed"
	"fmt"

	"waymark/signpost"
)

// The seed directories, in Waymark's Open Referral UK form (a /services
// page with x_waymark extensions), so that the importer is the only way
// services enter Waymark.
var (
	//go:embed seed/national.json
	nationalSeed []byte
	//go:embed seed/demo.json
	demoSeed []byte
)

// Seed returns the UK national services Waymark ships with, loaded when
// the directory is empty. Entries whose hours nobody has confirmed have
// Hours.Unverified set; entries to be checked again have Reverify set.
func Seed() ([]signpost.Service, error) { return decodeSeed("national", nationalSeed) }

// DemoSeed returns a fictional local directory for Southampton (SO14–SO19)
// for the demo. Every record has Example set and says so in its
// description; its phone numbers are from Ofcom's ranges reserved for
// drama.
func DemoSeed() ([]signpost.Service, error) { return decodeSeed("demo", demoSeed) }

// decodeSeed is strict: a seed record that is rejected or loses a field is
// a bug in the seed, not something to import around.
func decodeSeed(name string, data []byte) ([]signpost.Service, error) {
	items, err := Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("signpost: %s seed: %w", name, err)
	}
	out := make([]signpost.Service, 0, len(items))
	for _, it := range items {
		if it.Err != nil {
			return nil, fmt.Errorf("signpost: %s seed: record %s: %w", name, it.ID, it.Err)
		}
		if len(it.Warnings) > 0 {
			return nil, fmt.Errorf("signpost: %s seed: record %s: %s", name, it.ID, it.Warnings[0])
		}
		out = append(out, *it.Service)
	}
	return out, nil
}
