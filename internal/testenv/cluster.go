package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of masters only (no replicas), each a private
// redis-server on loopback with its own directory, owned by one test.
type Cluster struct {
	Nodes []*Redis
}

// clusterReady bounds how long a new cluster may take to agree on its slots.
const clusterReady = 20 * time.Second

// StartCluster starts n redis-servers with --cluster-enabled yes on free
// loopback ports, joins them with redis-cli --cluster create (no replicas),
// and waits, bounded, until every node reports cluster_state:ok. Everything
// stops at cleanup.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 3 {
		t.Fatalf("testenv: a Redis Cluster needs at least 3 masters, not %d", n)
	}
	RequireBinary(t, "redis-server", "apt-get install -y redis-server")
	cli := RequireBinary(t, "redis-cli", "apt-get install -y redis-tools")
	c := &Cluster{}
	for range n {
		// The cluster bus port is chosen too: the default (port + 10000)
		// can lie above 65535 for a high ephemeral port.
		bus := freePort(t)
		r := StartRedis(t, RedisOptions{TCP: true, Args: []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(bus),
			"--cluster-node-timeout", "2000",
			// A test cluster must answer even while a node it does not
			// need is away.
			"--cluster-require-full-coverage", "no",
		}})
		c.Nodes = append(c.Nodes, r)
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	cmd := exec.Command(cli, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.waitOK(clusterReady); err != nil {
		t.Fatalf("testenv: cluster not ready: %v\n%s", err, out)
	}
	return c
}

// Addrs are the nodes' host:port addresses, the seed list for a client.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, r := range c.Nodes {
		out[i] = r.Addr()
	}
	return out
}

// waitOK polls CLUSTER INFO on every node until all report the cluster ok
// with every slot assigned and every node known.
func (c *Cluster) waitOK(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		err := c.checkOK()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond) // polling: redis offers no readiness signal
	}
}

func (c *Cluster) checkOK() error {
	for _, r := range c.Nodes {
		v, err := Command(r.Addr(), "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		info, _ := v.(string)
		fields := infoFields(info)
		if fields["cluster_state"] != "ok" || fields["cluster_slots_ok"] != "16384" ||
			fields["cluster_known_nodes"] != strconv.Itoa(len(c.Nodes)) {
			return fmt.Errorf("node %s: cluster_state %s, slots ok %s, known nodes %s", r.Addr(),
				fields["cluster_state"], fields["cluster_slots_ok"], fields["cluster_known_nodes"])
		}
	}
	return nil
}

// KeySlot asks the cluster which hash slot key maps to.
func (c *Cluster) KeySlot(key string) (int, error) {
	v, err := Command(c.Nodes[0].Addr(), "CLUSTER", "KEYSLOT", key)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("testenv: CLUSTER KEYSLOT answered %T", v)
	}
	return int(n), nil
}

// NodeForSlot returns the address of the master serving slot.
func (c *Cluster) NodeForSlot(slot int) (string, error) {
	v, err := Command(c.Nodes[0].Addr(), "CLUSTER", "SLOTS")
	if err != nil {
		return "", err
	}
	ranges, _ := v.([]any)
	for _, rg := range ranges {
		f, _ := rg.([]any)
		if len(f) < 3 {
			continue
		}
		lo, _ := f[0].(int64)
		hi, _ := f[1].(int64)
		if int64(slot) < lo || int64(slot) > hi {
			continue
		}
		master, _ := f[2].([]any)
		if len(master) < 2 {
			break
		}
		host, _ := master[0].(string)
		port, _ := master[1].(int64)
		return net.JoinHostPort(host, strconv.FormatInt(port, 10)), nil
	}
	return "", fmt.Errorf("testenv: no master serves slot %d", slot)
}

// Keys lists every key on every node (KEYS *: test data sets are small).
// The map is by node address.
func (c *Cluster) Keys() (map[string][]string, error) {
	out := map[string][]string{}
	for _, r := range c.Nodes {
		v, err := Command(r.Addr(), "KEYS", "*")
		if err != nil {
			return nil, err
		}
		list, _ := v.([]any)
		for _, k := range list {
			if s, ok := k.(string); ok {
				out[r.Addr()] = append(out[r.Addr()], s)
			}
		}
	}
	return out, nil
}

// infoFields parses INFO-style "name:value" lines.
func infoFields(info string) map[string]string {
	out := map[string]string{}
	for line := range strings.SplitSeq(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out
}

// Command sends one command to the Redis (or Sentinel) at addr, a
// host:port, and returns its reply: a string (simple or bulk), an int64, a
// []any, nil for a null, or an error for an error reply. It is for test
// set-up and checks, where pulling in a client library would hide what
// goes over the wire. Each call is one short, bounded connection.
func Command(addr string, args ...string) (any, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, err
	}
	v, err := readReply(bufio.NewReader(c))
	if err != nil {
		return nil, err
	}
	if e, ok := v.(replyError); ok {
		return nil, e
	}
	return v, nil
}

// replyError is an error reply from Redis.
type replyError string

func (e replyError) Error() string { return "redis: " + string(e) }

// readReply reads one RESP2 reply. Error replies nested in arrays stay
// values (replyError); a top-level one is returned by Command as an error.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("testenv: empty reply line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return replyError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("testenv: unknown reply type %q", line[0])
}
