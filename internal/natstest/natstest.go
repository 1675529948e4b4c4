package natstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pushvault/pushvault/internal/child"
)

// Version is the nats-server release the cluster runs: the one go.mod
// pins for the embedded server (TestVersionIsGoMods checks they agree).
const Version = "v2.15.2"

// Module is nats-server's Go module.
const Module = "github.com/nats-io/nats-server/v2"

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of the pinned nats-server binary, building it
// on first use with scripts/build-tool.sh (from the Go module proxy, once
// per machine, cached under the pushvault cache directory).
func Binary() (string, error) {
	binOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			binErr = err
			return
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "build-tool.sh"), "nats-server", Module, Version)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			binErr = fmt.Errorf("building nats-server %s: %v: %s", Version, err, stderr.String())
			return
		}
		binPath = strings.TrimSpace(string(out))
	})
	return binPath, binErr
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "build-tool.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/build-tool.sh not found above the working directory")
		}
		dir = parent
	}
}

// Cluster is a running JetStream cluster of nats-server processes on
// loopback. Its methods are safe for one goroutine at a time.
type Cluster struct {
	bin   string
	dir   string
	nodes []*Node
}

// Node is one nats-server of a Cluster. Its ports and store directory
// stay the same across Kill and Restart.
type Node struct {
	Name       string
	ClientPort int
	HTTPPort   int
	routePort  int
	config     string
	log        *syncBuffer
	cmd        *exec.Cmd
	done       chan struct{}
}

// Start starts an n-node cluster and registers its shutdown with
// t.Cleanup; on failure it fails the test with the nodes' logs. Under
// -short it skips the test (the unit-test tier runs no servers).
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("natstest: -short skips tests that run a NATS cluster (make test runs them)")
	}
	c, err := New(t.TempDir(), n)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// New starts an n-node cluster with its configuration and file stores
// under dir, and returns once every node reports JetStream healthy (a
// meta leader elected, every node current). Stop ends it.
func New(dir string, n int) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("natstest: %d nodes", n)
	}
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir}
	ports, err := freePorts(3 * n)
	if err != nil {
		return nil, err
	}
	for i := range n {
		c.nodes = append(c.nodes, &Node{Name: fmt.Sprintf("n%d", i+1),
			ClientPort: ports[3*i], HTTPPort: ports[3*i+1], routePort: ports[3*i+2], log: &syncBuffer{}})
	}
	for i, nd := range c.nodes {
		var routes []string
		for j, other := range c.nodes {
			if j != i {
				routes = append(routes, fmt.Sprintf("%q", fmt.Sprintf("nats://127.0.0.1:%d", other.routePort)))
			}
		}
		store := filepath.Join(dir, nd.Name, "jetstream")
		if err := os.MkdirAll(store, 0o700); err != nil {
			return nil, err
		}
		nd.config = filepath.Join(dir, nd.Name, "nats.conf")
		conf := fmt.Sprintf(`server_name: %q
host: "127.0.0.1"
port: %d
http: "127.0.0.1:%d"
jetstream {
  store_dir: %q
  max_memory_store: 64MB
  max_file_store: 1GB
}
cluster {
  name: "pushvault-test"
  listen: "127.0.0.1:%d"
  routes: [%s]
}
`, nd.Name, nd.ClientPort, nd.HTTPPort, store, nd.routePort, strings.Join(routes, ", "))
		if err := os.WriteFile(nd.config, []byte(conf), 0o600); err != nil {
			return nil, err
		}
	}
	for _, nd := range c.nodes {
		if err := c.start(nd); err != nil {
			c.Stop()
			return nil, err
		}
	}
	for i := range c.nodes {
		if err := c.WaitHealthy(i); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

func (c *Cluster) start(nd *Node) error {
	cmd := exec.Command(c.bin, "-c", nd.config)
	cmd.Stdout, cmd.Stderr = nd.log, nd.log
	waited, err := child.Start(cmd)
	if err != nil {
		return fmt.Errorf("nats-server %s: %w", nd.Name, err)
	}
	nd.cmd, nd.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		<-waited
		close(done)
	}(nd.done)
	return nil
}

