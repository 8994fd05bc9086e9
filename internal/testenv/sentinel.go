package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SentinelOptions choose how StartSentinel's primary and replica run.
type SentinelOptions struct {
	// AOF turns on appendonly with appendfsync always on both data nodes.
	AOF bool
	// Args are extra redis-server arguments for both data nodes, e.g.
	// "--min-replicas-to-write", "1".
	Args []string
	// DownAfter is how long the Sentinels wait before calling the primary
	// down; default 1 s.
	DownAfter time.Duration
}

// Sentinels is a primary, one replica and three Sentinels on loopback,
// owned by one test: the smallest set-up in which a failover can happen
// with a majority (quorum 2 of 3).
type Sentinels struct {
	// Master is the name the Sentinels monitor the primary under.
	Master string
	// Primary and Replica are the data nodes as started; after a failover
	// the Replica is the primary.
	Primary, Replica *Redis

	t     testing.TB
	procs []*sentinelProc
}

// sentinelReady bounds how long the Sentinels may take to find the replica
// and each other (they announce themselves every 2 s).
const sentinelReady = 20 * time.Second

// StartSentinel starts a primary, a replica of it and three Sentinels
// monitoring it (quorum 2), all on free loopback ports, and waits, bounded,
// until the replica is in sync and every Sentinel knows the replica and
// the two other Sentinels, so that a failover can happen. Everything stops
// at cleanup.
func StartSentinel(t testing.TB, o SentinelOptions) *Sentinels {
	t.Helper()
	RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	if o.DownAfter <= 0 {
		o.DownAfter = time.Second
	}
	s := &Sentinels{Master: "waymark", t: t}
	s.Primary = StartRedis(t, RedisOptions{TCP: true, AOF: o.AOF, Args: o.Args})
	_, port, _ := net.SplitHostPort(s.Primary.Addr())
	s.Replica = StartRedis(t, RedisOptions{TCP: true, AOF: o.AOF,
		Args: append([]string{"--replicaof", "127.0.0.1", port}, o.Args...)})
	for range 3 {
		p := startSentinelProc(t, s.Master, s.Primary.Addr(), o.DownAfter)
		s.procs = append(s.procs, p)
	}
	if err := waitFor(sentinelReady, s.checkReady); err != nil {
		t.Fatalf("testenv: sentinels not ready: %v\n%s", err, s.logs())
	}
	return s
}

// Addrs are the Sentinels' host:port addresses.
func (s *Sentinels) Addrs() []string {
	out := make([]string, len(s.procs))
	for i, p := range s.procs {
		out[i] = p.addr
	}
	return out
}

// MasterAddr asks the first Sentinel that answers where the primary is.
func (s *Sentinels) MasterAddr() (string, error) {
	var last error
	for _, p := range s.procs {
		v, err := Command(p.addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.Master)
		if err != nil {
			last = err
			continue
		}
		f, _ := v.([]any)
		if len(f) != 2 {
			last = fmt.Errorf("unexpected reply %v", v)
			continue
		}
		host, _ := f[0].(string)
		port, _ := f[1].(string)
		return net.JoinHostPort(host, port), nil
	}
	return "", last
}

// WaitFailover waits, bounded by limit, until every Sentinel names a
// primary other than from, and that node answers as a master. It returns
// the new primary's address.
func (s *Sentinels) WaitFailover(from string, limit time.Duration) (string, error) {
	var addr string
	err := waitFor(limit, func() error {
		for _, p := range s.procs {
			v, err := Command(p.addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.Master)
			if err != nil {
				return err
			}
			f, _ := v.([]any)
			if len(f) != 2 {
				return fmt.Errorf("unexpected reply %v", v)
			}
			host, _ := f[0].(string)
			port, _ := f[1].(string)
			if a := net.JoinHostPort(host, port); a == from {
				return fmt.Errorf("sentinel %s still names %s", p.addr, from)
			} else {
				addr = a
			}
		}
		v, err := Command(addr, "ROLE")
		if err != nil {
			return err
		}
		if f, _ := v.([]any); len(f) == 0 || f[0] != "master" {
			return fmt.Errorf("%s is not a master yet", addr)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("testenv: no failover within %v: %w\n%s", limit, err, s.logs())
	}
	return addr, nil
}

// checkReady reports nil once the replica is in sync and every Sentinel
// sees one replica and two other Sentinels.
func (s *Sentinels) checkReady() error {
	v, err := Command(s.Replica.Addr(), "INFO", "replication")
	if err != nil {
		return err
	}
	info, _ := v.(string)
	if f := infoFields(info); f["master_link_status"] != "up" {
		return fmt.Errorf("replica link %q", f["master_link_status"])
	}
	for _, p := range s.procs {
		v, err := Command(p.addr, "SENTINEL", "MASTER", s.Master)
		if err != nil {
			return err
		}
		f, _ := v.([]any)
		m := map[string]string{}
		for i := 0; i+1 < len(f); i += 2 {
			k, _ := f[i].(string)
			val, _ := f[i+1].(string)
			m[k] = val
		}
		if m["num-slaves"] != "1" || m["num-other-sentinels"] != "2" {
			return fmt.Errorf("sentinel %s sees %s replicas and %s other sentinels", p.addr, m["num-slaves"], m["num-other-sentinels"])
		}
	}
	return nil
}

// logs returns the Sentinels' logs, for failure messages.
func (s *Sentinels) logs() string {
	var b strings.Builder
	for _, p := range s.procs {
		l, _ := os.ReadFile(filepath.Join(p.dir, "sentinel.log"))
		fmt.Fprintf(&b, "--- sentinel %s\n%s", p.addr, l)
	}
	return b.String()
}

// waitFor polls check until it returns nil or limit passes. Polling is
// the only signal redis-server and Sentinel offer.
func waitFor(limit time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sentinelProc is one redis-server --sentinel process.
type sentinelProc struct {
	addr string
	dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

func startSentinelProc(t testing.TB, master, primary string, downAfter time.Duration) *sentinelProc {
	t.Helper()
	dir, err := os.MkdirTemp("", "wm-sentinel-")
	if err != nil {
		t.Fatalf("testenv: temp dir: %v", err)
	}
	port := freePort(t)
	p := &sentinelProc{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	host, pport, _ := net.SplitHostPort(primary)
	// Sentinel rewrites its configuration file as it learns: it must be
	// its own, writable.
	conf := strings.Join([]string{
		"port " + strconv.Itoa(port),
		"bind 127.0.0.1",
		"daemonize no",
		"dir " + dir,
		"logfile " + filepath.Join(dir, "sentinel.log"),
		"loglevel notice",
		fmt.Sprintf("sentinel monitor %s %s %s 2", master, host, pport),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", master, downAfter.Milliseconds()),
		fmt.Sprintf("sentinel failover-timeout %s 10000", master),
		fmt.Sprintf("sentinel parallel-syncs %s 1", master),
		"",
	}, "\n")
	file := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatalf("testenv: sentinel config: %v", err)
	}
	cmd := exec.Command("redis-server", file, "--sentinel")
	t.Cleanup(func() { os.RemoveAll(dir) })
	exited, err := startChild(cmd, "sentinel", 10*time.Second, func() error {
		_, err := Command(p.addr, "PING")
		return err
	}, func() string {
		l, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
		return string(l)
	})
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	t.Cleanup(p.kill)
	return p
}

func (p *sentinelProc) kill() {
	p.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Kill()
	<-p.exited
}
