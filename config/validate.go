package config

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	"waymark/seal"
)

// rule checks one string value against a custom validate tag (param is the
// tag's parameter) and says what is wrong, or "" when nothing is. The same
// function answers the validator and writes the message, so the two cannot
// drift apart. A problem never quotes the value.
type rule func(value, param string) string

func rules() map[string]rule {
	return map[string]rule{
		"hostport":   checkHostPort,
		"baseurl":    checkBaseURL,
		"origin":     checkOrigin,
		"redisurl":   checkRedisURL,
		"tenant":     checkTenant,
		"teamid":     checkTeamID,
		"sid":        checkSID,
		"e164strict": checkE164,
		"word":       checkWord,
		"cafile":     checkCAFile,
		"proxy":      checkProxy,
		// Web Push (issue 11).
		"vapidsubject": checkVAPIDSubject,
		"pushhost":     checkPushHost,
	}
}

// checkProxy accepts an IP address or a CIDR prefix (a trusted proxy).
func checkProxy(v, _ string) string {
	if _, err := netip.ParsePrefix(v); err == nil {
		return ""
	}
	if _, err := netip.ParseAddr(v); err == nil {
		return ""
	}
	return "must be IP addresses or CIDR prefixes, e.g. 10.0.0.0/8 or 127.0.0.1"
}

