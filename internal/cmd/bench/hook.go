package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pushvault/pushvault/internal/secrettest"
)

// hookTarget is issue 7's target: p95 of the 10-commit push under 1 s.
const hookTarget = time.Second

// pushCase is one generated push: commits on top of a base commit, about
// bytes of added text in all, with a planted secret every secretEvery
// commits (0: none).
type pushCase struct {
	name        string
	commits     int
	bytes       int
	secretEvery int
	seed        uint64

	// Set by setup.
	dir, base, tip string
	diff           int64 // bytes of `git log -p base..tip`
	ms             []measurement
	found          int // secrets the hook reported (last run)
}

// benchHook measures `pushvault hook pre-receive` on three generated pushes
// (1 commit of ~5 KiB, clean; 10 commits of ~50 KiB with a secret; 500
// commits of ~20 MiB with secrets), runs times each, and `pushvault version`
// as the process start-up baseline, all interleaved.
//
// It runs the hook process itself, as git would run it in a bare repository
// (cwd and GIT_DIR the repository, the ref updates on stdin): that is what
// GHES times against its hook limit. It does not include git's own
// receive-pack work (receiving and indexing the pack, connectivity checks),
// and the pushed objects are not quarantined here: they were pushed
// beforehand, without the hook, under a scratch ref, so they sit in the
// repository's object store rather than in a quarantine directory passed
// through GIT_QUARANTINE_PATH and GIT_ALTERNATE_OBJECT_DIRECTORIES.
func benchHook(pushvault string, runs int) error {
	if runs < 1 {
		return fmt.Errorf("-hook-runs: want at least 1, got %d", runs)
	}
	bin, err := filepath.Abs(pushvault)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "pushvault-bench-hook-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)

	cases := []*pushCase{
		{name: "1 commit", commits: 1, bytes: 5 << 10, seed: 1},
		{name: "10 commits", commits: 10, bytes: 50 << 10, secretEvery: 10, seed: 10},
		{name: "500 commits", commits: 500, bytes: 20 << 20, secretEvery: 50, seed: 500},
	}
	for _, c := range cases {
		c.dir = filepath.Join(scratch, strings.ReplaceAll(c.name, " ", "-"))
		if err := c.setup(); err != nil {
			return fmt.Errorf("%s push: setup: %w", c.name, err)
		}
	}
	env := hookEnv(scratch)
	fmt.Printf("hook benchmark: pushvault %s, %d runs per case, budget 60s, no Vault\n", version(bin, "version"), runs)

	var startup []measurement
	for i := 0; i < runs; i++ {
		cmd := exec.Command(bin, "version")
		cmd.Env = env
		cmd.Stdout = io.Discard
		m, err := measure(cmd)
		if err != nil {
			return fmt.Errorf("pushvault version: %w", err)
		}
		startup = append(startup, m)
		for _, c := range cases {
			m, err := c.run(bin, env)
			if err != nil {
				return fmt.Errorf("%s push: %w", c.name, err)
			}
			c.ms = append(c.ms, m)
		}
	}

	start50 := percentile(startup, 50)
	fmt.Printf("\n%-12s %7s %10s %9s %9s %10s %13s %6s %14s\n", "push", "commits", "diff", "p50 (s)", "p95 (s)", "peak RSS", "p95/startup", "exit", "found/planted")
	fmt.Printf("%-12s %7s %10s %9.3f %9.3f %6.0f MiB %13s %6s %14s\n", "(startup)", "-", "-",
		start50.Seconds(), percentile(startup, 95).Seconds(), float64(maxRSS(startup))/1024, "1x p50", "0", "-")
	for _, c := range cases {
		p95 := percentile(c.ms, 95)
		fmt.Printf("%-12s %7d %10s %9.3f %9.3f %6.0f MiB %12.1fx %6d %14s\n", c.name, c.commits, size(c.diff),
			percentile(c.ms, 50).Seconds(), p95.Seconds(), float64(maxRSS(c.ms))/1024,
			p95.Seconds()/start50.Seconds(), c.wantExit(), fmt.Sprintf("%d/%d", c.found, c.planted()))
	}
	p95 := percentile(cases[1].ms, 95)
	verdict := "under"
	if p95 >= hookTarget {
		verdict = "over"
	}
	fmt.Printf("\n10-commit push p95 %.2f s: %s the %v target\n", p95.Seconds(), verdict, hookTarget)
	fmt.Println("(the hook process alone: no receive-pack work, objects not quarantined)")
	return nil
}

// planted is how many secrets setup planted.
func (c *pushCase) planted() int {
	if c.secretEvery == 0 {
		return 0
	}
	return c.commits / c.secretEvery
}

// wantExit is the hook's expected status: 1 (rejected) when secrets were
// planted, else 0.
func (c *pushCase) wantExit() int {
	if c.secretEvery > 0 {
		return 1
	}
	return 0
}

