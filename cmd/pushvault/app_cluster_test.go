package main_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/natstest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// TestAppClusterBurst: three nats-server processes as a JetStream cluster,
// the streams and buckets at three replicas (queue.replicas: 3), three
// `pushvault serve` replicas behind a load balancer with queue.url naming
// every node. A burst of pushes, each leaking its own Stripe key, in three
// waves: the node leading the webhook stream is killed (SIGKILL) once the
// first wave is under way, the second wave is pushed while it is down, and
// it is restarted on its store; then a serve replica is killed (SIGKILL)
// in the middle of a push, just after GitHub created the push's fix PR and
// before serve heard back (the stand-in holds the answer, so which replica
// dies, and when, is observed, not timed). Every push is remediated
// exactly once: one check run, one fix PR and one commit comment per push,
// one vault version per secret; no delivery refused, nothing
// dead-lettered or left in the queue; the ledger's chain and signatures
// verify, with one record per finding and transition.
func TestAppClusterBurst(t *testing.T) {
	needBinary(t) // before building the cluster and the repositories
	cluster := natstest.Start(t, 3)
	srv := githubtest.New(t)
	const repos, wave = 6, 12
	for i := range repos {
		if err := srv.CreateRepo("acme", fmt.Sprintf("svc-%d", i), map[string]string{"README.md": "svc\n"}); err != nil {
			t.Fatal(err)
		}
	}
	inst := srv.Install("acme")
	v := vaulttest.Start(t)
	// Attempts that meet a leader election fail and are retried: enough
	// attempts, and backoff, to outlast one.
	q := "  url: " + cluster.URL() + "\n  replicas: 3\n  max_attempts: 8\n  backoff: [1s, 2s]\n"
	var procs []*serveProc
	var targets []string
	for range 3 {
		p := startApp(t, srv, v, t.TempDir(), q, "")
		procs = append(procs, p)
		targets = append(targets, "http://"+p.addr+"/webhook")
	}
	srv.SetWebhookURL(newBalancer(t, targets))
	view := viewNATS(t, cluster.URL())

	tok, _, err := srv.Token(inst)
	if err != nil {
		t.Fatal(err)
	}
	clones := make([]*gittest.Repo, repos)
	for i := range repos {
		clones[i] = gittest.Clone(t, srv.AuthCloneURL("acme", fmt.Sprintf("svc-%d", i), tok))
	}
	var (
		mu      sync.Mutex
		heads   = map[string]string{} // head -> repository
		planted []string
		n       int
	)
	// pushWave pushes wave pushes, one pusher per repository at once, and
	// returns when every git push has returned (the stand-in delivers the
	// push webhook before it answers git).
	pushWave := func() {
		var wg sync.WaitGroup
		for r, c := range clones {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range wave / repos {
					mu.Lock()
					n++
					k := n
					s := secrettest.New(uint64(700 + k)).Stripe()
					planted = append(planted, s)
					mu.Unlock()
					head := c.Commit("dev <dev@acme.test>", fmt.Sprintf("push %d", k), map[string]string{
						fmt.Sprintf("config/s%02d.yml", k): fmt.Sprintf("stripe_api_key_%02d: %s\n", k, s),
					})
					c.Git("push", "-q", "origin", "HEAD:main")
					mu.Lock()
					heads[head] = fmt.Sprintf("acme/svc-%d", r)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	completed := func() int {
		done := 0
		for _, r := range srv.CheckRuns() {
			if r.Name == "pushvault" && r.Status == "completed" {
				done++
			}
		}
		return done
	}
	// diagnose says, when work stalls, which pushes are not done, what
	// the queue holds, and what each live replica logged last.
	victim := -1
	diagnose := func() string {
		var b strings.Builder
		status := map[string]string{}
		for _, r := range srv.CheckRuns() {
			if r.Name == "pushvault" {
				status[r.HeadSHA] = r.Status
			}
		}
		mu.Lock()
		for h, repo := range heads {
			if status[h] != "completed" {
				fmt.Fprintf(&b, "not done: %s %s (check run: %q)\n", repo, h[:7], status[h])
			}
		}
		mu.Unlock()
		pending, inFlight, ok := view.work()
		fmt.Fprintf(&b, "queue: %d pending, %d in flight (read: %v)\n", pending, inFlight, ok)
		for i, p := range procs {
			if i == victim {
				continue
			}
			lines := strings.Split(strings.TrimSpace(p.logs.String()), "\n")
			fmt.Fprintf(&b, "--- replica %d, last log lines:\n%s\n", i+1, strings.Join(lines[max(0, len(lines)-25):], "\n"))
		}
		// Where the live replicas' workers are: each is stopped with
		// SIGQUIT, which makes Go print every goroutine's stack; the
		// test fails anyway.
		for i, p := range procs {
			if i == victim {
				continue
			}
			fmt.Fprintf(&b, "--- replica %d, its goroutines in pushvault's app code (SIGQUIT):\n%s\n", i+1, appStacks(p))
		}
		return b.String()
	}
	// Work must keep moving; how fast depends on the machine's load, so
	// the waits below fail on a stall (longer than the queue's 30 s ack
	// wait, a retry's backoff and an election), not on a clock.
	const stall = 2 * time.Minute

	// Wave 1; once work is under way, kill the node leading the webhook
	// stream, the one whose loss costs an election.
	pushWave()
	waitProgress(t, "the first wave under way", completed, 3, stall, diagnose)
	leader := streamLeader(t, view, cluster)
	cluster.Kill(leader)
	t.Logf("killed NATS node %s (the webhook stream's leader) with %d of %d check runs completed", cluster.Nodes()[leader].Name, completed(), wave)
	// Wave 2 with the node down.
	pushWave()
	waitProgress(t, "work done with the node down", completed, wave+3, stall, diagnose)
	if err := cluster.Restart(leader); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted NATS node %s with %d check runs completed", cluster.Nodes()[leader].Name, completed())

	// Wave 3: the next fix PR GitHub creates is answered to nobody; the
	// replica that asked is killed while it waits.
	srv.Fault(githubtest.Fault{Operation: "pulls/create", Kind: githubtest.HoldResponse})
	pushWave()
	waitFor(t, "a fix PR created and its answer held", func() bool { return len(srv.HeldFrom()) == 1 })
	victim = processOf(t, srv.HeldFrom()[0], procs)
	procs[victim].kill()
	t.Logf("killed serve replica %d in the middle of a push, with %d check runs completed", victim+1, completed())

	total := 3 * wave
	waitProgress(t, "every push's check run to complete", completed, total, stall, diagnose)
	waitFor(t, "the queue to be empty", func() bool {
		pending, inFlight, ok := view.work()
		return ok && pending == 0 && inFlight == 0
	})
	waitFor(t, "every commit comment", func() bool { return len(srv.Comments()) >= total })

	// One check run per push, completed with its one finding.
	perHead := map[string]int{}
	for _, r := range srv.CheckRuns() {
		if r.Name != "pushvault" {
			continue
		}
		perHead[r.HeadSHA]++
		if heads[r.HeadSHA] == "" || r.Status != "completed" || r.Conclusion != "action_required" || len(r.Annotations) != 1 {
			t.Errorf("check run on %s: %s %s with %d annotations (a pushed head: %v)", r.HeadSHA[:7], r.Status, r.Conclusion, len(r.Annotations), heads[r.HeadSHA] != "")
		}
	}
	for h := range heads {
		if perHead[h] != 1 {
			t.Errorf("head %s: %d check runs, want 1", h[:7], perHead[h])
		}
	}
	// One fix PR and one commit comment per push.
	prs := map[string]int{}
	for _, pr := range srv.PullRequests() {
		prs[pr.Repo+" "+pr.Head]++
	}
	for h, repo := range heads {
		if k := repo + " pushvault/fix-" + h[:7]; prs[k] != 1 {
			t.Errorf("%s: %d fix PRs, want 1", k, prs[k])
		}
	}
	if len(prs) != total {
		t.Errorf("%d fix PRs, want %d", len(prs), total)
	}
	comments := map[string]int{}
	for _, c := range srv.Comments() {
		comments[c.CommitSHA]++
	}
	for h := range heads {
		if comments[h] != 1 {
			t.Errorf("head %s: %d commit comments, want 1", h[:7], comments[h])
		}
	}
	// One vault version per secret, and no other secret.
	vc := v.Client(t)
	names := 0
	for i := range repos {
		list, err := vc.Logical().List(fmt.Sprintf("secret/metadata/pushvault/acme/svc-%d", i))
		if err != nil || list == nil {
			t.Errorf("svc-%d: vault list: %v", i, err)
			continue
		}
		keys, _ := list.Data["keys"].([]any)
		for _, k := range keys {
			names++
			md, err := vc.KVv2("secret").GetMetadata(context.Background(), fmt.Sprintf("pushvault/acme/svc-%d/%v", i, k))
			if err != nil || md.CurrentVersion != 1 || len(md.Versions) != 1 {
				t.Errorf("svc-%d/%v: vault versions %v (%v), want 1", i, k, md, err)
			}
		}
	}
	if names != total {
		t.Errorf("%d vaulted secrets, want %d", names, total)
	}
	// Every push delivery was taken (none refused while a node or a
	// replica was down), and nothing was dead-lettered.
	// pushvault's own pushes of its fix branches are deliveries too (as
	// on GitHub); only the developers' pushes are counted.
	pushDeliveries := 0
	for _, d := range srv.Deliveries() {
		if d.Event != "push" || strings.Contains(string(d.Payload), `"ref":"refs/heads/`+remediator.FixBranchPrefix) {
			continue
		}
		pushDeliveries++
		if d.Err != "" || d.StatusCode != http.StatusAccepted {
			t.Errorf("push delivery %s: %d %s", d.ID, d.StatusCode, d.Err)
		}
	}
	if pushDeliveries != total {
		t.Errorf("%d push deliveries, want %d", pushDeliveries, total)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{queue.WebhookStream, queue.DeadLetterStream, evidence.StreamName, "KV_" + queue.StateBucket, "KV_" + queue.LimitsBucket} {
		s, err := view.js.Stream(ctx, name)
		if err != nil {
			t.Errorf("stream %s: %v", name, err)
			continue
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Errorf("stream %s: %v", name, err)
			continue
		}
		if info.Config.Replicas != 3 {
			t.Errorf("stream %s: %d replicas, want 3", name, info.Config.Replicas)
		}
		if name == queue.DeadLetterStream && info.State.Msgs != 0 {
			t.Errorf("%d dead letters", info.State.Msgs)
		}
	}
	redeliveries := 0.0
	for i, p := range procs {
		if i == victim {
			continue
		}
		_, body := p.get(t, "/metrics")
		if strings.Contains(body, "pushvault_dead_letters_total{") {
			t.Errorf("replica %d dead-lettered:\n%s", i+1, grepLines(body, "dead_letters"))
		}
		redeliveries += series(body, `pushvault_redeliveries_total{event="push"}`)
	}
	// The killed replica's delivery came back to another.
	if redeliveries < 1 {
		t.Errorf("no push redelivered after replica %d was killed holding one", victim+1)
	}

	// The ledger, read from the cluster: chain and signatures verify, and
	// each finding has one record of each transition it went through.
	env := []string{"VAULT_ADDR=" + v.Addr, "VAULT_TOKEN=" + v.Token}
	ver := runBinary(t, t.TempDir(), env, "evidence", "verify", "--nats", cluster.URL())
	if ver.code != 0 || !strings.Contains(ver.stdout, "chain and signatures verified") {
		t.Errorf("evidence verify: exit %d\n%s%s", ver.code, ver.stdout, ver.stderr)
	}
	perTransition := map[string]int{}
	seen := map[string]int{}
	for _, r := range exportLedger(t, v, "--nats", cluster.URL()) {
		perTransition[r.Transition]++
		seen[r.Repository+" "+r.FindingID+" "+r.Transition]++
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("ledger: %s recorded %d times", k, c)
		}
	}
	for _, tr := range []string{evidence.Detected, evidence.Vaulted, evidence.FixProposed} {
		if perTransition[tr] != total {
			t.Errorf("ledger: %d %s records, want %d (%v)", perTransition[tr], tr, total, perTransition)
		}
	}

	var outputs []string
	for _, p := range procs {
		outputs = append(outputs, p.logs.String())
	}
	for _, nd := range cluster.Nodes() {
		outputs = append(outputs, nd.Log())
	}
	for _, r := range srv.CheckRuns() {
		outputs = append(outputs, r.Summary, r.Text)
	}
	for _, pr := range srv.PullRequests() {
		outputs = append(outputs, pr.Title, pr.Body)
	}
	noPlantedValue(t, planted, nil, outputs)
}

// streamLeader is the index of the node leading the webhook stream.
func streamLeader(t *testing.T, view *natsView, c *natstest.Cluster) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var info *jetstream.StreamInfo
	for {
		s, err := view.js.Stream(ctx, queue.WebhookStream)
		if err == nil {
			info, err = s.Info(ctx)
		}
		if err == nil && info.Cluster != nil && info.Cluster.Leader != "" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the webhook stream's leader: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, nd := range c.Nodes() {
		if nd.Name == info.Cluster.Leader {
			return i
		}
	}
	t.Fatalf("the webhook stream's leader %q is no node of the cluster", info.Cluster.Leader)
	return -1
}

// processOf is the index of the serve process that owns the client end
// of a loopback TCP connection from addr (host:port), found as the kernel
// sees it: the socket in /proc/net/tcp whose local address is addr, and
// the process holding that socket among its file descriptors.
func processOf(t *testing.T, addr string, procs []*serveProc) int {
	t.Helper()
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(":%04X", port)
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	inode := ""
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && strings.HasSuffix(f[1], want) && strings.HasPrefix(f[1], "0100007F") && f[9] != "0" {
			inode = f[9]
		}
	}
	if inode == "" {
		t.Fatalf("no socket with local address %s in /proc/net/tcp", addr)
	}
	for i, p := range procs {
		dir := fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid)
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && link == "socket:["+inode+"]" {
				return i
			}
		}
	}
	t.Fatalf("no serve process holds the socket of %s", addr)
	return -1
}

