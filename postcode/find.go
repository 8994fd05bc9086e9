package postcode

// Find returns the first UK postcode inside free text such as an SMS ("help
// at so14 7du now", "SO147DU!", text in another script around it). The
// postcode must stand on its own: a letter or digit of the Latin alphabet
// directly before or after it means it is part of a longer token, so
// reference numbers and words are not mistaken for postcodes. Between the
// outward and inward codes it allows no space or up to two spaces, tabs or
// no-break spaces.
func Find(text string) (Postcode, bool) {
	for i := 0; i < len(text); i++ {
		if !isASCIILetter(text[i]) || (i > 0 && isASCIIAlnum(text[i-1])) {
			continue
		}
		// The longest outward code wins: in "SO147DU" only SO14 + 7DU fits,
		// and trying 4 first avoids reading "SO1" + "47D".
		for n := 4; n >= 2; n-- {
			if p, ok := matchAt(text, i, n); ok {
				return p, true
			}
		}
	}
	return Postcode{}, false
}

// matchAt tries an outward code of n characters at text[i:], optional
// separators, an inward code, then a boundary.
func matchAt(text string, i, n int) (Postcode, bool) {
	if i+n > len(text) {
		return Postcode{}, false
	}
	var buf [7]byte
	for k := 0; k < n; k++ {
		c := text[i+k]
		if !isASCIIAlnum(c) {
			return Postcode{}, false
		}
		buf[k] = upper(c)
	}
	j := i + n
	for seps := 0; seps < 2 && j < len(text); seps++ {
		if text[j] == ' ' || text[j] == '\t' {
			j++
			continue
		}
		if text[j] == 0xC2 && j+1 < len(text) && text[j+1] == 0xA0 { // U+00A0
			j += 2
			continue
		}
		break
	}
	if j+3 > len(text) {
		return Postcode{}, false
	}
	for k := 0; k < 3; k++ {
		c := text[j+k]
		if !isASCIIAlnum(c) {
			return Postcode{}, false
		}
		buf[n+k] = upper(c)
	}
	if end := j + 3; end < len(text) && isASCIIAlnum(text[end]) {
		return Postcode{}, false
	}
	p, err := parseCompact(string(buf[:n+3]))
	return p, err == nil
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isASCIIAlnum(c byte) bool  { return isASCIILetter(c) || isDigit(c) }

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
