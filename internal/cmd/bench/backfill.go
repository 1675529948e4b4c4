package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// backfillConfig is what -backfill measures.
type backfillConfig struct {
	pushvault string // the pushvault binary
	// commits are the generated histories' sizes, one backfill each; the
	// first also gets the push-latency comparison.
	commits []int
	pushes  int // latency pushes with a backfill running, then as many once it is done
	// timeout bounds the wait for one backfill.
	timeout time.Duration
}

// backfillResult is one history's figures.
type backfillResult struct {
	commits      int
	volume       int64         // bytes of `git log -p --all`
	scan         []measurement // pushvault scan --all, before and after the backfill
	scanFindings int           // locations scan --all reported
	history      historyStats
	backfill     time.Duration // installation webhook -> every repository's backfill done (/metrics), nothing else running
	busyBackfill time.Duration // the history asked for again -> done, pushes handled meanwhile
	fetchScan    time.Duration // the history's latest backfill, started -> done (its fetch, scan and remediation)
	state        queue.BackfillState
	serveIdle    int64 // serve's VmRSS (KiB) just before the webhook
	serveHWM     int64 // serve's VmHWM (KiB) over the backfill (reset before the webhook)
	sampledPeak  int64 // serve's highest VmRSS (KiB) sampled during the backfill
	hwmReset     bool  // whether the kernel took the VmHWM reset
	serveCPU     cpuTimes
	quiet, busy  []measurement // git push started -> check run and PR: with no backfill running, while one runs
	// quietHook, busyHook: the same pushes from the moment git push
	// returned, which the stand-in lets it do once it has delivered the
	// push webhook to serve: webhook to PR, without the stand-in's own
	// receive-pack (GitHub's work, on GitHub's machines, in production).
	quietHook, busyHook []measurement
	// busyDuring: the backfill was still scanning when the last push of
	// busy was done.
	busyDuring bool
}

// historyRepo is the stand-in repository the generated history is put in.
const historyRepo = "history"

