package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"

	"github.com/pushvault/pushvault/githubapp/githubtest"
	childproc "github.com/pushvault/pushvault/internal/child"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// appConfig is what -app measures: latency pushes one at a time, then a
// burst of pushes over the repositories at once.
type appConfig struct {
	pushvault string // the pushvault binary
	standin   string // the stand-in binary ("" builds ./internal/cmd/standin)
	repos     int    // repositories on the stand-in
	latency   int    // sequential pushes for the latency figures
	burst     int    // pushes in the throughput burst
	profile   string // where serve's CPU profile over the burst goes ("": none)
	// baseline is a second pushvault binary: the whole benchmark runs
	// with it first, then with pushvault, and the figures are printed side
	// by side with their ratios ("": none).
	baseline string
}

// appSummary is what one run of the App benchmark measured, for the
// comparison with a baseline binary.
type appSummary struct {
	version                  string
	p50, p95                 time.Duration // webhook-to-PR, one push at a time
	cpu, burstCPU            cpuTimes      // serve per push: one at a time, in the burst
	idle                     time.Duration // of cpu.self, what serve spends idle over a push's share of the latency run
	github, vault            float64       // calls per push, one at a time
	vaultOps                 map[string]float64
	burstPushes              int
	burstWall                time.Duration
	burstP95                 time.Duration
	serveHWM                 int64 // KiB
	ackQuietP99, ackAttack99 time.Duration
}

// appTimeout bounds the wait for one push's check run and PR (latency
// phase) and for the whole burst.
const appTimeout = 90 * time.Second

// appIdle is how long the App benchmark watches serve with nothing to do.
const appIdle = 5 * time.Second

// benchApp measures the GitHub App end to end on this machine: a Vault dev
// server, the GitHub stand-in (internal/cmd/standin) and `pushvault serve`
// run as child processes; every push is a new commit with three planted
// fake secrets (Stripe, SendGrid, Slack), pushed with git over HTTP to the
// stand-in, which delivers the push webhook to serve before the push
// returns. A push is done when the stand-in holds serve's completed
// "pushvault" check run for the pushed commit (concluded action_required)
// and its fix pull request (head pushvault/fix-SHA7).
//
// Latency: c.latency pushes one after another, each timed from the start
// of `git push` to done, as the stand-in's event stream stamps it. The baseline
// is the same push to a second stand-in without a webhook URL (no
// pushvault), interleaved with them. Throughput: c.burst pushes spread
// over the repositories, one pusher per repository pushing as fast as git
// allows, timed from the first push's start to the moment every one is
// done. Peak memory is each process's VmHWM from /proc at the end of the
// run. For each phase, what serve spent per push: CPU from the kernel's
// accounting (/proc/PID/stat), wall time by pipeline phase from its
// /metrics, GitHub calls from its metrics, Vault calls from Vault's own
// audit log.
func benchApp(c appConfig) error {
	if c.repos < 1 || c.latency < 1 || c.burst < 1 {
		return fmt.Errorf("-app-repos, -app-pushes and -app-burst must each be at least 1")
	}
	if c.baseline == "" {
		_, err := benchAppOnce(c)
		return err
	}
	base := c
	base.pushvault, base.profile = c.baseline, ""
	fmt.Printf("== baseline: %s\n", c.baseline)
	b, err := benchAppOnce(base)
	if err != nil {
		return fmt.Errorf("baseline %s: %w", c.baseline, err)
	}
	fmt.Printf("\n== pushvault: %s\n", c.pushvault)
	p, err := benchAppOnce(c)
	if err != nil {
		return err
	}
	printComparison(b, p)
	return nil
}

// benchAppOnce runs the App benchmark with c.pushvault and returns its
// figures.
func benchAppOnce(c appConfig) (appSummary, error) {
	var sum appSummary
	err := runApp(c, &sum)
	return sum, err
}

