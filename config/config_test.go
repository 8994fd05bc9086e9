package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"waymark/seal"
)

// env is a map-backed getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// with returns a copy of e with more set.
func (e env) with(more env) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// testKey is 32 (or n) bytes of b, base64.
func testKey(b byte) string { return testKeyN(b, KeySize) }

func testKeyN(b byte, n int) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, n))
}

// realRedis is a valid configuration for a real Redis.
func realRedis() env {
	return env{
		"WAYMARK_REDIS_URL":  "redis://redis.internal:6379/0",
		"WAYMARK_KEYS":       "k2:" + testKey(2) + ",k1:" + testKey(1),
		"WAYMARK_INDEX_KEY":  testKey(3),
		"WAYMARK_PIN_KEY":    testKey(4),
		"WAYMARK_PUBLIC_URL": "https://hooks.example.org",
	}
}

// twilio is a valid Twilio configuration (needs a public URL).
func twilio() env {
	return env{
		"WAYMARK_TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("0a", 16),
		"WAYMARK_TWILIO_AUTH_TOKEN":  "tok-0123456789abcdef",
		"WAYMARK_TWILIO_FROM":        "+447700900001",
		"WAYMARK_PUBLIC_URL":         "https://hooks.example.org",
	}
}

// lines returns the problem lines of err, failing the test if err is not Errors.
func lines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v (%T) is not config.Errors", err, err)
	}
	if got, want := err.Error(), strings.Join(linesOf(errs), "\n"); got != want {
		t.Errorf("Error() = %q, want the lines joined: %q", got, want)
	}
	return linesOf(errs)
}

func linesOf(errs Errors) []string {
	var out []string
	for _, fe := range errs {
		out = append(out, fe.Error())
	}
	return out
}