// benchBackfill backfills generated organisation-style histories (see
// generatedHistory) through `pushvault serve` as the GitHub App, and
// times the same histories' `pushvault scan --all` in the same command:
// the issue's bound is the backfill within 1.5x the local scan's time,
// with serve's peak RSS under 400 MiB whatever the history's length.
//
// For each size: scan --all, then a Vault dev server, the GitHub stand-in
// (in this process) holding acme/history (the generated repository, its
// every branch and tag, put in place before the App hears of it) and
// acme/svc (one commit, where pushes go), and `pushvault serve` with its
// defaults but backfill.concurrency 2. The stand-in sends `installation`
// `created` for acme: serve queues a backfill of both repositories, and
// acme/svc's is done at once by the second backfill worker. Nothing else
// runs until both are done, as serve's /metrics report them
// (pushvault_backfill_repositories, polled every 50 ms): that time, from
// the webhook sent, is the backfill's. serve's VmHWM is reset
// (/proc/PID/clear_refs) just before the webhook, so its peak is the
// backfill's; VmRSS is also sampled. For the first size, c.pushes pushes
// to acme/svc are then timed webhook-to-PR as -app does, with no backfill
// running; then the history is asked for again (installation_repositories
// added: a new request, scanned again whole) and, once its scan has
// started, as many pushes are timed while it runs. Last, scan --all
// again: the ratio is to the mean of the two scans, which bracket the
// backfill on a shared machine.
func benchBackfill(c backfillConfig) error {
	if len(c.commits) == 0 || c.pushes < 0 {
		return fmt.Errorf("-backfill-commits must list at least one size and -backfill-pushes must not be negative")
	}
	bin, err := filepath.Abs(c.pushvault)
	if err != nil {
		return err
	}
	vaultBin, err := exec.Command("bash", "scripts/build-vault.sh").Output()
	if err != nil {
		return fmt.Errorf("scripts/build-vault.sh (run from the repository root; `make vault` builds it): %w", err)
	}
	fmt.Printf("backfill benchmark: pushvault %s serve (4 workers, backfill.concurrency 2, backfill.slice_commits 20000, embedded NATS), Vault dev, GitHub stand-in\n", version(bin, "version"))
	fmt.Printf("load average at the start: %s", loadavg())
	var results []backfillResult
	for i, n := range c.commits {
		pushes := 0
		if i == 0 {
			pushes = c.pushes
		}
		r, err := runBackfill(bin, strings.TrimSpace(string(vaultBin)), n, pushes, c.timeout)
		if err != nil {
			return fmt.Errorf("%d-commit history: %w", n, err)
		}
		results = append(results, r)
	}
	fmt.Printf("load average at the end: %s", loadavg())

	fmt.Printf("\n%-9s %8s %14s %13s %7s %11s %14s %11s %18s\n", "history", "MiB", "scan --all (s)", "backfill (s)", "ratio", "scan RSS", "serve peak RSS", "serve idle", "with pushes (s)")
	for _, r := range results {
		scan := meanWall(r.scan)
		hwm := fmt.Sprintf("%.0f MiB", float64(r.serveHWM)/1024)
		if !r.hwmReset {
			hwm = fmt.Sprintf("%.0f MiB*", float64(max(r.sampledPeak, r.serveHWM))/1024)
		}
		var rss int64
		for _, m := range r.scan {
			rss = max(rss, m.maxRSS)
		}
		busy := "-"
		if r.busyBackfill > 0 {
			busy = fmt.Sprintf("%.1f", r.busyBackfill.Seconds())
		}
		fmt.Printf("%-9s %8.1f %6.1f, %5.1f %13.1f %6.2fx %7.0f MiB %14s %7.0f MiB %18s\n", fmt.Sprintf("%dc", r.commits), mib(r.volume),
			r.scan[0].wall.Seconds(), r.scan[1].wall.Seconds(), r.backfill.Seconds(), r.backfill.Seconds()/scan.Seconds(),
			float64(rss)/1024, hwm, float64(r.serveIdle)/1024, busy)
	}
	fmt.Println("(scan --all: before and after the backfill, the ratio is to their mean; backfill: the installation webhook sent -> every repository's backfill done, nothing else running;")
	fmt.Println(" serve peak RSS: VmHWM over that backfill, reset just before the webhook; with pushes: the history asked for again -> done, the timed pushes handled meanwhile)")
	for _, r := range results {
		if !r.hwmReset {
			fmt.Println("* the kernel did not take the VmHWM reset: the higher of serve's VmHWM since its start and its sampled VmRSS")
			break
		}
	}
	for _, r := range results {
		st := r.state
		fmt.Printf("%dc: %d commits read in %d slice(s), %d secrets at the head and %d in history (%d planted, scan --all: %d locations), %s, %s;"+
			" its latest backfill queued -> started %.1f s, started -> done %.1f s; serve CPU over the first backfill %.1f s (its git processes %.1f s); highest VmRSS sampled %.0f MiB\n",
			r.commits, st.Commits, st.Slices, st.AtHead, st.InHistory, r.history.Planted, r.scanFindings, numbered("PR", st.PR), numbered("issue", st.Issue),
			st.StartedAt.Sub(st.QueuedAt).Seconds(), r.fetchScan.Seconds(), r.serveCPU.self.Seconds(), r.serveCPU.children.Seconds(),
			float64(r.sampledPeak)/1024)
	}
	if r := results[0]; len(r.quiet) > 0 {
		fmt.Printf("\n%-44s %16s %18s\n", fmt.Sprintf("push -> check run and fix PR (%dc)", r.commits), "no backfill", "backfill running")
		fmt.Printf("%-44s %16d %18d\n", "pushes", len(r.quiet), len(r.busy))
		fmt.Printf("%-44s %16.3f %18.3f\n", "from git push: p50 (s)", percentile(r.quiet, 50).Seconds(), percentile(r.busy, 50).Seconds())
		fmt.Printf("%-44s %16.3f %18.3f\n", "from git push: p95 (s)", percentile(r.quiet, 95).Seconds(), percentile(r.busy, 95).Seconds())
		fmt.Printf("%-44s %16.3f %18.3f\n", "from the webhook: p50 (s)", percentile(r.quietHook, 50).Seconds(), percentile(r.busyHook, 50).Seconds())
		fmt.Printf("%-44s %16.3f %18.3f\n", "from the webhook: p95 (s)", percentile(r.quietHook, 95).Seconds(), percentile(r.busyHook, 95).Seconds())
		if !r.busyDuring {
			fmt.Println("(the backfill's scan was over before the last of these pushes: not every one ran beside it)")
		}
		for _, m := range []struct {
			name        string
			busy, quiet []measurement
		}{{"from git push", r.busy, r.quiet}, {"from the webhook", r.busyHook, r.quietHook}} {
			if q95 := percentile(m.quiet, 95); q95 > 0 {
				fmt.Printf("%-44s %35.2fx\n", m.name+": p95 with a backfill running / without", percentile(m.busy, 95).Seconds()/q95.Seconds())
			}
		}
	}
	return nil
}

