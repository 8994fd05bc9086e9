package signpost

import (
	"strings"
	"unicode"
)

// Category is a kind of service, from a fixed vocabulary.
type Category string

// The category vocabulary. CategoryDomesticAbuse is the general term the
// national data uses for services open to any domestic-abuse need.
const (
	CategoryHelpline             Category = "helpline"
	CategoryRefuge               Category = "refuge"
	CategoryIDVAISVA             Category = "idva-isva"
	CategoryOutreach             Category = "outreach"
	CategoryPerpetratorProgramme Category = "perpetrator-programme"
	CategoryChildrenYoungPeople  Category = "children-young-people"
	CategoryMaleVictims          Category = "male-victims"
	CategoryLGBT                 Category = "lgbt"
	CategoryForcedMarriageHonour Category = "forced-marriage-honour"
	CategorySexualViolence       Category = "sexual-violence"
	CategorySanctuaryScheme      Category = "sanctuary-scheme"
	CategoryLegal                Category = "legal"
	CategoryHousing              Category = "housing"
	CategoryMentalHealth         Category = "mental-health"
	CategorySubstanceUse         Category = "substance-use"
	CategoryEmergency            Category = "emergency"
	CategoryDomesticAbuse        Category = "domestic-abuse"
	CategoryStalking             Category = "stalking"
)

// categories lists the vocabulary; a category's position is its bit in the
// index's masks. Never mutated.
var categories = []Category{
	CategoryHelpline, CategoryRefuge, CategoryIDVAISVA, CategoryOutreach,
	CategoryPerpetratorProgramme, CategoryChildrenYoungPeople, CategoryMaleVictims,
	CategoryLGBT, CategoryForcedMarriageHonour, CategorySexualViolence,
	CategorySanctuaryScheme, CategoryLegal, CategoryHousing, CategoryMentalHealth,
	CategorySubstanceUse, CategoryEmergency, CategoryDomesticAbuse, CategoryStalking,
}

// Categories returns the category vocabulary in a fixed order.
func Categories() []Category { return append([]Category(nil), categories...) }

func categoryBit(c Category) (uint32, bool) {
	for i, x := range categories {
		if x == c {
			return 1 << i, true
		}
	}
	return 0, false
}

// categorySynonyms maps terms other directories use to the vocabulary.
// Keys are normalised by normTerm. Never mutated.
var categorySynonyms = map[string]Category{
	"helplines":                      CategoryHelpline,
	"refuges":                        CategoryRefuge,
	"idva":                           CategoryIDVAISVA,
	"isva":                           CategoryIDVAISVA,
	"idva-and-isva":                  CategoryIDVAISVA,
	"perpetrator-programmes":         CategoryPerpetratorProgramme,
	"children-and-young-people":      CategoryChildrenYoungPeople,
	"lgbt+":                          CategoryLGBT,
	"lgbtq":                          CategoryLGBT,
	"lgbtq+":                         CategoryLGBT,
	"lgbtqia+":                       CategoryLGBT,
	"forced-marriage":                CategoryForcedMarriageHonour,
	"honour-based-abuse":             CategoryForcedMarriageHonour,
	"forced-marriage-and-honour":     CategoryForcedMarriageHonour,
	"sanctuary":                      CategorySanctuaryScheme,
	"sanctuary-schemes":              CategorySanctuaryScheme,
	"substance-misuse":               CategorySubstanceUse,
	"domestic-violence":              CategoryDomesticAbuse,
	"domestic-violence-and-abuse":    CategoryDomesticAbuse,
	"domestic-abuse-and-violence":    CategoryDomesticAbuse,
	"sexual-abuse":                   CategorySexualViolence,
	"sexual-violence-and-abuse":      CategorySexualViolence,
	"emergency-services":             CategoryEmergency,
	"legal-advice":                   CategoryLegal,
	"housing-advice":                 CategoryHousing,
	"mental-health-and-wellbeing":    CategoryMentalHealth,
	"male-victims-of-domestic-abuse": CategoryMaleVictims,
	"stalking-and-harassment":        CategoryStalking,
}

// ParseCategory maps a term ("Refuge", "IDVA", "LGBTQ+", "domestic violence")
// to the vocabulary.
func ParseCategory(term string) (Category, bool) {
	if _, ok := categoryBit(Category(term)); ok {
		return Category(term), true // already canonical: the common case
	}
	t := normTerm(term)
	if _, ok := categoryBit(Category(t)); ok {
		return Category(t), true
	}
	c, ok := categorySynonyms[t]
	return c, ok
}

// normTerm lower-cases a term and joins its words with hyphens; "&" and
// "/" read as "and".
func normTerm(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.ContainsAny(s, "&/") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "&", " and "), "/", " and ")
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '-' || r == '_' || unicode.IsSpace(r)
	}), "-")
}

// Nation is a nation of the UK; bank holidays and national services differ
// between them.
type Nation string

// The nations. England and Wales share bank holidays.
const (
	England         Nation = "england"
	Wales           Nation = "wales"
	Scotland        Nation = "scotland"
	NorthernIreland Nation = "northern-ireland"
)

