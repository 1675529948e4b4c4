package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/natstest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// clusterConfig is what -cluster measures: the same burst through 1, 2
// and 3 serve replicas on a three-node NATS JetStream cluster.
type clusterConfig struct {
	pushvault string // the pushvault binary
	standin   string // the stand-in binary ("" builds ./internal/cmd/standin)
	repos     int    // repositories on the stand-in, one pusher each
	burst     int    // pushes in the burst
	replicas  []int  // serve replicas of each run
}

// clusterRun is one run's figures.
type clusterRun struct {
	replicas int
	pushes   int
	wall     time.Duration // first push started -> last push done
	serve    []cpuTimes    // each replica's CPU over the burst
	nats     time.Duration // the three nodes together
	standin  cpuTimes      // the stand-in and its git http-backend
	vault    time.Duration
	pushers  time.Duration // the benchmark's own git processes (commit, push)
	p50, p95 time.Duration // push -> done
}

func (r clusterRun) perMinute() float64 { return float64(r.pushes) / r.wall.Minutes() }

func (r clusterRun) serveCPU() time.Duration {
	var d time.Duration
	for _, c := range r.serve {
		d += c.self
	}
	return d
}

func (r clusterRun) serveGit() time.Duration {
	var d time.Duration
	for _, c := range r.serve {
		d += c.children
	}
	return d
}

// benchCluster runs, for each replica count, a fresh world — a three-node
// NATS JetStream cluster (nats-server processes, R3 streams and buckets),
// a Vault dev server, the GitHub stand-in and that many `pushvault serve`
// replicas (4 workers each, queue.url naming every node) behind a
// round-robin load balancer — warms it with one push per repository, then
// times the same burst as -app (three planted secrets a push, one pusher
// per repository) from its first push to the last check run and fix PR,
// with every process's CPU from the kernel's accounting over the burst.
func benchCluster(c clusterConfig) error {
	if c.repos < 1 || c.burst < 1 || len(c.replicas) == 0 {
		return fmt.Errorf("-cluster-repos, -cluster-burst and -cluster-replicas must each be at least 1")
	}
	bin, err := filepath.Abs(c.pushvault)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "pushvault-bench-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if c.standin == "" {
		if c.standin, err = buildStandin(scratch); err != nil {
			return err
		}
	}
	out, err := exec.Command("bash", "scripts/build-vault.sh").Output()
	vaultBin := strings.TrimSpace(string(out))
	if err != nil {
		return fmt.Errorf("scripts/build-vault.sh (run from the repository root; `make vault` builds it): %w", err)
	}
	if _, err := natstest.Binary(); err != nil {
		return err
	}
	fmt.Printf("cluster benchmark: pushvault %s serve replicas (4 workers each) on a 3-node NATS JetStream cluster (nats-server %s, R3), Vault dev, GitHub stand-in; %d repositories, a burst of %d pushes, 3 planted secrets a push; %d CPU cores, load average %s\n",
		version(bin, "version"), natstest.Version, c.repos, c.burst, runtime.NumCPU(), loadAverage())
	var runs []clusterRun
	for _, n := range c.replicas {
		fmt.Fprintf(os.Stderr, "%d replica(s)\n", n)
		r, err := clusterBurst(c, bin, vaultBin, filepath.Join(scratch, fmt.Sprintf("run-%d", n)), n)
		if err != nil {
			return fmt.Errorf("%d replicas: %w", n, err)
		}
		runs = append(runs, r)
	}

	base := runs[0].perMinute()
	fmt.Printf("\n%-9s %6s %8s %11s %7s %10s %11s %14s %10s\n", "replicas", "pushes", "wall (s)", "pushes/min", "vs 1st", "serve CPU", "serve git", "pushes/min per", "push->done")
	fmt.Printf("%-9s %6s %8s %11s %7s %10s %11s %14s %10s\n", "", "", "", "", "", "(s, all)", "(s, all)", "serve core", "p50/p95 s")
	for _, r := range runs {
		fmt.Printf("%-9d %6d %8.1f %11.1f %6.2fx %10.1f %11.1f %14.0f %4.1f/%4.1f\n", r.replicas, r.pushes, r.wall.Seconds(), r.perMinute(),
			r.perMinute()/base, r.serveCPU().Seconds(), r.serveGit().Seconds(), float64(r.pushes)/r.serveCPU().Minutes(), r.p50.Seconds(), r.p95.Seconds())
	}
	fmt.Printf("\nwhere the machine's CPU went during each burst (CPU seconds; %d cores x wall is what there was)\n", runtime.NumCPU())
	fmt.Printf("%-9s %9s %11s %10s %9s %9s %9s %11s %9s\n", "replicas", "serve", "serve git", "stand-in", "nats x3", "vault", "pushers", "all", "of cores")
	for _, r := range runs {
		all := r.serveCPU() + r.serveGit() + r.standin.self + r.standin.children + r.nats + r.vault + r.pushers
		avail := time.Duration(runtime.NumCPU()) * r.wall
		fmt.Printf("%-9d %9.1f %11.1f %10.1f %9.1f %9.1f %9.1f %11.1f %8.0f%%\n", r.replicas, r.serveCPU().Seconds(), r.serveGit().Seconds(),
			(r.standin.self + r.standin.children).Seconds(), r.nats.Seconds(), r.vault.Seconds(), r.pushers.Seconds(), all.Seconds(), 100*all.Seconds()/avail.Seconds())
	}
	for _, r := range runs {
		parts := make([]string, len(r.serve))
		for i, c := range r.serve {
			parts[i] = fmt.Sprintf("%.1f", c.self.Seconds())
		}
		fmt.Printf("serve CPU by replica with %d: %s s\n", r.replicas, strings.Join(parts, ", "))
	}
	fmt.Println("(serve: each replica's own CPU; serve git: the git processes it ran; stand-in: with its git http-backend; pushers: this benchmark's git commit and push; all checked: every check run action_required with its findings, every fix PR opened, no stand-in contract violation or failed delivery, no planted value in any log or the stand-in's state)")
	return nil
}

