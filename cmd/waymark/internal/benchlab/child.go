package benchlab

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"waymark/push/floor"
	"waymark/seal"
	"waymark/sms"
	"waymark/store"
)

// ServeFloor is `waymark bench floor [durable|twilio [durable]]`, a floor's child
// process: a floor.Floor on a free loopback port until ctx ends; durable,
// on Waymark's Redis (WAYMARK_REDIS_URL, WAYMARK_TENANT in getenv, which
// the parent sets); twilio, the trivial webhook handler of --twilio;
// twilio durable, that scenario's durable webhook (also given
// WAYMARK_PUBLIC_URL and WAYMARK_TWILIO_AUTH_TOKEN).
// Loopback only: the floor has no authentication.
func ServeFloor(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
	var h http.Handler = floor.New()
	switch {
	case len(args) > 1 && args[0] == "twilio" && args[1] == "durable":
		st, err := floorStore(getenv)
		if err != nil {
			return err
		}
		defer st.Close()
		h = durableWebhook(sms.NewVerifier(getenv("WAYMARK_PUBLIC_URL"), getenv("WAYMARK_TWILIO_AUTH_TOKEN")), floorLog{store.NewHub(st)})
	case len(args) > 0 && args[0] == "twilio":
		h = trivialWebhook()
	case len(args) > 0 && args[0] == "durable":
		st, err := floorStore(getenv)
		if err != nil {
			return err
		}
		defer st.Close()
		d := floor.NewDurable(floorLog{store.NewHub(st)})
		if err := d.Start(ctx); err != nil {
			return err
		}
		h = d
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	fmt.Fprintf(stdout, "listening on http://%s\n", l.Addr())
	<-ctx.Done()
	return srv.Close()
}

// floorStore opens the Redis a durable floor appends to. The parent
// passes its Redis settings, already checked; a floor needs no keys (it
// seals nothing).
func floorStore(getenv func(string) string) (*store.DB, error) {
	return store.Open(store.Options{Tenant: getenv("WAYMARK_TENANT"), URL: getenv("WAYMARK_REDIS_URL"),
		Username: getenv("WAYMARK_REDIS_USERNAME"), Password: getenv("WAYMARK_REDIS_PASSWORD"),
		TLS: getenv("WAYMARK_REDIS_TLS") == "true", TLSCAFile: getenv("WAYMARK_REDIS_TLS_CA_FILE"), Now: time.Now})
}

// benchServer is a child: `waymark bench serve` or a floor.
type benchServer struct {
	cmd  *exec.Cmd
	base string
	log  string
}

// startServer runs this binary's `bench serve` (serve, profiled when
// --server-profile asks) on a free loopback port with the bench's
// configuration and waits for its listening line.
func (b *bench) startServer(ctx context.Context) (*benchServer, error) {
	cfg := b.d.Config
	keys := make([]string, len(cfg.Keys))
	for i, k := range cfg.Keys {
		keys[i] = seal.FormatKey(k.ID, k.Secret)
	}
	env := []string{
		"PATH=" + b.d.Getenv("PATH"),
		"WAYMARK_ADDR=127.0.0.1:0",
		"WAYMARK_REDIS_URL=" + cfg.RedisURL,
		"WAYMARK_TENANT=" + cfg.Tenant,
		"WAYMARK_KEYS=" + strings.Join(keys, ","),
		"WAYMARK_INDEX_KEY=" + base64.RawURLEncoding.EncodeToString(cfg.IndexKey),
		"WAYMARK_PIN_KEY=" + base64.RawURLEncoding.EncodeToString(cfg.PINKey),
		// The same blind index as the bench's enrolment (--cases sizes it).
		"WAYMARK_EXPECTED_CASES=" + strconv.Itoa(cfg.ExpectedCases),
		"WAYMARK_LOG_LEVEL=warn",
		"WAYMARK_NO_FALLBACK_REASON=benchmark: nothing is paged",
	}
	args := []string{"bench", "serve"}
	if b.f.serverProf != "" {
		args = append(args, "--profile", b.f.serverProf)
	}
	for _, k := range []string{"WAYMARK_REDIS_USERNAME", "WAYMARK_REDIS_PASSWORD", "WAYMARK_REDIS_TLS", "WAYMARK_REDIS_TLS_CA_FILE", "WAYMARK_TRIAGE_TEAM"} {
		if v := b.env.Get(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return b.startChild(ctx, args, "serve", append(env, b.childEnv...))
}

// startChild runs this binary with args and env (nothing else of the
// bench's environment) and waits for its "listening on" line; name is
// what the output calls it.
func (b *bench) startChild(ctx context.Context, args []string, name string, env []string) (*benchServer, error) {
	first, _, _ := strings.Cut(name, " ")
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logf, err := os.CreateTemp("", "wm-bench-child-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	// WAYMARK_BENCH_CHILD marks the child, so that under `go test` (where
	// the executable is the test binary) TestMain runs the command.
	cmd.Env = append(env, "WAYMARK_BENCH_CHILD=1")
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("waymark bench: start %s: %w", first, err)
	}
	s := &benchServer{cmd: cmd, log: logf.Name()}
	logf.Close()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if after, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				lines <- after
			}
		}
	}()
	select {
	case s.base = <-lines:
		fmt.Fprintf(b.d.Stdout, "# %s: pid %d at %s (log %s)\n", name, cmd.Process.Pid, s.base, s.log)
		return s, nil
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	s.stop()
	tail, _ := os.ReadFile(s.log)
	return nil, fmt.Errorf("waymark bench: %s did not start:\n%s", first, tail)
}

// Profile starts profiling the bench's server child (`waymark bench serve
// --profile DIR`, from --server-profile): CPU for the child's whole life,
// and the allocation profile at the end, into dir. The returned func
// stops and writes them; with dir "" both are no-ops.
func Profile(dir string, stderr io.Writer) func() {
	if dir == "" {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(stderr, "bench profile:", err)
		return func() {}
	}
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err == nil {
		err = pprof.StartCPUProfile(cpu)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench profile:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		cpu.Close()
		f, err := os.Create(filepath.Join(dir, "allocs.pprof"))
		if err != nil {
			fmt.Fprintln(stderr, "bench profile:", err)
			return
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fmt.Fprintln(stderr, "bench profile:", err)
		}
	}
}

// floorLog is the durable floor's log on the store: the stream behind
// store.Hub's FloorAppend and FloorFollow, which only the bench calls.
type floorLog struct{ h *store.Hub }

func (f floorLog) Append(ctx context.Context, team, alertID string) error {
	return f.h.FloorAppend(ctx, team, alertID)
}

func (f floorLog) End(ctx context.Context) (string, error) { return f.h.FloorEnd(ctx) }

func (f floorLog) Follow(ctx context.Context, from string, fn func(team, alertID string)) error {
	return f.h.FloorFollow(ctx, from, fn)
}

func (s *benchServer) stop() {
	stopChild(s.cmd, 20*time.Second)
}