// printComparison prints a baseline's figures and pushvault's side by
// side, with pushvault's over the baseline's.
func printComparison(b, p appSummary) {
	fmt.Printf("\n%-46s %14s %14s %8s\n", "comparison (same command, baseline run first)", "baseline", "pushvault", "ratio")
	fmt.Printf("%-46s %14s %14s\n", "version", b.version, p.version)
	row := func(name string, bv, pv float64, unit string) {
		ratio := "-"
		if bv != 0 {
			ratio = fmt.Sprintf("%.2fx", pv/bv)
		}
		fmt.Printf("%-46s %10.1f %-3s %10.1f %-3s %8s\n", name, bv, unit, pv, unit, ratio)
	}
	row("serve CPU per push (one at a time)", ms(b.cpu.self), ms(p.cpu.self), "ms")
	row("serve CPU per push (burst)", ms(b.burstCPU.self), ms(p.burstCPU.self), "ms")
	row("  of the first, idle between pushes", ms(b.idle), ms(p.idle), "ms")
	row("serve context switches per push (one at a time)", b.cpu.switches, p.cpu.switches, "")
	row("its git processes per push (one at a time)", ms(b.cpu.children), ms(p.cpu.children), "ms")
	row("webhook-to-PR p50", ms(b.p50), ms(p.p50), "ms")
	row("webhook-to-PR p95", ms(b.p95), ms(p.p95), "ms")
	row("GitHub calls per push", b.github, p.github, "")
	row("Vault calls per push", b.vault, p.vault, "")
	ops := map[string]bool{}
	for k := range b.vaultOps {
		ops[k] = true
	}
	for k := range p.vaultOps {
		ops[k] = true
	}
	names := make([]string, 0, len(ops))
	for k := range ops {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		row("  Vault "+k, b.vaultOps[k], p.vaultOps[k], "")
	}
	row(fmt.Sprintf("burst: %d pushes, all done in", p.burstPushes), b.burstWall.Seconds(), p.burstWall.Seconds(), "s")
	row("burst: pushes per minute", float64(b.burstPushes)/b.burstWall.Minutes(), float64(p.burstPushes)/p.burstWall.Minutes(), "")
	row("burst: push -> done p95", b.burstP95.Seconds(), p.burstP95.Seconds(), "s")
	row("serve peak memory", float64(b.serveHWM)/1024, float64(p.serveHWM)/1024, "MiB")
	row("signed ack p99, quiet", ms(b.ackQuietP99), ms(p.ackQuietP99), "ms")
	row("signed ack p99, under attack", ms(b.ackAttack99), ms(p.ackAttack99), "ms")
}