// clusterBurst runs one world with n replicas and measures its burst.
func clusterBurst(c clusterConfig, bin, vaultBin, dir string, n int) (clusterRun, error) {
	run := clusterRun{replicas: n}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return run, err
	}
	var kids children
	defer kids.stopAll()
	cluster, err := natstest.New(filepath.Join(dir, "nats"), 3)
	if err != nil {
		return run, err
	}
	defer cluster.Stop()
	vault, vaultAddr, err := startVault(&kids, vaultBin, dir)
	if err != nil {
		return run, err
	}
	addrs := make([]string, n)
	targets := make([]string, n)
	for i := range addrs {
		if addrs[i], err = freeAddr(); err != nil {
			return run, err
		}
		targets[i] = "http://" + addrs[i] + "/webhook"
	}
	lb, err := startBalancer(targets)
	if err != nil {
		return run, err
	}
	defer lb.Close()
	var repos []string
	for i := 1; i <= c.repos; i++ {
		repos = append(repos, fmt.Sprintf("acme/svc%02d", i))
	}
	gh, info, err := startStandin(&kids, "stand-in", c.standin, filepath.Join(dir, "standin"), lb.URL, repos)
	if err != nil {
		return run, err
	}
	queueCfg := "queue:\n  url: " + cluster.URL() + "\n  replicas: 3\n"
	var serves []*child
	for i, addr := range addrs {
		s, err := startServeNamed(&kids, fmt.Sprintf("pushvault serve %d", i+1), fmt.Sprintf("serve-%d", i+1), bin, dir, addr, vaultAddr, queueCfg, info)
		if err != nil {
			return run, err
		}
		serves = append(serves, s)
	}
	clones, err := cloneAll(context.Background(), info, filepath.Join(dir, "work"))
	if err != nil {
		return run, err
	}
	secrets := &planter{g: secrettest.New(uint64(4200 + n))}
	events := newEventWaiter(info.URL)

	// Warm: one push per repository, every replica started and connected.
	warm, err := pushBurst(clones, secrets, len(clones))
	if err != nil {
		return run, fmt.Errorf("warm-up: %w", err)
	}
	if _, err := events.waitAll(warm, time.Now().Add(appTimeout)); err != nil {
		return run, fmt.Errorf("warm-up: %w", err)
	}

	before, err := sampleAll(serves, cluster, gh, vault)
	if err != nil {
		return run, err
	}
	start := time.Now()
	pushes, err := pushBurst(clones, secrets, c.burst)
	if err != nil {
		return run, fmt.Errorf("burst: %w", err)
	}
	dones, err := events.waitAll(pushes, start.Add(appTimeout+time.Duration(c.burst)*time.Second))
	if err != nil {
		return run, fmt.Errorf("burst: %w", err)
	}
	after, err := sampleAll(serves, cluster, gh, vault)
	if err != nil {
		return run, err
	}
	var last time.Time
	var took []measurement
	for i, p := range pushes {
		d := dones[i].done()
		if d.After(last) {
			last = d
		}
		took = append(took, measurement{wall: d.Sub(p.start)})
	}
	run.pushes, run.wall = len(pushes), last.Sub(start)
	run.p50, run.p95 = percentile(took, 50), percentile(took, 95)
	for i := range serves {
		run.serve = append(run.serve, after.serve[i].sub(before.serve[i]))
	}
	run.nats = after.nats - before.nats
	run.standin = after.standin.sub(before.standin)
	run.vault = after.vault - before.vault
	run.pushers = after.self - before.self

	state := &stateReader{url: info.URL + githubtest.StatePath}
	final, err := state.read()
	if err != nil {
		return run, err
	}
	var logs strings.Builder
	for _, s := range serves {
		if err := s.stop(); err != nil {
			return run, fmt.Errorf("%s: %w\n%s", s.name, err, tail(s.logText()))
		}
		logs.WriteString(s.logText())
	}
	for _, nd := range cluster.Nodes() {
		logs.WriteString(nd.Log())
	}
	if err := checkFinal(final, secrets.values, logs.String()+gh.logText()); err != nil {
		return run, err
	}
	if got, want := countFixPRs(final), len(pushes)+len(warm); got != want {
		return run, fmt.Errorf("%d fix PRs, want %d", got, want)
	}
	return run, nil
}

