package staff

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"waymark/problem"
)

// Team is a group of staff that alerts are routed to. Areas are the postcode
// districts (such as "SO14") it covers: an app alert with no case team goes
// to the team whose area contains its location.
type Team struct {
	ID      string
	Name    string
	Areas   []string
	Created time.Time
}

// Districts says which postcode districts exist; *postcode.Directory is one.
type Districts interface {
	HasDistrict(code string) bool
}

// maxAreas bounds a team's area list (a large county has a few hundred).
const maxAreas = 1000

var (
	teamIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	digitRun      = regexp.MustCompile(`[0-9]{4}`)
)

// ValidTeamID reports whether id may name a team. Team ids appear in Redis
// key names, so besides the shape (a-z, 0-9 and -, starting with a letter,
// at most 32) they may not hold 4 or more digits in a row: nothing in a key
// name may look like a phone number or a date.
func ValidTeamID(id string) bool {
	return teamIDPattern.MatchString(id) && !digitRun.MatchString(id)
}

// checkTeam validates and normalises t: areas upper-cased, sorted, without
// duplicates, each a known district.
func checkTeam(t *Team, districts Districts) error {
	inv := &problem.Invalid{}
	if !ValidTeamID(t.ID) {
		inv.Add("id", "must be 1 to 32 of a-z, 0-9 and -, starting with a letter, with no 4 digits in a row")
	}
	t.Name = strings.TrimSpace(t.Name)
	if n := utf8.RuneCountInString(t.Name); n == 0 || n > 80 || !utf8.ValidString(t.Name) || strings.ContainsFunc(t.Name, unicode.IsControl) {
		inv.Add("name", "must be 1 to 80 printable characters")
	}
	if len(t.Areas) > maxAreas {
		inv.Add("areas", "must have at most 1000 districts")
	} else {
		areas := make([]string, 0, len(t.Areas))
		for _, a := range t.Areas {
			a = strings.ToUpper(strings.TrimSpace(a))
			if a == "" {
				continue
			}
			// A district is 2 to 4 letters and digits; anything else is
			// not echoed back, in case it is something pasted by mistake.
			if len(a) > 4 || !isAlnum(a) {
				inv.Add("areas", "holds something that is not a postcode district (such as SO14)")
				continue
			}
			if !districts.HasDistrict(a) {
				inv.Add("areas", a+" is not a known postcode district")
				continue
			}
			areas = append(areas, a)
		}
		slices.Sort(areas)
		t.Areas = slices.Compact(areas)
	}
	return inv.Err()
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// AddTeam validates and stores a new team; ErrConflict when its id is taken.
func (s *Service) AddTeam(ctx context.Context, t Team) (Team, error) {
	if err := checkTeam(&t, s.districts); err != nil {
		return Team{}, err
	}
	t.Created = s.now()
	if err := s.store.CreateTeam(ctx, t); err != nil {
		return Team{}, err
	}
	return t, nil
}

// Team returns the team with id; ErrNotFound when there is none.
func (s *Service) Team(ctx context.Context, id string) (Team, error) {
	if !ValidTeamID(id) {
		return Team{}, ErrNotFound
	}
	return s.store.Team(ctx, id)
}

// Teams returns every team, by id.
func (s *Service) Teams(ctx context.Context) ([]Team, error) {
	all, err := s.store.Teams(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b Team) int { return strings.Compare(a.ID, b.ID) })
	return all, nil
}
