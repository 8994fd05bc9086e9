package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"waymark/problem"
)

// Params are argon2id cost parameters. They are stored with every hash (PHC
// string form), so raising them later keeps old hashes verifiable; a hash
// made with weaker parameters is replaced at the next successful sign-in.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes

	// Cheap lets tests hash below the production minimum
	// (stafftest.Params). It is honoured only inside a test binary
	// (testing.Testing): a production build refuses weak parameters
	// whatever it is given.
	Cheap bool
}

// DefaultParams are the production parameters: OWASP's argon2id minimum
// (m=19 MiB, t=2, p=1), a 16-byte salt and a 32-byte hash. One hash takes
// about 35–60 ms on a 2-core machine (see BenchmarkArgon2).
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// check reports whether p is at least DefaultParams, or Cheap in a test.
func (p Params) check() error {
	if p.Cheap {
		if !testing.Testing() {
			return errors.New("staff: cheap argon2id parameters are for tests only")
		}
		return nil
	}
	floor := DefaultParams()
	if p.Memory < floor.Memory || p.Time < floor.Time || p.Threads < floor.Threads ||
		p.SaltLen < floor.SaltLen || p.KeyLen < floor.KeyLen {
		return fmt.Errorf("staff: argon2id parameters m=%d,t=%d,p=%d below the minimum m=%d,t=%d,p=%d",
			p.Memory, p.Time, p.Threads, floor.Memory, floor.Time, floor.Threads)
	}
	if p.Memory > maxMemory || p.Time > maxTime || p.Threads > maxThreads || p.SaltLen > maxSalt || p.KeyLen > maxKey {
		return errors.New("staff: argon2id parameters above the accepted maximum")
	}
	return nil
}

// Bounds on parameters read back from a stored hash: a corrupted record
// must not make one verification take gigabytes or minutes.
const (
	maxMemory  = 1 << 20 // 1 GiB in KiB
	maxTime    = 16
	maxThreads = 16
	minSalt    = 8
	maxSalt    = 64
	minKey     = 16
	maxKey     = 64
)

// Password rules (NIST SP 800-63B: length over composition rules).
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// errBadHash reports a stored hash that is not an argon2id PHC string.
var errBadHash = errors.New("staff: password hash: not an argon2id PHC string")

// CheckPassword applies the password rules for username's account. Lengths
// count characters after NFKC normalisation. Problems name the field
// "password" and never echo it.
func CheckPassword(password, username string) error {
	pw := norm.NFKC.String(password)
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(password):
		return problem.Invalidf("password", "must be valid UTF-8 text")
	case n < MinPasswordLen:
		return problem.Invalidf("password", "must have at least "+strconv.Itoa(MinPasswordLen)+" characters")
	case n > MaxPasswordLen:
		return problem.Invalidf("password", "must have at most "+strconv.Itoa(MaxPasswordLen)+" characters")
	case oneChar(pw):
		return problem.Invalidf("password", "must not repeat a single character")
	case username != "" && strings.EqualFold(pw, username):
		return problem.Invalidf("password", "must differ from the username")
	}
	return nil
}

func oneChar(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}

// HashPassword hashes password with argon2id under p and a fresh random salt
// and returns the PHC string
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// (salt and hash in unpadded standard base64). The password is NFKC
// normalised first, so the same password typed on another keyboard matches.
func HashPassword(password string, p Params) string {
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return formatPHC(p, salt, key)
}

func formatPHC(p Params, salt, key []byte) string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

// parsePHC reads an argon2id PHC string, refusing other algorithms and
// versions and parameters outside sane bounds. Errors never quote the input.
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, fmt.Errorf("%w: unsupported version", errBadHash)
	}
	var h phc
	seen := map[string]bool{}
	for kv := range strings.SplitSeq(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] || v == "" || (len(v) > 1 && v[0] == '0') {
			return phc{}, fmt.Errorf("%w: bad parameters", errBadHash)
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, fmt.Errorf("%w: bad parameters", errBadHash)
		}
		switch k {
		case "m":
			h.params.Memory = uint32(n)
		case "t":
			h.params.Time = uint32(n)
		case "p":
			if n > 255 {
				return phc{}, fmt.Errorf("%w: bad parameters", errBadHash)
			}
			h.params.Threads = uint8(n)
		default:
			return phc{}, fmt.Errorf("%w: bad parameters", errBadHash)
		}
	}
	if len(seen) != 3 {
		return phc{}, fmt.Errorf("%w: bad parameters", errBadHash)
	}
	p := h.params
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads ||
		p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return phc{}, fmt.Errorf("%w: parameters out of range", errBadHash)
	}
	if !b64Chars(parts[4]) || !b64Chars(parts[5]) {
		return phc{}, fmt.Errorf("%w: bad encoding", errBadHash)
	}
	enc := base64.RawStdEncoding.Strict()
	var err error
	if h.salt, err = enc.DecodeString(parts[4]); err != nil || len(h.salt) < minSalt || len(h.salt) > maxSalt {
		return phc{}, fmt.Errorf("%w: bad salt", errBadHash)
	}
	if h.key, err = enc.DecodeString(parts[5]); err != nil || len(h.key) < minKey || len(h.key) > maxKey {
		return phc{}, fmt.Errorf("%w: bad hash", errBadHash)
	}
	h.params.SaltLen, h.params.KeyLen = uint32(len(h.salt)), uint32(len(h.key))
	return h, nil
}

// b64Chars reports whether s holds only standard base64 letters: the
// decoder skips line breaks, which a stored hash never has.
func b64Chars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// VerifyPassword reports whether password matches the PHC string hash,
// comparing in constant time. A malformed hash is an error (and never
// matches).
func VerifyPassword(hash, password string) (bool, error) {
	h, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(norm.NFKC.String(password)), h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

// needsRehash reports whether hash was made with parameters other than p.
func needsRehash(hash string, p Params) bool {
	h, err := parsePHC(hash)
	if err != nil {
		return true
	}
	q := h.params
	return q.Memory != p.Memory || q.Time != p.Time || q.Threads != p.Threads || q.KeyLen != p.KeyLen || q.SaltLen != p.SaltLen
}
