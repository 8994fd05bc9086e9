package casework

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"waymark/codeword"
	"waymark/internal/randid"
	"waymark/pii"
	"waymark/problem"
	"waymark/staff"
	"waymark/wallclock"
)

// --- input -----------------------------------------------------------------

// MARACInput is the JSON form of a MARAC referral.
type MARACInput struct {
	Referred bool   `json:"referred"`
	Date     string `json:"date" validate:"omitempty,max=10"` // YYYY-MM-DD
}

// SafeContactInput is the JSON form of a ContactPlan.
type SafeContactInput struct {
	Windows     []Window `json:"windows" validate:"max=14,dive"`
	Channels    Channels `json:"channels"`
	OpeningLine string   `json:"opening_line" validate:"max=300"`
}

// CaseInput is a new case, or a change to one, as a caseworker sends it. In
// a change a nil (absent or null) field stays as it is, and an object
// (marac, communication, children, safe_contact) replaces the whole object.
// Struct tags check shapes; Cases checks everything else and names each bad
// field as the JSON spells it.
type CaseInput struct {
	Phone            *string           `json:"phone" validate:"omitnil,max=64"`
	Alias            *string           `json:"alias" validate:"omitnil,max=80"`
	Team             *string           `json:"team" validate:"omitnil,max=64"`
	RiskLevel        *string           `json:"risk_level" validate:"omitnil,oneof=standard medium high"`
	RiskDate         *string           `json:"risk_date" validate:"omitnil,max=10"`
	MARAC            *MARACInput       `json:"marac"`
	Communication    *Communication    `json:"communication"`
	Children         *Children         `json:"children"`
	CodeWords        []string          `json:"code_words" validate:"omitnil,max=10,dive,max=100"`
	DuressWords      []string          `json:"duress_words" validate:"omitnil,max=10,dive,max=100"`
	PIN              *string           `json:"pin" validate:"omitnil,max=8"`
	DuressPIN        *string           `json:"duress_pin" validate:"omitnil,max=8"`
	Notes            *string           `json:"notes" validate:"omitnil,max=4000"`
	SafeContact      *SafeContactInput `json:"safe_contact"`
	ResponsePlan     *string           `json:"response_plan" validate:"omitnil,max=4000"`
	Owner            *string           `json:"owner" validate:"omitnil,max=64"`
	ExcludedStaff    []string          `json:"excluded_staff" validate:"omitnil,max=50,dive,max=64"`
	LinkedCase       *string           `json:"linked_case" validate:"omitnil,max=64"`
	Under18          *bool             `json:"under_18"`
	SafeguardingLead *string           `json:"safeguarding_lead" validate:"omitnil,max=120"`
}

// TechSafetyInput is the tech-safety check sent with an enrolment request.
type TechSafetyInput struct {
	OthersHaveAccess bool   `json:"others_have_access"`
	Notes            string `json:"notes" validate:"max=4000"`
}

// ValidCaseID reports whether id has the shape of a case id ("c_" and 20
// letters), so malformed ids are answered without touching the store.
func ValidCaseID(id string) bool { return randid.Valid(id, "c_", 20) }

// ValidStaffID reports whether id has the shape of a staff id.
func ValidStaffID(id string) bool { return randid.Valid(id, "s_", 20) }

// ValidDeviceID reports whether id has the shape of a device id.
func ValidDeviceID(id string) bool { return randid.Valid(id, "d_", 12) }

// pinChange carries the PINs of an input, in the clear only for as long as
// hashing them takes.
type pinChange struct{ pin, duress *string }