// runBackfill is one history size's run (see benchBackfill).
func runBackfill(bin, vaultBin string, commits, pushes int, timeout time.Duration) (_ backfillResult, err error) {
	r := backfillResult{commits: commits}
	repo, st, err := generatedHistory(commits)
	r.history = st
	if err != nil {
		return r, err
	}
	if r.volume, _, err = historyVolume(repo); err != nil {
		return r, err
	}
	scratch, err := os.MkdirTemp("", "pushvault-bench-backfill-")
	if err != nil {
		return r, err
	}
	defer func() {
		if err != nil {
			// serve's and the stand-in's logs are where to look.
			fmt.Fprintf(os.Stderr, "kept %s (serve.log, standin.log)\n", scratch)
			return
		}
		os.RemoveAll(scratch)
	}()
	scan := func() error {
		m, locs, err := pushvaultRun(bin)(repo, scratch)
		if err != nil {
			return fmt.Errorf("pushvault scan --all: %w", err)
		}
		r.scan, r.scanFindings = append(r.scan, m), len(uniq(locs))
		return nil
	}
	fmt.Fprintf(os.Stderr, "%d commits: pushvault scan --all\n", commits)
	if err := scan(); err != nil {
		return r, err
	}
	if err := backfillApp(&r, bin, vaultBin, repo, scratch, pushes, timeout); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "%d commits: pushvault scan --all again\n", commits)
	if err := scan(); err != nil {
		return r, err
	}
	return r, nil
}

