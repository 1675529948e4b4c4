// Command bench measures pushvault's scanner against the TruffleHog CLI
// (and Gitleaks) on the same generated history, in one run, and prints each
// tool's throughput, peak memory and findings, with ratios. With -hook it
// measures `pushvault hook pre-receive` on generated pushes instead (see
// hook.go); with -app, `pushvault serve` as the GitHub App behind the
// GitHub stand-in: webhook-to-PR latency, pushes per minute and peak memory
// (see app.go); with -cluster, the same burst through 1, 2 and 3 serve
// replicas on a three-node NATS JetStream cluster (see cluster.go); with
// -history, `pushvault scan --all` of a generated organisation-style
// history (see history.go); with -backfill, serve's history backfill of
// such histories beside that scan (see backfill.go). `make bench` runs
// them all.
//
// The history is generated once (git fast-import, deterministic) into the
// cache directory: at least 50 MiB of `git log -p --all`, with secrets of
// several kinds planted in known commits. Each tool runs the same number of
// times, interleaved; the median run is reported.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pushvault/pushvault/internal/npmfixture"
)

func main() {
	var (
		pushvault  = flag.String("pushvault", "bin/pushvault", "pushvault binary")
		trufflehog = flag.String("trufflehog", "", "TruffleHog CLI binary (empty: skip)")
		gitleaks   = flag.String("gitleaks", "", "Gitleaks binary (empty: skip)")
		minMiB     = flag.Int("min-mib", 56, "minimum history size in MiB of git log -p --all")
		runs       = flag.Int("runs", 3, "runs per tool")
		thVersion  = flag.String("trufflehog-version", "", "version label for the TruffleHog binary (default: what it reports)")
		glVersion  = flag.String("gitleaks-version", "", "version label for the Gitleaks binary (default: what it reports)")
		repoDir    = flag.String("repo", "", "benchmark repository (default: generated into the cache)")
		hook       = flag.Bool("hook", false, "benchmark the pre-receive hook (pushvault hook pre-receive) on generated pushes instead of the scan")
		hookRuns   = flag.Int("hook-runs", 20, "runs per push with -hook")
		app        = flag.Bool("app", false, "benchmark the GitHub App (pushvault serve with Vault and the GitHub stand-in): webhook-to-PR latency, pushes per minute, peak memory")
		appRepos   = flag.Int("app-repos", 10, "repositories on the stand-in with -app")
		appPushes  = flag.Int("app-pushes", 20, "sequential pushes for the latency figures with -app")
		appBurst   = flag.Int("app-burst", 180, "pushes in the throughput burst with -app")
		appProfile = flag.String("app-profile", "", "with -app: write serve's CPU profile over the burst to this file (go tool pprof reads it)")
		appBase    = flag.String("app-baseline", "", "with -app: a second pushvault binary to run the same benchmark with first, printing both side by side with ratios")
		standin    = flag.String("standin", "", "GitHub stand-in binary for -app and -cluster (default: built from ./internal/cmd/standin)")
		history    = flag.Bool("history", false, "time pushvault scan --all on a generated organisation-style history (branches, tags, secrets removed from the head) of -history-commits commits")
		histN      = flag.Int("history-commits", 20000, "commits in the -history repository")
		cluster    = flag.Bool("cluster", false, "benchmark pushvault serve replicas on a 3-node NATS JetStream cluster: the same burst through 1, 2 and 3 replicas, pushes per minute and per serve CPU core")
		clRepos    = flag.Int("cluster-repos", 10, "repositories (one pusher each) with -cluster")
		clBurst    = flag.Int("cluster-burst", 60, "pushes in each burst with -cluster")
		clReplicas = flag.String("cluster-replicas", "1,2,3", "serve replica counts to run with -cluster, comma-separated")
		backfill   = flag.Bool("backfill", false, "benchmark the history backfill of pushvault serve on generated organisation-style histories: wall time as a ratio to pushvault scan --all, serve's peak RSS, and push latency with a backfill running")
		bfCommits  = flag.String("backfill-commits", "20000,5000", "with -backfill: the histories' sizes in commits, comma-separated (the first also gets the push latency)")
		bfPushes   = flag.Int("backfill-pushes", 20, "with -backfill: pushes timed while the first history is backfilled, and as many once it is done")
		bfTimeout  = flag.Duration("backfill-timeout", time.Hour, "with -backfill: the longest wait for one backfill")
	)
	flag.Parse()
	if *backfill {
		var sizes []int
		for _, f := range strings.Split(*bfCommits, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				fmt.Fprintf(os.Stderr, "bench: -backfill-commits: %q is not a list of sizes\n", *bfCommits)
				os.Exit(2)
			}
			sizes = append(sizes, n)
		}
		if err := benchBackfill(backfillConfig{pushvault: *pushvault, commits: sizes, pushes: *bfPushes, timeout: *bfTimeout}); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *history {
		if err := benchHistory(*pushvault, *histN, *runs); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *cluster {
		var counts []int
		for _, f := range strings.Split(*clReplicas, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				fmt.Fprintf(os.Stderr, "bench: -cluster-replicas: %q is not a list of counts\n", *clReplicas)
				os.Exit(2)
			}
			counts = append(counts, n)
		}
		if err := benchCluster(clusterConfig{pushvault: *pushvault, standin: *standin, repos: *clRepos, burst: *clBurst, replicas: counts}); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *app {
		if err := benchApp(appConfig{pushvault: *pushvault, standin: *standin, repos: *appRepos, latency: *appPushes, burst: *appBurst, profile: *appProfile, baseline: *appBase}); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *hook {
		if err := benchHook(*pushvault, *hookRuns); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	labels = map[string]string{"trufflehog": *thVersion, "gitleaks": *glVersion}
	if err := run(*pushvault, *trufflehog, *gitleaks, *minMiB, *runs, *repoDir); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// labels are version labels given on the command line, by tool name.
var labels map[string]string

func label(name, bin, arg string) string {
	if l := labels[name]; l != "" {
		return l
	}
	return version(bin, arg)
}

type measurement struct {
	wall   time.Duration
	maxRSS int64 // KiB
}

type tool struct {
	name    string
	version string
	run     func(repo, scratch string) (measurement, []loc, error)
	ms      []measurement
	locs    []loc
}

// loc is one reported occurrence: detector, commit, path, line.
type loc struct {
	detector, commit, path string
	line                   int
}

func run(pv, th, gl string, minMiB, runs int, repo string) error {
	if repo == "" {
		var err error
		repo, err = generated(minMiB)
		if err != nil {
			return err
		}
	}
	volume, commits, err := historyVolume(repo)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "pushvault-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)

	tools := []*tool{{name: "pushvault", version: version(pv, "version"), run: pushvaultRun(pv)}}
	if th != "" {
		tools = append(tools, &tool{name: "trufflehog", version: label("trufflehog", th, "--version"), run: trufflehogRun(th)})
	}
	if gl != "" {
		tools = append(tools, &tool{name: "gitleaks", version: label("gitleaks", gl, "version"), run: gitleaksRun(gl)})
	}
	fmt.Printf("history: %s, %.1f MiB of `git log -p --all`, %d commits\n", repo, mib(volume), commits)
	for i := 0; i < runs; i++ {
		for _, t := range tools {
			m, locs, err := t.run(repo, scratch)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			t.ms = append(t.ms, m)
			t.locs = locs
		}
	}
	fmt.Printf("\n%-11s %-22s %9s %9s %11s %9s\n", "tool", "version", "wall (s)", "MiB/s", "peak RSS", "findings")
	for _, t := range tools {
		m := median(t.ms)
		fmt.Printf("%-11s %-22s %9.2f %9.1f %7.0f MiB %9d\n", t.name, t.version, m.wall.Seconds(),
			mib(volume)/m.wall.Seconds(), float64(m.maxRSS)/1024, len(uniq(t.locs)))
	}
	base := median(tools[0].ms)
	for _, t := range tools[1:] {
		m := median(t.ms)
		fmt.Printf("\npushvault vs %s: %.2fx the throughput, %.2fx the peak memory\n", t.name,
			m.wall.Seconds()/base.wall.Seconds(), float64(base.maxRSS)/float64(m.maxRSS))
		ours, theirs := tools[0].locs, t.locs
		if t.name == "gitleaks" {
			// Gitleaks names its rules differently: compare places only.
			ours, theirs = placesOnly(ours), placesOnly(theirs)
		}
		compare(ours, theirs, t.name)
	}
	return nil
}

func compare(ours, theirs []loc, name string) {
	a, b := uniq(ours), uniq(theirs)
	var missing, extra []loc
	for l := range b {
		if !a[l] {
			missing = append(missing, l)
		}
	}
	for l := range a {
		if !b[l] {
			extra = append(extra, l)
		}
	}
	fmt.Printf("  same locations as %s: %d of %d; only %s: %d; only pushvault: %d\n",
		name, len(b)-len(missing), len(b), name, len(missing), len(extra))
	for _, l := range sorted(missing) {
		fmt.Printf("    only %s: %s %s:%d (%s)\n", name, l.detector, l.path, l.line, l.commit[:7])
	}
	for _, l := range sorted(extra) {
		fmt.Printf("    only pushvault: %s %s:%d (%s)\n", l.detector, l.path, l.line, l.commit[:7])
	}
}

func placesOnly(ls []loc) []loc {
	out := make([]loc, len(ls))
	for i, l := range ls {
		out[i] = loc{commit: l.commit, path: l.path, line: l.line}
	}
	return out
}

func sorted(ls []loc) []loc {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].path != ls[j].path {
			return ls[i].path < ls[j].path
		}
		return ls[i].line < ls[j].line
	})
	if len(ls) > 12 {
		ls = ls[:12]
	}
	return ls
}

func uniq(ls []loc) map[loc]bool {
	m := map[loc]bool{}
	for _, l := range ls {
		m[l] = true
	}
	return m
}

func median(ms []measurement) measurement {
	s := append([]measurement(nil), ms...)
	sort.Slice(s, func(i, j int) bool { return s[i].wall < s[j].wall })
	return s[len(s)/2]
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func version(bin, arg string) string {
	out, _ := exec.Command(bin, arg).CombinedOutput()
	fields := strings.Fields(string(out))
	for _, f := range fields {
		if len(f) > 0 && (f[0] == 'v' || (f[0] >= '0' && f[0] <= '9')) && strings.Contains(f, ".") {
			return f
		}
	}
	if len(fields) > 0 {
		return fields[len(fields)-1]
	}
	return "?"
}

// measure runs cmd and returns its wall time and peak RSS (of the process
// and the children it waited for, as the kernel reports through wait4).
func measure(cmd *exec.Cmd, okCodes ...int) (measurement, error) {
	var stderr bytes.Buffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		var ee *exec.ExitError
		ok := false
		if errors.As(err, &ee) {
			for _, c := range okCodes {
				if ee.ExitCode() == c {
					ok = true
				}
			}
		}
		if !ok {
			return measurement{}, fmt.Errorf("%s: %v: %s", cmd.Path, err, tail(stderr.String()))
		}
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	m := measurement{wall: wall}
	if ru != nil {
		m.maxRSS = ru.Maxrss
	}
	return m, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

func pushvaultRun(bin string) func(string, string) (measurement, []loc, error) {
	return func(repo, scratch string) (measurement, []loc, error) {
		out, err := os.Create(filepath.Join(scratch, "pushvault.json"))
		if err != nil {
			return measurement{}, nil, err
		}
		defer out.Close()
		cmd := exec.Command(bin, "scan", repo, "--all", "--format", "json")
		cmd.Env = append(os.Environ(), "PUSHVAULT_DATA_DIR="+scratch)
		cmd.Stdout = out
		m, err := measure(cmd, 1)
		if err != nil {
			return m, nil, err
		}
		data, err := os.ReadFile(out.Name())
		if err != nil {
			return m, nil, err
		}
		var doc struct {
			Findings []struct {
				Detector  string `json:"detector"`
				Locations []struct {
					Commit, Path string
					Line         int
				} `json:"locations"`
			} `json:"findings"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return m, nil, fmt.Errorf("pushvault output: %w", err)
		}
		var locs []loc
		for _, f := range doc.Findings {
			for _, l := range f.Locations {
				locs = append(locs, loc{f.Detector, l.Commit, l.Path, l.Line})
			}
		}
		return m, locs, nil
	}
}

func trufflehogRun(bin string) func(string, string) (measurement, []loc, error) {
	return func(repo, scratch string) (measurement, []loc, error) {
		var out bytes.Buffer
		cmd := exec.Command(bin, "git", "file://"+repo, "--no-verification", "--json", "--no-update", "--results=verified,unknown,unverified")
		cmd.Stdout = &out
		cmd.Env = append(os.Environ(), "HOME="+scratch)
		m, err := measure(cmd, 183)
		if err != nil {
			return m, nil, err
		}
		var locs []loc
		sc := bufio.NewScanner(&out)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var r struct {
				DetectorName   string
				SourceMetadata struct {
					Data struct {
						Git struct {
							Commit, File string
							Line         int
						}
					}
				}
			}
			if json.Unmarshal(sc.Bytes(), &r) != nil || r.DetectorName == "" {
				continue
			}
			g := r.SourceMetadata.Data.Git
			locs = append(locs, loc{r.DetectorName, g.Commit, g.File, g.Line})
		}
		return m, locs, nil
	}
}

func gitleaksRun(bin string) func(string, string) (measurement, []loc, error) {
	return func(repo, scratch string) (measurement, []loc, error) {
		// Gitleaks deletes the report file it is given before writing: never
		// point it at a device.
		report := filepath.Join(scratch, "gitleaks.json")
		cmd := exec.Command(bin, "git", repo, "--no-banner", "--log-level", "error", "--report-format", "json", "--report-path", report)
		cmd.Stdout = io.Discard
		m, err := measure(cmd, 1)
		if err != nil {
			return m, nil, err
		}
		data, err := os.ReadFile(report)
		if err != nil {
			return m, nil, err
		}
		var rs []struct {
			RuleID, Commit, File string
			StartLine            int
		}
		if err := json.Unmarshal(data, &rs); err != nil {
			return m, nil, fmt.Errorf("gitleaks report: %w", err)
		}
		var locs []loc
		for _, r := range rs {
			locs = append(locs, loc{"gitleaks:" + r.RuleID, r.Commit, r.File, r.StartLine})
		}
		return m, locs, nil
	}
}

// historyVolume is the size of `git log -p --all` and the commit count.
func historyVolume(repo string) (int64, int, error) {
	cmd := exec.Command("git", "-C", repo, "log", "-p", "--all", "--format=%H")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, out)
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Wait(); err != nil {
		return 0, 0, err
	}
	c, err := exec.Command("git", "-C", repo, "rev-list", "--all", "--count").Output()
	if err != nil {
		return 0, 0, err
	}
	var commits int
	fmt.Sscan(string(c), &commits)
	return n, commits, nil
}

// generated returns the cached benchmark repository, generating it first.
func generated(minMiB int) (string, error) {
	dir := filepath.Join(npmfixture.CacheDir(), fmt.Sprintf("bench-repo-v%d-%dmib", generatorVersion, minMiB))
	done := dir + ".complete"
	if _, err := os.Stat(done); err == nil {
		return dir, nil
	}
	os.RemoveAll(dir)
	fmt.Fprintf(os.Stderr, "generating a %d MiB history into %s (once)\n", minMiB, dir)
	if err := generate(dir, minMiB); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, os.WriteFile(done, nil, 0o644)
}
