package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"waymark/audit"
	"waymark/casefile"
	"waymark/casework"
	"waymark/records"
	"waymark/store"
)

// buildRecords wires the records service: the closing-record hand-off (to
// WAYMARK_CASE_ENDPOINT when set), retention, the audit chain, exports and
// the report.
func (a *app) buildRecords() error {
	cfg := a.cfg
	var filer records.Filer
	switch {
	case cfg.CaseEndpoint != "" && cfg.CaseEndpointSecret == "":
		return &exitError{code: 2, err: errors.New("waymark: WAYMARK_CASE_ENDPOINT_SECRET: required with WAYMARK_CASE_ENDPOINT (closing records are always signed)")}
	case cfg.CaseEndpoint == "" && cfg.CaseEndpointSecret != "":
		return &exitError{code: 2, err: errors.New("waymark: WAYMARK_CASE_ENDPOINT_SECRET: set, but WAYMARK_CASE_ENDPOINT is not")}
	case cfg.CaseEndpoint != "":
		c, err := casefile.New(casefile.Options{Endpoint: cfg.CaseEndpoint, Secret: []byte(cfg.CaseEndpointSecret), Now: a.now})
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("waymark: WAYMARK_CASE_ENDPOINT: %w", err)}
		}
		filer = c
	}
	if len(cfg.AuditKey) == 0 && !cfg.Embedded() {
		a.log.Warn("WAYMARK_AUDIT_KEY is not set: the audit chain's key is derived from WAYMARK_INDEX_KEY; set a key of its own (32 random bytes, base64)")
	}
	retired, err := retiredAuditKeys(cfg.AuditKeysRetired)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	// The records service appends and trims through the view that knows
	// the retired keys: its first append after WAYMARK_AUDIT_KEY changes
	// rotates the chain (alert/audit.go).
	recs := store.NewRecords(a.store.DB, retired)
	a.records, err = records.NewRecords(records.RecordsOptions{
		Store: recs, Cases: casework.NewSource(a.cases), Case: a.cases, Filer: filer,
		AuditKey: recs.AuditKey(), RetiredAuditKeys: retired, Retention: cfg.RetentionAlerts, AuditRetention: cfg.RetentionAudit,
		Now: a.now, Logger: a.log.With("component", "records"),
	})
	return err
}

// retiredAuditKeys decodes WAYMARK_AUDIT_KEYS_RETIRED (base64, standard
// or URL alphabet, padded or not, at least 32 bytes each). Errors name the
// position, never the value.
func retiredAuditKeys(list []string) ([][]byte, error) {
	out := make([][]byte, 0, len(list))
	for i, s := range list {
		s = strings.TrimRight(strings.TrimSpace(s), "=")
		enc := base64.RawStdEncoding
		if strings.ContainsAny(s, "-_") {
			enc = base64.RawURLEncoding
		}
		k, err := enc.DecodeString(s)
		if err != nil || len(k) < 32 {
			return nil, fmt.Errorf("waymark: WAYMARK_AUDIT_KEYS_RETIRED: key %d is not base64 of at least 32 bytes", i+1)
		}
		out = append(out, k)
	}
	return out, nil
}

// startRecords records the configuration this instance runs with and runs
// the hand-off queue (every 5 s) and the retention sweep (every 10 min)
// until ctx ends; the returned function stops and waits for it.
func (a *app) startRecords(ctx context.Context) func() {
	if filer := a.cfg.CaseEndpoint; filer == "" {
		a.log.Warn("WAYMARK_CASE_ENDPOINT is not set: closing records wait for `waymark export alert` and show \"record not yet filed\"")
	}
	a.records.Audit(ctx, audit.AuditEntry{Actor: audit.ActorSystem, Action: "config.loaded",
		Outcome: "ok: settings sha256=" + a.configDigest()})
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.records.Run(rctx, 5*time.Second, 10*time.Minute); close(done) }()
	return func() { stop(); <-done }
}