// runApp is one run of the App benchmark (see benchApp); it fills sum.
func runApp(c appConfig, sum *appSummary) error {
	bin, err := filepath.Abs(c.pushvault)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "pushvault-bench-app-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if c.standin == "" {
		if c.standin, err = buildStandin(scratch); err != nil {
			return err
		}
	}
	vaultBin, err := exec.Command("bash", "scripts/build-vault.sh").Output()
	if err != nil {
		return fmt.Errorf("scripts/build-vault.sh (run from the repository root; `make vault` builds it): %w", err)
	}

	var kids children
	defer kids.stopAll()

	vault, vaultAddr, err := startVault(&kids, strings.TrimSpace(string(vaultBin)), scratch)
	if err != nil {
		return err
	}
	auditLog := filepath.Join(scratch, "vault-audit.log")
	if err := enableAudit(vaultAddr, auditLog); err != nil {
		return err
	}
	serveAddr, err := freeAddr()
	if err != nil {
		return err
	}
	var repos []string
	for i := 1; i <= c.repos; i++ {
		repos = append(repos, fmt.Sprintf("acme/svc%02d", i))
	}
	gh, info, err := startStandin(&kids, "stand-in", c.standin, filepath.Join(scratch, "standin"), "http://"+serveAddr+"/webhook", repos)
	if err != nil {
		return err
	}
	base, baseInfo, err := startStandin(&kids, "baseline stand-in", c.standin, filepath.Join(scratch, "baseline"), "", repos[:1])
	if err != nil {
		return err
	}
	debugAddr := ""
	if c.profile != "" {
		if debugAddr, err = freeAddr(); err != nil {
			return err
		}
	}
	serve, err := startServe(&kids, bin, scratch, serveAddr, vaultAddr, debugAddr, info)
	if err != nil {
		return err
	}
	_, serveIdle := serve.memory()

	ctx := context.Background()
	clones, err := cloneAll(ctx, info, filepath.Join(scratch, "work"))
	if err != nil {
		return err
	}
	baseClones, err := cloneAll(ctx, baseInfo, filepath.Join(scratch, "base-work"))
	if err != nil {
		return err
	}
	secrets := &planter{g: secrettest.New(42)}
	state := &stateReader{url: info.URL + githubtest.StatePath}
	events := newEventWaiter(info.URL)
	metricsURL := "http://" + serveAddr + "/metrics"

	fmt.Printf("app benchmark: pushvault %s serve (4 workers, embedded NATS), Vault dev, GitHub stand-in; %d repositories, %d latency pushes, a burst of %d; 3 planted secrets a push\n",
		version(bin, "version"), c.repos, c.latency, c.burst)

	// Cold: the first push, not counted in the percentiles.
	cold, err := clones[0].push(secrets)
	if err != nil {
		return err
	}
	coldDone, err := events.waitOne(cold)
	if err != nil {
		return err
	}
	found := coldDone.found
	// Idle: what serve spends with nothing to do (the runtime, the
	// embedded NATS server's timers), the floor under every per-push
	// figure, which counts the time between pushes too.
	idleStart, err := settled(serve, metricsURL, auditLog)
	if err != nil {
		return err
	}
	idleFrom := time.Now()
	time.Sleep(appIdle)
	idleEnd, err := serve.cpu()
	if err != nil {
		return err
	}
	idleRate := idleEnd.sub(idleStart.cpu).self.Seconds() / time.Since(idleFrom).Seconds()
	latencyStart, err := settled(serve, metricsURL, auditLog)
	if err != nil {
		return err
	}
	latencyFrom := time.Now()

	// (a) Latency, interleaved with the baseline.
	var plain, withPV, toCheck, toPR, toDone []measurement
	for i := 0; i < c.latency; i++ {
		b, err := baseClones[0].push(secrets)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		plain = append(plain, measurement{wall: b.pushed.Sub(b.start)})
		p, err := clones[i%len(clones)].push(secrets)
		if err != nil {
			return err
		}
		d, err := events.waitOne(p)
		if err != nil {
			return err
		}
		withPV = append(withPV, measurement{wall: p.pushed.Sub(p.start)})
		toCheck = append(toCheck, measurement{wall: d.check.Sub(p.start)})
		toPR = append(toPR, measurement{wall: d.pr.Sub(p.start)})
		toDone = append(toDone, measurement{wall: d.done().Sub(p.start)})
		found += d.found
	}
	base.stop()
	basePushes := len(plain)
	latencyEnd, err := settled(serve, metricsURL, auditLog)
	if err != nil {
		return err
	}
	latencyWall := time.Since(latencyFrom)

	// (b) Throughput: one pusher per repository, as fast as git goes.
	burstStart := time.Now()
	var profiled <-chan error
	if c.profile != "" {
		profiled = profileCPU(debugAddr, c.profile, time.Duration(c.burst)*time.Second/2)
	}
	pushes, err := pushBurst(clones, secrets, c.burst)
	if err != nil {
		return fmt.Errorf("burst: %w", err)
	}
	pushedAll := time.Since(burstStart)
	dones, err := events.waitAll(pushes, burstStart.Add(appTimeout+time.Duration(c.burst)*time.Second))
	if err != nil {
		return fmt.Errorf("burst: %w", err)
	}
	burstEnd, err := settled(serve, metricsURL, auditLog)
	if err != nil {
		return err
	}
	if profiled != nil {
		if err := <-profiled; err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "serve's CPU profile over the burst: %s\n", c.profile)
	}
	var last time.Time
	var burstDone []measurement
	for i, p := range pushes {
		d := dones[i].done()
		if d.After(last) {
			last = d
		}
		burstDone = append(burstDone, measurement{wall: d.Sub(p.start)})
		found += dones[i].found
	}
	burstWall := last.Sub(burstStart)
	// The rate over the first and the second half of the completions.
	ends := make([]time.Time, len(dones))
	for i, d := range dones {
		ends[i] = d.done()
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i].Before(ends[j]) })
	var firstRate, secondRate float64
	if half := len(ends) / 2; half > 0 {
		firstRate = float64(half) / ends[half-1].Sub(burstStart).Minutes()
		secondRate = float64(len(ends)-half) / ends[len(ends)-1].Sub(ends[half-1]).Minutes()
	}

	// (c) Memory, then the outputs checked for planted values.
	serveHWM, _ := serve.memory()
	ghHWM, _ := gh.memory()
	vaultHWM, _ := vault.memory()
	// (d) Signed deliveries' ack latency, quiet and under attack: after
	// the memory figures, which it would change.
	acks, err := ackUnderAttack(serveAddr, []byte(info.WebhookSecret))
	if err != nil {
		return fmt.Errorf("ack under attack: %w", err)
	}
	final, err := state.read()
	if err != nil {
		return err
	}
	if err := serve.stop(); err != nil {
		return fmt.Errorf("pushvault serve: %w\n%s", err, tail(serve.logText()))
	}
	audit, err := os.ReadFile(auditLog)
	if err != nil {
		return err
	}
	if err := checkFinal(final, secrets.values, serve.logText()+gh.logText()+string(audit)); err != nil {
		return err
	}

	p50 := percentile(plain, 50)
	fmt.Printf("\n%-44s %6s %9s %9s %12s\n", "latency (from the start of git push)", "pushes", "p50 (s)", "p95 (s)", "p50/plain")
	row := func(name string, ms []measurement) {
		fmt.Printf("%-44s %6d %9.3f %9.3f %11.1fx\n", name, len(ms), percentile(ms, 50).Seconds(),
			percentile(ms, 95).Seconds(), percentile(ms, 50).Seconds()/p50.Seconds())
	}
	row("git push, no pushvault (baseline)", plain)
	row("git push, webhook to pushvault", withPV)
	row("push -> check run completed", toCheck)
	row("push -> fix PR opened", toPR)
	row("push -> both (webhook-to-PR latency)", toDone)
	fmt.Printf("(first push after start, not counted: %.3f s)\n", coldDone.done().Sub(cold.start).Seconds())
	printPerPush("one push at a time", latencyStart, latencyEnd, len(toDone))
	idlePerPush := time.Duration(idleRate * latencyWall.Seconds() / float64(len(toDone)) * float64(time.Second))
	fmt.Printf("  of which idle: serve spends %.1f ms CPU a second with nothing to do (%.0f s measured after the first push), %.1f ms of each push's %.2f s\n",
		idleRate*1000, appIdle.Seconds(), ms(idlePerPush), latencyWall.Seconds()/float64(len(toDone)))

	fmt.Printf("\nthroughput: %d pushes over %d repositories, %d pushers at once\n", len(pushes), len(clones), len(clones))
	fmt.Printf("  all pushes returned after  %7.2f s\n", pushedAll.Seconds())
	fmt.Printf("  all check runs and PRs in  %7.2f s  -> %.1f pushes per minute sustained\n", burstWall.Seconds(),
		float64(len(pushes))/burstWall.Minutes())
	fmt.Printf("  first half %.1f, second half %.1f pushes per minute\n", firstRate, secondRate)
	fmt.Printf("  push -> done under load: p50 %.2f s, p95 %.2f s\n", percentile(burstDone, 50).Seconds(), percentile(burstDone, 95).Seconds())
	printPerPush("the burst", latencyEnd, burstEnd, len(pushes))

	fmt.Printf("\n%-30s %12s\n", "peak memory (VmHWM)", "")
	fmt.Printf("%-30s %8.0f MiB  (%.0f MiB idle after start)\n", "pushvault serve", float64(serveHWM)/1024, float64(serveIdle)/1024)
	fmt.Printf("%-30s %8.0f MiB\n", "GitHub stand-in", float64(ghHWM)/1024)
	fmt.Printf("%-30s %8.0f MiB\n", "Vault dev server", float64(vaultHWM)/1024)
	acks.print()
	handled := len(pushes) + len(toDone) + 1
	fmt.Printf("\n%d pushes handled: %d check runs action_required, %d fix PRs, %d of %d planted secrets annotated; %d baseline pushes\n",
		handled, countCompleted(final), countFixPRs(final), found, handled*plantedPerPush, basePushes)
	fmt.Println("no planted value in serve's log, the stand-in's log or its state, or Vault's audit log")
	fmt.Printf("(completion seen through %d requests to the stand-in's event stream; its state read once at the end, %s)\n", events.polls, size(state.last))

	*sum = appSummary{version: version(bin, "version"), p50: percentile(toDone, 50), p95: percentile(toDone, 95),
		burstPushes: len(pushes), burstWall: burstWall, burstP95: percentile(burstDone, 95), serveHWM: serveHWM,
		ackQuietP99: percentile(acks.quiet, 99), ackAttack99: percentile(acks.attacked, 99)}
	sum.cpu, _, _, sum.github, sum.vaultOps = perPush(latencyStart, latencyEnd, len(toDone))
	sum.idle = idlePerPush
	for _, v := range sum.vaultOps {
		sum.vault += v
	}
	sum.burstCPU, _, _, _, _ = perPush(latencyEnd, burstEnd, len(pushes))
	return nil
}

