package signpost

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadText(t *testing.T) {
	tests := []struct {
		text string
		cats []Category
		aud  []Audience
		rest string
	}{
		{"perpetrator", cats(CategoryPerpetratorProgramme), nil, ""},
		{"I want to change", cats(CategoryPerpetratorProgramme), nil, ""},
		{"men", cats(CategoryMaleVictims), auds(AudienceMen), ""},
		{"LGBT+ support", cats(CategoryLGBT), auds(AudienceLGBT), ""},
		{"help for my kids", cats(CategoryChildrenYoungPeople), nil, ""},
		{"forced marriage", cats(CategoryForcedMarriageHonour), nil, ""},
		{"being stalked by my ex", cats(CategoryStalking), nil, "ex"},
		{"somewhere safe tonight", cats(CategoryRefuge), nil, "tonight"},
		{"deaf BSL", nil, auds(AudienceDeaf), ""},
		{"Hourglass", nil, nil, "hourglass"},
	}
	for _, tt := range tests {
		r := ReadText(tt.text)
		if !cmp.Equal(r.Categories, tt.cats) || !cmp.Equal(r.Audience, tt.aud) || r.Rest != tt.rest {
			t.Errorf("ReadText(%q) = %v %v %q; want %v %v %q", tt.text, r.Categories, r.Audience, r.Rest, tt.cats, tt.aud, tt.rest)
		}
	}
}

// Everyday words find what the categories find: "perpetrator" used to
// find nothing while the category found the perpetrator lines.
func TestSearchEverydayWords(t *testing.T) {
	ix := seedIndex(t)
	ids := func(q Query) []string {
		t.Helper()
		res, err := ix.Search(q, tuesdayMorning)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range res.Results {
			out = append(out, r.ID)
		}
		return out
	}
	byCategory := ids(Query{Categories: cats(CategoryPerpetratorProgramme), Limit: 50})
	for _, text := range []string{"perpetrator", "I want to change", "perpetrator programme"} {
		got := ids(Query{Text: text, Limit: 50})
		if len(got) == 0 || !cmp.Equal(got, byCategory) {
			t.Errorf("text %q finds %v; the category finds %v", text, got, byCategory)
		}
	}
	for _, tt := range []struct {
		text string
		want string
	}{
		{"men", "mens-advice-line"},
		{"LGBT", "galop-lgbt-da-helpline"},
		{"children", "childline"},
		{"forced marriage", "karma-nirvana"},
		{"stalking", "national-stalking-helpline"},
	} {
		if got := ids(Query{Text: tt.text, Limit: 50}); !slices.Contains(got, tt.want) {
			t.Errorf("text %q finds %v, not %s", tt.text, got, tt.want)
		}
	}
	// Nothing local near the postcode: the national services it promises.
	res, err := ix.Search(Query{Near: "CF10 1AA", Text: "perpetrator"}, tuesdayMorning)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) == 0 || !res.Results[0].National || !slices.Contains(res.Notes, NoteNoLocal) {
		t.Errorf("perpetrator near CF10: %+v", res)
	}
}
