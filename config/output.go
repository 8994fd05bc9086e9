package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"waymark/disguise/words"
)

// Setting is one setting as `waymark config check` shows it.
type Setting struct {
	Env    string // the variable, e.g. WAYMARK_ADDR
	Flag   string // the flag without dashes, e.g. addr; empty for secrets
	Value  string // the effective value; for secrets "[set]" or "[not set]"
	Source Source // where Value came from
	Secret bool
}

// Redacted returns every setting in Usage order with its effective value and
// where it came from. Secrets show only whether they are set, and a password
// inside a URL is replaced by "xxxxx".
func (c *Config) Redacted() []Setting {
	all := table()
	out := make([]Setting, 0, len(all))
	for _, s := range all {
		src := c.sources[s.env]
		if src == "" {
			src = SourceDefault
		}
		out = append(out, Setting{
			Env:    s.env,
			Flag:   s.flagName(),
			Value:  c.show(s),
			Source: src,
			Secret: s.kind == secret,
		})
	}
	return out
}

// show formats the field of s for people, redacting secrets.
func (c *Config) show(s setting) string {
	v := reflect.ValueOf(c).Elem().FieldByName(s.field)
	if s.kind == secret {
		if v.Len() == 0 { // every secret is a string or slice
			return "[not set]"
		}
		return "[set]"
	}
	switch p := v.Addr().Interface().(type) {
	case *string:
		if s.kind == link {
			return redactURL(*p)
		}
		return *p
	case *[]string:
		return strings.Join(*p, ",")
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *time.Duration:
		return formatDuration(*p)
	case *slog.Level:
		return strings.ToLower(p.String())
	}
	// Anything else could hold key material: show nothing rather than risk it.
	return "[set]"
}

// redactURL hides a password in a URL; a string that does not parse is
// hidden whole, since it may be a URL with a password that failed to parse.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable]"
	}
	return u.Redacted()
}

// formatDuration writes 12h rather than 12h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// LogValue logs every setting with secrets redacted, under the variable's
// name in lower case without the prefix (public_url, redis_password).
func (c *Config) LogValue() slog.Value {
	settings := c.Redacted()
	attrs := make([]slog.Attr, 0, len(settings))
	for _, s := range settings {
		attrs = append(attrs, slog.String(strings.ToLower(strings.TrimPrefix(s.Env, "WAYMARK_")), s.Value))
	}
	return slog.GroupValue(attrs...)
}

// String returns the settings with secrets redacted.
func (c *Config) String() string { return c.LogValue().String() }

// Format prints the redacted settings for every verb (including %#v and
// %+v, which would otherwise print the secret fields). It has a value
// receiver so that a Config value, not only a pointer, is covered.
func (c Config) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// MarshalJSON writes the redacted settings as an object keyed like
// LogValue, so marshalling a Config never writes a secret. It has a value
// receiver for the same reason as Format.
func (c Config) MarshalJSON() ([]byte, error) {
	m := make(map[string]string)
	for _, s := range c.Redacted() {
		m[strings.ToLower(strings.TrimPrefix(s.Env, "WAYMARK_"))] = s.Value
	}
	return json.Marshal(m)
}

// Warnings returns problems worth telling the operator that do not stop
// Waymark starting.
func (c *Config) Warnings() []string {
	var out []string
	if u, err := url.Parse(c.AppURL); c.AppURL != "" && err == nil {
		if words := revealingWords(u.Hostname()); len(words) > 0 {
			out = append(out, fmt.Sprintf("WAYMARK_APP_URL: host %q contains %s, which can reveal what the app is for to anyone who sees the phone; use a neutral name",
				u.Hostname(), quoteList(words)))
		}
	}
	if host, _, err := net.SplitHostPort(c.MetricsAddr); err == nil && !loopbackHost(host) {
		out = append(out, "WAYMARK_METRICS_ADDR: /metrics is served beyond loopback; its counters move differently for duress and for enrolled numbers, so keep it to a private network")
	}
	if host, _, err := net.SplitHostPort(c.AppAddr); c.AppAddr != "" && c.AppURL == "" && err == nil && !loopbackHost(host) {
		out = append(out, "WAYMARK_APP_URL: not set, so enrolment links name the app listener's own address ("+c.AppAddr+"); set the neutral public URL survivors' phones reach it at")
	}
	if c.InsecureCookies {
		out = append(out, "WAYMARK_INSECURE_COOKIES: session cookies are sent over plain http; development only")
	}
	if c.Ephemeral && !c.Embedded() {
		out = append(out, "WAYMARK_EPHEMERAL: has no effect with a configured Redis")
	}
	if c.TwilioAuthToken != "" && c.TwilioFrom == "" && c.TwilioMessagingServiceSID == "" {
		out = append(out, "WAYMARK_TWILIO_FROM: not set, nor WAYMARK_TWILIO_MESSAGING_SERVICE_SID: responders cannot be paged by SMS")
	}
	if c.TwilioPreviousAuthToken != "" {
		out = append(out, "WAYMARK_TWILIO_PREVIOUS_AUTH_TOKEN: webhooks signed with the old token are still accepted; remove it once rotation is done")
	}
	return out
}

// loopbackHost reports whether host is a loopback address or localhost.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// revealingWords returns the words in host that say what a disguised app is
// for: the one list the app listener never serves (package words), by its
// rule (long words anywhere, short ones where a word starts, "dv" only as
// a whole word), so davidvaughan.example or lasso.example do not trip it.
func revealingWords(host string) []string {
	return words.InHost(host)
}

func quoteList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, ", ")
}

// Usage writes the whole configuration surface: every flag and variable,
// its default and allowed range, and which settings are secrets.
func Usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`Configuration: every setting is a flag or a WAYMARK_* environment variable.
A flag wins over its variable, which wins over the default. Secrets are never
flags: set the variable, or VAR_FILE to a file holding the value.
`)
	ct := reflect.TypeFor[Config]()
	for _, g := range groups() {
		fmt.Fprintf(&b, "\n%s\n", g.title)
		for _, s := range g.settings {
			var extra []string
			if s.kind == secret {
				fmt.Fprintf(&b, "  %s, %s_FILE", s.env, s.env)
				extra = append(extra, "secret: env or _FILE only")
			} else {
				fmt.Fprintf(&b, "  --%s, %s", s.flagName(), s.env)
				if s.def != "" {
					extra = append(extra, "default "+strconv.Quote(s.def))
				}
			}
			if f, ok := ct.FieldByName(s.field); ok {
				if r := bounds(f); r != "" {
					extra = append(extra, r)
				}
			}
			if len(extra) > 0 {
				fmt.Fprintf(&b, "  (%s)", strings.Join(extra, "; "))
			}
			fmt.Fprintf(&b, "\n      %s\n", s.help)
		}
	}
	io.WriteString(w, b.String())
}

// bounds describes a numeric or duration field's min and max tags, so the
// ranges shown are the ones enforced.
func bounds(f reflect.StructField) string {
	if f.Type != reflect.TypeFor[time.Duration]() && f.Type.Kind() != reflect.Int {
		return ""
	}
	var lo, hi string
	for t := range strings.SplitSeq(f.Tag.Get("validate"), ",") {
		if v, ok := strings.CutPrefix(t, "min="); ok {
			lo = v
		}
		if v, ok := strings.CutPrefix(t, "max="); ok {
			hi = v
		}
	}
	if lo == "" || hi == "" {
		return ""
	}
	return lo + " to " + hi
}
