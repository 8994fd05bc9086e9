package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"waymark/seal"
)

// Config is every Waymark setting, parsed and checked. Load returns one; a
// zero Config is not valid. Secrets are plain fields so callers can use them,
// but Config and seal.Key redact them when logged or formatted.
type Config struct {
	Addr            string   `validate:"hostport"`
	AppAddr         string   `validate:"omitempty,hostport"`
	MetricsAddr     string   `validate:"hostport"`
	PublicURL       string   `validate:"omitempty,baseurl"`
	AppURL          string   `validate:"omitempty,baseurl"`
	Tenant          string   `validate:"required,tenant"`
	AllowedOrigins  []string `validate:"dive,origin"`
	TrustedProxies  []string `validate:"dive,proxy"`
	InsecureCookies bool
	DirectoryPublic bool
	ShutdownTimeout time.Duration `validate:"min=1s,max=10m"`

	// ORUKAPI serves GET /oruk/services; DirectorySyncURL is pulled every
	// DirectorySyncInterval when set.
	ORUKAPI               bool
	DirectorySyncURL      string        `validate:"omitempty,baseurl"`
	DirectorySyncInterval time.Duration `validate:"min=1m,max=720h"`

	RedisURL            string   `validate:"omitempty,redisurl"`
	RedisSentinelMaster string   `validate:"omitempty,max=128,printascii"`
	RedisSentinelAddrs  []string `validate:"dive,hostport=remote"`
	RedisClusterAddrs   []string `validate:"dive,hostport=remote"`
	RedisUsername       string   `validate:"omitempty,max=128,printascii"`
	RedisPassword       string
	RedisTLS            bool
	RedisTLSCAFile      string `validate:"omitempty,cafile"`

	// Keys are the sealing (key-encryption) keys; Keys[0] is active.
	Keys          []seal.Key
	IndexKey      []byte `validate:"omitempty,min=32"`
	PINKey        []byte `validate:"omitempty,min=32"`
	ExpectedCases int    `validate:"min=1,max=100000000"`

	TwilioAccountSID          string `validate:"omitempty,sid=AC"`
	TwilioAuthToken           string
	TwilioPreviousAuthToken   string
	TwilioFrom                string `validate:"omitempty,e164strict"`
	TwilioSurvivorFrom        string `validate:"omitempty,e164strict,nefield=TwilioFrom"`
	TwilioDirectoryNumber     string `validate:"omitempty,e164strict,nefield=TwilioFrom,nefield=TwilioSurvivorFrom"`
	TwilioMessagingServiceSID string `validate:"omitempty,sid=MG"`
	TwilioOptOutReviewed      bool
	TwilioAPIURL              string `validate:"omitempty,baseurl"`

	SMSReply       string   `validate:"max=160"`
	SMSCheckinWord string   `validate:"required,word"`
	SMSCodeWords   []string `validate:"dive,word"`
	TriageTeam     string   `validate:"required,teamid"`

	FallbackPhone       string        `validate:"omitempty,e164strict"`
	FallbackName        string        `validate:"max=80,printascii"`
	NoFallbackReason    string        `validate:"max=200"`
	AuditorInterval     time.Duration `validate:"min=5s,max=10m"`
	AuditorHeartbeatURL string        `validate:"omitempty,baseurl"`

	VAPIDPublicKey   string   `validate:"omitempty,max=200,printascii"`
	VAPIDPrivateKey  string   `validate:"omitempty,max=200"`
	VAPIDSubject     string   `validate:"omitempty,max=200,vapidsubject"`
	PushAllowedHosts []string `validate:"dive,pushhost"`

	SessionLifetime time.Duration `validate:"min=5m,max=168h"`
	SessionIdle     time.Duration `validate:"min=1m,max=24h,ltefield=SessionLifetime"`
	CancelWindow    time.Duration `validate:"min=5s,max=1h"`
	AckTimeout      time.Duration `validate:"min=1m,max=24h"`
	RetentionAlerts time.Duration `validate:"min=24h,max=87600h"`
	RetentionAudit  time.Duration `validate:"min=24h,max=87600h"`
	RetentionEvents time.Duration `validate:"min=1h,max=2160h"`
	CaseLifetime    time.Duration `validate:"min=24h,max=87600h"`

	CaseEndpoint       string `validate:"omitempty,baseurl"`
	CaseEndpointSecret string `validate:"omitempty,min=32"`
	AuditKey           []byte `validate:"omitempty,min=32"`
	AuditKeysRetired   []string
	GapSampleInterval  time.Duration `validate:"min=1m,max=1h"`

	Ephemeral bool

	LogLevel  slog.Level
	LogFormat string `validate:"oneof=json text"`

	// sources records where each setting came from, by variable name.
	sources map[string]Source
}