func TestDefaults(t *testing.T) {
	// Only getenv is read: the process environment must not leak in.
	t.Setenv("WAYMARK_ADDR", "0.0.0.0:1")
	t.Setenv("WAYMARK_REDIS_URL", "redis://leak:6379")
	c, err := Load(nil, env{}.get)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		Addr:            "127.0.0.1:8080",
		MetricsAddr:     "127.0.0.1:0",
		Tenant:          "default",
		ShutdownTimeout: 15 * time.Second,
		ExpectedCases:   5000,
		SMSCheckinWord:  "OK",
		TriageTeam:      "triage",
		PushAllowedHosts: []string{"fcm.googleapis.com", "updates.push.services.mozilla.com",
			"web.push.apple.com", "*.notify.windows.com"},
		SessionLifetime:   12 * time.Hour,
		SessionIdle:       time.Hour,
		CancelWindow:      30 * time.Second,
		AckTimeout:        15 * time.Minute,
		AuditorInterval:   30 * time.Second,
		RetentionAlerts:   90 * 24 * time.Hour,
		RetentionAudit:    2 * 365 * 24 * time.Hour,
		RetentionEvents:   7 * 24 * time.Hour,
		CaseLifetime:      180 * 24 * time.Hour,
		GapSampleInterval: 5 * time.Minute,
		LogLevel:          slog.LevelInfo,
		LogFormat:         "json",
	}
	want.DirectorySyncInterval = 24 * time.Hour
	if diff := cmp.Diff(want, *c, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if !c.Embedded() {
		t.Error("Embedded() = false with no Redis configured")
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("Warnings() = %q, want none", w)
	}
	for _, s := range c.Redacted() {
		if s.Source != SourceDefault {
			t.Errorf("%s: source %q, want default", s.Env, s.Source)
		}
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := realRedis().with(env{
		"WAYMARK_ADDR":                "10.0.0.1:9000",
		"WAYMARK_TENANT":              "from-env",
		"WAYMARK_LOG_LEVEL":           "debug",
		"WAYMARK_REDIS_PASSWORD_FILE": pw,
		"WAYMARK_INSECURE_COOKIES":    "true",
	})
	c, err := Load([]string{"--addr", "127.0.0.1:0", "-insecure-cookies=false", "--session-idle=30m"}, e.get)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		got, want any
	}{
		{c.Addr, "127.0.0.1:0"},                         // flag beats env
		{c.InsecureCookies, false},                      // flag beats env, bool flag
		{c.SessionIdle, 30 * time.Minute},               // flag beats default
		{c.Tenant, "from-env"},                          // env beats default
		{c.LogLevel, slog.LevelDebug},                   // env, typed
		{c.RedisPassword, "from-file"},                  // file, newline trimmed
		{c.LogFormat, "json"},                           // default
		{c.Keys[0].ID, "k2"},                            // first key active
		{c.Embedded(), false},                           // a Redis URL
		{c.PublicURL, "https://hooks.example.org"},      // trailing slash not added
		{c.Keys[1].Secret, bytes.Repeat([]byte{1}, 32)}, // decoded
	}
	for i, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%d: (-want +got):\n%s", i, diff)
		}
	}
	sources := map[string]Source{}
	for _, s := range c.Redacted() {
		sources[s.Env] = s.Source
	}
	wantSources := map[string]Source{
		"WAYMARK_ADDR":             SourceFlag,
		"WAYMARK_INSECURE_COOKIES": SourceFlag,
		"WAYMARK_TENANT":           SourceEnv,
		"WAYMARK_REDIS_PASSWORD":   SourceFile,
		"WAYMARK_KEYS":             SourceEnv,
		"WAYMARK_LOG_FORMAT":       SourceDefault,
	}
	for k, want := range wantSources {
		if sources[k] != want {
			t.Errorf("source of %s = %q, want %q", k, sources[k], want)
		}
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keys := write("keys", "k1:"+testKey(1)+"\nk0:"+testKey(9)+"\r\n")
	index := write("index", testKey(3)+"\n")
	pin := write("pin", testKey(4)+"\r\n")
	empty := write("empty", "\n")

	t.Run("read and trimmed", func(t *testing.T) {
		e := env{
			"WAYMARK_REDIS_URL":       "redis://r:6379",
			"WAYMARK_KEYS_FILE":       keys,
			"WAYMARK_INDEX_KEY_FILE":  index,
			"WAYMARK_PIN_KEY_FILE":    pin,
			"WAYMARK_REDIS_PASSWORD":  "pw",
			"WAYMARK_ALLOWED_ORIGINS": "https://dash.example.org/",
		}
		c, err := Load(nil, e.get)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got := []string{c.Keys[0].ID, c.Keys[1].ID}; !cmp.Equal(got, []string{"k1", "k0"}) {
			t.Errorf("key ids = %q", got)
		}
		if !bytes.Equal(c.IndexKey, bytes.Repeat([]byte{3}, 32)) || !bytes.Equal(c.PINKey, bytes.Repeat([]byte{4}, 32)) {
			t.Error("index or PIN key not read from its file")
		}
		if got, want := c.AllowedOrigins, []string{"https://dash.example.org"}; !cmp.Equal(got, want) {
			t.Errorf("AllowedOrigins = %q, want %q", got, want)
		}
	})

	tests := []struct {
		name string
		env  env
		want []string
	}{
		{"both set", env{"WAYMARK_TWILIO_AUTH_TOKEN": "tok", "WAYMARK_TWILIO_AUTH_TOKEN_FILE": keys},
			[]string{"WAYMARK_TWILIO_AUTH_TOKEN: set both WAYMARK_TWILIO_AUTH_TOKEN and WAYMARK_TWILIO_AUTH_TOKEN_FILE; use one"}},
		{"missing file", env{"WAYMARK_TWILIO_AUTH_TOKEN_FILE": filepath.Join(dir, "nope"), "WAYMARK_TWILIO_ACCOUNT_SID": "AC" + strings.Repeat("0", 32), "WAYMARK_PUBLIC_URL": "https://h.example"},
			[]string{"WAYMARK_TWILIO_AUTH_TOKEN_FILE: cannot read the file: no such file or directory"}},
		{"empty file", env{"WAYMARK_PIN_KEY_FILE": empty},
			[]string{"WAYMARK_PIN_KEY_FILE: the file is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(nil, tt.env.get)
			if diff := cmp.Diff(tt.want, lines(t, err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		https    = "must be an absolute https URL"
		httpOnly = "must be an absolute https URL; http is allowed only for localhost, 127.0.0.0/8 and ::1"
		keysNew  = "required with a real Redis; run `waymark keys new` to make keys"
		noRedis  = "set, but no Redis is configured (WAYMARK_REDIS_URL, WAYMARK_REDIS_SENTINEL_ADDRS or WAYMARK_REDIS_CLUSTER_ADDRS); unset it to use the embedded Redis"
	)
	tests := []struct {
		name string
		args []string
		env  env
		want string
	}{
		{"addr", nil, env{"WAYMARK_ADDR": "nope"}, "WAYMARK_ADDR: must be host:port, e.g. 127.0.0.1:8080"},
		{"addr port", nil, env{"WAYMARK_ADDR": "127.0.0.1:70000"}, "WAYMARK_ADDR: port must be a number from 0 to 65535"},
		{"addr host", nil, env{"WAYMARK_ADDR": "bad_host!:80"}, "WAYMARK_ADDR: host is not a valid host name or IP address"},
		{"public url scheme", nil, env{"WAYMARK_PUBLIC_URL": "ftp://hooks.example.org"}, "WAYMARK_PUBLIC_URL: " + https},
		{"public url relative", nil, env{"WAYMARK_PUBLIC_URL": "hooks.example.org"}, "WAYMARK_PUBLIC_URL: " + https},
		{"public url http", nil, env{"WAYMARK_PUBLIC_URL": "http://hooks.example.org"}, "WAYMARK_PUBLIC_URL: " + httpOnly},
		{"public url query", nil, env{"WAYMARK_PUBLIC_URL": "https://hooks.example.org/?a=1"}, "WAYMARK_PUBLIC_URL: must not have a query or fragment"},
		{"public url fragment", nil, env{"WAYMARK_PUBLIC_URL": "https://hooks.example.org/#top"}, "WAYMARK_PUBLIC_URL: must not have a query or fragment"},
		{"public url user", nil, env{"WAYMARK_PUBLIC_URL": "https://u:p@hooks.example.org"}, "WAYMARK_PUBLIC_URL: must not contain a user name or password"},
		{"app url http", nil, env{"WAYMARK_APP_URL": "http://weather.example"}, "WAYMARK_APP_URL: " + httpOnly},
		{"tenant case", nil, env{"WAYMARK_TENANT": "Default"}, "WAYMARK_TENANT: must be 1 to 32 of a-z, 0-9 and -, starting with a letter"},
		{"tenant long", nil, env{"WAYMARK_TENANT": strings.Repeat("a", 33)}, "WAYMARK_TENANT: must be 1 to 32 of a-z, 0-9 and -, starting with a letter"},
		{"tenant digits", nil, env{"WAYMARK_TENANT": "south-2024"}, "WAYMARK_TENANT: must not contain 4 or more digits in a row"},
		{"tenant empty flag", []string{"--tenant", ""}, env{}, "WAYMARK_TENANT: must be set"},
		{"origins path", nil, env{"WAYMARK_ALLOWED_ORIGINS": "https://a.example,https://b.example/app"}, "WAYMARK_ALLOWED_ORIGINS: item 2: must be an origin, scheme://host[:port] with no path"},
		{"proxy not an address", nil, env{"WAYMARK_TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, "WAYMARK_TRUSTED_PROXIES: item 2: must be IP addresses or CIDR prefixes, e.g. 10.0.0.0/8 or 127.0.0.1"},
		{"proxy bad prefix", nil, env{"WAYMARK_TRUSTED_PROXIES": "10.0.0.0/33"}, "WAYMARK_TRUSTED_PROXIES: item 1: must be IP addresses or CIDR prefixes, e.g. 10.0.0.0/8 or 127.0.0.1"},
		{"origins http", nil, env{"WAYMARK_ALLOWED_ORIGINS": "http://192.168.1.5:8080"}, "WAYMARK_ALLOWED_ORIGINS: item 1: http is allowed only for loopback hosts or with WAYMARK_INSECURE_COOKIES=true; use https"},
		{"insecure cookies", nil, env{"WAYMARK_INSECURE_COOKIES": "perhaps"}, "WAYMARK_INSECURE_COOKIES: must be true or false"},
		{"shutdown", nil, env{"WAYMARK_SHUTDOWN_TIMEOUT": "0s"}, "WAYMARK_SHUTDOWN_TIMEOUT: must be at least 1s"},

		{"redis scheme", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "http://redis.internal"}), "WAYMARK_REDIS_URL: must be a redis://, rediss:// or unix:// URL"},
		{"redis host", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "redis://:hunter2hunter2@"}), "WAYMARK_REDIS_URL: must name a host, e.g. redis://redis.internal:6379/0"},
		{"redis db", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "redis://redis.internal:6379/cache"}), "WAYMARK_REDIS_URL: database must be a number, e.g. redis://redis.internal:6379/0"},
		{"redis unix", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "unix://"}), "WAYMARK_REDIS_URL: must give the socket path, e.g. unix:///run/redis/redis.sock"},
		{"redis two modes", nil, realRedis().with(env{"WAYMARK_REDIS_SENTINEL_MASTER": "m", "WAYMARK_REDIS_SENTINEL_ADDRS": "s1:26379"}),
			"WAYMARK_REDIS_SENTINEL_ADDRS: only one of WAYMARK_REDIS_URL, WAYMARK_REDIS_SENTINEL_ADDRS and WAYMARK_REDIS_CLUSTER_ADDRS may be set"},
		{"sentinel master alone", nil, env{"WAYMARK_REDIS_SENTINEL_MASTER": "mymaster"}, "WAYMARK_REDIS_SENTINEL_ADDRS: required with WAYMARK_REDIS_SENTINEL_MASTER"},
		{"sentinel addrs alone", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "", "WAYMARK_REDIS_SENTINEL_ADDRS": "s1:26379"}), "WAYMARK_REDIS_SENTINEL_MASTER: required with WAYMARK_REDIS_SENTINEL_ADDRS"},
		{"sentinel addr", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "", "WAYMARK_REDIS_SENTINEL_MASTER": "m", "WAYMARK_REDIS_SENTINEL_ADDRS": "s1:26379, s2"}), "WAYMARK_REDIS_SENTINEL_ADDRS: item 2: must be host:port, e.g. redis-1.internal:26379"},
		{"cluster addr", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "", "WAYMARK_REDIS_CLUSTER_ADDRS": ":6379"}), "WAYMARK_REDIS_CLUSTER_ADDRS: item 1: must name a host, e.g. redis-1.internal:26379"},
		{"cluster port", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "", "WAYMARK_REDIS_CLUSTER_ADDRS": "c1:0"}), "WAYMARK_REDIS_CLUSTER_ADDRS: item 1: port must be a number from 1 to 65535"},
		{"redis password without redis", nil, env{"WAYMARK_REDIS_PASSWORD": "pw"}, "WAYMARK_REDIS_PASSWORD: " + noRedis},
		{"redis username without redis", nil, env{"WAYMARK_REDIS_USERNAME": "waymark"}, "WAYMARK_REDIS_USERNAME: " + noRedis},
		{"redis password twice", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "redis://:pw@r:6379", "WAYMARK_REDIS_PASSWORD": "pw2"}), "WAYMARK_REDIS_PASSWORD: WAYMARK_REDIS_URL already has a password; give it in one place"},
		{"redis tls unix", nil, realRedis().with(env{"WAYMARK_REDIS_URL": "unix:///run/redis.sock", "WAYMARK_REDIS_TLS": "true"}), "WAYMARK_REDIS_TLS: cannot be used with a unix:// WAYMARK_REDIS_URL"},
		{"redis tls bool", nil, realRedis().with(env{"WAYMARK_REDIS_TLS": "sometimes"}), "WAYMARK_REDIS_TLS: must be true or false"},
		{"redis ca missing", nil, realRedis().with(env{"WAYMARK_REDIS_TLS": "true", "WAYMARK_REDIS_TLS_CA_FILE": filepath.Join(dir, "none.pem")}), "WAYMARK_REDIS_TLS_CA_FILE: cannot read the file: no such file or directory"},
		{"redis ca not pem", nil, realRedis().with(env{"WAYMARK_REDIS_TLS": "true", "WAYMARK_REDIS_TLS_CA_FILE": notPEM}), "WAYMARK_REDIS_TLS_CA_FILE: must be a PEM file with at least one certificate"},

		{"keys required", nil, realRedis().with(env{"WAYMARK_KEYS": ""}), "WAYMARK_KEYS: " + keysNew},
		{"index key required", nil, realRedis().with(env{"WAYMARK_INDEX_KEY": ""}), "WAYMARK_INDEX_KEY: " + keysNew},
		{"pin key required", nil, realRedis().with(env{"WAYMARK_PIN_KEY": ""}), "WAYMARK_PIN_KEY: " + keysNew},
		{"index key short", nil, env{"WAYMARK_INDEX_KEY": testKeyN(3, 16)}, "WAYMARK_INDEX_KEY: must be at least 32 bytes after base64 decoding"},
		{"pin key base64", nil, env{"WAYMARK_PIN_KEY": "not base64!"}, "WAYMARK_PIN_KEY: must be base64"},
		{"index equals pin", nil, env{"WAYMARK_INDEX_KEY": testKey(5), "WAYMARK_PIN_KEY": testKey(5)}, "WAYMARK_INDEX_KEY: must differ from WAYMARK_PIN_KEY"},
		{"pin equals sealing", nil, realRedis().with(env{"WAYMARK_PIN_KEY": testKey(1)}), `WAYMARK_PIN_KEY: must differ from sealing key "k1" in WAYMARK_KEYS`},
		{"expected cases low", nil, env{"WAYMARK_EXPECTED_CASES": "0"}, "WAYMARK_EXPECTED_CASES: must be at least 1"},
		{"expected cases high", nil, env{"WAYMARK_EXPECTED_CASES": "100000001"}, "WAYMARK_EXPECTED_CASES: must be at most 100000000"},
		{"expected cases text", nil, env{"WAYMARK_EXPECTED_CASES": "lots"}, "WAYMARK_EXPECTED_CASES: must be a whole number"},

		{"account sid", nil, twilio().with(env{"WAYMARK_TWILIO_ACCOUNT_SID": "AC123"}), "WAYMARK_TWILIO_ACCOUNT_SID: must be AC followed by 32 hex digits"},
		{"account sid prefix", nil, twilio().with(env{"WAYMARK_TWILIO_ACCOUNT_SID": "MG" + strings.Repeat("a", 32)}), "WAYMARK_TWILIO_ACCOUNT_SID: must be AC followed by 32 hex digits"},
		{"auth token missing", nil, twilio().with(env{"WAYMARK_TWILIO_AUTH_TOKEN": ""}), "WAYMARK_TWILIO_AUTH_TOKEN: required with WAYMARK_TWILIO_ACCOUNT_SID"},
		{"account sid missing", nil, twilio().with(env{"WAYMARK_TWILIO_ACCOUNT_SID": ""}), "WAYMARK_TWILIO_ACCOUNT_SID: required with WAYMARK_TWILIO_AUTH_TOKEN"},
		{"previous token alone", nil, env{"WAYMARK_TWILIO_PREVIOUS_AUTH_TOKEN": "old"}, "WAYMARK_TWILIO_PREVIOUS_AUTH_TOKEN: needs WAYMARK_TWILIO_AUTH_TOKEN"},
		{"public url for twilio", nil, twilio().with(env{"WAYMARK_PUBLIC_URL": ""}), "WAYMARK_PUBLIC_URL: required with WAYMARK_TWILIO_AUTH_TOKEN: Twilio signs its webhooks over this URL"},
		{"from", nil, twilio().with(env{"WAYMARK_TWILIO_FROM": "07700 900001"}), "WAYMARK_TWILIO_FROM: must be an E.164 number: + and 7 to 15 digits, no spaces"},
		{"from without account", nil, env{"WAYMARK_TWILIO_FROM": "+447700900001"}, "WAYMARK_TWILIO_FROM: needs WAYMARK_TWILIO_ACCOUNT_SID and WAYMARK_TWILIO_AUTH_TOKEN"},
		{"survivor from", nil, twilio().with(env{"WAYMARK_TWILIO_SURVIVOR_FROM": "+0447700900002"}), "WAYMARK_TWILIO_SURVIVOR_FROM: must be an E.164 number: + and 7 to 15 digits, no spaces"},
		{"survivor from same", nil, twilio().with(env{"WAYMARK_TWILIO_SURVIVOR_FROM": "+447700900001"}), "WAYMARK_TWILIO_SURVIVOR_FROM: must differ from WAYMARK_TWILIO_FROM"},
		{"directory number same as pages", nil, twilio().with(env{"WAYMARK_TWILIO_DIRECTORY_NUMBER": "+447700900001"}), "WAYMARK_TWILIO_DIRECTORY_NUMBER: must differ from WAYMARK_TWILIO_FROM"},
		{"directory number same as survivor texts", nil, twilio().with(env{"WAYMARK_TWILIO_SURVIVOR_FROM": "+447700900002", "WAYMARK_TWILIO_DIRECTORY_NUMBER": "+447700900002"}), "WAYMARK_TWILIO_DIRECTORY_NUMBER: must differ from WAYMARK_TWILIO_SURVIVOR_FROM"},
		{"directory number without twilio", nil, env{"WAYMARK_TWILIO_DIRECTORY_NUMBER": "+447700900005"}, "WAYMARK_TWILIO_DIRECTORY_NUMBER: needs WAYMARK_TWILIO_ACCOUNT_SID and WAYMARK_TWILIO_AUTH_TOKEN"},
		{"sync interval too short", nil, env{"WAYMARK_DIRECTORY_SYNC_INTERVAL": "10s"}, "WAYMARK_DIRECTORY_SYNC_INTERVAL: must be at least 1m"},
		{"messaging service", nil, twilio().with(env{"WAYMARK_TWILIO_MESSAGING_SERVICE_SID": "MGxyz"}), "WAYMARK_TWILIO_MESSAGING_SERVICE_SID: must be MG followed by 32 hex digits"},
		{"optout", nil, env{"WAYMARK_TWILIO_OPTOUT_REVIEWED": "reviewed"}, "WAYMARK_TWILIO_OPTOUT_REVIEWED: must be true or false"},
		{"twilio api url", nil, env{"WAYMARK_TWILIO_API_URL": "http://faketwilio.internal"}, "WAYMARK_TWILIO_API_URL: " + httpOnly},

		{"vapid private key missing", nil, env{"WAYMARK_VAPID_PUBLIC_KEY": "BPk", "WAYMARK_VAPID_SUBJECT": "mailto:ops@example.org"}, "WAYMARK_VAPID_PRIVATE_KEY: required with the other WAYMARK_VAPID_* settings (Web Push needs all three)"},
		{"vapid subject", nil, env{"WAYMARK_VAPID_PUBLIC_KEY": "BPk", "WAYMARK_VAPID_PRIVATE_KEY": "sk", "WAYMARK_VAPID_SUBJECT": "http://example.org"}, "WAYMARK_VAPID_SUBJECT: must be mailto:address or an https:// URL"},
		{"push hosts", nil, env{"WAYMARK_PUSH_ALLOWED_HOSTS": "fcm.googleapis.com,*"}, "WAYMARK_PUSH_ALLOWED_HOSTS: item 2: must be a host name, or *. and a host name"},

		{"sms reply", nil, env{"WAYMARK_SMS_REPLY": strings.Repeat("é", 161)}, "WAYMARK_SMS_REPLY: must be at most 160 characters"},
		{"checkin word empty", []string{"--sms-checkin-word="}, env{}, "WAYMARK_SMS_CHECKIN_WORD: must be set"},
		{"checkin word control", nil, env{"WAYMARK_SMS_CHECKIN_WORD": "O\x07K"}, "WAYMARK_SMS_CHECKIN_WORD: must be 1 to 32 printable characters, no commas"},
		{"code word long", nil, env{"WAYMARK_SMS_CODE_WORDS": "pizza," + strings.Repeat("x", 33)}, "WAYMARK_SMS_CODE_WORDS: item 2: must be 1 to 32 printable characters, no commas"},
		{"code word repeated", nil, env{"WAYMARK_SMS_CODE_WORDS": "pizza,taxi,Pizza"}, "WAYMARK_SMS_CODE_WORDS: item 3 repeats item 1"},
		{"code word is checkin", nil, env{"WAYMARK_SMS_CODE_WORDS": "ok"}, "WAYMARK_SMS_CODE_WORDS: item 1 is the same as WAYMARK_SMS_CHECKIN_WORD"},
		{"triage team", nil, env{"WAYMARK_TRIAGE_TEAM": "Triage Team"}, "WAYMARK_TRIAGE_TEAM: must be a team id: 1 to 32 of a-z, 0-9 and -, starting with a letter"},

		{"duration syntax", nil, env{"WAYMARK_SESSION_LIFETIME": "12"}, "WAYMARK_SESSION_LIFETIME: must be a duration such as 30s, 15m or 12h"},
		{"duration low", nil, env{"WAYMARK_SESSION_LIFETIME": "1m"}, "WAYMARK_SESSION_LIFETIME: must be at least 5m"},
		{"idle above lifetime", nil, env{"WAYMARK_SESSION_IDLE": "13h"}, "WAYMARK_SESSION_IDLE: must not be longer than WAYMARK_SESSION_LIFETIME"},
		{"cancel window negative", nil, env{"WAYMARK_CANCEL_WINDOW": "-30s"}, "WAYMARK_CANCEL_WINDOW: must be at least 5s"},
		{"ack timeout", nil, env{"WAYMARK_ACK_TIMEOUT": "48h"}, "WAYMARK_ACK_TIMEOUT: must be at most 24h"},
		{"retention alerts", nil, env{"WAYMARK_RETENTION_ALERTS": "1h"}, "WAYMARK_RETENTION_ALERTS: must be at least 24h"},
		{"retention audit", nil, env{"WAYMARK_RETENTION_AUDIT": "100000h"}, "WAYMARK_RETENTION_AUDIT: must be at most 87600h"},
		{"retention events", nil, env{"WAYMARK_RETENTION_EVENTS": "0"}, "WAYMARK_RETENTION_EVENTS: must be at least 1h"},
		{"case lifetime", nil, env{"WAYMARK_CASE_LIFETIME": "2h"}, "WAYMARK_CASE_LIFETIME: must be at least 24h"},
		{"directory public", nil, env{"WAYMARK_DIRECTORY_PUBLIC": "2"}, "WAYMARK_DIRECTORY_PUBLIC: must be true or false"},
		{"ephemeral", nil, env{"WAYMARK_EPHEMERAL": "maybe"}, "WAYMARK_EPHEMERAL: must be true or false"},
		{"log level", nil, env{"WAYMARK_LOG_LEVEL": "loud"}, "WAYMARK_LOG_LEVEL: must be one of debug, info, warn, error"},
		{"log format", nil, env{"WAYMARK_LOG_FORMAT": "xml"}, "WAYMARK_LOG_FORMAT: must be one of json, text"},
		{"bad flag value", []string{"--expected-cases", "many"}, env{}, "WAYMARK_EXPECTED_CASES: must be a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, tt.env.get)
			if diff := cmp.Diff([]string{tt.want}, lines(t, err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGoodValues(t *testing.T) {
	tests := []struct {
		name  string
		env   env
		check func(*Config) bool
	}{
		{"loopback http", env{"WAYMARK_PUBLIC_URL": "http://127.0.0.2:8080/", "WAYMARK_APP_URL": "http://[::1]:9000"},
			func(c *Config) bool { return c.PublicURL == "http://127.0.0.2:8080" }},
		{"localhost", env{"WAYMARK_PUBLIC_URL": "http://localhost:8080/base/"},
			func(c *Config) bool { return c.PublicURL == "http://localhost:8080/base" }},
		{"origins", env{"WAYMARK_ALLOWED_ORIGINS": " https://A.example:8443 , http://localhost:3000,"},
			func(c *Config) bool {
				return cmp.Equal(c.AllowedOrigins, []string{"https://a.example:8443", "http://localhost:3000"})
			}},
		{"lan origin with insecure cookies", env{"WAYMARK_ALLOWED_ORIGINS": "http://192.168.1.5:8080", "WAYMARK_INSECURE_COOKIES": "yes"},
			func(c *Config) bool { return c.InsecureCookies }},
		{"trusted proxies", env{"WAYMARK_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,fd00::/8"},
			func(c *Config) bool {
				return cmp.Equal(c.TrustedProxies, []string{"127.0.0.1", "10.0.0.0/8", "fd00::/8"})
			}},
		{"all interfaces", env{"WAYMARK_ADDR": ":8080"}, func(c *Config) bool { return c.Addr == ":8080" }},
		{"sentinel", realRedis().with(env{"WAYMARK_REDIS_URL": "", "WAYMARK_REDIS_SENTINEL_MASTER": "mymaster", "WAYMARK_REDIS_SENTINEL_ADDRS": "s1:26379,s2:26379"}),
			func(c *Config) bool { return !c.Embedded() && len(c.RedisSentinelAddrs) == 2 }},
		{"cluster", realRedis().with(env{"WAYMARK_REDIS_URL": "", "WAYMARK_REDIS_CLUSTER_ADDRS": "10.0.0.1:6379,[fd00::1]:6379"}),
			func(c *Config) bool { return !c.Embedded() && len(c.RedisClusterAddrs) == 2 }},
		{"unix redis", realRedis().with(env{"WAYMARK_REDIS_URL": "unix:///run/redis/redis.sock"}),
			func(c *Config) bool { return c.RedisURL == "unix:///run/redis/redis.sock" }},
		{"rediss with password", realRedis().with(env{"WAYMARK_REDIS_URL": "rediss://waymark:pw@redis.internal:6380/2"}),
			func(c *Config) bool { return !c.Embedded() }},
		{"twilio", twilio().with(env{"WAYMARK_TWILIO_SURVIVOR_FROM": "+447700900002", "WAYMARK_TWILIO_MESSAGING_SERVICE_SID": "MG" + strings.Repeat("F", 32)}),
			func(c *Config) bool { return c.TwilioSurvivorFrom == "+447700900002" }},
		{"log level", env{"WAYMARK_LOG_LEVEL": "WARN", "WAYMARK_LOG_FORMAT": "text"},
			func(c *Config) bool { return c.LogLevel == slog.LevelWarn }},
		{"url-safe unpadded keys", env{"WAYMARK_KEYS": "a_b-1:" + strings.TrimRight(base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), "=")},
			func(c *Config) bool {
				return c.Keys[0].ID == "a_b-1" && bytes.Equal(c.Keys[0].Secret, bytes.Repeat([]byte{0xfb}, 32))
			}},
		{"code words", env{"WAYMARK_SMS_CODE_WORDS": "pizza order, taxi", "WAYMARK_SMS_REPLY": strings.Repeat("é", 160)},
			func(c *Config) bool { return cmp.Equal(c.SMSCodeWords, []string{"pizza order", "taxi"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(nil, tt.env.get)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config: %v", c)
			}
		})
	}
}

func TestRedisCAFile(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, selfSignedPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(nil, realRedis().with(env{"WAYMARK_REDIS_URL": "rediss://redis.internal:6380", "WAYMARK_REDIS_TLS_CA_FILE": ca}).get)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.RedisTLSCAFile != ca {
		t.Errorf("RedisTLSCAFile = %q, want %q", c.RedisTLSCAFile, ca)
	}
	_, err = Load(nil, realRedis().with(env{"WAYMARK_REDIS_TLS_CA_FILE": ca}).get)
	want := []string{"WAYMARK_REDIS_TLS_CA_FILE: needs WAYMARK_REDIS_TLS=true or a rediss:// WAYMARK_REDIS_URL"}
	if diff := cmp.Diff(want, lines(t, err)); diff != "" {
		t.Errorf("CA file without TLS (-want +got):\n%s", diff)
	}
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestManyErrors(t *testing.T) {
	e := env{
		"WAYMARK_LOG_FORMAT":       "xml",
		"WAYMARK_PUBLIC_URL":       "http://hooks.example.org",
		"WAYMARK_REDIS_URL":        "redis://redis.internal:6379",
		"WAYMARK_TENANT":           "Acme",
		"WAYMARK_SESSION_IDLE":     "forever",
		"WAYMARK_TWILIO_FROM":      "12345",
		"WAYMARK_EXPECTED_CASES":   "-3",
		"WAYMARK_ADDR":             "localhost",
		"WAYMARK_INSECURE_COOKIES": "sure",
	}
	want := []string{
		"WAYMARK_ADDR: must be host:port, e.g. 127.0.0.1:8080",
		"WAYMARK_PUBLIC_URL: must be an absolute https URL; http is allowed only for localhost, 127.0.0.0/8 and ::1",
		"WAYMARK_TENANT: must be 1 to 32 of a-z, 0-9 and -, starting with a letter",
		"WAYMARK_INSECURE_COOKIES: must be true or false",
		"WAYMARK_KEYS: required with a real Redis; run `waymark keys new` to make keys",
		"WAYMARK_INDEX_KEY: required with a real Redis; run `waymark keys new` to make keys",
		"WAYMARK_PIN_KEY: required with a real Redis; run `waymark keys new` to make keys",
		"WAYMARK_EXPECTED_CASES: must be at least 1",
		"WAYMARK_TWILIO_FROM: must be an E.164 number: + and 7 to 15 digits, no spaces",
		"WAYMARK_SESSION_IDLE: must be a duration such as 30s, 15m or 12h",
		"WAYMARK_LOG_FORMAT: must be one of json, text",
	}
	// Map order, validator order and goroutine scheduling must not matter.
	for range 20 {
		_, err := Load(nil, e.get)
		if diff := cmp.Diff(want, lines(t, err)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	}
}

func TestKeysRefused(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	short := testKeyN(7, 31)
	long := testKeyN(8, 33)
	tests := []struct {
		name    string
		env     env
		want    string
		secrets []string // must not appear in the message
	}{
		{"wrong length", env{"WAYMARK_KEYS": "k1:" + short}, `WAYMARK_KEYS: key "k1" is 31 bytes; must be 32 after base64 decoding`, []string{short}},
		{"too long", env{"WAYMARK_KEYS": "k1:" + k1 + ",k2:" + long}, `WAYMARK_KEYS: key "k2" is 33 bytes; must be 32 after base64 decoding`, []string{k1, long}},
		{"duplicate id", env{"WAYMARK_KEYS": "k1:" + k1 + ",k1:" + k2}, `WAYMARK_KEYS: key id "k1" is used by entries 1 and 2`, []string{k1, k2}},
		{"same secret", env{"WAYMARK_KEYS": "k1:" + k1 + ",k2:" + k1}, `WAYMARK_KEYS: keys "k1" and "k2" are the same key`, []string{k1}},
		{"bad base64", env{"WAYMARK_KEYS": "k1:" + k1[:20] + "!*" + k1[22:]}, `WAYMARK_KEYS: key "k1" is not valid base64`, []string{k1[:20], k1[22:]}},
		{"no id", env{"WAYMARK_KEYS": k1}, "WAYMARK_KEYS: entry 1 is not id:base64", []string{k1}},
		{"secret before id", env{"WAYMARK_KEYS": k1 + ":k1"}, "WAYMARK_KEYS: entry 1: key id must be 1 to 16 of a-z, 0-9, _ and -", []string{k1}},
		{"bad id", env{"WAYMARK_KEYS": "Key One:" + k1}, "WAYMARK_KEYS: entry 1: key id must be 1 to 16 of a-z, 0-9, _ and -", []string{k1, "Key One"}},
		{"only commas", env{"WAYMARK_KEYS": " , ,"}, "WAYMARK_KEYS: has no keys", nil},
		{"several problems", env{"WAYMARK_KEYS": "a:" + short + ",a:" + k1 + ",b:" + k2},
			`WAYMARK_KEYS: key "a" is 31 bytes; must be 32 after base64 decoding; key id "a" is used by entries 1 and 2`, []string{short, k1, k2}},
		{"index equals sealing", realRedis().with(env{"WAYMARK_INDEX_KEY": testKey(2)}), `WAYMARK_INDEX_KEY: must differ from sealing key "k2" in WAYMARK_KEYS`, []string{testKey(2)}},
		{"index equals sealing, other encoding", realRedis().with(env{"WAYMARK_INDEX_KEY": strings.TrimRight(base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)), "=")}),
			`WAYMARK_INDEX_KEY: must differ from sealing key "k1" in WAYMARK_KEYS`, []string{testKey(1)}},
		{"index short", env{"WAYMARK_INDEX_KEY": short}, "WAYMARK_INDEX_KEY: must be at least 32 bytes after base64 decoding", []string{short}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(nil, tt.env.get)
			got := lines(t, err)
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, s := range tt.secrets {
				if err != nil && strings.Contains(err.Error(), s) {
					t.Errorf("message %q contains the secret %q", err, s)
				}
			}
		})
	}
}

func TestKeysAndRedis(t *testing.T) {
	t.Run("real redis without keys", func(t *testing.T) {
		_, err := Load([]string{"--redis-url", "redis://127.0.0.1:6379"}, env{}.get)
		want := []string{
			"WAYMARK_KEYS: required with a real Redis; run `waymark keys new` to make keys",
			"WAYMARK_INDEX_KEY: required with a real Redis; run `waymark keys new` to make keys",
			"WAYMARK_PIN_KEY: required with a real Redis; run `waymark keys new` to make keys",
		}
		if diff := cmp.Diff(want, lines(t, err)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("embedded without keys", func(t *testing.T) {
		c, err := Load(nil, env{}.get)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if !c.Embedded() || len(c.Keys) != 0 || c.IndexKey != nil || c.PINKey != nil {
			t.Errorf("embedded = %v, keys %d, index %v, pin %v; want embedded and no keys", c.Embedded(), len(c.Keys), c.IndexKey, c.PINKey)
		}
	})
	t.Run("real redis with keys", func(t *testing.T) {
		if _, err := Load(nil, realRedis().get); err != nil {
			t.Errorf("Load: %v", err)
		}
	})
}

// allSecrets is a configuration with every secret set to a recognisable
// value, and the values to look for.
func allSecrets(t *testing.T) (env, []string) {
	t.Helper()
	e := realRedis().with(twilio()).with(env{
		"WAYMARK_REDIS_URL":                  "rediss://waymark:urlpassword-7f3a@redis.internal:6380/0",
		"WAYMARK_TWILIO_AUTH_TOKEN":          "authtoken-1b2c3d",
		"WAYMARK_TWILIO_PREVIOUS_AUTH_TOKEN": "oldtoken-4e5f6a",
	})
	c, err := Load(nil, e.get)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	secrets := []string{"urlpassword-7f3a", "authtoken-1b2c3d", "oldtoken-4e5f6a", e["WAYMARK_INDEX_KEY"], e["WAYMARK_PIN_KEY"], testKey(1), testKey(2)}
	// The decoded bytes too, in the encodings a logger might use.
	for _, b := range [][]byte{c.IndexKey, c.PINKey, c.Keys[0].Secret, c.Keys[1].Secret} {
		secrets = append(secrets, base64.RawStdEncoding.EncodeToString(b), fmt.Sprintf("%x", b), strings.Trim(fmt.Sprint(b), "[]"))
	}
	return e, secrets
}

func TestRedactedNoSecrets(t *testing.T) {
	e, secrets := allSecrets(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("filepassword-9d8c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e = e.with(env{"WAYMARK_REDIS_URL": "redis://redis.internal:6379", "WAYMARK_REDIS_PASSWORD_FILE": pwFile})
	secrets = append(secrets, "filepassword-9d8c")
	c, err := Load(nil, e.get)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	var buf, text bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("config", "config", c)
	logger.Info("config value", "config", *c)
	logger.Info("keys", "keys", c.Keys, "key", c.Keys[0])
	textLogger := slog.New(slog.NewTextHandler(&text, nil))
	textLogger.Info("config", "config", c, "value", *c, "keys", c.Keys, "key", c.Keys[0])
	jsonPtr, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jsonVal, err := json.Marshal(struct {
		C    Config
		Keys []seal.Key
	}{*c, c.Keys})
	if err != nil {
		t.Fatal(err)
	}
	var red strings.Builder
	for _, s := range c.Redacted() {
		fmt.Fprintf(&red, "%s=%s %s\n", s.Env, s.Value, s.Source)
	}
	outputs := map[string]string{
		"slog json":  buf.String(),
		"slog text":  text.String(),
		"json *c":    string(jsonPtr),
		"json value": string(jsonVal),
		"Redacted":   red.String(),
		"%v":         fmt.Sprintf("%v", c),
		"%+v value":  fmt.Sprintf("%+v", *c),
		"%#v":        fmt.Sprintf("%#v", c),
		"%d":         fmt.Sprintf("%d", *c),
		"%x keys":    fmt.Sprintf("%x %v %#v", c.Keys, c.Keys, c.Keys),
		"String":     c.String(),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("%s output contains secret %q:\n%s", name, s, out)
			}
		}
	}

	got := map[string]Setting{}
	for _, s := range c.Redacted() {
		got[s.Env] = s
	}
	want := []Setting{
		{Env: "WAYMARK_REDIS_PASSWORD", Value: "[set]", Source: SourceFile, Secret: true},
		{Env: "WAYMARK_KEYS", Value: "[set]", Source: SourceEnv, Secret: true},
		{Env: "WAYMARK_TWILIO_AUTH_TOKEN", Value: "[set]", Source: SourceEnv, Secret: true},
		{Env: "WAYMARK_ADDR", Flag: "addr", Value: "127.0.0.1:8080", Source: SourceDefault},
		{Env: "WAYMARK_RETENTION_ALERTS", Flag: "retention-alerts", Value: "2160h", Source: SourceDefault},
	}
	for _, w := range want {
		if diff := cmp.Diff(w, got[w.Env]); diff != "" {
			t.Errorf("Redacted %s (-want +got):\n%s", w.Env, diff)
		}
	}

	// A password inside the Redis URL is shown redacted, the rest kept.
	c2, err := Load(nil, realRedis().with(env{"WAYMARK_REDIS_URL": "rediss://waymark:urlpassword-7f3a@redis.internal:6380/0"}).get)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c2.Redacted() {
		if s.Env == "WAYMARK_REDIS_URL" && s.Value != "rediss://waymark:xxxxx@redis.internal:6380/0" {
			t.Errorf("redis URL shown as %q", s.Value)
		}
	}
	buf.Reset()
	logger.Info("config", "config", c2)
	if strings.Contains(buf.String(), "urlpassword-7f3a") || !strings.Contains(buf.String(), `"redis_url":"rediss://waymark:xxxxx@redis.internal:6380/0"`) {
		t.Errorf("logged config: %s", buf.String())
	}
}

// TestErrorsNoSecrets checks that a bad setting next to secrets never
// quotes them, including a Redis URL whose password made it invalid.
func TestErrorsNoSecrets(t *testing.T) {
	e, secrets := allSecrets(t)
	e = e.with(env{
		"WAYMARK_REDIS_URL":      "redis://waymark:urlpassword-7f3a@redis.internal:port/0",
		"WAYMARK_INDEX_KEY":      e["WAYMARK_PIN_KEY"],
		"WAYMARK_PIN_KEY":        testKey(1),
		"WAYMARK_KEYS":           "k1:" + testKey(1) + ",k1:" + testKey(2),
		"WAYMARK_TENANT":         "oops",
		"WAYMARK_REDIS_TLS":      "true",
		"WAYMARK_REDIS_USERNAME": "other",
	})
	_, err := Load(nil, e.get)
	if err == nil {
		t.Fatal("Load accepted a bad configuration")
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("errors contain secret %q:\n%s", s, err)
		}
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		env  env
		want []string
	}{
		{"revealing app host", env{"WAYMARK_APP_URL": "https://safe-help.example"},
			[]string{`WAYMARK_APP_URL: host "safe-help.example" contains "help", "safe", which can reveal what the app is for to anyone who sees the phone; use a neutral name`}},
		{"neutral app host", env{"WAYMARK_APP_URL": "https://weather.example"}, nil},
		{"no app url", env{}, nil},
		// /metrics moves differently for duress and for enrolled numbers
		// (issue 19): loopback is quiet, anything else is warned about.
		{"metrics on loopback", env{"WAYMARK_METRICS_ADDR": "127.0.0.1:9464"}, nil},
		{"metrics on localhost", env{"WAYMARK_METRICS_ADDR": "localhost:9464"}, nil},
		{"metrics beyond loopback", env{"WAYMARK_METRICS_ADDR": "10.0.0.11:9464"},
			[]string{"WAYMARK_METRICS_ADDR: /metrics is served beyond loopback; its counters move differently for duress and for enrolled numbers, so keep it to a private network"}},
		{"metrics on every address", env{"WAYMARK_METRICS_ADDR": ":9464"},
			[]string{"WAYMARK_METRICS_ADDR: /metrics is served beyond loopback; its counters move differently for duress and for enrolled numbers, so keep it to a private network"}},
		{"insecure cookies", env{"WAYMARK_INSECURE_COOKIES": "true"},
			[]string{"WAYMARK_INSECURE_COOKIES: session cookies are sent over plain http; development only"}},
		{"ephemeral with real redis", realRedis().with(env{"WAYMARK_EPHEMERAL": "true"}),
			[]string{"WAYMARK_EPHEMERAL: has no effect with a configured Redis"}},
		{"twilio without sender", twilio().with(env{"WAYMARK_TWILIO_FROM": ""}),
			[]string{"WAYMARK_TWILIO_FROM: not set, nor WAYMARK_TWILIO_MESSAGING_SERVICE_SID: responders cannot be paged by SMS"}},
		{"rotation", twilio().with(env{"WAYMARK_TWILIO_PREVIOUS_AUTH_TOKEN": "old"}),
			[]string{"WAYMARK_TWILIO_PREVIOUS_AUTH_TOKEN: webhooks signed with the old token are still accepted; remove it once rotation is done"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(nil, tt.env.get)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, c.Warnings()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRevealingWords(t *testing.T) {
	tests := []struct {
		host string
		want []string
	}{
		{"safe-help.example", []string{"help", "safe"}},
		{"weather.example", nil},
		{"WomensAid.example", []string{"women"}},
		{"dv-support.example", []string{"dv"}},
		{"north-dv.example", []string{"dv"}},
		{"dv.example", []string{"dv"}},
		{"davidvaughan.example", nil}, // "dv" and "idva" inside a word
		{"lasso.example", nil},
		{"sos.example", []string{"sos"}},
		{"app.idva-team.example", []string{"idva"}},
		{"my-refuge.example", []string{"refuge"}},
		{"alerts.crisis-line.example", []string{"alert", "crisis"}},
		{"recipes.example", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, revealingWords(tt.host)); diff != "" {
			t.Errorf("revealingWords(%q) (-want +got):\n%s", tt.host, diff)
		}
	}
}

func TestCommandLine(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"--addr", "127.0.0.1:0", "-help"}} {
		if _, err := Load(args, env{}.get); err != flag.ErrHelp { //nolint:errorlint // must be returned unchanged
			t.Errorf("Load(%q) error = %v, want flag.ErrHelp itself", args, err)
		}
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--nope"}, "config: flag provided but not defined: -nope"},
		{[]string{"--keys", "k1:x"}, "config: flag provided but not defined: -keys"}, // secrets are never flags
		{[]string{"--pin-key=c2VjcmV0LXBpbi1rZXk"}, "config: flag provided but not defined: -pin-key"},
		{[]string{"--addr"}, "config: flag needs an argument: -addr"},
		{[]string{"--addr", "127.0.0.1:0", "supersecret"}, "config: unexpected argument 3; settings are --flags or WAYMARK_* variables"},
	}
	for _, tt := range tests {
		_, err := Load(tt.args, env{}.get)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Load(%q) error = %v, want %q", tt.args, err, tt.want)
		}
		var errs Errors
		if errors.As(err, &errs) {
			t.Errorf("Load(%q) returned Errors for a command-line problem", tt.args)
		}
	}
}

func TestAddFlags(t *testing.T) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	simulate := fs.Bool("simulate", false, "")
	cf := AddFlags(fs)
	if err := fs.Parse([]string{"--simulate", "--tenant", "demo", "extra"}); err != nil {
		t.Fatal(err)
	}
	c, err := cf.Load(env{"WAYMARK_TENANT": "ignored", "WAYMARK_LOG_FORMAT": "text"}.get)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !*simulate || c.Tenant != "demo" || c.LogFormat != "text" || !cmp.Equal(fs.Args(), []string{"extra"}) {
		t.Errorf("simulate %v, tenant %q, log format %q, args %q", *simulate, c.Tenant, c.LogFormat, fs.Args())
	}
	// The flag set's own help shows the defaults.
	if f := fs.Lookup("session-lifetime"); f == nil || f.DefValue != "12h" {
		t.Errorf("session-lifetime flag = %+v", f)
	}
	for _, s := range table() {
		if s.kind == secret && fs.Lookup(strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s.env, "WAYMARK_"), "_", "-"))) != nil {
			t.Errorf("secret %s has a flag", s.env)
		}
	}
}

func TestUsage(t *testing.T) {
	var b bytes.Buffer
	Usage(&b)
	out := b.String()
	for _, s := range table() {
		if !strings.Contains(out, s.env) {
			t.Errorf("Usage does not mention %s", s.env)
		}
		if s.kind == secret {
			if !strings.Contains(out, s.env+", "+s.env+"_FILE  (secret: env or _FILE only)") {
				t.Errorf("Usage does not mark %s as a secret", s.env)
			}
		} else if !strings.Contains(out, "--"+s.flagName()+", "+s.env) {
			t.Errorf("Usage does not give the flag of %s", s.env)
		}
	}
	for _, want := range []string{`--session-lifetime, WAYMARK_SESSION_LIFETIME  (default "12h"; 5m to 168h)`, `(default "5000"; 1 to 100000000)`} {
		if !strings.Contains(out, want) {
			t.Errorf("Usage lacks %q", want)
		}
	}
}

// TestTable keeps the settings table and Config in step.
func TestTable(t *testing.T) {
	seenEnv, seenFlag, seenField := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range table() {
		if !strings.HasPrefix(s.env, "WAYMARK_") || strings.HasSuffix(s.env, "_FILE") && s.kind == secret {
			t.Errorf("bad variable name %q", s.env)
		}
		if seenEnv[s.env] || seenField[s.field] || (s.flagName() != "" && seenFlag[s.flagName()]) {
			t.Errorf("%s: repeated variable, field or flag", s.env)
		}
		seenEnv[s.env], seenField[s.field], seenFlag[s.flagName()] = true, true, true
		if s.help == "" {
			t.Errorf("%s: no help", s.env)
		}
		if s.kind == secret && s.def != "" {
			t.Errorf("%s: a secret with a default", s.env)
		}
		if _, ok := reflect.TypeFor[Config]().FieldByName(s.field); !ok {
			t.Errorf("%s: no Config field %s", s.env, s.field)
		}
	}
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		if f := ct.Field(i); f.IsExported() && !seenField[f.Name] {
			t.Errorf("Config.%s has no setting", f.Name)
		}
	}
	// The contract names in DESIGN.md.
	for _, name := range []string{"WAYMARK_REDIS_URL", "WAYMARK_PUBLIC_URL", "WAYMARK_APP_URL", "WAYMARK_TENANT", "WAYMARK_KEYS",
		"WAYMARK_INDEX_KEY", "WAYMARK_PIN_KEY", "WAYMARK_TWILIO_ACCOUNT_SID", "WAYMARK_TWILIO_AUTH_TOKEN", "WAYMARK_TWILIO_FROM",
		"WAYMARK_TWILIO_SURVIVOR_FROM", "WAYMARK_TRIAGE_TEAM", "WAYMARK_ALLOWED_ORIGINS", "WAYMARK_INSECURE_COOKIES"} {
		if !seenEnv[name] {
			t.Errorf("contract setting %s missing", name)
		}
	}
}