// buildStandin builds the stand-in (./internal/cmd/standin) into dir.
func buildStandin(dir string) (string, error) {
	bin := filepath.Join(dir, "standin-bin")
	fmt.Fprintln(os.Stderr, "building the stand-in")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/cmd/standin")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./internal/cmd/standin: %v: %s", err, tail(string(out)))
	}
	return bin, nil
}

// pushBurst pushes n pushes spread over the clones, one pusher per clone
// pushing as fast as git goes, and returns them once every git push has
// returned.
func pushBurst(clones []*clone, secrets *planter, n int) ([]*push, error) {
	per := make([]int, len(clones))
	for i := 0; i < n; i++ {
		per[i%len(clones)]++
	}
	var (
		mu     sync.Mutex
		pushes []*push
		errs   []error
		wg     sync.WaitGroup
	)
	for i, cl := range clones {
		wg.Add(1)
		go func(cl *clone, n int) {
			defer wg.Done()
			for j := 0; j < n; j++ {
				p, err := cl.push(secrets)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					pushes = append(pushes, p)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}(cl, per[i])
	}
	wg.Wait()
	return pushes, errors.Join(errs...)
}

// checkFinal fails on stand-in contract violations, failed deliveries to
// serve, and any planted value in the stand-in's state or the logs.
func checkFinal(st githubtest.State, planted []string, logs string) error {
	if len(st.Violations) > 0 {
		return fmt.Errorf("%d stand-in contract violations: %s", len(st.Violations), strings.Join(st.Violations, "; "))
	}
	for _, d := range st.Deliveries {
		if d.Err != "" || d.StatusCode/100 != 2 {
			return fmt.Errorf("delivery %s (%s) failed: %d %s", d.ID, d.Event, d.StatusCode, d.Err)
		}
	}
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	all := string(body) + logs
	for _, v := range planted {
		if strings.Contains(all, v) {
			return errors.New("a planted secret reached serve's logs or the stand-in's state")
		}
	}
	return nil
}

func countCompleted(st githubtest.State) int {
	n := 0
	for _, r := range st.CheckRuns {
		if r.Name == "pushvault" && r.Status == "completed" && r.Conclusion == "action_required" {
			n++
		}
	}
	return n
}

func countFixPRs(st githubtest.State) int {
	n := 0
	for _, pr := range st.PullRequests {
		if strings.HasPrefix(pr.Head, "pushvault/fix-") {
			n++
		}
	}
	return n
}

// plantedPerPush is how many secrets planter.files plants.
const plantedPerPush = 3

// planter makes the planted secrets and remembers every value.
type planter struct {
	mu     sync.Mutex
	g      *secrettest.Gen
	n      int
	values []string
}

// files returns a new commit's files: three config files of a new service
// directory, with a Stripe key, a SendGrid key and a Slack token.
func (p *planter) files() (string, map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	stripe, sendgrid, slack := p.g.Stripe(), p.g.SendGrid(), p.g.Slack()
	p.values = append(p.values, stripe, sendgrid, slack)
	dir := fmt.Sprintf("services/s%03d", p.n)
	return dir, map[string]string{
		dir + "/payments.yml": "payments:\n  provider: stripe\n  currency: eur\n  stripe_api_key: " + stripe + "\n",
		dir + "/.env":         "PORT=8080\nSENDGRID_API_KEY=" + sendgrid + "\n",
		dir + "/values.yaml":  "replicas: 2\nnotify:\n  channel: '#deploys'\n  slack_token: " + slack + "\n",
	}
}

// clone is a working copy of one stand-in repository.
type clone struct {
	dir string
	env []string
}

// push is one pushed commit.
type push struct {
	sha           string
	start, pushed time.Time // git push started, returned
}

// done is when the stand-in was first seen holding a push's completed
// check run and its fix PR.
type done struct {
	check, pr time.Time
	found     int // the check run's annotations
}

func (d done) done() time.Time {
	if d.pr.After(d.check) {
		return d.pr
	}
	return d.check
}

func cloneAll(ctx context.Context, info standinInfo, root string) ([]*clone, error) {
	if len(info.Installations) != 1 {
		return nil, fmt.Errorf("stand-in: %d installations, want 1", len(info.Installations))
	}
	in := info.Installations[0]
	tr, err := ghinstallation.NewKeyFromFile(http.DefaultTransport, info.AppID, in.ID, info.PrivateKeyPath)
	if err != nil {
		return nil, fmt.Errorf("stand-in key: %w", err)
	}
	tr.BaseURL = info.URL
	tok, err := tr.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("installation token: %w", err)
	}
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@acme.test", "GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@acme.test")
	var out []*clone
	for i, u := range in.Clone {
		dir := filepath.Join(root, strconv.Itoa(i))
		authURL := strings.Replace(u, "://", "://x-access-token:"+tok+"@", 1)
		cmd := exec.Command("git", "clone", "-q", authURL, dir)
		cmd.Env = env
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("git clone %s: %v: %s", u, err, strings.ReplaceAll(string(b), tok, "***"))
		}
		out = append(out, &clone{dir: dir, env: env})
	}
	return out, nil
}