// backfillApp runs Vault, the stand-in and serve, times the pushes and
// the backfill of repo (see benchBackfill) into r, and stops them all.
func backfillApp(r *backfillResult, bin, vaultBin, repo, scratch string, pushes int, timeout time.Duration) error {
	var kids children
	defer kids.stopAll()
	_, vaultAddr, err := startVault(&kids, vaultBin, scratch)
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
	standinLog, err := os.Create(filepath.Join(scratch, "standin.log"))
	if err != nil {
		return err
	}
	defer standinLog.Close()
	srv, err := githubtest.Start("127.0.0.1:0", filepath.Join(scratch, "standin"), slog.New(slog.NewJSONHandler(standinLog, nil)),
		githubtest.WithWebhookURL("http://"+serveAddr+"/webhook"))
	if err != nil {
		return err
	}
	defer srv.Close()
	// The history is in place before the App is installed: fetched into
	// the stand-in's bare repository, no push, no webhook.
	if err := srv.CreateRepo("acme", historyRepo, nil); err != nil {
		return err
	}
	bare, err := srv.RepoDir("acme", historyRepo)
	if err != nil {
		return err
	}
	if out, err := exec.Command("git", "-C", bare, "fetch", "-q", repo, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*").CombinedOutput(); err != nil {
		return fmt.Errorf("git fetch the history into the stand-in: %v: %s", err, out)
	}
	// Kept as GitHub keeps a repository that has been there a while:
	// repacked, with a reachability bitmap, so that serving a clone does
	// not first walk the whole history (the stand-in serves with git's own
	// upload-pack, which uses the bitmap as GitHub's servers do).
	if out, err := exec.Command("git", "-C", bare, "repack", "-q", "-a", "-d", "-b").CombinedOutput(); err != nil {
		return fmt.Errorf("git repack the stand-in's history: %v: %s", err, out)
	}
	if err := srv.CreateRepo("acme", "svc", map[string]string{"README.md": "# svc\n"}); err != nil {
		return err
	}
	inst := srv.Install("acme")
	app := srv.App()
	keyPath := filepath.Join(scratch, "app.pem")
	if err := os.WriteFile(keyPath, app.PrivateKeyPEM, 0o600); err != nil {
		return err
	}
	info := standinInfo{URL: srv.URL, AppID: app.ID, PrivateKeyPath: keyPath, WebhookSecret: app.WebhookSecret}
	info.Installations = append(info.Installations, struct {
		ID    int64    `json:"id"`
		Clone []string `json:"clone_urls"`
	}{ID: inst, Clone: []string{srv.CloneURL("acme", "svc")}})

	serve, err := startServeNamed(&kids, "pushvault serve", "serve", bin, scratch, serveAddr, vaultAddr, "backfill:\n  concurrency: 2\n", info)
	if err != nil {
		return err
	}
	clones, err := cloneAll(context.Background(), info, filepath.Join(scratch, "work"))
	if err != nil {
		return err
	}
	secrets := &planter{g: secrettest.New(1617)}
	events := newEventWaiter(srv.URL)
	metricsURL := "http://" + serveAddr + "/metrics"
	timed := func(into, hook *[]measurement) error {
		p, err := clones[0].push(secrets)
		if err != nil {
			return err
		}
		d, err := events.waitOne(p)
		if err != nil {
			return err
		}
		*into = append(*into, measurement{wall: d.done().Sub(p.start)})
		*hook = append(*hook, measurement{wall: d.done().Sub(p.pushed)})
		return nil
	}
	pid := serve.cmd.Process.Pid
	r.hwmReset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	_, r.serveIdle = serve.memory()
	cpu0, err := serve.cpu()
	if err != nil {
		return err
	}
	watch := watchBackfill(serve, metricsURL, 2, timeout)
	fmt.Fprintf(os.Stderr, "%d commits: installation created\n", r.commits)
	sent := time.Now()
	d, err := srv.TriggerInstallation(inst, "created")
	if err != nil {
		return err
	}
	if d.StatusCode/100 != 2 {
		return fmt.Errorf("installation webhook: %d %s", d.StatusCode, d.Err)
	}
	// acme/svc (one commit) is backfilled by the second backfill worker
	// while the first reads the history; nothing else runs meanwhile.
	w := <-watch
	if w.err != nil {
		return fmt.Errorf("%w\n%s", w.err, tail(serve.logText()))
	}
	r.backfill, r.sampledPeak = w.done.Sub(sent), w.peak
	r.serveHWM, _ = serve.memory()
	cpu1, err := serve.cpu()
	if err != nil {
		return err
	}
	r.serveCPU = cpu1.sub(cpu0)

	if pushes > 0 {
		// The first push after start is not counted, as in -app; then
		// pushes with nothing else running.
		var cold, coldHook []measurement
		if err := timed(&cold, &coldHook); err != nil {
			return err
		}
		for range pushes {
			if err := timed(&r.quiet, &r.quietHook); err != nil {
				return err
			}
		}
		// The history asked for again (installation_repositories added:
		// a new request, so scanned again, whole), and as many pushes
		// once its scan has started.
		fmt.Fprintf(os.Stderr, "%d commits: backfill again, with pushes\n", r.commits)
		again := time.Now()
		d, err := srv.TriggerRepositoriesAdded(inst, historyRepo)
		if err != nil {
			return err
		}
		if d.StatusCode/100 != 2 {
			return fmt.Errorf("installation_repositories webhook: %d %s", d.StatusCode, d.Err)
		}
		if err := waitGauge(serve, metricsURL, queue.BackfillScanning, timeout); err != nil {
			return err
		}
		for range pushes {
			if err := timed(&r.busy, &r.busyHook); err != nil {
				return err
			}
		}
		states, err := backfillGauges(metricsURL)
		if err != nil {
			return err
		}
		r.busyDuring = states[queue.BackfillScanning] > 0
		w := <-watchBackfill(serve, metricsURL, 2, timeout)
		if w.err != nil {
			return fmt.Errorf("%w\n%s", w.err, tail(serve.logText()))
		}
		r.busyBackfill = w.done.Sub(again)
	}

	final, err := (&stateReader{url: srv.URL + githubtest.StatePath}).read()
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
	standinText, _ := os.ReadFile(standinLog.Name())
	if err := checkFinal(final, secrets.values, serve.logText()+string(standinText)+string(audit)); err != nil {
		return err
	}
	if r.state, err = backfillStatus(bin, filepath.Join(scratch, "serve-data"), "acme/"+historyRepo); err != nil {
		return err
	}
	if r.state.State != queue.BackfillDone {
		return fmt.Errorf("acme/%s: backfill %s (%s)", historyRepo, r.state.State, r.state.Error)
	}
	r.fetchScan = r.state.FinishedAt.Sub(r.state.StartedAt)
	return nil
}