// build applies in to a copy of base (nil for a new case) and checks every
// field, returning the resulting case or a *problem.Invalid naming each bad
// field. create requires the fields a new case must have.
func (s *Cases) build(p *staff.Principal, in CaseInput, base *Case, create bool) (*Case, *problem.Invalid) {
	inv := &problem.Invalid{}
	c := &Case{}
	if base != nil {
		cp := *base
		c = &cp
		c.CodeWords = slices.Clone(base.CodeWords)
		c.DuressWords = slices.Clone(base.DuressWords)
		c.Excluded = slices.Clone(base.Excluded)
	}
	required := func(name string, present bool) bool {
		if !present && create {
			inv.Add(name, "is required")
		}
		return present
	}

	if required("phone", in.Phone != nil) {
		ph, err := pii.ParsePhone(*in.Phone, "GB")
		if err != nil {
			inv.Add("phone", "must be a valid phone number")
		} else {
			c.Phone = ph
		}
	}
	if required("alias", in.Alias != nil) {
		a := strings.TrimSpace(*in.Alias)
		if msg := CheckText(a, maxAlias, true); msg != "" {
			inv.Add("alias", msg)
		} else {
			c.Alias = pii.NewText(a)
		}
	}
	if required("team", in.Team != nil) {
		t := strings.TrimSpace(*in.Team)
		switch {
		case t == "":
			inv.Add("team", "is required")
		case !p.InTeam(t):
			inv.Add("team", "must be one of your teams")
		default:
			c.Team = t
		}
	}
	if required("risk_level", in.RiskLevel != nil) {
		if r := Risk(*in.RiskLevel); r.Valid() {
			c.Risk = r
		} else {
			inv.Add("risk_level", "must be one of: standard, medium, high")
		}
	}
	today := s.now()
	if in.RiskDate != nil {
		d, msg := parseDate(*in.RiskDate, today)
		if msg != "" {
			inv.Add("risk_date", msg)
		} else {
			c.RiskDate = d
		}
	}
	if in.MARAC != nil {
		m := MARAC{Referred: in.MARAC.Referred}
		switch {
		case in.MARAC.Referred && in.MARAC.Date == "":
			inv.Add("marac.date", "is required when referred")
		case !in.MARAC.Referred && in.MARAC.Date != "":
			inv.Add("marac.date", "must be empty unless referred")
		case in.MARAC.Date != "":
			d, msg := parseDate(in.MARAC.Date, today)
			if msg != "" {
				inv.Add("marac.date", msg)
			}
			m.Date = d
		}
		c.MARAC = m
	}
	if in.Communication != nil {
		checkCommunication(*in.Communication, inv)
		c.Communication = *in.Communication
		c.Communication.Needs = slices.Clone(in.Communication.Needs)
	}
	if in.Children != nil {
		checkChildren(*in.Children, inv)
		c.Children = Children{Count: in.Children.Count, AgeBands: slices.Clone(in.Children.AgeBands)}
	}
	if required("code_words", in.CodeWords != nil) {
		c.CodeWords = trimAll(in.CodeWords)
		if len(c.CodeWords) == 0 {
			inv.Add("code_words", "must hold at least one word")
		}
	}
	if in.DuressWords != nil {
		c.DuressWords = trimAll(in.DuressWords)
	}
	checkWordLists(c, inv)
	if in.CodeWords != nil || in.DuressWords != nil || create {
		s.checkWords(c.CodeWords, c.DuressWords, inv)
	}
	if in.Notes != nil {
		if msg := CheckText(*in.Notes, maxNotes, false); msg != "" {
			inv.Add("notes", msg)
		} else {
			c.SafetyNotes = pii.NewText(strings.TrimSpace(*in.Notes))
		}
	}
	if in.SafeContact != nil {
		plan := ContactPlan{Windows: in.SafeContact.Windows, Channels: in.SafeContact.Channels}
		if len(plan.Windows) > maxWindows {
			inv.Add("safe_contact.windows", fmt.Sprintf("must have at most %d items", maxWindows))
		}
		plan.Validate(inv, "safe_contact")
		if msg := CheckText(in.SafeContact.OpeningLine, maxOpeningLine, false); msg != "" {
			inv.Add("safe_contact.opening_line", msg)
		}
		plan.OpeningLine = pii.NewText(strings.TrimSpace(in.SafeContact.OpeningLine))
		plan.Windows = slices.Clone(plan.Windows)
		c.Contact = plan
	}
	if in.ResponsePlan != nil {
		if msg := CheckText(*in.ResponsePlan, maxNotes, false); msg != "" {
			inv.Add("response_plan", msg)
		} else {
			c.ResponsePlan = pii.NewText(strings.TrimSpace(*in.ResponsePlan))
		}
	}
	if in.Owner != nil {
		if !ValidStaffID(*in.Owner) {
			inv.Add("owner", "must be a staff id")
		} else {
			c.Owner = *in.Owner
		}
	} else if create {
		c.Owner = p.StaffID
	}
	if in.ExcludedStaff != nil {
		c.Excluded = nil
		for i, id := range in.ExcludedStaff {
			name := fmt.Sprintf("excluded_staff[%d]", i)
			switch {
			case !ValidStaffID(id):
				inv.Add(name, "must be a staff id")
			case slices.Contains(c.Excluded, id):
				inv.Add(name, "is listed twice")
			case id == p.StaffID:
				inv.Add(name, "must not be yourself")
			default:
				c.Excluded = append(c.Excluded, id)
			}
		}
	}
	if c.Owner != "" && c.Excludes(c.Owner) {
		inv.Add("owner", "must not be an excluded member of staff")
	}
	if in.LinkedCase != nil {
		switch l := *in.LinkedCase; {
		case l == "":
			c.LinkedCase = ""
		case !ValidCaseID(l) || l == c.ID:
			inv.Add("linked_case", "must be the id of another case")
		default:
			c.LinkedCase = l
		}
	}
	if in.Under18 != nil {
		c.Under18 = *in.Under18
	}
	if in.SafeguardingLead != nil {
		lead := strings.TrimSpace(*in.SafeguardingLead)
		if msg := CheckText(lead, maxLead, false); msg != "" {
			inv.Add("safeguarding_lead", msg)
		} else {
			c.SafeguardingLead = pii.NewText(lead)
		}
	}
	if c.Under18 && c.SafeguardingLead.IsZero() && !hasField(inv, "safeguarding_lead") {
		inv.Add("safeguarding_lead", "is required for a survivor under 18")
	}
	s.applyPINs(c, pinChange{in.PIN, in.DuressPIN}, create, inv)
	return c, inv
}

