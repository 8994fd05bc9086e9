package signpost

import (
	"slices"
	"strings"
)

// Everyday words. People type "perpetrator", "I want to change", "men",
// "somewhere safe" — not the category vocabulary. ReadText maps such
// words and phrases to categories and audiences, so that the dashboard's
// free text, the API's q and a text to the signposting number all find
// what the words mean rather than services that happen to use them.

// everydayPhrase is a run of words and what it means.
type everydayPhrase struct {
	words []string
	cats  []Category
	aud   []Audience
}

func cats(c ...Category) []Category { return c }
func auds(a ...Audience) []Audience { return a }

// everyday lists the phrases; ReadText tries longer phrases first. Words
// are as tokenize spells them (lower case, letters and digits). Never
// mutated.
var everyday = func() []everydayPhrase {
	type entry struct {
		phrases []string
		cats    []Category
		aud     []Audience
	}
	perp := cats(CategoryPerpetratorProgramme)
	entries := []entry{
		{[]string{"perpetrator", "perpetrators", "perpetrator programme", "perpetrator programmes", "perpetrator program",
			"want to change", "i want to change", "change my behaviour", "change my behavior", "my behaviour", "my behavior",
			"abusive behaviour", "abusive behavior", "anger management", "hurting my partner", "i hurt my partner",
			"domestic abuse perpetrator", "dapp"}, perp, nil},
		{[]string{"men", "mens", "man", "male", "males", "male victim", "male victims", "male survivor", "male survivors",
			"abused men", "husband abused"}, cats(CategoryMaleVictims), auds(AudienceMen)},
		{[]string{"women", "womens", "woman", "female", "females"}, nil, auds(AudienceWomen)},
		{[]string{"lgbt", "lgbtq", "lgbtqi", "lgbtqia", "lgbt+", "gay", "lesbian", "bisexual", "bi", "trans", "transgender",
			"queer", "non binary", "nonbinary"}, cats(CategoryLGBT), auds(AudienceLGBT)},
		{[]string{"children", "childrens", "child", "kids", "kid", "young people", "young person", "youth", "teen", "teens",
			"teenager", "teenagers", "my children", "my kids"}, cats(CategoryChildrenYoungPeople), nil},
		{[]string{"forced marriage", "forced to marry", "honour", "honor", "honour based", "honour based abuse",
			"honor based", "hba", "hbv", "so called honour"}, cats(CategoryForcedMarriageHonour), nil},
		{[]string{"stalking", "stalker", "stalked", "being stalked", "being followed", "harassment", "harassed"},
			cats(CategoryStalking), nil},
		{[]string{"refuge", "refuges", "safe house", "shelter", "somewhere safe", "somewhere to stay",
			"place to stay", "safe place"}, cats(CategoryRefuge), nil},
		{[]string{"housing", "homeless", "homelessness", "nowhere to live", "nowhere to go"}, cats(CategoryHousing), nil},
		{[]string{"rape", "raped", "sexual assault", "sexual abuse", "sexual violence", "sexually assaulted"},
			cats(CategorySexualViolence), nil},
		{[]string{"idva", "isva", "advocate", "court"}, cats(CategoryIDVAISVA), nil},
		{[]string{"outreach", "support worker"}, cats(CategoryOutreach), nil},
		{[]string{"legal", "lawyer", "solicitor", "injunction", "non molestation", "court order", "legal advice"},
			cats(CategoryLegal), nil},
		{[]string{"mental health", "depressed", "depression", "suicidal", "suicide", "anxiety"}, cats(CategoryMentalHealth), nil},
		{[]string{"drugs", "drug", "alcohol", "drinking", "addiction", "substance"}, cats(CategorySubstanceUse), nil},
		{[]string{"emergency", "999", "in danger", "danger"}, cats(CategoryEmergency), nil},
		{[]string{"helpline", "helplines", "talk to someone", "someone to talk to", "phone line", "hotline"}, cats(CategoryHelpline), nil},
		{[]string{"sanctuary", "sanctuary scheme", "locks", "change the locks"}, cats(CategorySanctuaryScheme), nil},
		{[]string{"domestic abuse", "domestic violence", "abuse", "abused", "dv", "da", "coercive control", "controlling partner"},
			cats(CategoryDomesticAbuse), nil},
		{[]string{"deaf", "bsl", "sign language", "hard of hearing"}, nil, auds(AudienceDeaf)},
		{[]string{"no recourse", "no recourse to public funds", "nrpf", "visa", "immigration"}, nil, auds(AudienceNRPF)},
		{[]string{"wheelchair"}, nil, auds(AudienceWheelchair)},
	}
	var out []everydayPhrase
	for _, e := range entries {
		for _, p := range e.phrases {
			out = append(out, everydayPhrase{words: tokenize(p), cats: e.cats, aud: e.aud})
		}
	}
	slices.SortStableFunc(out, func(a, b everydayPhrase) int { return len(b.words) - len(a.words) })
	return out
}()

