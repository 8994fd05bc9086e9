package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"waymark/alert"
	"waymark/auditor"
	"waymark/casework"
	"waymark/config"
	"waymark/contact"
	"waymark/oncall"
	"waymark/outbox"
	"waymark/postcode"
	"waymark/push"
	"waymark/records"
	"waymark/seal"
	"waymark/server"
	"waymark/sms"
	"waymark/staff"
	"waymark/store"
)

// app is one running Waymark: its configuration, keys, store and metrics.
// Subcommands build one, use what they need and close it.
type app struct {
	cfg     *config.Config
	log     *slog.Logger
	now     func() time.Time
	keyring *seal.Keyring
	index   *seal.Index
	// indexBits is index's width; indexOK, that Redis's agrees
	// (checkIndexWidth).
	indexBits int
	indexOK   atomic.Bool
	pins      *seal.PINKey
	store     *store.Set
	registry  *prometheus.Registry

	postcodes *postcode.Directory
	staff     *staff.Service
	cases     *casework.Cases
	alerts    *alert.Service
	// hub is the live hub, built by serve.
	hub *push.Hub
	// smsHooks are the Twilio webhooks and smsSender the outbound side;
	// both nil when Twilio is not configured.
	smsHooks  *server.SMS
	smsSender *sms.Sender
	// contact rings and texts survivors through Waymark; nil without a
	// survivor-facing number.
	contact *contact.Service
	// webPush sends Web Push to responders away from the dashboard; nil
	// when no VAPID keys are configured.
	webPush *push.WebPush
	// oncall manages rotas and escalation policies (policy.go).
	oncall *oncall.OnCall
	// pages wires the outbox's page runner; startEscalation adds the
	// pager and web push (policy.go).
	pages outbox.Options
	// audits wires the auditor; startEscalation adds the alert rules.
	audits auditor.Options
	// records hands closing records off, keeps retention, the audit chain,
	// exports and the report (records.go).
	records *records.Records
}

// buildApp builds the app in dependency order, each part from parts built
// before it: the keys (made up on the spot for the embedded server), the
// store (the embedded server when no Redis is configured, never as a
// silent fallback for a configured one), staff and cases, the senders,
// escalation, the alert service, the SMS webhooks and the records.
func buildApp(ctx context.Context, cfg *config.Config, log *slog.Logger, embeddedAddr string) (*app, error) {
	a := &app{cfg: cfg, log: log, now: time.Now, registry: prometheus.NewRegistry()}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	keys, indexKey, pinKey := cfg.Keys, cfg.IndexKey, cfg.PINKey
	if cfg.Embedded() && len(keys) == 0 {
		keys = []seal.Key{{ID: "demo", Secret: seal.NewRandomKey()}}
		indexKey, pinKey = seal.NewRandomKey(), seal.NewRandomKey()
		log.Warn("embedded redis: using throwaway keys made for this run")
	}
	if len(keys) == 0 || indexKey == nil || pinKey == nil {
		return nil, &exitError{code: 2, err: errors.New("waymark: WAYMARK_KEYS, WAYMARK_INDEX_KEY and WAYMARK_PIN_KEY are required with a real Redis; run `waymark keys new` to make them")}
	}
	var err error
	if a.keyring, err = seal.NewKeyring(keys); err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("waymark: WAYMARK_KEYS: %w", err)}
	}
	bits := seal.IndexBits(cfg.ExpectedCases)
	if a.index, err = seal.NewIndex(indexKey, bits); err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("waymark: WAYMARK_INDEX_KEY: %w", err)}
	}
	if w := seal.SparseWarning(cfg.ExpectedCases, bits); w != "" {
		log.Warn(w)
	}
	if a.pins, err = seal.NewPINKey(pinKey); err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("waymark: WAYMARK_PIN_KEY: %w", err)}
	}

	redisErrors := prometheus.NewCounter(prometheus.CounterOpts{Name: "waymark_redis_errors_total",
		Help: "Redis calls that failed (unreachable, timed out, loading, refused), as the store met them."})
	a.registry.MustRegister(redisErrors)
	opts := store.Options{
		Tenant:         cfg.Tenant,
		URL:            cfg.RedisURL,
		SentinelMaster: cfg.RedisSentinelMaster,
		SentinelAddrs:  cfg.RedisSentinelAddrs,
		ClusterAddrs:   cfg.RedisClusterAddrs,
		Username:       cfg.RedisUsername,
		Password:       cfg.RedisPassword,
		TLS:            cfg.RedisTLS,
		TLSCAFile:      cfg.RedisTLSCAFile,
		Now:            a.now,
		Logger:         log,
		OnError:        redisErrors.Inc,
		Crypto:         store.Crypto{Keyring: a.keyring, Index: a.index, TagKey: tagKey(indexKey), AuditKey: cfg.AuditKey},
	}
	if cfg.Embedded() {
		db, err := store.OpenEmbedded(opts, embeddedAddr)
		if err != nil {
			return nil, err
		}
		a.store = store.NewSet(db)
		log.Warn("no Redis configured: running an embedded in-memory Redis; NOTHING WILL SURVIVE A RESTART", "addr", db.EmbeddedAddr())
	} else {
		db, err := store.Open(opts)
		if err != nil {
			return nil, &exitError{code: 2, err: err}
		}
		a.store = store.NewSet(db)
		a.inspectRedis(ctx)
		a.indexBits = bits
		if err := a.checkIndexWidth(ctx); err != nil && !errors.Is(err, errIndexUnchecked) {
			return nil, &exitError{code: 2, err: err}
		}
	}

	if a.postcodes, err = postcode.Load(); err != nil {
		return nil, err
	}
	a.staff, err = staff.NewService(staff.Options{
		Store:           a.store.Staff,
		Now:             a.now,
		SessionLifetime: cfg.SessionLifetime,
		SessionIdle:     cfg.SessionIdle,
		Districts:       a.postcodes,
		Logger:          log,
	})
	if err != nil {
		return nil, err
	}
	a.cases, err = casework.NewCases(casework.CasesOptions{Store: a.store.Cases, PINs: a.pins, CheckinWord: cfg.SMSCheckinWord,
		Lifetime: cfg.CaseLifetime, Now: a.now, Logger: log})
	if err != nil {
		return nil, err
	}
	// Escalation pages through the senders, so they come first; the
	// alert service runs escalation; the SMS intake raises alerts.
	if a.smsSender, err = newSMSSender(cfg, log); err != nil {
		return nil, err
	}
	if a.webPush, err = newWebPush(cfg, a.now, log, a.registry); err != nil {
		return nil, err
	}
	esc, err := a.buildEscalation()
	if err != nil {
		return nil, err
	}
	a.alerts = alert.NewService(a.store.Alerts, casework.NewSource(a.cases), alert.Config{
		Rules: alert.Rules{CancelWindow: cfg.CancelWindow, AckTimeout: cfg.AckTimeout,
			Retention: cfg.RetentionAlerts, EventRetention: cfg.RetentionEvents},
		TriageTeam: cfg.TriageTeam,
		Lease:      5 * time.Second, // a dead instance's due steps come back within 5 s
		Escalation: esc,
	}, a.now, log.With("component", "alerts"))
	if a.smsHooks, err = a.buildSMSHooks(a.smsSender); err != nil {
		return nil, err
	}
	// Contact through Waymark needs the sender and a survivor-facing number.
	if a.smsSender != nil && cfg.TwilioSurvivorFrom != "" {
		a.contact = contact.NewService(contact.Deps{Alerts: a.alerts, Cases: a.cases, People: people{store: a.store.Staff, staff: a.staff},
			Dialer: a.smsSender, Audit: a.store.Cases, Now: a.now, Logger: log.With("component", "contact")})
	}
	if err := a.buildRecords(); err != nil {
		return nil, err
	}
	return a, nil
}

