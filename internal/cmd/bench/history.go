package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pushvault/pushvault/internal/npmfixture"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// historyVersion changes whenever generateHistory's output would: it names
// the cache entry.
const historyVersion = 2

// historyWords are the identifiers of the history's filler: words without
// the ones that name a credential (key, secret, token, password, api), so
// that a line such as `queue_token: "audit-4163"` or `client.githubApi({
// id: UUID })` is not made. With them, version 1's filler was reported
// ~9,700 times by the Generic detector (and by HubSpotApiKey), and a
// scan of it was mostly false positives; the planted secrets are the
// history's only findings now.
var historyWords = slices.DeleteFunc(slices.Clone(words), func(w string) bool {
	switch w {
	case "key", "secret", "token", "password", "api":
		return true
	}
	return false
})

// branchPlan is a branch of the generated organisation-style history: it
// forks from main when main has reached from commits of the whole run,
// takes every every-th commit while it lives (until the run reaches
// until), then is merged into main, kept, or deleted with a tag left on
// its tip.
type branchPlan struct {
	name        string
	from, until float64 // fractions of the run
	every       int
	end         string // "merge", "keep" or "tag:<name>" (branch deleted, tag kept)
}

// historyPlan: a long-lived feature branch merged back, a maintained
// release branch with lightweight tags, and an abandoned experiment whose
// only ref is an archive tag.
var historyPlan = []branchPlan{
	{name: "feature/payments", from: 0.20, until: 0.50, every: 4, end: "merge"},
	{name: "release/1.x", from: 0.40, until: 0.65, every: 5, end: "keep"},
	{name: "experiment/cache", from: 0.60, until: 0.84, every: 6, end: "tag:archive/experiment-cache"},
}

// historyStats describe a generated history.
type historyStats struct {
	Commits int // commits written (merges included)
	Planted int // secrets planted
	// AtHead are the planted secrets still in main's head tree; the others
	// are in history only (removed later, or only on another branch or
	// tag).
	AtHead int
}

// generatedHistory returns the cached organisation-style repository of
// commits commits, generating it first.
func generatedHistory(commits int) (string, historyStats, error) {
	dir := filepath.Join(npmfixture.CacheDir(), fmt.Sprintf("bench-history-v%d-%dc", historyVersion, commits))
	done := dir + ".complete"
	var st historyStats
	if b, err := os.ReadFile(done); err == nil {
		if _, err := fmt.Sscanf(string(b), "%d %d %d", &st.Commits, &st.Planted, &st.AtHead); err == nil {
			return dir, st, nil
		}
	}
	os.RemoveAll(dir)
	fmt.Fprintf(os.Stderr, "generating a %d-commit history into %s (once)\n", commits, dir)
	st, err := generateHistory(dir, commits)
	if err != nil {
		os.RemoveAll(dir)
		return "", st, err
	}
	return dir, st, os.WriteFile(done, []byte(fmt.Sprintf("%d %d %d\n", st.Commits, st.Planted, st.AtHead)), 0o644)
}

// genBranch is a branch's state while generating.
type genBranch struct {
	plan  *branchPlan
	ref   string
	tip   int             // mark of the last commit; 0: none yet
	files map[string]int  // path -> blob mark, the branch's tree
	paths []string        // the tree's paths, in the order added (to pick one reproducibly)
	dirty map[string]bool // paths changed on the branch since it forked (for the merge)
	leaks map[string]bool // paths that still hold a planted secret
	n     int             // commits on the branch
	done  bool            // merged, kept or tagged: takes no more commits
}

