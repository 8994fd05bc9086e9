package signpost

import (
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
		// An apostrophe does not split a word, and the possessive still reads.
		{"men's refuge", cats(CategoryMaleVictims, CategoryRefuge), auds(AudienceMen), ""},
		{"women’s aid", nil, auds(AudienceWomen), "aid"},
		{"children's services", cats(CategoryChildrenYoungPeople), nil, ""},
		{"Clare's Law", nil, nil, "clares law"},
	}
	for _, tt := range tests {
		r := ReadText(tt.text)
		if !cmp.Equal(r.Categories, tt.cats) || !cmp.Equal(r.Audience, tt.aud) || r.Rest != tt.rest {
			t.Errorf("ReadText(%q) = %v %v %q; want %v %v %q", tt.text, r.Categories, r.Audience, r.Rest, tt.cats, tt.aud, tt.rest)
		}
	}
}
