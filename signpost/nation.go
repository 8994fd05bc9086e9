package signpost

import "strings"

// NationOfDistrict returns the nation a postcode district lies in, by its
// postcode area. Districts that straddle a border are given the nation most
// of their postcodes are in (e.g. TD15, Berwick-upon-Tweed: England; CH5–CH8
// Flintshire: Wales; SY15–SY25: Wales), so the answer is right for most
// people and close for the rest. It returns "" for a code it cannot place.
func NationOfDistrict(district string) Nation {
	d := strings.ToUpper(strings.TrimSpace(district))
	area, num := splitDistrict(d)
	if area == "" {
		return ""
	}
	switch area {
	case "BT":
		return NorthernIreland
	case "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "ZE":
		return Scotland
	case "TD":
		if num == 15 {
			return England
		}
		return Scotland
	case "CF", "LD", "LL", "NP", "SA":
		return Wales
	case "SY":
		if num >= 15 && num <= 25 {
			return Wales
		}
		return England
	case "CH":
		if num >= 5 && num <= 8 {
			return Wales
		}
		return England
	case "GY", "JE", "IM": // Crown dependencies: not in the UK's nations
		return ""
	}
	return England
}

// splitDistrict splits "SO14" into "SO" and 14, "W1A" into "W" and 1.
func splitDistrict(d string) (string, int) {
	i := 0
	for i < len(d) && d[i] >= 'A' && d[i] <= 'Z' {
		i++
	}
	if i == 0 || i > 2 || i == len(d) {
		return "", 0
	}
	n := 0
	for j := i; j < len(d) && d[j] >= '0' && d[j] <= '9'; j++ {
		n = n*10 + int(d[j]-'0')
	}
	return d[:i], n
}
