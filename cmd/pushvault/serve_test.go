package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
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

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/evidence"
)

const serveSecret = "whsec-serve-8c2e41d07f"

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveEnv is what every serve process of a test shares.
type serveEnv struct {
	vault   *vaulttest.Server
	keyFile string
	keyPEM  string
	logs    []*lockedBuffer
}

func newServeEnv(t *testing.T) *serveEnv {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &serveEnv{vault: vaulttest.Start(t), keyFile: keyFile, keyPEM: string(keyPEM)}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type serveProc struct {
	cmd  *exec.Cmd
	addr string
	logs *lockedBuffer
	done chan error
}

// start runs `pushvault serve` with a config naming the data dir, the
// listen address and the queue settings in queue (YAML lines under queue:),
// and waits for /healthz. The private key and the webhook secret come from
// the environment: secrets, or by default the key file and the secret
// itself.
func (e *serveEnv) start(t *testing.T, dataDir, queue string, secrets ...string) *serveProc {
	t.Helper()
	// No GitHub answers app 4242: the repositories these tests add are
	// recorded, not backfilled.
	return e.startWith(t, dataDir, "github:\n  app_id: 4242\nbackfill:\n  on_install: false\n", queue, secrets...)
}

// startWith is start with the github section given (YAML).
func (e *serveEnv) startWith(t *testing.T, dataDir, githubYAML, queue string, secrets ...string) *serveProc {
	t.Helper()
	needBinary(t)
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`listen: %s
data_dir: %s
workers: 3
log_level: debug
shutdown_timeout: 10s
%squeue:
  ack_wait: 2s
  claim_lease: 2s
%s`, addr, dataDir, githubYAML, queueDefaults(queue))
	cfgFile := filepath.Join(t.TempDir(), "serve.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--config", cfgFile)
	if len(secrets) == 0 {
		secrets = []string{"PUSHVAULT_GITHUB_PRIVATE_KEY_FILE=" + e.keyFile, "PUSHVAULT_GITHUB_WEBHOOK_SECRET=" + serveSecret}
	}
	cmd.Env = append(append(os.Environ(), "VAULT_ADDR="+e.vault.Addr, "VAULT_TOKEN="+e.vault.Token), secrets...)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, addr: addr, logs: logs, done: make(chan error, 1)}
	e.logs = append(e.logs, logs)
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("pushvault serve exited: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushvault serve did not come up\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *serveProc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		p.done <- nil
	}
}

// queueDefaults adds the tests' default retry settings unless queue sets
// them.
func queueDefaults(queue string) string {
	if !strings.Contains(queue, "max_attempts:") {
		queue = "  max_attempts: 4\n" + queue
	}
	if !strings.Contains(queue, "backoff:") {
		queue = "  backoff: [100ms]\n" + queue
	}
	return queue
}

// stop ends the process with SIGTERM (a clean stop) and fails the test if
// it does not exit cleanly.
func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Errorf("after SIGTERM: %v\n%s", err, p.logs)
	}
	p.done <- nil
}

func (p *serveProc) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// deliver posts a signed installation_repositories delivery adding repos.
func (p *serveProc) deliver(t *testing.T, delivery string, repos ...string) int {
	t.Helper()
	var added []map[string]string
	for _, r := range repos {
		added = append(added, map[string]string{"full_name": r})
	}
	body, _ := json.Marshal(map[string]any{
		"action": "added", "installation": map[string]any{"id": 5, "account": map[string]string{"login": "acme"}},
		"repositories_added": added, "repositories_removed": []any{}, "sender": map[string]string{"login": "octocat"},
	})
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "installation_repositories")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", githubapp.Sign([]byte(serveSecret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// natsView watches the server's streams from the test.
type natsView struct {
	js jetstream.JetStream
}

func viewNATS(t *testing.T, url string) *natsView {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &natsView{js: js}
}

// ledger is the count of ledger records (0 when unreadable).
func (v *natsView) ledger() uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := v.js.Stream(ctx, evidence.StreamName)
	if err != nil {
		return 0
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0
	}
	return info.State.Msgs
}