// generateHistory writes a repository at dir (not bare, its work tree
// empty) of commits commits through one git fast-import stream: main with
// annotated tags every 1,000 of its commits, and the branches of
// historyPlan. Each commit changes one or two source-like files of 20-60
// lines; every 250th commit plants a secret (kinds in rotation), and two
// of three planted secrets are removed again 30 commits later on their
// branch, so most of them live in history only.
func generateHistory(dir string, commits int) (historyStats, error) {
	var st historyStats
	if out, err := exec.Command("git", "init", "-q", "-b", "main", dir).CombinedOutput(); err != nil {
		return st, fmt.Errorf("git init: %v: %s", err, out)
	}
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	in, err := cmd.StdinPipe()
	if err != nil {
		return st, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return st, err
	}
	w := bufio.NewWriterSize(in, 1<<20)
	r := rand.New(rand.NewPCG(2026, 16))
	secrets := secrettest.New(1616)
	mark := 0
	next := func() int { mark++; return mark }
	blob := func(content string) int {
		m := next()
		fmt.Fprintf(w, "blob\nmark :%d\ndata %d\n%s\n", m, len(content), content)
		return m
	}
	main := &genBranch{ref: "refs/heads/main", files: map[string]int{}, dirty: map[string]bool{}, leaks: map[string]bool{}}
	var branches []*genBranch
	for i := range historyPlan {
		branches = append(branches, &genBranch{plan: &historyPlan[i], ref: "refs/heads/" + historyPlan[i].name})
	}
	type removal struct {
		b    *genBranch
		path string
		at   int
	}
	var removals []removal
	when := func(n int) int { return 1704067200 + n*1800 }

	commit := func(b *genBranch, n int, changes map[string]int, msg string, merge int) {
		m := next()
		fmt.Fprintf(w, "commit %s\nmark :%d\nauthor Dev %d <dev%d@example.com> %d +0000\ncommitter Dev <dev@example.com> %d +0000\ndata %d\n%s\n",
			b.ref, m, n%9, n%9, when(n), when(n), len(msg), msg)
		if b.tip != 0 {
			fmt.Fprintf(w, "from :%d\n", b.tip)
		}
		if merge != 0 {
			fmt.Fprintf(w, "merge :%d\n", merge)
		}
		paths := make([]string, 0, len(changes))
		for path := range changes {
			paths = append(paths, path)
		}
		sort.Strings(paths) // map order is random; the stream must not be
		for _, path := range paths {
			fmt.Fprintf(w, "M 100644 :%d %s\n", changes[path], path)
			if _, ok := b.files[path]; !ok {
				b.paths = append(b.paths, path)
			}
			b.files[path] = changes[path]
			b.dirty[path] = true
		}
		w.WriteString("\n")
		b.tip = m
		b.n++
		st.Commits++
	}
	fork := func(b *genBranch) {
		b.tip = main.tip
		b.files, b.dirty, b.leaks = map[string]int{}, map[string]bool{}, map[string]bool{}
		for p, bm := range main.files {
			b.files[p] = bm
		}
		b.paths = slices.Clone(main.paths)
		for p, s := range main.leaks {
			b.leaks[p] = s
		}
	}
	end := func(b *genBranch, n int) {
		switch {
		case b.plan.end == "merge":
			changes := map[string]int{}
			for p := range b.dirty {
				changes[p] = b.files[p]
				if b.leaks[p] {
					main.leaks[p] = true
				} else {
					delete(main.leaks, p)
				}
			}
			commit(main, n, changes, "Merge branch '"+b.plan.name+"'", b.tip)
		case strings.HasPrefix(b.plan.end, "tag:"):
			fmt.Fprintf(w, "reset refs/tags/%s\nfrom :%d\n\n", strings.TrimPrefix(b.plan.end, "tag:"), b.tip)
		}
		b.done = true
	}

	for n := 1; st.Commits < commits; n++ {
		frac := float64(n) / float64(commits)
		b := main
		for _, br := range branches {
			if br.done {
				continue
			}
			if frac >= br.plan.until {
				end(br, n)
				continue
			}
			if frac >= br.plan.from {
				if br.tip == 0 {
					fork(br)
				}
				if n%br.plan.every == 0 && b == main {
					b = br
				}
			}
		}
		if st.Commits >= commits {
			break
		}
		changes := map[string]int{}
		var names []string
		for f := 0; f < 1+r.IntN(2); f++ {
			var path string
			if len(b.paths) > 8 && r.IntN(3) == 0 {
				path = b.paths[r.IntN(len(b.paths))]
			} else {
				path = fmt.Sprintf("%s/%s_%d.%s", historyWords[r.IntN(len(historyWords))], historyWords[r.IntN(len(historyWords))], n*2+f, []string{"go", "py", "js", "yaml"}[(n+f)%4])
			}
			content := sourceTextOf(r, 20+r.IntN(41), historyWords)
			if f == 0 && n%250 == 0 {
				content = plant(content, secrets, n/250)
				st.Planted++
				b.leaks[path] = true
				if (n/250)%3 != 0 {
					removals = append(removals, removal{b: b, path: path, at: b.n + 30})
				}
			} else {
				delete(b.leaks, path) // rewritten without its secret
			}
			changes[path] = blob(content)
			names = append(names, path)
		}
		// Remove secrets whose time has come on this branch.
		kept := removals[:0]
		for _, rm := range removals {
			if rm.b == b && rm.at <= b.n {
				if _, ok := changes[rm.path]; !ok {
					changes[rm.path] = blob(sourceTextOf(r, 20+r.IntN(41), historyWords))
					delete(b.leaks, rm.path)
				}
				continue
			}
			kept = append(kept, rm)
		}
		removals = kept
		commit(b, n, changes, fmt.Sprintf("change %s (%d)", strings.Join(names, ", "), n), 0)
		if b == main && main.n%1000 == 0 {
			msg := fmt.Sprintf("release 0.%d", main.n/1000)
			fmt.Fprintf(w, "tag v0.%d\nfrom :%d\ntagger Dev <dev@example.com> %d +0000\ndata %d\n%s\n", main.n/1000, main.tip, when(n), len(msg), msg)
		}
		if b != main && b.plan.end == "keep" && b.n%200 == 0 {
			fmt.Fprintf(w, "reset refs/tags/v1.0.%d\nfrom :%d\n\n", b.n/200, b.tip)
		}
	}
	for _, br := range branches {
		if !br.done && br.tip != 0 {
			end(br, commits)
		}
	}
	st.AtHead = len(main.leaks)
	if err := w.Flush(); err != nil {
		return st, err
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		return st, err
	}
	for _, br := range historyPlan {
		if strings.HasPrefix(br.end, "tag:") {
			if out, err := exec.Command("git", "-C", dir, "branch", "-q", "-D", br.name).CombinedOutput(); err != nil {
				return st, fmt.Errorf("deleting %s: %v: %s", br.name, err, out)
			}
		}
	}
	return st, nil
}