// waitGauge waits until serve's /metrics count a repository in state.
func waitGauge(serve *child, metricsURL, state string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		states, err := backfillGauges(metricsURL)
		if err != nil {
			return err
		}
		if states[state] > 0 {
			return nil
		}
		if serve.exited() {
			return fmt.Errorf("pushvault serve exited: %v\n%s", serve.err, tail(serve.logText()))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no backfill %s after %s: %v", state, timeout, states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watched is what watchBackfill saw.
type watched struct {
	done time.Time // when /metrics first showed every repository done
	peak int64     // the highest VmRSS (KiB) sampled
	err  error
}

// watchBackfill polls serve's /metrics every 50 ms until repos
// repositories' backfills are done (pushvault_backfill_repositories),
// sampling serve's VmRSS each time. A failed backfill, or none done in
// timeout, is an error.
func watchBackfill(serve *child, metricsURL string, repos int, timeout time.Duration) <-chan watched {
	out := make(chan watched, 1)
	go func() {
		var w watched
		deadline := time.Now().Add(timeout)
		for {
			_, rss := serve.memory()
			w.peak = max(w.peak, rss)
			states, err := backfillGauges(metricsURL)
			if err != nil {
				w.err = err
				break
			}
			if states[queue.BackfillFailed] > 0 {
				w.err = fmt.Errorf("%.0f backfill(s) failed", states[queue.BackfillFailed])
				break
			}
			if states[queue.BackfillDone] >= float64(repos) {
				w.done = time.Now()
				break
			}
			if time.Now().After(deadline) {
				w.err = fmt.Errorf("backfill not done after %s: %v", timeout, states)
				break
			}
			if serve.exited() {
				w.err = fmt.Errorf("pushvault serve exited: %v", serve.err)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		out <- w
	}()
	return out
}

// backfillGauges reads pushvault_backfill_repositories by state.
func backfillGauges(metricsURL string) (map[string]float64, error) {
	resp, err := benchHTTP.Get(metricsURL)
	if err != nil {
		return nil, fmt.Errorf("serve metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("serve metrics: %w", err)
	}
	states := map[string]float64{}
	for _, l := range strings.Split(string(body), "\n") {
		if name, labels, value, ok := metricLine(l); ok && name == "pushvault_backfill_repositories" {
			states[labels["state"]] = value
		}
	}
	return states, nil
}

// backfillStatus runs `pushvault backfill status --format json` on serve's
// data directory (serve stopped) and returns repo's line.
func backfillStatus(bin, dataDir, repo string) (queue.BackfillState, error) {
	var st queue.BackfillState
	cmd := exec.Command(bin, "backfill", "status", "--data-dir", dataDir, "--format", "json")
	out, err := cmd.Output()
	if err != nil {
		return st, fmt.Errorf("pushvault backfill status: %w", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var s queue.BackfillState
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			return st, fmt.Errorf("pushvault backfill status: line %q: %w", line, err)
		}
		if s.Repository == repo {
			return s, nil
		}
	}
	return st, fmt.Errorf("pushvault backfill status: no line for %s", repo)
}

func meanWall(ms []measurement) time.Duration {
	var sum time.Duration
	for _, m := range ms {
		sum += m.wall
	}
	return sum / time.Duration(len(ms))
}

// loadavg is /proc/loadavg's line.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown\n"
	}
	return string(b)
}

// numbered is "PR #n", or "no PR" for 0 (none opened: the secrets at the
// head could not be rewritten, or there were none).
func numbered(what string, n int) string {
	if n == 0 {
		return "no " + what
	}
	return fmt.Sprintf("%s #%d", what, n)
}
