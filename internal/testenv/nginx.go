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

// NginxOptions configure StartNginx.
type NginxOptions struct {
	// Upstreams are the host:port addresses of the instances to balance.
	Upstreams []string
	// Port is the loopback port to listen on; 0 picks a free one. Tests
	// that must know the address before the instances start (to trust it
	// as an origin) reserve one with FreePort.
	Port int
}

// Nginx is nginx from Debian's package (nginx-light or nginx) run as a
// load balancer in front of several Waymark instances, owned by one test:
// its configuration, pid file, logs and temporary files live in a private
// directory, it listens on loopback only, runs in the foreground (daemon
// off) as a child of the test, and is stopped by its PID at cleanup.
type Nginx struct {
	dir  string
	port int
	conf string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// nginxBinary finds nginx on PATH or where Debian installs it (/usr/sbin is
// not on every user's PATH).
func nginxBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return RequireBinary(t, "nginx", "apt-get install -y nginx-light (or nginx)")
}

// FreePort returns a free loopback port (another process could take it
// before it is used; tests accept that small race).
func FreePort(t testing.TB) int { return freePort(t) }

// StartNginx writes the configuration, starts nginx and waits, bounded,
// until it accepts connections.
func StartNginx(t testing.TB, o NginxOptions) *Nginx {
	t.Helper()
	bin := nginxBinary(t)
	if len(o.Upstreams) == 0 {
		t.Fatal("testenv: nginx needs at least one upstream")
	}
	dir, err := os.MkdirTemp("", "wm-nginx-")
	if err != nil {
		t.Fatalf("testenv: temp dir: %v", err)
	}
	n := &Nginx{dir: dir, port: o.Port}
	if n.port == 0 {
		n.port = freePort(t)
	}
	n.conf = NginxConfig(dir, "127.0.0.1:"+strconv.Itoa(n.port), o.Upstreams, os.Geteuid() == 0)
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(n.conf), 0o600); err != nil {
		t.Fatalf("testenv: nginx config: %v", err)
	}
	// -e: the error log from the first moment (before the configuration
	// is read nginx would otherwise try /var/log/nginx/error.log).
	cmd := exec.Command(bin, "-p", dir, "-c", file, "-e", filepath.Join(dir, "error.log"))
	t.Cleanup(func() { os.RemoveAll(dir) })
	exited, err := startChild(cmd, "nginx", 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", n.Addr(), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}, n.ErrorLog)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd, n.exited = cmd, exited
	t.Cleanup(n.Stop)
	return n
}

// NginxConfig is the configuration StartNginx runs, for prefix dir, listen
// address listen and the upstream instances; asRoot adds a user directive
// (nginx's workers would otherwise drop to nobody and lose access to the
// private directory). docs/operations.md shows the same shape.
func NginxConfig(dir, listen string, upstreams []string, asRoot bool) string {
	var b strings.Builder
	if asRoot {
		b.WriteString("user root root;\n")
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	fmt.Fprintf(&b, `daemon off;
worker_processes 1;
pid %s;
error_log %s warn;

events {
    worker_connections 1024;
}

http {
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log %s upstream;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;
    server_tokens off;

    # A WebSocket upgrade passes Connection: upgrade on; anything else
    # gets an empty Connection so upstream keep-alive works.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      '';
    }

    upstream waymark {
`, p("nginx.pid"), p("error.log"), p("access.log"), p("client_body"), p("proxy"), p("fastcgi"), p("uwsgi"), p("scgi"))
	for _, u := range upstreams {
		fmt.Fprintf(&b, "        server %s max_fails=1 fail_timeout=5s;\n", u)
	}
	fmt.Fprintf(&b, `        keepalive 32;
    }

    server {
        listen %s;
        client_max_body_size 64k;

        location / {
            proxy_pass http://waymark;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # The hub pings every socket well within this; an idle
            # dashboard is not cut off.
            proxy_read_timeout 120s;
            proxy_send_timeout 120s;
            # POSTs are never replayed on another instance after they
            # were sent (nginx's default); intake dedupes retries anyway.
            proxy_next_upstream error timeout;
        }
    }
}
`, listen)
	return b.String()
}

// URL is the balancer's base URL, http://127.0.0.1:PORT.
func (n *Nginx) URL() string { return "http://" + n.Addr() }

// Addr is the balancer's host:port.
func (n *Nginx) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// Config is the configuration nginx runs with.
func (n *Nginx) Config() string { return n.conf }

// PID is the master process's id, or 0 once stopped.
func (n *Nginx) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// ErrorLog returns nginx's error log so far.
func (n *Nginx) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
	return string(b)
}

// NginxLogLine is one access log line: a request and the upstream that
// served it. A WebSocket's line is written when the socket closes.
type NginxLogLine struct {
	Method, Path string
	Status       int
	Upstream     string
}

// AccessLog parses the access log written so far.
func (n *Nginx) AccessLog() []NginxLogLine {
	f, err := os.Open(filepath.Join(n.dir, "access.log"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []NginxLogLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 {
			continue
		}
		st, _ := strconv.Atoi(fs[2])
		out = append(out, NginxLogLine{Method: fs[0], Path: fs[1], Status: st, Upstream: fs[3]})
	}
	return out
}

// Stop ends nginx (SIGTERM: a fast shutdown that closes open sockets) and
// waits for it, killing it after 10 seconds.
func (n *Nginx) Stop() {
	n.mu.Lock()
	cmd := n.cmd
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-n.exited
	}
}