var nations = []Nation{England, Wales, Scotland, NorthernIreland}

// ParseNation accepts "England", "northern ireland", "northern-ireland", "NI"...
func ParseNation(s string) (Nation, bool) {
	switch t := normTerm(s); t {
	case "england":
		return England, true
	case "wales", "cymru":
		return Wales, true
	case "scotland":
		return Scotland, true
	case "northern-ireland", "ni":
		return NorthernIreland, true
	}
	return "", false
}

func nationBit(n Nation) uint8 {
	for i, x := range nations {
		if x == n {
			return 1 << i
		}
	}
	return 0
}

// Audience is who a searcher needs a service for.
type Audience string

// Audiences a search can ask for. Several in one query must all be met.
const (
	AudienceWomen       Audience = "women"        // not limited to men
	AudienceMen         Audience = "men"          // not limited to women
	AudienceLGBT        Audience = "lgbt"         // an LGBT+ service
	AudienceChildren    Audience = "children"     // a children's service, or one that accepts children
	AudienceYoungPeople Audience = "young-people" // a service for under-18s or open to 16–17s
	AudienceNRPF        Audience = "nrpf"         // accepts no recourse to public funds
	AudienceWheelchair  Audience = "wheelchair"   // wheelchair access
	AudienceDeaf        Audience = "deaf"         // text, textphone, video relay or BSL
)

var audiences = []Audience{AudienceWomen, AudienceMen, AudienceLGBT, AudienceChildren,
	AudienceYoungPeople, AudienceNRPF, AudienceWheelchair, AudienceDeaf}

func validAudience(a Audience) bool {
	for _, x := range audiences {
		if x == a {
			return true
		}
	}
	return false
}

// iso6391 holds every ISO 639-1 code, two letters each. Never mutated.
const iso6391 = "aaabaeafakamanarasavayazbabebgbhbibmbnbobrbscacechcocrcscucvcydadedvdzeeeleneoeseteufafffifjfofrfygagdglgngugvhahehihohrhthuhyhziaidieigiiikioisitiujajvkakgkikjkkklkmknkokrkskukvkwkylalblglilnloltlulvmgmhmimkmlmnmrmsmtmynanbndnengnlnnnonrnvnyocojomorospapiplpsptqurmrnrorurwsascsdsesgsiskslsmsnsosqsrssstsusvswtatetgthtitktltntotrtstttwtyugukuruzvevivowawoxhyiyozazhzu"

// iso6393 holds three-letter codes for languages with no two-letter code
// that UK services commonly offer. Never mutated.
var iso6393 = map[string]bool{
	"bfi": true, // British Sign Language
	"ise": true, // Irish Sign Language
	"sgn": true, // sign languages (unspecified)
	"yue": true, // Cantonese
	"cmn": true, // Mandarin
	"pnb": true, // Western Punjabi
	"syl": true, // Sylheti
	"ckb": true, // Central Kurdish (Sorani)
	"kmr": true, // Northern Kurdish (Kurmanji)
	"prs": true, // Dari
	"sco": true, // Scots
	"rom": true, // Romani
	"tir": true, // Tigrinya (also "ti")
	"mnk": true, // Mandinka
}

// ValidLanguage reports whether code is an ISO 639-1 code or one of the
// ISO 639-3 codes Waymark knows (lower case).
func ValidLanguage(code string) bool {
	switch len(code) {
	case 2:
		for i := 0; i+1 < len(iso6391); i += 2 {
			if iso6391[i:i+2] == code {
				return true
			}
		}
	case 3:
		return iso6393[code]
	}
	return false
}

// LanguageByName returns the ISO 639 code of a common English language
// name ("Urdu", "British Sign Language"), or "" for a name it does not
// know: Open Referral UK records often give a name but no code.
func LanguageByName(name string) string { return languageNames[normTerm(name)] }

// languageNames maps common English language names to codes. Never
// mutated.
var languageNames = map[string]string{
	"english": "en", "welsh": "cy", "scottish-gaelic": "gd", "gaelic": "gd", "irish": "ga",
	"urdu": "ur", "punjabi": "pa", "bengali": "bn", "gujarati": "gu", "hindi": "hi",
	"tamil": "ta", "polish": "pl", "romanian": "ro", "lithuanian": "lt", "portuguese": "pt",
	"spanish": "es", "french": "fr", "italian": "it", "arabic": "ar", "somali": "so",
	"tigrinya": "ti", "amharic": "am", "farsi": "fa", "persian": "fa", "kurdish": "ku",
	"turkish": "tr", "chinese": "zh", "cantonese": "yue", "mandarin": "cmn", "russian": "ru",
	"ukrainian": "uk", "bulgarian": "bg", "albanian": "sq", "pashto": "ps", "sylheti": "syl",
	"british-sign-language": "bfi", "bsl": "bfi", "vietnamese": "vi", "tagalog": "tl",
	"swahili": "sw", "yoruba": "yo", "igbo": "ig", "nepali": "ne", "hungarian": "hu",
	"czech": "cs", "slovak": "sk", "latvian": "lv", "german": "de", "greek": "el",
}