func TestParseKeysRoundTrip(t *testing.T) {
	keys, err := parseKeys(" new:" + testKey(1) + " ,\nold:" + strings.TrimRight(testKey(2), "=") + "\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []seal.Key{{ID: "new", Secret: bytes.Repeat([]byte{1}, 32)}, {ID: "old", Secret: bytes.Repeat([]byte{2}, 32)}}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzParseKeys checks that the WAYMARK_KEYS parser never panics, that what
// it accepts is well formed, and that its errors never quote a secret.
func FuzzParseKeys(f *testing.F) {
	f.Add("k1:" + testKey(1))
	f.Add("k2:" + testKey(2) + ",k1:" + testKey(1))
	f.Add("k1:" + testKey(1) + ",k1:" + testKey(2))
	f.Add("k1:" + testKeyN(1, 31))
	f.Add(testKey(1))
	f.Add("a:" + strings.TrimRight(base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)), "="))
	f.Add(",,\n\r")
	f.Add("k1:!!!!")
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := parseKeys(s)
		if err != nil {
			if keys != nil {
				t.Fatal("keys returned with an error")
			}
			// Anything after a colon long enough that it cannot be an
			// echoed id (at most 16) or a word of the fixed text must not
			// appear in the message.
			for item := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
				for part := range strings.SplitSeq(item, ":") {
					part = strings.TrimSpace(part)
					if len(part) > 16 && isBase64Alphabet(part) && strings.Contains(err.Error(), part) {
						t.Fatalf("error %q quotes %q", err, part)
					}
				}
			}
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("error is not valid UTF-8: %q", err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		ids := map[string]bool{}
		for _, k := range keys {
			if !keyIDPattern.MatchString(k.ID) || ids[k.ID] || len(k.Secret) != KeySize {
				t.Fatalf("accepted a bad key: id %q, %d bytes", k.ID, len(k.Secret))
			}
			ids[k.ID] = true
		}
		// What was accepted parses the same when written back canonically.
		var parts []string
		for _, k := range keys {
			parts = append(parts, k.ID+":"+base64.StdEncoding.EncodeToString(k.Secret))
		}
		again, err := parseKeys(strings.Join(parts, ","))
		if err != nil || !cmp.Equal(keys, again) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func isBase64Alphabet(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+/-_=", r)) {
			return false
		}
	}
	return true
}