// newBalancer is a load balancer for webhooks: each delivery goes to the
// next target in turn, and to the one after it when a target does not
// answer (a dead replica: connection refused or cut), as a load balancer's
// passive health check does. Retrying a POST is safe here because serve
// stores a delivery once by its X-GitHub-Delivery.
func newBalancer(t *testing.T, targets []string) string {
	t.Helper()
	var next atomic.Uint64
	client := &http.Client{Timeout: 15 * time.Second}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		start := int(next.Add(1))
		for i := range targets {
			req, err := http.NewRequestWithContext(r.Context(), r.Method, targets[(start+i)%len(targets)], strings.NewReader(string(body)))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			req.Header = r.Header.Clone()
			resp, err := client.Do(req)
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(b)
			return
		}
		http.Error(w, "no replica answered", http.StatusBadGateway)
	})
	return httptestServer(t, h)
}

// appStacks stops p with SIGQUIT and returns the stacks Go printed of its
// goroutines that were in pushvault's app code, the queue workers' first,
// function names only, at most 16 KiB.
func appStacks(p *serveProc) string {
	before := len(p.logs.String())
	if err := p.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return "SIGQUIT: " + err.Error()
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		return "no exit within 10 s of SIGQUIT"
	}
	var workers, others []string
	for _, g := range strings.Split(p.logs.String()[before:], "\n\n") {
		if !strings.Contains(g, "pushvault/pushvault/app/") {
			continue
		}
		var fns []string
		for _, l := range strings.Split(g, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "/") {
				fns = append(fns, l)
			}
		}
		if strings.Contains(g, "Workers).process(") {
			workers = append(workers, strings.Join(fns, "\n"))
		} else {
			others = append(others, strings.Join(fns, "\n"))
		}
	}
	var b strings.Builder
	for _, g := range append(workers, others...) {
		if b.Len()+len(g) > 16<<10 {
			break
		}
		b.WriteString(g + "\n\n")
	}
	return b.String()
}