// Source is where a setting's effective value came from.
type Source string

// The places a setting can come from, highest precedence first.
const (
	SourceFlag    Source = "flag"
	SourceEnv     Source = "env"
	SourceFile    Source = "file"
	SourceDefault Source = "default"
)

// FieldError is one bad setting: Setting is the variable's name (or its
// _FILE variant), Problem says which rule it broke. Neither ever holds a
// secret.
type FieldError struct {
	Setting string
	Problem string
}

// Error returns "SETTING: problem".
func (e FieldError) Error() string { return e.Setting + ": " + e.Problem }

// Errors is every bad setting Load found, one per setting, in table order.
type Errors []FieldError

// Error returns one line per bad setting.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Embedded reports whether no Redis is configured, so Waymark runs its
// embedded in-memory one.
// ProductionProblems are settings a server with a real Redis must not
// start without; serve and config check refuse them (the embedded demo is
// exempt): every escalation must end in a person.
func (c *Config) ProductionProblems() []string {
	if c.Embedded() {
		return nil
	}
	var p []string
	if c.FallbackPhone == "" && strings.TrimSpace(c.NoFallbackReason) == "" {
		p = append(p, `WAYMARK_FALLBACK_PHONE: required with a real Redis: every escalation must end in a person who takes it (a 24/7 out-of-hours service or duty line); if there truly is none, say why with --no-fallback-reason "…" (WAYMARK_NO_FALLBACK_REASON)`)
	}
	return p
}

func (c *Config) Embedded() bool {
	return c.RedisURL == "" && len(c.RedisSentinelAddrs) == 0 && len(c.RedisClusterAddrs) == 0
}

// Load reads the configuration from args (the arguments after the
// subcommand) and the environment. It returns flag.ErrHelp unchanged for -h
// so the caller can print Usage, an Errors listing every bad setting, or
// another error for a malformed command line.
func Load(args []string, getenv func(string) string) (*Config, error) {
	fs := flag.NewFlagSet("waymark", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		// The argument itself is not quoted: it may be a secret pasted in
		// the wrong place.
		return nil, fmt.Errorf("config: unexpected argument %d; settings are --flags or WAYMARK_* variables", len(args)-fs.NArg()+1)
	}
	return f.Load(getenv)
}

// Flags is the configuration's flags on a flag.FlagSet. Subcommands with
// flags of their own use AddFlags and Flags.Load instead of Load.
type Flags struct {
	values map[string]*flagValue // by variable name
}

// AddFlags defines a flag on fs for every setting that is not a secret and
// returns the handle that Load reads them back through after fs.Parse.
func AddFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{values: make(map[string]*flagValue)}
	for _, s := range table() {
		name := s.flagName()
		if name == "" {
			continue
		}
		v := &flagValue{s: s.def, isBool: fieldType(s.field) == reflect.TypeFor[bool]()}
		f.values[s.env] = v
		fs.Var(v, name, s.help+" (env "+s.env+")")
	}
	return f
}

// flagValue keeps a flag's text as given: parsing it is Load's job, so a bad
// flag value gets the same message as a bad variable, alongside the others.
type flagValue struct {
	s      string
	set    bool
	isBool bool
}

func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.s
}

func (v *flagValue) Set(s string) error {
	v.s, v.set = s, true
	return nil
}

func (v *flagValue) IsBoolFlag() bool { return v.isBool }

// Load builds the Config from the parsed flags, getenv and defaults, and
// checks it. See the package doc for precedence.
func (f *Flags) Load(getenv func(string) string) (*Config, error) {
	all := table()
	errs := newCollector(all)
	c := &Config{sources: make(map[string]Source, len(all))}
	for _, s := range all {
		raw, src, ok := f.lookup(s, getenv, errs)
		if !ok {
			raw, src = s.def, SourceDefault
		}
		c.sources[s.env] = src
		if problem := parse(c, s, raw); problem != "" {
			errs.add(s.env, s.env, problem)
			// Fall back to the default so later checks do not report a
			// second, confusing problem caused by this one.
			parse(c, s, s.def)
		}
	}
	normalise(c)
	check(c, errs)
	if e := errs.result(); len(e) > 0 {
		return nil, e
	}
	return c, nil
}