// stopWords carry no need and no place: "I need help near SO14". Never
// mutated.
var stopWords = map[string]bool{
	"i": true, "im": true, "me": true, "my": true, "a": true, "an": true, "the": true, "for": true, "to": true,
	"of": true, "in": true, "on": true, "at": true, "near": true, "nearby": true, "around": true, "need": true,
	"want": true, "some": true, "someone": true, "help": true, "please": true, "support": true, "service": true,
	"services": true, "with": true, "and": true, "or": true, "who": true, "is": true, "am": true, "are": true,
	"from": true, "by": true, "local": true, "nearest": true, "find": true, "looking": true, "get": true,
	"any": true, "open": true, "now": true, "hi": true, "hello": true, "can": true, "you": true, "u": true,
	"programme": true, "programmes": true, "program": true, "line": true,
}

// Reading is how ReadText understood free text.
type Reading struct {
	Categories []Category
	Audience   []Audience
	// Matched are the everyday phrases recognised, as typed (lower case).
	Matched []string
	// Rest is the words left to match literally, stop words removed.
	Rest string
}

// ReadText finds everyday phrases in text, longest first, and returns
// the categories and audiences they mean and the words left over.
func ReadText(text string) Reading {
	words := tokenize(text)
	var r Reading
	var rest []string
	for i := 0; i < len(words); {
		if p, ok := phraseAt(words, i); ok {
			r.Matched = append(r.Matched, strings.Join(p.words, " "))
			for _, c := range p.cats {
				if !slices.Contains(r.Categories, c) {
					r.Categories = append(r.Categories, c)
				}
			}
			for _, a := range p.aud {
				if !slices.Contains(r.Audience, a) {
					r.Audience = append(r.Audience, a)
				}
			}
			i += len(p.words)
			continue
		}
		if !stopWords[words[i]] {
			rest = append(rest, words[i])
		}
		i++
	}
	r.Rest = strings.Join(rest, " ")
	return r
}

func phraseAt(words []string, i int) (everydayPhrase, bool) {
	for _, p := range everyday {
		if i+len(p.words) <= len(words) && slices.Equal(words[i:i+len(p.words)], p.words) {
			return p, true
		}
	}
	return everydayPhrase{}, false
}

// Interpreted returns the query as Search reads it: everyday words of its
// free text turned into categories and audiences (see interpret).
func (q Query) Interpreted() Query {
	q, _ = q.interpret()
	return q
}

// interpret applies ReadText to a query's free text: recognised words
// become categories (any one is enough, as with the category parameter)
// and audiences, and only the other words are matched literally. The
// note says how the text was read.
func (q Query) interpret() (Query, string) {
	if strings.TrimSpace(q.Text) == "" {
		return q, ""
	}
	r := ReadText(q.Text)
	if len(r.Matched) == 0 {
		return q, ""
	}
	q.Categories = append([]Category(nil), q.Categories...)
	for _, c := range r.Categories {
		if !slices.Contains(q.Categories, c) {
			q.Categories = append(q.Categories, c)
		}
	}
	q.Audience = append([]Audience(nil), q.Audience...)
	for _, a := range r.Audience {
		if !slices.Contains(q.Audience, a) {
			q.Audience = append(q.Audience, a)
		}
	}
	q.Text = r.Rest
	var parts []string
	for _, c := range r.Categories {
		parts = append(parts, string(c))
	}
	for _, a := range r.Audience {
		parts = append(parts, "for "+string(a))
	}
	return q, "Read \"" + strings.Join(r.Matched, "\", \"") + "\" as: " + strings.Join(parts, ", ") + "."
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