// benchHistory runs `pushvault scan --all` runs times on the generated
// history of commits commits and prints the median wall time and peak
// RSS: the baseline a backfill of the same repository is held to.
func benchHistory(pv string, commits, runs int) error {
	repo, st, err := generatedHistory(commits)
	if err != nil {
		return err
	}
	volume, total, err := historyVolume(repo)
	if err != nil {
		return err
	}
	refs, err := exec.Command("git", "-C", repo, "for-each-ref", "--format=%(refname)").Output()
	if err != nil {
		return err
	}
	var heads, tags int
	for _, ref := range strings.Fields(string(refs)) {
		switch {
		case strings.HasPrefix(ref, "refs/heads/"):
			heads++
		case strings.HasPrefix(ref, "refs/tags/"):
			tags++
		}
	}
	fmt.Printf("history: %s\n  %d commits (git rev-list --all), %d branches, %d tags, %.1f MiB of `git log -p --all`; %d secrets planted, %d still at main's head\n",
		repo, total, heads, tags, mib(volume), st.Planted, st.AtHead)
	scratch, err := os.MkdirTemp("", "pushvault-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	var ms []measurement
	var locs []loc
	for i := 0; i < runs; i++ {
		m, l, err := pushvaultRun(pv)(repo, scratch)
		if err != nil {
			return fmt.Errorf("pushvault scan --all: %w", err)
		}
		ms, locs = append(ms, m), l
	}
	secrets := map[string]bool{}
	for _, l := range locs {
		secrets[l.commit+" "+l.path] = true
	}
	m := median(ms)
	fmt.Printf("pushvault scan --all (median of %d): %.2f s wall, %.1f MiB/s, %.0f MiB peak RSS, %d locations in %d files\n",
		runs, m.wall.Seconds(), mib(volume)/m.wall.Seconds(), float64(m.maxRSS)/1024, len(uniq(locs)), len(secrets))
	return nil
}
