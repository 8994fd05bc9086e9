package benchlab

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"waymark/internal/randid"
	"waymark/seal"
)

// raiseNoFile lifts the open-file soft limit to the hard limit (the
// children inherit it) and says what it is.
func raiseNoFile() string {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return "unknown"
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Sprintf("%d (could not raise: %v)", l.Cur, err)
	}
	return fmt.Sprintf("raised to the hard limit, %d", l.Max)
}

// Env is the bench's configuration: the caller's, plus a private Redis,
// throwaway keys and a fresh tenant where the caller set none.
type Env struct {
	redisPID  int
	base      func(string) string
	set       map[string]string
	redisNote string
	// fsync is the private Redis's disk: one fsync of a small write, p50
	// and p99 in ms (zero when Redis is the caller's).
	fsync [2]float64
}

// Get looks a setting up: the bench's own first, then the caller's.
func (e *Env) Get(k string) string {
	if v, ok := e.set[k]; ok {
		return v
	}
	return e.base(k)
}

// PrepareEnv starts a private redis-server (appendonly, appendfsync
// always) when no Redis is configured in getenv or args, makes keys when
// none are, and puts the run in a fresh tenant unless --target names a
// server with its own. The caller runs cleanup (never nil) when the
// bench ends, error or not.
func PrepareEnv(ctx context.Context, getenv func(string) string, args []string) (*Env, func(), error) {
	e := &Env{base: getenv, set: map[string]string{}}
	cleanup, err := e.prepare(ctx, args)
	return e, cleanup, err
}

func (e *Env) prepare(ctx context.Context, args []string) (func(), error) {
	cleanup := func() {}
	hasFlag := func(name string) bool {
		_, ok := findFlag(args, name)
		return ok
	}
	if hasFlag("h") || hasFlag("help") {
		return cleanup, nil
	}
	configured := e.base("WAYMARK_REDIS_URL") != "" || hasFlag("redis-url") ||
		e.base("WAYMARK_REDIS_SENTINEL_MASTER") != "" || e.base("WAYMARK_REDIS_CLUSTER_ADDRS") != "" ||
		hasFlag("redis-sentinel-master") || hasFlag("redis-cluster-addrs")
	if !configured {
		r, err := startBenchRedis(ctx)
		if err != nil {
			return cleanup, err
		}
		cleanup = r.stop
		e.redisPID = r.cmd.Process.Pid
		e.fsync = diskFsync(r.dir)
		e.set["WAYMARK_REDIS_URL"] = r.url
		e.redisNote = "private redis-server (appendonly yes, appendfsync always, unix socket)"
	} else {
		e.redisNote = "configured"
	}
	if hasFlag("target") {
		return cleanup, nil
	}
	if e.base("WAYMARK_KEYS") == "" {
		e.set["WAYMARK_KEYS"] = seal.FormatKey("kbench", seal.NewRandomKey())
		e.set["WAYMARK_INDEX_KEY"] = base64.RawURLEncoding.EncodeToString(seal.NewRandomKey())
		e.set["WAYMARK_PIN_KEY"] = base64.RawURLEncoding.EncodeToString(seal.NewRandomKey())
	}
	if !hasFlag("tenant") {
		e.set["WAYMARK_TENANT"] = "bench-" + randid.New("", 8)
	}
	// --cases N sizes the blind index for N cases, as a deployment of
	// that size is configured (WAYMARK_EXPECTED_CASES): left at the
	// default 5,000, each phone lookup at a million cases would open a
	// thousand candidates, and the bench would measure a misconfiguration.
	// (A value that is no number is left for --cases to refuse.)
	v, _ := findFlag(args, "cases")
	if n, err := strconv.Atoi(v); err == nil && n > 0 && e.base("WAYMARK_EXPECTED_CASES") == "" && !hasFlag("expected-cases") {
		e.set["WAYMARK_EXPECTED_CASES"] = strconv.Itoa(n)
	}
	return cleanup, nil
}

// findFlag reports whether flag name is in args ("-name", "--name",
// "--name=V" or "--name V") and the value given to it ("" for none).
func findFlag(args []string, name string) (string, bool) {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		k, v, eq := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if k != name {
			continue
		}
		if eq {
			return v, true
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			return args[i+1], true
		}
		return "", true
	}
	return "", false
}

// benchRedis is a redis-server child.
type benchRedis struct {
	cmd *exec.Cmd
	dir string
	url string
}

func startBenchRedis(ctx context.Context) (*benchRedis, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, usageError("waymark bench: no Redis configured and no redis-server on PATH; set WAYMARK_REDIS_URL or install redis-server")
	}
	dir, err := os.MkdirTemp("", "wm-bench-")
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "redis.sock")
	// No automatic AOF rewrite: one started by the seeding's growth ran
	// during Waymark's steps (which come first) and never the floors',
	// so the targets did not share the same disk.
	cmd := exec.Command(path, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--auto-aof-rewrite-percentage", "0",
		"--save", "", "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("waymark bench: start redis-server: %w", err)
	}
	r := &benchRedis{cmd: cmd, dir: dir, url: "unix://" + sock}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.Dial("unix", sock); err == nil {
			conn.Close()
			return r, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.stop()
			return nil, errors.New("waymark bench: redis-server did not start within 10s")
		}
		time.Sleep(20 * time.Millisecond) // polling for the socket
	}
}

func (r *benchRedis) stop() {
	stopChild(r.cmd, 10*time.Second)
	os.RemoveAll(r.dir)
}

// stopChild stops a process this bench started: SIGTERM, then SIGKILL
// after grace. Only ever the PID we started.
func stopChild(cmd *exec.Cmd, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
	}
}

// diskFsync measures the disk under dir as Redis's append-only file meets
// it: 500 appends of 600 bytes, each followed by an fsync, 2 ms apart (about
// a second). It returns p50 and p99 in ms, or zeros when it cannot write.
// With appendfsync always one such fsync is in every alert's path, so it
// bounds what any latency figure can be.
func diskFsync(dir string) [2]float64 {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return [2]float64{}
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 600)
	lat := make([]float64, 0, 500)
	for range 500 {
		start := time.Now()
		if _, err := f.Write(buf); err != nil {
			return [2]float64{}
		}
		if err := f.Sync(); err != nil {
			return [2]float64{}
		}
		lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		time.Sleep(2 * time.Millisecond) // paced like alerts, not a burst
	}
	slices.Sort(lat)
	return [2]float64{round2(lat[len(lat)/2]), round2(lat[len(lat)*99/100])}
}