// worldCPU is the CPU every process of a run has used so far.
type worldCPU struct {
	serve   []cpuTimes
	nats    time.Duration
	standin cpuTimes
	vault   time.Duration
	self    time.Duration // this process's waited-for children: the pushers' git
}

func sampleAll(serves []*child, cluster *natstest.Cluster, gh, vault *child) (worldCPU, error) {
	var w worldCPU
	for _, s := range serves {
		c, err := s.cpu()
		if err != nil {
			return w, fmt.Errorf("%s: %w", s.name, err)
		}
		w.serve = append(w.serve, c)
	}
	for _, nd := range cluster.Nodes() {
		c, err := processCPU(nd.PID())
		if err != nil {
			return w, fmt.Errorf("nats-server %s: %w", nd.Name, err)
		}
		w.nats += c.self
	}
	var err error
	if w.standin, err = gh.cpu(); err != nil {
		return w, fmt.Errorf("stand-in: %w", err)
	}
	v, err := vault.cpu()
	if err != nil {
		return w, fmt.Errorf("vault: %w", err)
	}
	w.vault = v.self
	self, err := processCPU(os.Getpid())
	if err != nil {
		return w, err
	}
	w.self = self.children
	return w, nil
}

// balancer is the load balancer in front of the replicas: each webhook
// goes to the next replica in turn (and to the one after it if a replica
// does not answer).
type balancer struct {
	URL string
	srv *http.Server
}

func startBalancer(targets []string) (*balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var next atomic.Uint64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		start := int(next.Add(1))
		for i := range targets {
			req, err := http.NewRequestWithContext(r.Context(), r.Method, targets[(start+i)%len(targets)], bytes.NewReader(body))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			req.Header = r.Header.Clone()
			resp, err := benchHTTP.Do(req)
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(b)
			return
		}
		http.Error(w, "no replica answered", http.StatusBadGateway)
	})
	b := &balancer{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *balancer) Close() { _ = b.srv.Close() }

// loadAverage is the first field of /proc/loadavg (the last minute).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
