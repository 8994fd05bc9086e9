package disguise

import "waymark/disguise/words"

// Clean reports whether b holds none of the words that give the app away
// (package words keeps the one list), ignoring letter case; if it
// holds one, Clean returns the first found and false (words.Clean says
// how words are matched).
func Clean(b []byte) (word string, ok bool) { return words.Clean(b) }