// work is the consumer's pending and in-flight counts.
func (v *natsView) work() (pending uint64, inFlight int, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := v.js.Consumer(ctx, "PUSHVAULT_WEBHOOKS", "pushvault-workers")
	if err != nil {
		return 0, 0, false
	}
	ci, err := c.Info(ctx)
	if err != nil {
		return 0, 0, false
	}
	return ci.NumPending, ci.NumAckPending, true
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitProgress waits until count reaches want, for as long as it keeps
// rising: it gives up only when count has not moved for stall (or after
// ten minutes in all), and then reports what diagnose says. Work that is
// slow because the machine is loaded passes; work that is stuck fails
// with the evidence of where.
func waitProgress(t *testing.T, what string, count func() int, want int, stall time.Duration, diagnose func() string) {
	t.Helper()
	start := time.Now()
	last, moved := count(), time.Now()
	for last < want {
		time.Sleep(100 * time.Millisecond)
		if c := count(); c != last {
			last, moved = c, time.Now()
			continue
		}
		if time.Since(moved) > stall || time.Since(start) > 10*time.Minute {
			t.Fatalf("gave up waiting: %s (%d of %d after %s, none for %s)\n%s", what, last, want,
				time.Since(start).Round(time.Second), time.Since(moved).Round(time.Second), diagnose())
		}
	}
}

// checkLedger reads the ledger through the CLI (export and verify) and
// checks that each (delivery, repository) pair in want is recorded exactly
// once and nothing else is.
func (e *serveEnv) checkLedger(t *testing.T, source []string, want map[string]bool) {
	t.Helper()
	env := []string{"VAULT_ADDR=" + e.vault.Addr, "VAULT_TOKEN=" + e.vault.Token}
	dir := t.TempDir()
	ver := runBinary(t, dir, env, append([]string{"evidence", "verify"}, source...)...)
	if ver.code != 0 || !strings.Contains(ver.stdout, fmt.Sprintf("%d records, chain and signatures verified", len(want))) {
		t.Errorf("evidence verify: exit %d\n%s%s", ver.code, ver.stdout, ver.stderr)
	}
	exp := runBinary(t, dir, env, append([]string{"evidence", "export"}, source...)...)
	if exp.code != 0 {
		t.Fatalf("evidence export: exit %d\n%s", exp.code, exp.stderr)
	}
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(exp.stdout), "\n") {
		var r evidence.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		if r.Transition != evidence.RepositoryAdded || r.Actor != "github:octocat" {
			t.Errorf("record %d: %s by %s", r.Seq, r.Transition, r.Actor)
		}
		got[r.Detail["delivery_id"]+" "+r.Repository]++
	}
	for k, n := range got {
		if n != 1 || !want[k] {
			t.Errorf("%s recorded %d times (expected: %v)", k, n, want[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d distinct records, want %d", len(got), len(want))
	}
}

func (e *serveEnv) checkNoSecretsInLogs(t *testing.T) {
	t.Helper()
	keyBody := strings.Split(e.keyPEM, "\n")[3] // a line of base64 from the middle of the key
	for i, l := range e.logs {
		s := l.String()
		if strings.Contains(s, serveSecret) || strings.Contains(s, keyBody) || strings.Contains(s, e.vault.Token) {
			t.Errorf("process %d logged a secret", i+1)
		}
	}
}

// TestServeKilledMidWork kills `pushvault serve` (SIGKILL) while deliveries
// are being worked on, restarts it on the same data directory, and checks
// that every delivery's work is done exactly once.
func TestServeKilledMidWork(t *testing.T) {
	e := newServeEnv(t)
	data := t.TempDir()
	natsAddr := freeAddr(t)
	queue := "  listen: " + natsAddr + "\n"
	p := e.start(t, data, queue)
	view := viewNATS(t, "nats://"+natsAddr)

	want := map[string]bool{}
	for i := 0; i < 40; i++ {
		id := fmt.Sprintf("kill-%02d", i)
		var repos []string
		for j := 0; j < 5; j++ {
			repo := fmt.Sprintf("acme/repo-%d", (i+j)%20)
			repos = append(repos, repo)
			want[id+" "+repo] = true
		}
		if code := p.deliver(t, id, repos...); code != 202 {
			t.Fatalf("delivery %s: %d", id, code)
		}
	}
	// Kill while some work is recorded, more is to come, and a delivery is
	// in a worker's hands.
	waitFor(t, "work in progress", func() bool {
		_, inFlight, ok := view.work()
		n := view.ledger()
		return ok && inFlight > 0 && n >= 10 && n < 190
	})
	atKill := view.ledger()
	p.kill()
	t.Logf("killed with %d of %d records written", atKill, len(want))

	p2 := e.start(t, data, queue)
	waitFor(t, "the restarted server to finish", func() bool {
		pending, inFlight, ok := view.work()
		return ok && pending == 0 && inFlight == 0 && view.ledger() >= uint64(len(want))
	})
	e.checkLedger(t, []string{"--nats", "nats://" + natsAddr}, want)
	if code, body := p2.get(t, "/readyz"); code != 200 {
		t.Errorf("/readyz: %d %s", code, body)
	}
	handled := strings.Count(p.logs.String()+p2.logs.String(), `"msg":"repository coverage recorded"`)
	t.Logf("after the restart: %d deliveries finished on a second or later attempt; %d (delivery, repository) pairs handled for %d records",
		redelivered(p2.logs.String()), handled, len(want))
	// SIGTERM: a clean stop.
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p2.done; err != nil {
		t.Errorf("after SIGTERM: %v\n%s", err, p2.logs)
	}
	p2.done <- nil
	// The embedded store read directly, serve stopped.
	e.checkLedger(t, []string{"--data-dir", data}, want)
	e.checkNoSecretsInLogs(t)
}

// TestServeTwoProcessesOneNATS: two `pushvault serve` on one NATS server;
// 200 deliveries over 20 repositories, each delivered to both (a load
// balancer and GitHub's redelivery at once): each is processed once.
func TestServeTwoProcessesOneNATS(t *testing.T) {
	e := newServeEnv(t)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	defer srv.Shutdown()
	url := srv.ClientURL()
	queue := "  url: " + url + "\n"
	// The second process reads the app's key and webhook secret from Vault.
	if _, err := e.vault.Client(t).KVv2("secret").Put(context.Background(), "pushvault/github-app",
		map[string]any{"private_key": e.keyPEM, "webhook_secret": serveSecret}); err != nil {
		t.Fatal(err)
	}
	procs := []*serveProc{e.start(t, t.TempDir(), queue), e.start(t, t.TempDir(), queue,
		"PUSHVAULT_GITHUB_PRIVATE_KEY_VAULT=vault:secret/data/pushvault/github-app#private_key",
		"PUSHVAULT_GITHUB_WEBHOOK_SECRET_VAULT=vault:secret/data/pushvault/github-app#webhook_secret")}
	view := viewNATS(t, url)

	want := map[string]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		id := fmt.Sprintf("burst-%03d", i)
		repo := fmt.Sprintf("acme/repo-%02d", i%20)
		want[id+" "+repo] = true
		for _, p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code := p.deliver(t, id, repo); code != 202 {
					t.Errorf("delivery %s: %d", id, code)
				}
			}()
		}
		if i%20 == 19 {
			wg.Wait()
		}
	}
	wg.Wait()
	waitFor(t, "the burst to be processed", func() bool {
		pending, inFlight, ok := view.work()
		return ok && pending == 0 && inFlight == 0 && view.ledger() >= 200
	})
	e.checkLedger(t, []string{"--nats", url}, want)

	// Both processes took webhooks, the stream stored each delivery once,
	// and both did work.
	var accepted, duplicate, processed float64
	for i, p := range procs {
		code, body := p.get(t, "/metrics")
		if code != 200 {
			t.Fatalf("/metrics: %d", code)
		}
		a := series(body, `pushvault_webhooks_total{event="installation_repositories",outcome="accepted"}`)
		d := series(body, `pushvault_webhooks_total{event="installation_repositories",outcome="duplicate"}`)
		s := series(body, `pushvault_events_processed_total{event="installation_repositories",outcome="success"}`)
		t.Logf("process %d: accepted %v, duplicate %v, processed %v", i+1, a, d, s)
		accepted, duplicate, processed = accepted+a, duplicate+d, processed+s
		for _, name := range []string{"pushvault_queue_pending 0", "pushvault_queue_in_flight", "pushvault_dead_letter_messages 0",
			"pushvault_scan_duration_seconds", "pushvault_event_processing_seconds"} {
			if !strings.Contains(body, name) {
				t.Errorf("process %d: /metrics lacks %s", i+1, name)
			}
		}
	}
	if accepted != 200 || duplicate != 200 || processed < 200 {
		t.Errorf("accepted %v, duplicate %v, processed %v; want 200, 200 and at least 200", accepted, duplicate, processed)
	}

	// Readiness names what is down.
	if code, body := procs[0].get(t, "/readyz"); code != 200 {
		t.Errorf("/readyz: %d %s", code, body)
	}
	srv.Shutdown()
	srv.WaitForShutdown()
	if code, body := procs[0].get(t, "/readyz"); code != 503 || !strings.Contains(body, "queue:") || strings.Contains(body, "vault:") {
		t.Errorf("/readyz with NATS down: %d %q", code, body)
	}
	e.vault.Stop()
	if code, body := procs[1].get(t, "/readyz"); code != 503 || !strings.Contains(body, "vault:") {
		t.Errorf("/readyz with NATS and Vault down: %d %q", code, body)
	}
	if code, _ := procs[1].get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	e.checkNoSecretsInLogs(t)
}