// applyPINs checks and hashes the PINs of an input. A new case needs both;
// a change may set either, and each must differ from the other, new or
// stored (compared through the keyed hash: the stored PINs are not known).
func (s *Cases) applyPINs(c *Case, ch pinChange, create bool, inv *problem.Invalid) {
	ok := true
	for _, f := range []struct {
		name string
		v    *string
	}{{"pin", ch.pin}, {"duress_pin", ch.duress}} {
		switch {
		case f.v == nil && create:
			inv.Add(f.name, "is required")
			ok = false
		case f.v != nil && !ValidPIN(*f.v):
			inv.Add(f.name, "must be 4 to 8 digits")
			ok = false
		}
	}
	if !ok || c.ID == "" {
		return
	}
	switch {
	case ch.pin != nil && ch.duress != nil:
		if *ch.pin == *ch.duress {
			inv.Add("duress_pin", "must differ from pin")
			return
		}
	case ch.pin != nil:
		if _, same := s.pins.Check(c.ID, *ch.pin, nil, c.DuressPINHash); same {
			inv.Add("pin", "must differ from duress_pin")
			return
		}
	case ch.duress != nil:
		if same, _ := s.pins.Check(c.ID, *ch.duress, c.PINHash, nil); same {
			inv.Add("duress_pin", "must differ from pin")
			return
		}
	}
	if ch.pin != nil {
		c.PINHash = s.pins.Hash(c.ID, *ch.pin)
	}
	if ch.duress != nil {
		c.DuressPINHash = s.pins.Hash(c.ID, *ch.duress)
	}
}

// ValidPIN reports whether pin has the shape of a case's PIN: 4 to 8
// ASCII digits.
func ValidPIN(pin string) bool {
	if len(pin) < 4 || len(pin) > 8 {
		return false
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return false
		}
	}
	return true
}

