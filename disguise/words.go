package disguise

import "waymark/disguise/words"

// Words returns a copy of the one list of words the app listener must
// never serve (package words keeps it). How a word is matched is Clean's
// business: use Clean to check text, not strings.Contains with these.
func Words() []string { return words.Words() }

// Clean reports whether b holds none of Words, ignoring letter case; if it
// holds one, Clean returns the first found and false (words.Clean says
// how words are matched).
func Clean(b []byte) (word string, ok bool) { return words.Clean(b) }