// push commits a new service's files with planted secrets and pushes to
// main, timing git push.
func (c *clone) push(p *planter) (*push, error) {
	dir, files := p.files()
	if err := os.MkdirAll(filepath.Join(c.dir, dir), 0o755); err != nil {
		return nil, err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	if err := c.git("add", "-A"); err != nil {
		return nil, err
	}
	if err := c.git("commit", "-q", "-m", "add "+dir); err != nil {
		return nil, err
	}
	sha, err := exec.Command("git", "-C", c.dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return nil, fmt.Errorf("git rev-parse: %w", err)
	}
	ps := &push{sha: strings.TrimSpace(string(sha)), start: time.Now()}
	if err := c.git("push", "-q", "origin", "HEAD:main"); err != nil {
		return nil, err
	}
	ps.pushed = time.Now()
	return ps, nil
}

func (c *clone) git(args ...string) error {
	cmd := exec.Command("git", append([]string{"-C", c.dir}, args...)...)
	cmd.Env = c.env
	if out, err := cmd.CombinedOutput(); err != nil {
		// The output may name the remote URL with its token: not shown.
		return fmt.Errorf("git %s in %s: %v (%d bytes of output withheld)", args[0], c.dir, err, len(out))
	}
	return nil
}

// stateReader reads the stand-in's whole state (once, at the end).
type stateReader struct {
	url   string
	polls int
	last  int64 // bytes of the last answer
}

func (s *stateReader) read() (githubtest.State, error) {
	var st githubtest.State
	resp, err := benchHTTP.Get(s.url)
	if err != nil {
		return st, fmt.Errorf("stand-in state: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("stand-in state: %s", resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return st, fmt.Errorf("stand-in state: %w", err)
	}
	s.polls++
	s.last = int64(len(body))
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("stand-in state: %w", err)
	}
	return st, nil
}

// child is a process started for the benchmark.
type child struct {
	name string
	cmd  *exec.Cmd
	log  string // its stderr (and stdout unless taken)
	done chan struct{}
	err  error
	once sync.Once
}

type children []*child

func (cs *children) start(name string, cmd *exec.Cmd, logPath string) (*child, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	if cmd.Stdout == nil {
		cmd.Stdout = f
	}
	cmd.Stderr = f
	waited, err := childproc.Start(cmd)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = <-waited
		f.Close()
		close(c.done)
	}()
	*cs = append(*cs, c)
	return c, nil
}