// redelivered counts "event processed" log lines of a second or later
// attempt.
func redelivered(logs string) int {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		var rec struct {
			Msg     string `json:"msg"`
			Attempt int    `json:"attempt"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "event processed" && rec.Attempt > 1 {
			n++
		}
	}
	return n
}

// series is the value of one exposition line (0 when absent).
func series(body, name string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return 0
}

// TestServeRefusesBadConfig: every bad key at once, exit 2, no secret.
func TestServeRefusesBadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "serve.yml")
	if err := os.WriteFile(cfg, []byte("workers: 0\nqueue:\n  replicas: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, t.TempDir(), []string{"PUSHVAULT_GITHUB_WEBHOOK_SECRET=" + serveSecret}, "serve", "--config", cfg)
	if r.code != 2 {
		t.Errorf("exit %d, want 2", r.code)
	}
	for _, want := range []string{"workers: 0", "github.app_id: required", "github.private_key: required", "queue.replicas: 0", "vault.address: required"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr+r.stdout, serveSecret) {
		t.Error("the webhook secret was printed")
	}
	r = runBinary(t, t.TempDir(), nil, "serve", "--config", writeTemp(t, "workers: 2\nwrokers: 3\n"))
	if r.code != 2 || !strings.Contains(r.stderr, "line 2: unknown key wrokers") {
		t.Errorf("unknown key: exit %d\n%s", r.code, r.stderr)
	}
}

func writeTemp(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "serve.yml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
