// Package testenv starts the real outside processes Waymark's tests talk to:
// redis-server today, a fake Twilio and headless Chromium as they arrive.
//
// A missing binary fails the test when CI=true (CI must never hide a missing
// dependency behind a skip) and skips it with an install hint otherwise.
package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RedisOptions chooses how a test Redis runs.
type RedisOptions struct {
	// AOF turns on appendonly with appendfsync always, as production runs.
	AOF bool
	// TCP listens on a free loopback port instead of a unix socket.
	TCP bool
	// Args are extra redis-server arguments, e.g. "--maxmemory", "10mb".
	Args []string
}

// Redis is a redis-server process owned by one test.
type Redis struct {
	t    testing.TB
	opts RedisOptions
	dir  string
	sock string
	port int

	mu  sync.Mutex
	cmd *exec.Cmd
	// exited is closed when the current process has been reaped.
	exited chan struct{}
}

// RequireBinary finds name on PATH or ends the test: under CI=true it fails,
// elsewhere it skips, both with how to install it.
func RequireBinary(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found on PATH; install it with: %s (scripts/test does this)", name, install)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// StartRedis starts a private redis-server for t and stops it at cleanup.
// It listens on a unix socket in a short temporary directory (or a free
// loopback port with opts.TCP) and keeps its data files there.
func StartRedis(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	// Unix socket paths are limited to about 100 bytes, and t.TempDir can be
	// longer than that for long test names.
	dir, err := os.MkdirTemp("", "wm-redis-")
	if err != nil {
		t.Fatalf("testenv: temp dir: %v", err)
	}
	r := &Redis{t: t, opts: opts, dir: dir}
	if opts.TCP {
		r.port = freePort(t)
	} else {
		r.sock = filepath.Join(dir, "redis.sock")
	}
	t.Cleanup(func() {
		r.Kill()
		os.RemoveAll(dir)
	})
	r.start()
	return r
}

// URL is the go-redis URL of this server (unix:// or redis://).
func (r *Redis) URL() string {
	if r.opts.TCP {
		return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port)
	}
	return "unix://" + r.sock
}

// Addr is the host:port or socket path of this server.
func (r *Redis) Addr() string {
	if r.opts.TCP {
		return fmt.Sprintf("127.0.0.1:%d", r.port)
	}
	return r.sock
}

// Dir is the server's working directory (AOF and RDB files live there).
func (r *Redis) Dir() string { return r.dir }

// PID is the current process id, or 0 when stopped.
func (r *Redis) PID() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

func (r *Redis) args() []string {
	a := []string{
		"--dir", r.dir,
		"--save", "",
		"--daemonize", "no",
		"--protected-mode", "yes",
		"--bind", "127.0.0.1",
		"--loglevel", "warning",
		"--logfile", filepath.Join(r.dir, "redis.log"),
	}
	if r.opts.TCP {
		a = append(a, "--port", strconv.Itoa(r.port))
	} else {
		a = append(a, "--port", "0", "--unixsocket", r.sock, "--unixsocketperm", "700")
	}
	if r.opts.AOF {
		a = append(a, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		a = append(a, "--appendonly", "no")
	}
	return append(a, r.opts.Args...)
}

func (r *Redis) start() { r.t.Helper(); r.startUntil(r.ping) }

// StartLoading starts a stopped server and returns as soon as it accepts
// connections, which may be while it still loads its data (answering
// LOADING). Give it "--key-load-delay" in Args to make loading slow.
func (r *Redis) StartLoading() {
	r.t.Helper()
	r.startUntil(func() error {
		err := r.ping()
		if err != nil && strings.Contains(err.Error(), "-LOADING") {
			return nil
		}
		return err
	})
}

func (r *Redis) startUntil(ready func() error) {
	r.t.Helper()
	cmd := exec.Command("redis-server", r.args()...)
	exited, err := startChild(cmd, "redis-server", 10*time.Second, ready, func() string {
		log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
		return string(log)
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
}

func (r *Redis) dial() (net.Conn, error) {
	if r.opts.TCP {
		return net.DialTimeout("tcp", r.Addr(), time.Second)
	}
	return net.DialTimeout("unix", r.sock, time.Second)
}

func (r *Redis) ping() error {
	c, err := r.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected reply %q", strings.TrimSpace(line))
	}
	return nil
}

// Stop shuts the server down gracefully (SIGTERM; with AOF on, pending
// writes are flushed) and waits for it to exit.
func (r *Redis) Stop() { r.signal(syscall.SIGTERM) }

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (r *Redis) Kill() { r.signal(syscall.SIGKILL) }

func (r *Redis) signal(sig syscall.Signal) {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	// A frozen process cannot act on SIGTERM.
	cmd.Process.Signal(syscall.SIGCONT)
	cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

// Restart starts the server again on the same address and data directory;
// with AOF on it reloads what it had acknowledged.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Stop()
	r.start()
}

// Start starts a server that was stopped or killed, on the same address.
func (r *Redis) Start() {
	r.t.Helper()
	r.start()
}

// Freeze stops the process with SIGSTOP: connections stay open but nothing
// answers, as with a hung server. Thaw resumes it.
func (r *Redis) Freeze() { r.sendOnly(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (r *Redis) Thaw() { r.sendOnly(syscall.SIGCONT) }

func (r *Redis) sendOnly(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Signal(sig)
	}
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before redis-server binds; tests accept that small race.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