func (cs children) stopAll() {
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i].stop()
	}
}

// stop sends SIGTERM, waits up to 20 s (then SIGKILL) and returns how the
// process exited.
func (c *child) stop() error {
	c.once.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(20 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	<-c.done
	return c.err
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *child) logText() string {
	b, _ := os.ReadFile(c.log)
	return string(b)
}

// memory is the process's peak and current resident set (KiB) from
// /proc/PID/status.
func (c *child) memory() (hwm, rss int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmHWM":
			hwm = n
		case "VmRSS":
			rss = n
		}
	}
	return hwm, rss
}

// waitHTTP polls url until it answers 200, the child exits or 60 s pass.
func (c *child) waitHTTP(url string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := benchHTTP.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if c.exited() {
			return fmt.Errorf("%s exited: %v\n%s", c.name, c.err, tail(c.logText()))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after 60s\n%s", c.name, tail(c.logText()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

const benchVaultToken = "pushvault-bench-root"

func startVault(kids *children, bin, scratch string) (*child, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	home := filepath.Join(scratch, "vault-home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, "server", "-dev", "-dev-root-token-id="+benchVaultToken,
		"-dev-listen-address="+addr, "-dev-no-store-token")
	// The dev server must not read the developer's Vault settings.
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	v, err := kids.start("vault", cmd, filepath.Join(scratch, "vault.log"))
	if err != nil {
		return nil, "", err
	}
	return v, "http://" + addr, v.waitHTTP("http://" + addr + "/v1/sys/health")
}

// standinInfo is the JSON line internal/cmd/standin prints.
type standinInfo struct {
	URL            string `json:"url"`
	AppID          int64  `json:"app_id"`
	PrivateKeyPath string `json:"private_key_path"`
	WebhookSecret  string `json:"webhook_secret"`
	Installations  []struct {
		ID    int64    `json:"id"`
		Clone []string `json:"clone_urls"`
	} `json:"installations"`
}

func startStandin(kids *children, name, bin, dir, webhook string, repos []string) (*child, standinInfo, error) {
	var info standinInfo
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, info, err
	}
	args := []string{"-data", filepath.Join(dir, "data")}
	if webhook != "" {
		args = append(args, "-webhook-url", webhook)
	}
	for _, r := range repos {
		args = append(args, "-repo", r)
	}
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, info, err
	}
	c, err := kids.start(name, cmd, filepath.Join(dir, "standin.log"))
	if err != nil {
		return nil, info, err
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), &info); err != nil {
			return nil, info, fmt.Errorf("%s: no JSON line (%v)\n%s", name, err, tail(c.logText()))
		}
	case <-time.After(60 * time.Second):
		return nil, info, fmt.Errorf("%s: no JSON line after 60s\n%s", name, tail(c.logText()))
	}
	return c, info, nil
}

