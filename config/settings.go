package config

import "strings"

// kind says how a setting is read and shown beyond what its Go type implies.
type kind int

const (
	plain  kind = iota
	secret      // environment or _FILE only; shown as [set] or [not set]
	link        // a URL: trailing slash trimmed, any password redacted when shown
)

// setting describes one configuration setting. The Config field named by
// field decides how the text is parsed (see parse in config.go).
type setting struct {
	field string // Config field
	env   string // environment variable; the flag name is derived from it
	def   string // default, in the same text form as the variable
	kind  kind
	help  string
}

// flagName is the command-line flag for s: WAYMARK_PUBLIC_URL is public-url.
// Secrets have none.
func (s setting) flagName() string {
	if s.kind == secret {
		return ""
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s.env, "WAYMARK_")), "_", "-")
}

// group is a heading in Usage and the settings under it.
type group struct {
	title    string
	settings []setting
}

// groups is the whole configuration surface. Adding a setting is one line
// here plus a field (with its validate tag) in Config.
func groups() []group {
	return []group{
		{"Server", []setting{
			{"Addr", "WAYMARK_ADDR", "127.0.0.1:8080", plain, "listen address, host:port (port 0 picks a free port)"},
			{"AppAddr", "WAYMARK_APP_ADDR", "", plain, "listen address of the disguised app's own listener (its files and /v1/app/* only), host:port; it prints `app listening on http://HOST:PORT` (unset: no app listener)"},
			{"MetricsAddr", "WAYMARK_METRICS_ADDR", "127.0.0.1:0", plain, "operator listener for /metrics (never served on the public listener), host:port; prints `metrics listening on http://HOST:PORT`; set a fixed loopback port for Prometheus"},
			{"PublicURL", "WAYMARK_PUBLIC_URL", "", link, "Twilio-facing base URL; Twilio signs its webhooks against it (https; http only on loopback)"},
			{"AppURL", "WAYMARK_APP_URL", "", link, "base URL the disguised app talks to; its host name must say nothing about its purpose"},
			{"Tenant", "WAYMARK_TENANT", "default", plain, "tenant id: a-z, 0-9 and -, starting with a letter, at most 32, no run of 4+ digits"},
			{"AllowedOrigins", "WAYMARK_ALLOWED_ORIGINS", "", plain, "comma list of extra origins (scheme://host[:port]) allowed to call the dashboard API; same origin is always allowed"},
			{"TrustedProxies", "WAYMARK_TRUSTED_PROXIES", "", plain, "comma list of IP addresses or CIDR prefixes of reverse proxies in front of Waymark, whose X-Forwarded-For names the client for sign-in throttling (unset: the connection's address)"},
			{"InsecureCookies", "WAYMARK_INSECURE_COOKIES", "false", plain, "send session cookies over plain http (development only)"},
			{"DirectoryPublic", "WAYMARK_DIRECTORY_PUBLIC", "false", plain, "let anyone search the service directory without signing in"},
			{"ORUKAPI", "WAYMARK_ORUK_API", "false", plain, "serve the directory to anyone as an Open Referral UK API, GET /oruk/services and /oruk/services/{id} (never a refuge's address, never a hidden service)"},
			{"DirectorySyncURL", "WAYMARK_DIRECTORY_SYNC_URL", "", link, "base URL of another directory's Open Referral UK API that serve pulls on a schedule, as `waymark directory sync URL` does (unset: no scheduled sync)"},
			{"DirectorySyncInterval", "WAYMARK_DIRECTORY_SYNC_INTERVAL", "24h", plain, "how often serve pulls WAYMARK_DIRECTORY_SYNC_URL"},
			{"ShutdownTimeout", "WAYMARK_SHUTDOWN_TIMEOUT", "15s", plain, "how long in-flight requests may take to finish on SIGTERM"},
		}},
		{"Redis (none set: an embedded in-memory Redis, lost at exit)", []setting{
			{"RedisURL", "WAYMARK_REDIS_URL", "", link, "redis://, rediss:// or unix:// URL of a single Redis"},
			{"RedisSentinelMaster", "WAYMARK_REDIS_SENTINEL_MASTER", "", plain, "Sentinel master name (with WAYMARK_REDIS_SENTINEL_ADDRS)"},
			{"RedisSentinelAddrs", "WAYMARK_REDIS_SENTINEL_ADDRS", "", plain, "comma list of Sentinel host:port"},
			{"RedisClusterAddrs", "WAYMARK_REDIS_CLUSTER_ADDRS", "", plain, "comma list of Redis Cluster host:port"},
			{"RedisUsername", "WAYMARK_REDIS_USERNAME", "", plain, "Redis ACL user name"},
			{"RedisPassword", "WAYMARK_REDIS_PASSWORD", "", secret, "Redis password"},
			{"RedisTLS", "WAYMARK_REDIS_TLS", "false", plain, "connect to Redis over TLS (implied by rediss://)"},
			{"RedisTLSCAFile", "WAYMARK_REDIS_TLS_CA_FILE", "", plain, "PEM file of CA certificates for Redis TLS (default: the system's)"},
		}},
		{"Keys (`waymark keys new` makes them; required with a real Redis)", []setting{
			{"Keys", "WAYMARK_KEYS", "", secret, "sealing keys id:base64,id:base64 (32 bytes each); the first is active"},
			{"IndexKey", "WAYMARK_INDEX_KEY", "", secret, "blind-index key, base64, at least 32 bytes, unlike every other key"},
			{"PINKey", "WAYMARK_PIN_KEY", "", secret, "PIN key, base64, at least 32 bytes, unlike the sealing keys"},
			{"ExpectedCases", "WAYMARK_EXPECTED_CASES", "5000", plain, "expected number of enrolled cases; sizes the blind index: set it before the first enrolment (a start at another width than the tenant's is refused)"},
		}},
		{"Twilio", []setting{
			{"TwilioAccountSID", "WAYMARK_TWILIO_ACCOUNT_SID", "", plain, "account SID (AC + 32 hex digits)"},
			{"TwilioAuthToken", "WAYMARK_TWILIO_AUTH_TOKEN", "", secret, "auth token; verifies webhooks and authorises sends"},
			{"TwilioPreviousAuthToken", "WAYMARK_TWILIO_PREVIOUS_AUTH_TOKEN", "", secret, "previous auth token, still accepted on webhooks during rotation"},
			{"TwilioFrom", "WAYMARK_TWILIO_FROM", "", plain, "E.164 number that pages responders"},
			{"TwilioSurvivorFrom", "WAYMARK_TWILIO_SURVIVOR_FROM", "", plain, "E.164 number texts to survivors and calls through Waymark come from; must differ from WAYMARK_TWILIO_FROM"},
			{"TwilioDirectoryNumber", "WAYMARK_TWILIO_DIRECTORY_NUMBER", "", plain, "E.164 signposting number: texts to it (\"SO14 refuge\") are answered with the nearest open services at POST /sms/directory; never the alert intake number, which stays silent"},
			{"TwilioMessagingServiceSID", "WAYMARK_TWILIO_MESSAGING_SERVICE_SID", "", plain, "messaging service SID (MG + 32 hex digits), instead of a From number"},
			{"TwilioOptOutReviewed", "WAYMARK_TWILIO_OPTOUT_REVIEWED", "false", plain, "the Twilio account's STOP/HELP auto-replies have been reviewed for discretion"},
			{"TwilioAPIURL", "WAYMARK_TWILIO_API_URL", "", link, "advanced/testing: base URL outbound Twilio requests go to instead of Twilio"},
		}},
		{"SMS", []setting{
			{"SMSReply", "WAYMARK_SMS_REPLY", "", plain, "the one neutral reply every sender gets, at most 160 characters (empty: no reply)"},
			{"SMSCheckinWord", "WAYMARK_SMS_CHECKIN_WORD", "OK", plain, "word an enrolled survivor texts to check in"},
			{"SMSCodeWords", "WAYMARK_SMS_CODE_WORDS", "", plain, "comma list of deployment-wide code words that raise an alert from unknown senders"},
			{"TriageTeam", "WAYMARK_TRIAGE_TEAM", "triage", plain, "team that receives alerts no case or area claims"},
		}},
		{"Escalation", []setting{
			{"FallbackPhone", "WAYMARK_FALLBACK_PHONE", "", plain, "E.164 number of the 24/7 fallback (out-of-hours service or duty line) every escalation ends in; required with a real Redis (or WAYMARK_NO_FALLBACK_REASON); unset, the last step pages the whole team"},
			{"FallbackName", "WAYMARK_FALLBACK_NAME", "", plain, "name of the 24/7 fallback service, shown to staff (not a person's name)"},
			{"NoFallbackReason", "WAYMARK_NO_FALLBACK_REASON", "", plain, "with a real Redis, serve and config check refuse to start without WAYMARK_FALLBACK_PHONE unless this says why there is none (at most 200 characters; logged at start and shown on the dashboard's duty panel)"},
			{"AuditorInterval", "WAYMARK_AUDITOR_INTERVAL", "30s", plain, "how often one instance checks every open alert has a future step or an owner"},
			{"AuditorHeartbeatURL", "WAYMARK_AUDITOR_HEARTBEAT_URL", "", link, "URL the auditor GETs after each clean pass, so an outside monitor notices if it stops"},
		}},
		{"Web Push (responders away from the dashboard; `waymark keys new` makes VAPID keys)", []setting{
			{"VAPIDPublicKey", "WAYMARK_VAPID_PUBLIC_KEY", "", plain, "VAPID public key, base64url uncompressed P-256 point; the dashboard subscribes with it"},
			{"VAPIDPrivateKey", "WAYMARK_VAPID_PRIVATE_KEY", "", secret, "VAPID private key, base64url 32-byte P-256 scalar"},
			{"VAPIDSubject", "WAYMARK_VAPID_SUBJECT", "", plain, "VAPID contact the push services may use: mailto:address or https:// URL"},
			{"PushAllowedHosts", "WAYMARK_PUSH_ALLOWED_HOSTS", "fcm.googleapis.com,updates.push.services.mozilla.com,web.push.apple.com,*.notify.windows.com", plain, "comma list of push service hosts subscriptions may use (exact, or *.domain)"},
		}},
		{"Timing and retention (Go durations: 90s, 15m, 12h)", []setting{
			{"SessionLifetime", "WAYMARK_SESSION_LIFETIME", "12h", plain, "longest a staff session lasts"},
			{"SessionIdle", "WAYMARK_SESSION_IDLE", "1h", plain, "staff session ends after this long without use"},
			{"CancelWindow", "WAYMARK_CANCEL_WINDOW", "30s", plain, "how long a survivor can cancel an alert with their real PIN"},
			{"AckTimeout", "WAYMARK_ACK_TIMEOUT", "15m", plain, "a claim's owner who shows no progress (working, a note, a call or text through Waymark) for this long is warned; 2 minutes later the claim lapses: the alert goes back to the queue and escalates from the next tier"},
			{"RetentionAlerts", "WAYMARK_RETENTION_ALERTS", "2160h", plain, "closed alerts are kept this long after hand-off"},
			{"RetentionAudit", "WAYMARK_RETENTION_AUDIT", "17520h", plain, "audit trail retention"},
			{"RetentionEvents", "WAYMARK_RETENTION_EVENTS", "168h", plain, "live event stream retention (how far back a dashboard can resume)"},
			{"CaseLifetime", "WAYMARK_CASE_LIFETIME", "4320h", plain, "a case expires this long after enrolment or renewal"},
		}},
		{"Records (closing-record hand-off and the audit trail)", []setting{
			{"CaseEndpoint", "WAYMARK_CASE_ENDPOINT", "", link, "case-management URL closing records are POSTed to, signed (https; http only on loopback); unset, records wait for `waymark export alert`"},
			{"CaseEndpointSecret", "WAYMARK_CASE_ENDPOINT_SECRET", "", secret, "HMAC-SHA256 key shared with the case-management system, at least 32 characters"},
			{"AuditKey", "WAYMARK_AUDIT_KEY", "", secret, "audit hash-chain key, base64, at least 32 bytes (unset: derived from WAYMARK_INDEX_KEY)"},
			{"AuditKeysRetired", "WAYMARK_AUDIT_KEYS_RETIRED", "", secret, "comma list of earlier audit keys, base64: the chain rotates from them to WAYMARK_AUDIT_KEY and verifies across them"},
			{"GapSampleInterval", "WAYMARK_GAP_SAMPLE_INTERVAL", "5m", plain, "how often rota gaps (nobody on call as primary) are sampled for the report"},
		}},
		{"Embedded Redis", []setting{
			{"Ephemeral", "WAYMARK_EPHEMERAL", "false", plain, "let the embedded Redis listen beyond loopback"},
		}},
		{"Logging", []setting{
			{"LogLevel", "WAYMARK_LOG_LEVEL", "info", plain, "debug, info, warn or error"},
			{"LogFormat", "WAYMARK_LOG_FORMAT", "json", plain, "json or text"},
		}},
	}
}

// table is every setting in groups order: the order of Usage, Redacted and
// of the problems Load reports.
func table() []setting {
	var all []setting
	for _, g := range groups() {
		all = append(all, g.settings...)
	}
	return all
}