// URL is every node's client URL, comma-separated: queue.url's form.
func (c *Cluster) URL() string {
	var urls []string
	for _, nd := range c.nodes {
		urls = append(urls, nd.URL())
	}
	return strings.Join(urls, ",")
}

// Nodes is the cluster's nodes, in start order.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// URL is the node's client URL.
func (nd *Node) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", nd.ClientPort) }

// PID is the node's process id (0 when it is not running).
func (nd *Node) PID() int {
	if nd.cmd == nil || nd.cmd.Process == nil || nd.exited() {
		return 0
	}
	return nd.cmd.Process.Pid
}

// Log is what the node's processes wrote so far, across restarts.
func (nd *Node) Log() string { return nd.log.String() }

func (nd *Node) exited() bool {
	select {
	case <-nd.done:
		return true
	default:
		return false
	}
}

// Kill ends node i with SIGKILL (no clean shutdown: its store is left as
// a crash leaves it) and waits for it to exit.
func (c *Cluster) Kill(i int) {
	nd := c.nodes[i]
	if nd.cmd == nil || nd.exited() {
		return
	}
	_ = nd.cmd.Process.Signal(syscall.SIGKILL)
	<-nd.done
}

// Restart starts node i again on its ports and store, and waits until it
// reports JetStream healthy (caught up with the cluster).
func (c *Cluster) Restart(i int) error {
	nd := c.nodes[i]
	if nd.cmd != nil && !nd.exited() {
		return fmt.Errorf("natstest: %s is running", nd.Name)
	}
	if err := c.start(nd); err != nil {
		return err
	}
	return c.WaitHealthy(i)
}

// WaitHealthy waits up to 60 s for node i's /healthz to answer 200 (its
// JetStream is enabled, it knows the meta leader, its streams and
// consumers are current) and for the meta leader to count every node
// current: only then does the cluster place a stream's copies on all.
func (c *Cluster) WaitHealthy(i int) error {
	if err := c.waitHealthz(i); err != nil {
		return err
	}
	return c.waitMeta()
}

// waitMeta waits up to 60 s for a node to lead the meta group with every
// other node seen and current.
func (c *Cluster) waitMeta() error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		for _, nd := range c.nodes {
			if nd.exited() {
				continue
			}
			var jsz struct {
				Meta *struct {
					Leader   string `json:"leader"`
					Replicas []struct {
						Name    string `json:"name"`
						Current bool   `json:"current"`
						Offline bool   `json:"offline"`
					} `json:"replicas"`
				} `json:"meta_cluster"`
			}
			resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/jsz", nd.HTTPPort))
			if err != nil {
				continue
			}
			err = json.NewDecoder(resp.Body).Decode(&jsz)
			resp.Body.Close()
			if err != nil || jsz.Meta == nil || jsz.Meta.Leader != nd.Name || len(jsz.Meta.Replicas) != len(c.nodes)-1 {
				continue
			}
			current := 0
			for _, p := range jsz.Meta.Replicas {
				if p.Current && !p.Offline {
					current++
				}
			}
			if current == len(c.nodes)-1 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("natstest: no meta leader seeing every node current after 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) waitHealthz(i int) error {
	nd := c.nodes[i]
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", nd.HTTPPort)
	client := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-nd.done:
			return fmt.Errorf("nats-server %s exited:\n%s", nd.Name, tail(nd.Log()))
		case <-ctx.Done():
			return fmt.Errorf("nats-server %s not healthy after 60s:\n%s", nd.Name, tail(nd.Log()))
		case <-tick.C:
		}
	}
}

// Stop ends every node (SIGTERM, then SIGKILL after 10 s).
func (c *Cluster) Stop() {
	for _, nd := range c.nodes {
		if nd.cmd == nil || nd.exited() {
			continue
		}
		_ = nd.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, nd := range c.nodes {
		if nd.cmd == nil {
			continue
		}
		select {
		case <-nd.done:
		case <-time.After(10 * time.Second):
			_ = nd.cmd.Process.Kill()
			<-nd.done
		}
	}
}

// freePorts reserves n distinct loopback ports at once, so none of them
// is handed out twice, and releases them for the servers.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// syncBuffer is a bytes.Buffer safe for the process's writes and a
// reader's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