// run runs the hook once, as git would for an update of main from base to
// tip, and checks its exit status.
func (c *pushCase) run(bin string, env []string) (measurement, error) {
	cmd := exec.Command(bin, "hook", "pre-receive", "--budget", "60s")
	cmd.Dir = filepath.Join(c.dir, "server.git")
	cmd.Env = append(env, "GIT_DIR="+cmd.Dir)
	cmd.Stdin = strings.NewReader(c.base + " " + c.tip + " refs/heads/main\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	m, err := measure(cmd, 0, 1)
	if err != nil {
		return m, err
	}
	if got := cmd.ProcessState.ExitCode(); got != c.wantExit() {
		return m, fmt.Errorf("hook exited %d, want %d (secrets planted: %v): %s", got, c.wantExit(), c.secretEvery > 0, tail(stderr.String()))
	}
	c.found = 0
	if _, rest, ok := strings.Cut(stderr.String(), "push rejected: "); ok {
		fmt.Sscan(rest, &c.found)
	}
	return m, nil
}

// hookEnv is this process's environment without anything that would change
// what the hook does: no Vault, no hook settings, no push options, no GIT_*
// (GIT_DIR is set per case).
func hookEnv(scratch string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "GIT_") ||
			strings.HasPrefix(k, "PUSHVAULT_HOOK_") || k == "PUSHVAULT_REPOSITORY" || k == "PUSHVAULT_DATA_DIR" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PUSHVAULT_DATA_DIR="+filepath.Join(scratch, "data"))
}

// setup generates the push deterministically: a work repository with a base
// commit and c.commits commits on top (one git fast-import stream), and a
// bare server.git whose main is the base commit and which has the pushed
// objects under refs/bench/tip, pushed without any hook.
func (c *pushCase) setup() error {
	work, server := filepath.Join(c.dir, "work"), filepath.Join(c.dir, "server.git")
	if err := git("", "init", "-q", "--template=", "--bare", "-b", "main", server); err != nil {
		return err
	}
	if err := git("", "init", "-q", "--template=", "-b", "main", work); err != nil {
		return err
	}
	cmd := exec.Command("git", "-C", work, "fast-import", "--quiet")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(in, 1<<20)
	r := rand.New(rand.NewPCG(c.seed, 7))
	secrets := secrettest.New(c.seed)
	commit := func(mark int, msg string, files map[string]string, paths []string) {
		when := 1767225600 + mark*600
		fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\nauthor Dev <dev@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\ndata %d\n%s\n",
			mark, when, when, len(msg), msg)
		if mark > 1 {
			fmt.Fprintf(w, "from :%d\n", mark-1)
		}
		for _, p := range paths {
			fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", p, len(files[p]), files[p])
		}
		w.WriteString("\n")
	}
	commit(1, "base", map[string]string{"README.md": "# service\n"}, []string{"README.md"})
	per := c.bytes / c.commits
	for n := 1; n <= c.commits; n++ {
		path := fmt.Sprintf("%s/%s_%d.%s", words[r.IntN(len(words))], words[r.IntN(len(words))], n, []string{"go", "py", "js", "yaml"}[n%4])
		content := textOf(r, per)
		if c.secretEvery > 0 && n%c.secretEvery == 0 {
			if c.secretEvery == c.commits {
				content = plant(content, secrets, 2) // a Stripe key
			} else {
				content = plant(content, secrets, n/c.secretEvery)
			}
		}
		commit(n+1, fmt.Sprintf("add %s", path), map[string]string{path: content}, []string{path})
	}
	if err := w.Flush(); err != nil {
		return err
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w", err)
	}
	c.tip, err = gitOut(work, "rev-parse", "main")
	if err != nil {
		return err
	}
	c.base, err = gitOut(work, "rev-parse", "main~"+fmt.Sprint(c.commits))
	if err != nil {
		return err
	}
	if err := git(work, "push", "-q", server, c.base+":refs/heads/main"); err != nil {
		return err
	}
	if err := git(work, "push", "-q", server, c.tip+":refs/bench/tip"); err != nil {
		return err
	}
	cmd = exec.Command("git", "--git-dir", server, "log", "-p", c.base+".."+c.tip)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	if c.diff, err = io.Copy(io.Discard, out); err != nil {
		return err
	}
	return cmd.Wait()
}

// textOf is source-like text of about n bytes.
func textOf(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(sourceText(r, 8))
	}
	return b.String()
}

func git(dir string, args ...string) error {
	if dir != "" {
		args = append([]string{"-C", dir}, args...)
	}
	if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, tail(string(out)))
	}
	return nil
}

func gitOut(dir string, args ...string) (string, error) {
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// percentile is the nearest-rank p-th percentile of the wall times: with
// 10 runs p95 is the slowest run, with 20 the second slowest.
func percentile(ms []measurement, p float64) time.Duration {
	w := make([]time.Duration, len(ms))
	for i, m := range ms {
		w[i] = m.wall
	}
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	k := int(math.Ceil(p/100*float64(len(w)))) - 1
	return w[max(k, 0)]
}

func maxRSS(ms []measurement) int64 {
	var m int64
	for _, x := range ms {
		m = max(m, x.maxRSS)
	}
	return m
}

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", mib(n))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/1024)
}