var (
	tenantPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	digitRun      = regexp.MustCompile(`[0-9]{4}`)
	e164Pattern   = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	hexPattern    = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	hostPattern   = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.?$`)
)

// check runs the one validator pass over c and then the checks that span
// several settings, adding every problem to errs.
func check(c *Config, errs *collector) {
	all := table()
	envOf := make(map[string]string, len(all)) // Config field → variable
	for _, s := range all {
		envOf[s.field] = s.env
	}

	v := validator.New(validator.WithRequiredStructEnabled())
	rs := rules()
	for tag, r := range rs {
		if err := v.RegisterValidation(tag, func(fl validator.FieldLevel) bool {
			return r(fl.Field().String(), fl.Param()) == ""
		}); err != nil {
			panic("config: register " + tag + ": " + err.Error()) // a programming error
		}
	}
	err := v.Struct(c)
	var verrs validator.ValidationErrors
	if err != nil && !errors.As(err, &verrs) {
		panic("config: validate: " + err.Error()) // only for a nil or non-struct argument
	}
	// Rules that compare two fields go last, and are dropped when the
	// other field is itself wrong: one mistake, one line.
	slices.SortStableFunc(verrs, func(a, b validator.FieldError) int {
		return cmp.Compare(comparesFields(a), comparesFields(b))
	})
	for _, fe := range verrs {
		field, item := splitIndex(fe.StructField())
		env, ok := envOf[field]
		if !ok {
			panic("config: validated field without a setting: " + field)
		}
		if comparesFields(fe) == 1 && errs.has(envOf[fe.Param()]) {
			continue
		}
		p := describe(fe, rs, envOf)
		if item >= 0 {
			p = fmt.Sprintf("item %d: %s", item+1, p)
		}
		errs.add(env, env, p)
	}

	crossCheck(c, errs)
}

// comparesFields is 1 for a rule comparing fe's field with another field.
func comparesFields(fe validator.FieldError) int {
	if strings.HasSuffix(fe.Tag(), "field") {
		return 1
	}
	return 0
}

// splitIndex turns "AllowedOrigins[2]" into ("AllowedOrigins", 2); -1 when
// the field is not a list item.
func splitIndex(f string) (string, int) {
	name, rest, ok := strings.Cut(f, "[")
	if !ok {
		return f, -1
	}
	i, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
	if err != nil {
		return name, -1
	}
	return name, i
}

// describe turns one validator error into a line for an operator. The
// validator's own messages name Go fields and tags, which mean nothing to
// whoever is setting environment variables.
func describe(fe validator.FieldError, rs map[string]rule, envOf map[string]string) string {
	if r, ok := rs[fe.Tag()]; ok {
		if s, ok := fe.Value().(string); ok {
			if p := r(s, fe.Param()); p != "" {
				return p
			}
		}
	}
	isDuration := fe.Type() == reflect.TypeFor[time.Duration]()
	switch fe.Tag() {
	case "required":
		return "must be set"
	case "min", "max":
		bound := "at least"
		if fe.Tag() == "max" {
			bound = "at most"
		}
		switch {
		case isDuration:
			return "must be " + bound + " " + fe.Param()
		case fe.Kind() == reflect.Slice: // the base64 keys
			return "must be " + bound + " " + fe.Param() + " bytes after base64 decoding"
		case fe.Kind() == reflect.String:
			return "must be " + bound + " " + fe.Param() + " characters"
		default:
			return "must be " + bound + " " + fe.Param()
		}
	case "oneof":
		return "must be one of " + strings.Join(strings.Fields(fe.Param()), ", ")
	case "printascii":
		return "must be printable ASCII"
	case "ltefield":
		return "must not be longer than " + envOf[fe.Param()]
	case "nefield":
		return "must differ from " + envOf[fe.Param()]
	}
	return "is not valid (" + fe.Tag() + ")"
}

// crossCheck enforces the rules that span several settings. It skips a
// setting that already has a problem, so one mistake gives one line.
func crossCheck(c *Config, errs *collector) {
	// Three listeners, three addresses: the app and the operator listener
	// never share the public one (port 0 picks a fresh port each time).
	for _, l := range []struct{ env, addr string }{{"WAYMARK_APP_ADDR", c.AppAddr}, {"WAYMARK_METRICS_ADDR", c.MetricsAddr}} {
		if l.addr != "" && l.addr == c.Addr && !strings.HasSuffix(l.addr, ":0") && !errs.has(l.env) {
			errs.add(l.env, l.env, "must differ from WAYMARK_ADDR: it is a listener of its own")
		}
	}
	if c.AppAddr != "" && c.AppAddr == c.MetricsAddr && !strings.HasSuffix(c.AppAddr, ":0") && !errs.has("WAYMARK_APP_ADDR") {
		errs.add("WAYMARK_APP_ADDR", "WAYMARK_APP_ADDR", "must differ from WAYMARK_METRICS_ADDR")
	}
	const noRedis = "set, but no Redis is configured (WAYMARK_REDIS_URL, WAYMARK_REDIS_SENTINEL_ADDRS or WAYMARK_REDIS_CLUSTER_ADDRS); unset it to use the embedded Redis"

	// Redis: one mode, and nothing that implies a real Redis while none is
	// configured, so a typo in WAYMARK_REDIS_URL's name is never silently
	// replaced by an in-memory store that loses everything at exit.
	modes := 0
	for _, m := range []struct {
		env string
		on  bool
	}{
		{"WAYMARK_REDIS_URL", c.RedisURL != ""},
		{"WAYMARK_REDIS_SENTINEL_ADDRS", len(c.RedisSentinelAddrs) > 0},
		{"WAYMARK_REDIS_CLUSTER_ADDRS", len(c.RedisClusterAddrs) > 0},
	} {
		if !m.on {
			continue
		}
		if modes++; modes > 1 {
			errs.add(m.env, m.env, "only one of WAYMARK_REDIS_URL, WAYMARK_REDIS_SENTINEL_ADDRS and WAYMARK_REDIS_CLUSTER_ADDRS may be set")
		}
	}
	switch {
	case c.RedisSentinelMaster != "" && len(c.RedisSentinelAddrs) == 0:
		errs.add("WAYMARK_REDIS_SENTINEL_ADDRS", "WAYMARK_REDIS_SENTINEL_ADDRS", "required with WAYMARK_REDIS_SENTINEL_MASTER")
	case c.RedisSentinelMaster == "" && len(c.RedisSentinelAddrs) > 0:
		errs.add("WAYMARK_REDIS_SENTINEL_MASTER", "WAYMARK_REDIS_SENTINEL_MASTER", "required with WAYMARK_REDIS_SENTINEL_ADDRS")
	}
	if c.Embedded() {
		for env, set := range map[string]bool{
			"WAYMARK_REDIS_USERNAME":    c.RedisUsername != "",
			"WAYMARK_REDIS_PASSWORD":    c.RedisPassword != "",
			"WAYMARK_REDIS_TLS":         c.RedisTLS,
			"WAYMARK_REDIS_TLS_CA_FILE": c.RedisTLSCAFile != "",
		} {
			if set {
				errs.add(env, env, noRedis)
			}
		}
	}
	if u, err := url.Parse(c.RedisURL); c.RedisURL != "" && err == nil && !errs.has("WAYMARK_REDIS_URL") {
		if u.Scheme == "unix" && c.RedisTLS {
			errs.add("WAYMARK_REDIS_TLS", "WAYMARK_REDIS_TLS", "cannot be used with a unix:// WAYMARK_REDIS_URL")
		}
		if u.User != nil && u.User.Username() != "" && c.RedisUsername != "" {
			errs.add("WAYMARK_REDIS_USERNAME", "WAYMARK_REDIS_USERNAME", "WAYMARK_REDIS_URL already has a user name; give it in one place")
		}
		if _, ok := u.User.Password(); ok && c.RedisPassword != "" {
			errs.add("WAYMARK_REDIS_PASSWORD", "WAYMARK_REDIS_PASSWORD", "WAYMARK_REDIS_URL already has a password; give it in one place")
		}
		if c.RedisTLSCAFile != "" && !c.RedisTLS && u.Scheme != "rediss" {
			errs.add("WAYMARK_REDIS_TLS_CA_FILE", "WAYMARK_REDIS_TLS_CA_FILE", "needs WAYMARK_REDIS_TLS=true or a rediss:// WAYMARK_REDIS_URL")
		}
	} else if !c.Embedded() && c.RedisTLSCAFile != "" && !c.RedisTLS {
		errs.add("WAYMARK_REDIS_TLS_CA_FILE", "WAYMARK_REDIS_TLS_CA_FILE", "needs WAYMARK_REDIS_TLS=true")
	}

	// Keys: a real Redis keeps data across restarts, so throwaway keys
	// would make it unreadable after the next one.
	if !c.Embedded() {
		const missing = "required with a real Redis; run `waymark keys new` to make keys"
		if len(c.Keys) == 0 {
			errs.add("WAYMARK_KEYS", "WAYMARK_KEYS", missing)
		}
		if len(c.IndexKey) == 0 {
			errs.add("WAYMARK_INDEX_KEY", "WAYMARK_INDEX_KEY", missing)
		}
		if len(c.PINKey) == 0 {
			errs.add("WAYMARK_PIN_KEY", "WAYMARK_PIN_KEY", missing)
		}
	}
	// Keys with separate jobs must be separate, or a leak of one (say the
	// index key, which is used more often) gives away the others.
	if len(c.IndexKey) > 0 {
		if id, ok := sameKey(c.Keys, c.IndexKey); ok {
			errs.add("WAYMARK_INDEX_KEY", "WAYMARK_INDEX_KEY", fmt.Sprintf("must differ from sealing key %q in WAYMARK_KEYS", id))
		} else if bytes.Equal(c.IndexKey, c.PINKey) {
			errs.add("WAYMARK_INDEX_KEY", "WAYMARK_INDEX_KEY", "must differ from WAYMARK_PIN_KEY")
		}
	}
	if len(c.PINKey) > 0 {
		if id, ok := sameKey(c.Keys, c.PINKey); ok {
			errs.add("WAYMARK_PIN_KEY", "WAYMARK_PIN_KEY", fmt.Sprintf("must differ from sealing key %q in WAYMARK_KEYS", id))
		}
	}

	// Twilio: an account needs both halves; numbers and services need an
	// account; webhooks are signed over the public URL, so it must be known.
	twilio := c.TwilioAccountSID != "" || c.TwilioAuthToken != ""
	if twilio && c.TwilioAccountSID == "" {
		errs.add("WAYMARK_TWILIO_ACCOUNT_SID", "WAYMARK_TWILIO_ACCOUNT_SID", "required with WAYMARK_TWILIO_AUTH_TOKEN")
	}
	if twilio && c.TwilioAuthToken == "" {
		errs.add("WAYMARK_TWILIO_AUTH_TOKEN", "WAYMARK_TWILIO_AUTH_TOKEN", "required with WAYMARK_TWILIO_ACCOUNT_SID")
	}
	if c.TwilioPreviousAuthToken != "" && c.TwilioAuthToken == "" {
		errs.add("WAYMARK_TWILIO_PREVIOUS_AUTH_TOKEN", "WAYMARK_TWILIO_PREVIOUS_AUTH_TOKEN", "needs WAYMARK_TWILIO_AUTH_TOKEN")
	}
	if !twilio {
		for env, set := range map[string]bool{
			"WAYMARK_TWILIO_FROM":                  c.TwilioFrom != "",
			"WAYMARK_TWILIO_SURVIVOR_FROM":         c.TwilioSurvivorFrom != "",
			"WAYMARK_TWILIO_DIRECTORY_NUMBER":      c.TwilioDirectoryNumber != "",
			"WAYMARK_TWILIO_MESSAGING_SERVICE_SID": c.TwilioMessagingServiceSID != "",
		} {
			if set {
				errs.add(env, env, "needs WAYMARK_TWILIO_ACCOUNT_SID and WAYMARK_TWILIO_AUTH_TOKEN")
			}
		}
	}
	if c.TwilioAuthToken != "" && c.PublicURL == "" {
		errs.add("WAYMARK_PUBLIC_URL", "WAYMARK_PUBLIC_URL", "required with WAYMARK_TWILIO_AUTH_TOKEN: Twilio signs its webhooks over this URL")
	}

	// Web Push: the key pair and the contact come together or not at all.
	vapid := map[string]bool{"WAYMARK_VAPID_PUBLIC_KEY": c.VAPIDPublicKey != "",
		"WAYMARK_VAPID_PRIVATE_KEY": c.VAPIDPrivateKey != "", "WAYMARK_VAPID_SUBJECT": c.VAPIDSubject != ""}
	if vapid["WAYMARK_VAPID_PUBLIC_KEY"] || vapid["WAYMARK_VAPID_PRIVATE_KEY"] || vapid["WAYMARK_VAPID_SUBJECT"] {
		for _, env := range []string{"WAYMARK_VAPID_PUBLIC_KEY", "WAYMARK_VAPID_PRIVATE_KEY", "WAYMARK_VAPID_SUBJECT"} {
			if !vapid[env] {
				errs.add(env, env, "required with the other WAYMARK_VAPID_* settings (Web Push needs all three)")
			}
		}
	}

	// Plain-http origins are for development on a LAN, which is exactly
	// what insecure cookies are for; anywhere else they invite forgery.
	if !c.InsecureCookies {
		for i, o := range c.AllowedOrigins {
			if u, err := url.Parse(o); err == nil && u.Scheme == "http" && !loopback(u.Hostname()) {
				errs.add("WAYMARK_ALLOWED_ORIGINS", "WAYMARK_ALLOWED_ORIGINS",
					fmt.Sprintf("item %d: http is allowed only for loopback hosts or with WAYMARK_INSECURE_COOKIES=true; use https", i+1))
				break
			}
		}
	}

	// SMS words: a word that meant both "I'm safe" and "help" would be a
	// coin toss at the worst moment.
	seen := map[string]int{strings.ToLower(c.SMSCheckinWord): 0}
	for i, w := range c.SMSCodeWords {
		k := strings.ToLower(w)
		if n, dup := seen[k]; dup {
			p := fmt.Sprintf("item %d repeats item %d", i+1, n)
			if n == 0 {
				p = fmt.Sprintf("item %d is the same as WAYMARK_SMS_CHECKIN_WORD", i+1)
			}
			errs.add("WAYMARK_SMS_CODE_WORDS", "WAYMARK_SMS_CODE_WORDS", p)
			break
		}
		seen[k] = i + 1
	}
}

// sameKey reports the id of the sealing key equal to b, if any.
func sameKey(keys []seal.Key, b []byte) (string, bool) {
	for _, k := range keys {
		if bytes.Equal(k.Secret, b) {
			return k.ID, true
		}
	}
	return "", false
}

// loopback reports whether host (no port, no brackets) is this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkHostPort accepts host:port, port 0 to 65535 and an empty host (all
// interfaces). With param "remote" it is an address to dial: host required,
// port 1 to 65535.
func checkHostPort(s, param string) string {
	remote := param == "remote"
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if remote {
			return "must be host:port, e.g. redis-1.internal:26379"
		}
		return "must be host:port, e.g. 127.0.0.1:8080"
	}
	n, err := strconv.Atoi(port)
	switch {
	case remote && (err != nil || n < 1 || n > 65535):
		return "port must be a number from 1 to 65535"
	case err != nil || n < 0 || n > 65535:
		return "port must be a number from 0 to 65535"
	}
	if host == "" {
		if remote {
			return "must name a host, e.g. redis-1.internal:26379"
		}
		return ""
	}
	if net.ParseIP(host) == nil && !hostPattern.MatchString(host) {
		return "host is not a valid host name or IP address"
	}
	return ""
}

// checkBaseURL accepts an absolute https URL with no query, fragment or
// credentials; http only on loopback, for development and tests.
func checkBaseURL(s, _ string) string {
	const want = "must be an absolute https URL"
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return want
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			return want + "; http is allowed only for localhost, 127.0.0.0/8 and ::1"
		}
	default:
		return want
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#") {
		return "must not have a query or fragment"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "port must be a number from 1 to 65535"
		}
	}
	return ""
}

// checkOrigin accepts a browser origin: scheme://host[:port] and nothing
// more. Whether http is acceptable depends on other settings (crossCheck).
func checkOrigin(s, _ string) string {
	const want = "must be an origin, scheme://host[:port] with no path"
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#") {
		return want
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "port must be a number from 1 to 65535"
		}
	}
	return ""
}

// checkRedisURL accepts what go-redis's ParseURL does for a single server.
// It never quotes the URL: it may carry a password.
func checkRedisURL(s, _ string) string {
	const want = "must be a redis://, rediss:// or unix:// URL"
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Fragment != "" {
		return want
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Hostname() == "" {
			return "must name a host, e.g. redis://redis.internal:6379/0"
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return "port must be a number from 1 to 65535"
			}
		}
		if db := strings.TrimPrefix(u.Path, "/"); db != "" {
			if n, err := strconv.Atoi(db); err != nil || n < 0 {
				return "database must be a number, e.g. redis://redis.internal:6379/0"
			}
		}
	case "unix":
		if u.Host != "" || u.Path == "" {
			return "must give the socket path, e.g. unix:///run/redis/redis.sock"
		}
	default:
		return want
	}
	return ""
}

// checkTenant keeps tenant ids short and free of anything that looks like a
// phone number or date, since they appear in every Redis key name.
func checkTenant(s, _ string) string {
	if !tenantPattern.MatchString(s) {
		return "must be 1 to 32 of a-z, 0-9 and -, starting with a letter"
	}
	if digitRun.MatchString(s) {
		return "must not contain 4 or more digits in a row"
	}
	return ""
}

func checkTeamID(s, _ string) string {
	if !tenantPattern.MatchString(s) {
		return "must be a team id: 1 to 32 of a-z, 0-9 and -, starting with a letter"
	}
	return ""
}

// checkSID accepts a Twilio SID with the two-letter prefix param.
func checkSID(s, prefix string) string {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || !hexPattern.MatchString(rest) {
		return "must be " + prefix + " followed by 32 hex digits"
	}
	return ""
}

// checkE164 is stricter than the validator's e164: the first digit is a
// country code, never 0.
func checkE164(s, _ string) string {
	if !e164Pattern.MatchString(s) {
		return "must be an E.164 number: + and 7 to 15 digits, no spaces"
	}
	return ""
}

// checkWord accepts an SMS keyword: short, printable, and not blank.
func checkWord(s, _ string) string {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > 32 || !utf8.ValidString(s) || strings.TrimSpace(s) == "" || strings.ContainsFunc(s, unicode.IsControl) || strings.Contains(s, ",") {
		return "must be 1 to 32 printable characters, no commas"
	}
	return ""
}

// checkCAFile accepts a readable file holding at least one PEM certificate,
// so a wrong path fails at start rather than at the first connection.
func checkCAFile(path, _ string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "cannot read the file: " + describeFileError(err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return "must be a PEM file with at least one certificate"
	}
	return ""
}

// checkVAPIDSubject accepts mailto:address or an https:// URL (RFC 8292 §2.1).
func checkVAPIDSubject(s, _ string) string {
	if u, err := url.Parse(s); err == nil {
		if u.Scheme == "mailto" && strings.Contains(u.Opaque, "@") || u.Scheme == "https" && u.Host != "" {
			return ""
		}
	}
	return "must be mailto:address or an https:// URL"
}

// checkPushHost accepts a host name, optionally "*." and a host name.
func checkPushHost(s, _ string) string {
	name := strings.TrimPrefix(s, "*.")
	if net.ParseIP(name) != nil && name == s {
		return ""
	}
	if name == "" || strings.HasSuffix(name, ".") || !hostPattern.MatchString(name) {
		return "must be a host name, or *. and a host name"
	}
	return ""
}