func TestAuditKeysRetiredIsASecretList(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	file := filepath.Join(t.TempDir(), "retired")
	if err := os.WriteFile(file, []byte(k1+" , "+k2+",\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		e    env
	}{
		{"variable", env{"WAYMARK_AUDIT_KEYS_RETIRED": k1 + "," + k2}},
		{"file", env{"WAYMARK_AUDIT_KEYS_RETIRED_FILE": file}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(nil, tc.e.get)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{k1, k2}, c.AuditKeysRetired); diff != "" {
				t.Errorf("retired keys (-want +got):\n%s", diff)
			}
			for _, out := range []string{c.String(), fmt.Sprintf("%+v", *c)} {
				if strings.Contains(out, k1) || strings.Contains(out, k2) {
					t.Errorf("a retired audit key is printed: %s", out)
				}
			}
		})
	}
	if _, err := Load(nil, env{"WAYMARK_GAP_SAMPLE_INTERVAL": "10s"}.get); err == nil || !strings.Contains(err.Error(), "WAYMARK_GAP_SAMPLE_INTERVAL") {
		t.Errorf("a 10 s gap sample interval: %v", err)
	}
}

func TestNewRandomKeyAndFormat(t *testing.T) {
	a, b := seal.NewRandomKey(), seal.NewRandomKey()
	if len(a) != seal.KeySize || bytes.Equal(a, b) {
		t.Fatalf("NewRandomKey: len %d, equal %v", len(a), bytes.Equal(a, b))
	}
	f := seal.FormatKey("k1", a)
	if strings.ContainsAny(f, "=+/") || !strings.HasPrefix(f, "k1:") {
		t.Errorf("FormatKey = %q, want k1:base64url without padding", f)
	}
	keys, err := parseKeys(f)
	if err != nil || len(keys) != 1 || !bytes.Equal(keys[0].Secret, a) {
		t.Errorf("ParseKeys(FormatKey) = %v, %v", keys, err)
	}
}