func startServe(kids *children, bin, scratch, addr, vaultAddr, debugAddr string, info standinInfo) (*child, error) {
	cfg := ""
	if debugAddr != "" {
		cfg = "debug_listen: " + debugAddr + "\n"
	}
	return startServeNamed(kids, "pushvault serve", "serve", bin, scratch, addr, vaultAddr, cfg, info)
}

// startServeNamed starts `pushvault serve` as the stand-in's App with its
// data, config and log under scratch named name, and config (top-level
// YAML lines) added to the benchmark's serve.yml.
func startServeNamed(kids *children, title, name, bin, scratch, addr, vaultAddr, config string, info standinInfo) (*child, error) {
	cfg := fmt.Sprintf("listen: %s\ndata_dir: %s\nworkers: 4\nlog_level: info\nshutdown_timeout: 15s\ngithub:\n  app_id: %d\n  api_url: %s/\n  web_url: %s/\n",
		addr, filepath.Join(scratch, name+"-data"), info.AppID, info.URL, info.URL) + config
	cfgFile := filepath.Join(scratch, name+".yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	secretFile := filepath.Join(scratch, "webhook-secret")
	if err := os.WriteFile(secretFile, []byte(info.WebhookSecret), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgFile)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") && !strings.HasPrefix(kv, "PUSHVAULT_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "VAULT_ADDR="+vaultAddr, "VAULT_TOKEN="+benchVaultToken,
		"PUSHVAULT_GITHUB_PRIVATE_KEY_FILE="+info.PrivateKeyPath, "PUSHVAULT_GITHUB_WEBHOOK_SECRET_FILE="+secretFile)
	s, err := kids.start(title, cmd, filepath.Join(scratch, name+".log"))
	if err != nil {
		return nil, err
	}
	return s, s.waitHTTP("http://" + addr + "/readyz")
}