func hasField(inv *problem.Invalid, name string) bool {
	for _, f := range inv.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func trimAll(in []string) []string {
	out := make([]string, len(in))
	for i, w := range in {
		out[i] = strings.TrimSpace(w)
	}
	return out
}

func checkWordLists(c *Case, inv *problem.Invalid) {
	for _, l := range []struct {
		name  string
		words []string
	}{{"code_words", c.CodeWords}, {"duress_words", c.DuressWords}} {
		if len(l.words) > maxWords {
			inv.Add(l.name, fmt.Sprintf("must have at most %d items", maxWords))
		}
		for i, w := range l.words {
			if utf8.RuneCountInString(w) > maxWordLen || !utf8.ValidString(w) || HasControl(w) {
				inv.Add(fmt.Sprintf("%s[%d]", l.name, i), fmt.Sprintf("must be at most %d printable characters", maxWordLen))
			}
		}
	}
}

// checkWords applies the code-word rules (codeword.CheckWords) and names
// each refused word's field; the problem text names the word itself, as the
// caseworker needs to see which one.
func (s *Cases) checkWords(code, duress []string, inv *problem.Invalid) {
	err := codeword.CheckWords(code, duress, s.checkin)
	if err == nil {
		return
	}
	for _, we := range wordErrors(err) {
		list := "code_words"
		if we.Role == codeword.RoleDuress {
			list = "duress_words"
		}
		inv.Add(fmt.Sprintf("%s[%d]", list, we.Index), strings.TrimPrefix(we.Error(), "codeword: "))
	}
}

// wordErrors lists the *codeword.WordError values CheckWords joined.
func wordErrors(err error) []*codeword.WordError {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []*codeword.WordError
	for _, e := range errs {
		var we *codeword.WordError
		if errors.As(e, &we) {
			out = append(out, we)
		}
	}
	return out
}

// checkText checks free text: at most max characters, valid UTF-8, no
// control characters other than newlines and tabs.
func CheckText(s string, max int, required bool) string {
	switch {
	case required && strings.TrimSpace(s) == "":
		return "is required"
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("must have at most %d characters", max)
	case HasControl(s):
		return "must not hold control characters"
	}
	return ""
}

func HasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return true
		}
	}
	return false
}

// parseDate reads a YYYY-MM-DD date in London that is not in the future.
func parseDate(s string, now time.Time) (time.Time, string) {
	d, err := time.ParseInLocation(time.DateOnly, s, wallclock.London())
	if err != nil {
		return time.Time{}, "must be a date YYYY-MM-DD"
	}
	if d.After(now) {
		return time.Time{}, "must not be in the future"
	}
	if d.Year() < 2000 {
		return time.Time{}, "must be a date since 2000"
	}
	return d, ""
}

func checkCommunication(c Communication, inv *problem.Invalid) {
	if c.Language != "" {
		ok := len(c.Language) >= 2 && len(c.Language) <= 3
		for _, r := range c.Language {
			ok = ok && r >= 'a' && r <= 'z'
		}
		if !ok {
			inv.Add("communication.language", "must be an ISO 639 language code such as en, ur or pl")
		}
	}
	seen := map[CommNeed]bool{}
	for i, n := range c.Needs {
		switch n {
		case NeedVoice, NeedTextOnly, NeedBSL, NeedInterpreter:
		default:
			inv.Add(fmt.Sprintf("communication.needs[%d]", i), "must be one of: voice, text-only, bsl, interpreter")
		}
		if seen[n] {
			inv.Add(fmt.Sprintf("communication.needs[%d]", i), "is listed twice")
		}
		seen[n] = true
	}
	if len(c.Needs) > 4 {
		inv.Add("communication.needs", "must have at most 4 items")
	}
	switch c.InterpreterGender {
	case "":
	case "female", "male", "any":
		if !seen[NeedInterpreter] {
			inv.Add("communication.interpreter_gender", "is only for the interpreter need")
		}
	default:
		inv.Add("communication.interpreter_gender", "must be one of: female, male, any")
	}
	if seen[NeedVoice] && seen[NeedTextOnly] {
		inv.Add("communication.needs", "must not hold both voice and text-only")
	}
}

func checkChildren(c Children, inv *problem.Invalid) {
	if c.Count < 0 || c.Count > maxChildren {
		inv.Add("children.count", fmt.Sprintf("must be between 0 and %d", maxChildren))
	} else if len(c.AgeBands) > c.Count {
		inv.Add("children.age_bands", "must have no more items than count")
	}
	for i, b := range c.AgeBands {
		if !ValidAgeBand(b) {
			inv.Add(fmt.Sprintf("children.age_bands[%d]", i), "must be one of: 0-4, 5-10, 11-15, 16-17")
		}
	}
}