// configDigest fingerprints the settings as `config check` shows them
// (secrets only as set or not set), so a change between starts shows in the
// audit trail.
func (a *app) configDigest() string {
	h := sha256.New()
	for _, s := range a.cfg.Redacted() {
		fmt.Fprintf(h, "%s=%s\n", s.Env, s.Value)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// configCommands are the administration commands that change configuration.
var configCommands = map[string]bool{
	"staff add": true, "staff disable": true, "team add": true, "keys rotate": true,
	"directory import": true, "rota set": true, "policy set": true,
}

// auditAdmin records an administration command that changes configuration.
// Its arguments are not recorded: they may hold names or numbers.
func (a *app) auditAdmin(ctx context.Context, name string) {
	if !configCommands[name] || a.records == nil {
		return
	}
	a.records.Audit(ctx, audit.AuditEntry{Actor: "cli", Action: "config." + strings.ReplaceAll(name, " ", "."), Outcome: "ok: command started"})
}

const auditUsage = `usage: waymark audit verify            check the whole chain across key rotations (current and retired keys); names the first broken entry (exit 1)
       waymark audit pubkey            print the public key that signs export bundles (publish it; it changes with WAYMARK_AUDIT_KEY)
       waymark audit verify-bundle FILE --public-key ed25519:…
                                       check an export bundle with the public key alone (no Redis, no secrets)`

func auditCmd(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usageError("%s", auditUsage)
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, c, args[1:])
	case "pubkey":
		return helpOK(withAdmin(ctx, c, adminCommand{name: "audit pubkey", usage: "audit pubkey [flags]"}, args[1:], func(a *app, _ []string) error {
			fmt.Fprintln(c.stdout, a.records.PublicKey())
			return nil
		}))
	case "verify-bundle":
		return auditVerifyBundle(c, args[1:])
	}
	return usageError("%s", auditUsage)
}

// withAdmin opens the app for an administration command, runs fn and
// closes it.
func withAdmin(ctx context.Context, c *cli, cmd adminCommand, args []string, fn func(a *app, positional []string) error) error {
	a, pos, err := openAdmin(ctx, c, cmd, args)
	if err != nil {
		return err
	}
	defer a.close()
	return fn(a, pos)
}

func auditVerify(ctx context.Context, c *cli, args []string) error {
	cmd := adminCommand{name: "audit verify", usage: "audit verify [flags]"}
	return helpOK(withAdmin(ctx, c, cmd, args, func(a *app, _ []string) error {
		retired, err := retiredAuditKeys(a.cfg.AuditKeysRetired)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		rep, err := a.records.VerifyAuditKeys(ctx, retired)
		var b *audit.Break
		if errors.As(err, &b) {
			fmt.Fprintln(c.stdout, "BROKEN:", b.Error())
			return &exitError{code: 1, err: errors.New("waymark audit verify: the audit chain does not verify")}
		}
		if err != nil {
			return fmt.Errorf("waymark audit verify: %w", err)
		}
		from := "the start"
		if cp := rep.Checkpoint; cp != nil {
			from = fmt.Sprintf("the checkpoint after seq %d (trimmed %s)", cp.Seq, cp.At.UTC().Format(time.RFC3339))
		}
		if rep.Entries == 0 {
			fmt.Fprintf(c.stdout, "audit chain ok: no entries after %s\n", from)
			return nil
		}
		fmt.Fprintf(c.stdout, "audit chain ok: %d entries, seq %d to %d, from %s; head %s\n",
			rep.Entries, rep.FirstSeq, rep.LastSeq, from, rep.Head)
		fmt.Fprintf(c.stdout, "audit keys: %s (current key id %s)\n", strings.Join(rep.Keys, " -> "), rep.Current)
		if n := len(rep.Keys); n > 0 && rep.Keys[n-1] != rep.Current {
			fmt.Fprintf(c.stdout, "note: the chain's head is under key id %s; the next append rotates it to %s\n", rep.Keys[n-1], rep.Current)
		}
		return nil
	}))
}

func auditVerifyBundle(c *cli, args []string) error {
	fs := flag.NewFlagSet("waymark audit verify-bundle", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pubFlag := fs.String("public-key", "", "the deployment's published key, ed25519:BASE64")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(c.stdout, auditUsage)
				return nil
			}
			return usageError("waymark audit verify-bundle: %v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 || *pubFlag == "" {
		return usageError("usage: waymark audit verify-bundle FILE --public-key ed25519:…")
	}
	pub, err := audit.ParsePublicKey(*pubFlag)
	if err != nil {
		return usageError("waymark audit verify-bundle: --public-key: %v", err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		return fmt.Errorf("waymark audit verify-bundle: %w", err)
	}
	b, err := audit.VerifyBundle(data, pub)
	if err != nil {
		fmt.Fprintln(c.stdout, "DOES NOT VERIFY:", err)
		return &exitError{code: 1, err: errors.New("waymark audit verify-bundle: the bundle does not verify")}
	}
	m := b.Attestation.Manifest
	first, last := int64(0), int64(0)
	if n := len(m.Segment.Entries); n > 0 {
		first, last = m.Segment.Entries[0].Seq, m.Segment.Entries[n-1].Seq
	}
	fmt.Fprintf(c.stdout, "bundle ok: %s, generated %s; %d audit entries disclosed of seq %d to %d; content sha256 %s\n",
		m.Subject, m.GeneratedAt.UTC().Format(time.RFC3339), len(b.Disclosed), first, last, m.ContentDigest)
	return nil
}
