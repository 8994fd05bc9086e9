package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"waymark/config"
	"waymark/disguise"
	"waymark/pii"
	"waymark/server"
	"waymark/store"
	"waymark/web"
)

type serveOptions struct {
	demo bool
	// onReady runs after the listeners are up, before serving (the demo
	// seeds and prints its welcome there). appURL is the disguised app's
	// base URL, "" without an app listener.
	onReady func(ctx context.Context, a *app, baseURL, appURL string) error
}

// listener is one of serve's listeners and the line it prints once it
// accepts connections.
type listener struct {
	name string // "" for the public listener
	l    net.Listener
	srv  *http.Server
}

// serve runs the HTTP server until ctx ends (SIGINT or SIGTERM), then stops
// accepting, lets in-flight requests finish, closes Redis and returns nil.
func serve(ctx context.Context, c *cli, args []string, o serveOptions) error {
	name := "serve"
	if o.demo {
		name = "demo"
	}
	cfg, err := loadConfig(c, name, args)
	if err != nil {
		return helpOK(err)
	}
	if o.demo && !cfg.Embedded() {
		return usageError("waymark demo runs on the embedded in-memory Redis only; unset WAYMARK_REDIS_URL and the Sentinel and Cluster settings")
	}
	if p := cfg.ProductionProblems(); len(p) > 0 {
		return &exitError{code: 2, err: errors.New("waymark " + name + ": refusing to start:\n  " + strings.Join(p, "\n  "))}
	}
	if cfg.Embedded() && !cfg.Ephemeral && !isLoopback(cfg.Addr) {
		return usageError("waymark: WAYMARK_ADDR: with the embedded in-memory Redis Waymark listens on loopback only; pass --ephemeral to accept that all state is lost at exit and listen on %s", cfg.Addr)
	}
	logger, err := pii.NewLogger(c.stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return usageError("waymark: %v", err)
	}
	store.SetDriverLogger(logger)
	logger.Info("starting", "command", name, "version", version(), "config", cfg)
	for _, w := range cfg.Warnings() {
		logger.Warn(w)
	}
	if cfg.FallbackPhone == "" && cfg.NoFallbackReason != "" {
		logger.Warn("no 24/7 fallback: escalations end by paging the whole team", "reason", cfg.NoFallbackReason)
	}

	a, err := buildApp(ctx, cfg, logger, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer a.close()

	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("waymark: listen: %w", err)
	}
	base := "http://" + l.Addr().String()
	// The disguised app's own listener, and the operator listener for
	// /metrics: separate origins, never the public one.
	var appL, opL net.Listener
	appBase := ""
	if cfg.AppAddr != "" {
		if appL, err = net.Listen("tcp", cfg.AppAddr); err != nil {
			l.Close()
			return fmt.Errorf("waymark: listen (app): %w", err)
		}
		appBase = "http://" + appL.Addr().String()
	}
	if opL, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
		l.Close()
		if appL != nil {
			appL.Close()
		}
		return fmt.Errorf("waymark: listen (metrics): %w", err)
	}
	appURL := cfg.AppURL
	if appURL == "" {
		appURL = appBase
	}

	directory, err := startDirectory(ctx, a, o.demo)
	if err != nil {
		return err
	}

	// The live hub follows the events stream for as long as the server runs.
	if a.hub, err = newHub(a, a.alerts); err != nil {
		return err
	}
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() { a.hub.Run(hubCtx); close(hubDone) }()
	defer func() { stopHub(); <-hubDone }()
	// The scheduler loop claims due timers (check-ins, cancel windows,
	// acknowledgement timeouts, escalation steps) for the server's lifetime.
	schedCtx, stopSched := context.WithCancel(ctx)
	schedDone := make(chan struct{})
	go func() { a.alerts.RunScheduler(schedCtx, time.Second); close(schedDone) }()
	defer func() { stopSched(); <-schedDone }()
	// The outbox consumer sends pages; the auditor (one instance at a time)
	// checks every open alert still has a step or an owner (policy.go).
	defer a.startEscalation(ctx)()
	// Closing-record hand-offs and retention (records.go).
	defer a.startRecords(ctx)()
	// Rota-gap sampling for the commissioners' report (gaps.go).
	defer a.startGapSampler(ctx)()

	proxies, err := server.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("waymark serve: WAYMARK_TRUSTED_PROXIES: %w", err)
	}
	hs := server.Listeners(server.Deps{
		Logger:           logger,
		Registry:         a.registry,
		Ready:            a.ready,
		Now:              a.now,
		AllowedOrigins:   allowedOrigins(cfg, base),
		InsecureCookies:  cfg.InsecureCookies,
		TrustedProxies:   proxies,
		Staff:            a.staff,
		Cases:            a.cases,
		Alerts:           a.alerts,
		Contact:          a.contact,
		Records:          a.records,
		Postcodes:        a.postcodes,
		Hub:              a.hub,
		Web:              web.Handler(),
		App:              disguise.Handler(),
		AppURL:           appURL,
		NoFallbackReason: cfg.NoFallbackReason,
		SMS:              a.smsHooks,
		Directory:        directory.Index,
		DirectoryPublic:  cfg.DirectoryPublic,
		ORUKAPI:          cfg.ORUKAPI,
		WebPush:          a.webPush,
		WebPushSubs:      webPushSubs{a.store.WebPush},
		OnCall:           a.oncall,
		Refuges:          a.store.Directory,
		Services:         a.store.Directory,
	})
	listeners := []listener{{"", l, nil}, {"metrics ", opL, nil}}
	if appL != nil {
		listeners = append(listeners, listener{"app ", appL, nil})
	}
	errc := make(chan error, len(listeners))
	for i := range listeners {
		ls := &listeners[i]
		h := hs.Public
		switch ls.name {
		case "app ":
			h = hs.App
		case "metrics ":
			h = hs.Operator
		}
		ls.srv = &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    32 << 10,
			ErrorLog:          log.New(slogWriter{logger}, "", 0),
		}
		go func() { errc <- ls.srv.Serve(ls.l) }()
	}
	closeAll := func() {
		for _, ls := range listeners {
			ls.srv.Close()
		}
	}

	// The listeners accept connections from here on: tests wait for these
	// lines (the public one last, as ever the sign that serve is up).
	if appL != nil {
		fmt.Fprintf(c.stdout, "app listening on %s\n", appBase)
	}
	fmt.Fprintf(c.stdout, "metrics listening on http://%s\n", opL.Addr())
	fmt.Fprintf(c.stdout, "listening on %s\n", base)
	if o.onReady != nil {
		if err := o.onReady(ctx, a, base, appURL); err != nil {
			closeAll()
			return err
		}
	}

	select {
	case err := <-errc:
		closeAll()
		return fmt.Errorf("waymark: serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	for _, ls := range listeners {
		if err := ls.srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("shutdown incomplete", "listener", strings.TrimSpace(ls.name), "err", err)
		}
	}
	logger.Info("stopped")
	return nil
}

// allowedOrigins trusts the configured dashboard origins, and on loopback
// the server's own origin so a local dashboard works out of the box.
func allowedOrigins(cfg *config.Config, base string) []string {
	o := append([]string(nil), cfg.AllowedOrigins...)
	if len(o) == 0 && isLoopback(cfg.Addr) {
		o = append(o, base)
	}
	return o
}

// slogWriter feeds net/http's own error log (TLS handshake errors and the
// like) into the structured log.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Warn("http server", "detail", string(p))
	return len(p), nil
}