// tagKey derives the key of the store's letter-only tags (session, ticket
// and setup tokens, usernames, addresses) from the index key, so operators
// keep one secret fewer; the label keeps the two uses apart.
func tagKey(indexKey []byte) []byte {
	m := hmac.New(sha256.New, indexKey)
	m.Write([]byte("waymark tag key"))
	return m.Sum(nil)
}

// inspectRedis logs the server version and warns about persistence that
// could lose an acknowledged alert. Redis being away at start-up is not
// fatal: readiness reports it until it is back.
func (a *app) inspectRedis(ctx context.Context) {
	info, err := a.store.DB.Inspect(ctx)
	switch {
	case err != nil:
		a.log.Warn("redis not reachable at start-up; /readyz fails until it is", "err", err)
	case !info.Known:
		a.log.Warn("redis answers no INFO or CONFIG; persistence settings cannot be checked")
	default:
		a.log.Info("redis", "version", info.Version, "appendonly", info.AppendOnly, "appendfsync", info.AppendFsync)
		for _, w := range info.Warnings() {
			a.log.Warn(w)
		}
	}
}

// errIndexUnchecked: Redis was away, so the index width is not checked yet.
var errIndexUnchecked = errors.New("blind index width not checked yet: redis not reachable")

// checkIndexWidth compares the blind index width WAYMARK_EXPECTED_CASES
// gives with the one the tenant's phones were indexed with (kept in Redis
// by the first instance): at another width no enrolled phone is found, so
// every text from a survivor would reach triage as a stranger's. Once it
// matched it is not asked again.
func (a *app) checkIndexWidth(ctx context.Context) error {
	if a.indexBits == 0 || a.indexOK.Load() {
		return nil
	}
	stored, err := a.store.DB.IndexWidth(ctx, a.indexBits)
	if err != nil {
		a.log.Warn("blind index width not checked: redis not reachable; /readyz fails until it is", "err", err)
		return errIndexUnchecked
	}
	if stored != a.indexBits {
		return fmt.Errorf("waymark: WAYMARK_EXPECTED_CASES gives the blind index %d bits, but this tenant's phones were indexed with %d: "+
			"none of them would be found. Set WAYMARK_EXPECTED_CASES back to a value that gives %d bits, such as %d",
			a.indexBits, stored, stored, seal.ExpectedCasesFor(stored))
	}
	a.indexOK.Store(true)
	return nil
}

// ready is /readyz: Redis answers, the keys are loaded and the blind
// index's width is the one the tenant's phones were indexed with.
func (a *app) ready(ctx context.Context) error {
	if a.keyring == nil {
		return errors.New("keys not loaded")
	}
	if err := a.store.DB.Ping(ctx); err != nil {
		return err
	}
	return a.checkIndexWidth(ctx)
}

func (a *app) close() {
	if a.store != nil {
		a.store.DB.Close()
	}
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
