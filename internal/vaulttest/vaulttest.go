// Package vaulttest runs a real HashiCorp Vault dev server for tests: the
// pinned Vault binary (built once from the Go module proxy by
// scripts/build-vault.sh and cached), on a free loopback port, with a known
// root token, stopped when the test ends. It skips only under -short (the
// unit-test tier, make test-short); otherwise a test that asks for Vault and
// can't have one fails and says why.
package vaulttest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/child"
)

// Version is the Vault release the tests run against.
const Version = "1.21.0"

// RootToken is the dev server's root token.
const RootToken = "pushvault-test-root"

// Server is a running Vault dev server.
type Server struct {
	Addr  string // http://127.0.0.1:PORT
	Token string
	cmd   *exec.Cmd
	log   *SyncBuffer
	done  chan struct{} // closed when the process has exited
	once  sync.Once
	// exit is how the process ended (set before done is closed);
	// stopped says Stop asked it to.
	exit    error
	stopped atomic.Bool
}

// SyncBuffer is a bytes.Buffer safe for one goroutine's writes (the
// process's, a logger's) and another's reads.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of the pinned Vault binary, building it on first
// use (several minutes, once per machine).
func Binary() (string, error) {
	binOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			binErr = err
			return
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "build-vault.sh"))
		cmd.Env = append(os.Environ(), "PUSHVAULT_VAULT_VERSION="+Version)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			binErr = fmt.Errorf("building vault %s: %v: %s", Version, err, stderr.String())
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
		if _, err := os.Stat(filepath.Join(dir, "scripts", "build-vault.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("scripts/build-vault.sh not found above the working directory")
		}
		dir = parent
	}
}

// Start starts a dev server and registers its shutdown with t.Cleanup.
// Under -short it skips the test instead.
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("vaulttest: -short skips tests that run a real Vault server (make test runs them)")
	}
	bin, err := Binary()
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(bin)
		if err == nil {
			t.Cleanup(func() {
				// A server that died under the test explains the test's
				// failure: say so, with how it ended and what it said.
				select {
				case <-s.done:
					if !s.stopped.Load() {
						t.Errorf("vaulttest: the Vault server at %s exited during the test (%v); the end of its log:\n%s", s.Addr, s.exit, lastLines(s.log.String(), 20))
					}
				default:
				}
				s.Stop()
			})
			return s
		}
		lastErr = err
	}
	t.Fatalf("vaulttest: starting vault: %v", lastErr)
	return nil
}

func start(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "server", "-dev",
		"-dev-root-token-id="+RootToken,
		"-dev-listen-address="+addr,
		"-dev-no-store-token")
	// The dev server must not read the developer's Vault settings.
	cmd.Env = []string{"HOME=" + os.TempDir(), "PATH=" + os.Getenv("PATH")}
	log := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	waited, err := child.Start(cmd)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: "http://" + addr, Token: RootToken, cmd: cmd, log: log, done: make(chan struct{})}
	exited := make(chan error, 1)
	go func() {
		err := <-waited
		s.exit = err
		close(s.done)
		exited <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("vault exited early (%v): %s", err, log.String())
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("vault not ready after 60s: %s", log.String())
		case <-tick.C:
			resp, err := http.Get(s.Addr + "/v1/sys/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return s, nil
				}
			}
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Client returns an API client authenticated with the root token.
func (s *Server) Client(t testing.TB) *vault.Client {
	t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = s.Addr
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatalf("vault client: %v", err)
	}
	c.SetToken(s.Token)
	return c
}

// Stop stops the server. Safe to call more than once.
func (s *Server) Stop() {
	s.stopped.Store(true)
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// lastLines is the last n lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Log returns what the server printed so far.
func (s *Server) Log() string { return s.log.String() }

// AppRole enables AppRole (once) and makes role name, whose tokens carry
// policy (HCL, stored under the role's name) and live ttl, renewable up
// to maxTTL (Vault durations: "3s", "1h"). It returns the role's id and a
// fresh secret id.
func (s *Server) AppRole(t testing.TB, name, policy, ttl, maxTTL string) (roleID, secretID string) {
	t.Helper()
	root := s.Client(t)
	if err := root.Sys().PutPolicy(name, policy); err != nil {
		t.Fatal(err)
	}
	auths, err := root.Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := auths["approle/"]; !ok {
		if err := root.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := root.Logical().Write("auth/approle/role/"+name, map[string]any{
		"token_policies": name, "token_ttl": ttl, "token_max_ttl": maxTTL,
	}); err != nil {
		t.Fatal(err)
	}
	rid, err := root.Logical().Read("auth/approle/role/" + name + "/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := root.Logical().Write("auth/approle/role/"+name+"/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	return rid.Data["role_id"].(string), sid.Data["secret_id"].(string)
}