// lookup finds the text of s by precedence. ok is false when s is not given
// (or cannot be read, which is reported to errs).
func (f *Flags) lookup(s setting, getenv func(string) string, errs *collector) (raw string, src Source, ok bool) {
	if v := f.values[s.env]; v != nil && v.set {
		return v.s, SourceFlag, true
	}
	env := getenv(s.env)
	if s.kind != secret {
		return env, SourceEnv, env != ""
	}
	file := getenv(s.env + "_FILE")
	switch {
	case env != "" && file != "":
		errs.add(s.env, s.env, "set both "+s.env+" and "+s.env+"_FILE; use one")
		return "", "", false
	case env != "":
		return env, SourceEnv, true
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			errs.add(s.env, s.env+"_FILE", "cannot read the file: "+describeFileError(err))
			return "", "", false
		}
		v := strings.TrimRight(string(b), "\r\n")
		if strings.TrimSpace(v) == "" {
			errs.add(s.env, s.env+"_FILE", "the file is empty")
			return "", "", false
		}
		return v, SourceFile, true
	}
	return "", "", false
}

// describeFileError says why a file could not be read without repeating
// anything from inside it.
func describeFileError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// fieldType is the type of Config's field name; it panics on a name that is
// not a field, which the tests catch.
func fieldType(name string) reflect.Type {
	f, ok := reflect.TypeFor[Config]().FieldByName(name)
	if !ok {
		panic("config: no Config field " + name)
	}
	return f.Type
}

// parse sets the field of s in c from raw, by the field's type. It returns a
// problem, never quoting raw (it may be a secret).
func parse(c *Config, s setting, raw string) string {
	if s.kind != secret {
		raw = strings.TrimSpace(raw)
	}
	switch p := reflect.ValueOf(c).Elem().FieldByName(s.field).Addr().Interface().(type) {
	case *string:
		if s.kind == link {
			raw = strings.TrimRight(raw, "/")
		}
		*p = raw
	case *[]string:
		*p = splitList(raw)
	case *bool:
		if raw == "" {
			*p = false
			return ""
		}
		b, ok := parseBool(raw)
		if !ok {
			return "must be true or false"
		}
		*p = b
	case *int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return "must be a whole number"
		}
		*p = n
	case *time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return "must be a duration such as 30s, 15m or 12h"
		}
		*p = d
	case *slog.Level:
		l, ok := levels()[strings.ToLower(raw)]
		if !ok {
			return "must be one of debug, info, warn, error"
		}
		*p = l
	case *[]byte:
		*p = nil
		if raw == "" {
			return ""
		}
		b, ok := decodeBase64(strings.TrimSpace(raw))
		if !ok {
			return "must be base64"
		}
		*p = b
	case *[]seal.Key:
		*p = nil
		if strings.TrimSpace(raw) == "" {
			return ""
		}
		keys, err := parseKeys(raw)
		if err != nil {
			return err.Error()
		}
		*p = keys
	default:
		panic(fmt.Sprintf("config: field %s has unsupported type %T", s.field, p))
	}
	return ""
}

// parseBool accepts what strconv.ParseBool does and the yes/no, on/off that
// env files often use.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes", "on":
		return true, true
	case "no", "off":
		return false, true
	}
	b, err := strconv.ParseBool(s)
	return b, err == nil
}

func levels() map[string]slog.Level {
	return map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
}

// splitList splits a comma list, dropping blanks so trailing commas are
// harmless.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// normalise puts values in the form the rest of Waymark compares against.
func normalise(c *Config) {
	for i, o := range c.AllowedOrigins {
		c.AllowedOrigins[i] = strings.ToLower(strings.TrimRight(o, "/"))
	}
}

// collector gathers problems, keeping the first per setting and reporting
// them in table order.
type collector struct {
	order map[string]int        // variable → table position
	found map[string]FieldError // variable → its first problem
}

func newCollector(all []setting) *collector {
	c := &collector{order: make(map[string]int, len(all)), found: make(map[string]FieldError)}
	for i, s := range all {
		c.order[s.env] = i
	}
	return c
}

// add records problem for the setting whose variable is env, reported under
// name (env itself or its _FILE variant), unless that setting already has one.
func (c *collector) add(env, name, problem string) {
	if _, ok := c.found[env]; ok {
		return
	}
	c.found[env] = FieldError{Setting: name, Problem: problem}
}

func (c *collector) has(env string) bool {
	_, ok := c.found[env]
	return ok
}

func (c *collector) result() Errors {
	var out Errors
	envs := make([]string, 0, len(c.found))
	for env := range c.found {
		envs = append(envs, env)
	}
	// Table order: stable, and the order an operator reads Usage in.
	slices.SortFunc(envs, func(a, b string) int { return c.order[a] - c.order[b] })
	for _, env := range envs {
		out = append(out, c.found[env])
	}
	return out
}
