package scanner_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/scanner"
)

// TestScanLimits: a new branch of 12 commits scanned under a limit reads
// the newest commits up to it, finds the secrets there, and says how many
// commits it did not read and which limit stopped it; without a limit, or
// under one the target fits, nothing is truncated.
func TestScanLimits(t *testing.T) {
	g := secrettest.Fresh(t)
	r := gittest.New(t)
	r.Commit("", "base", map[string]string{"README": "hello\n"})
	r.Git("checkout", "-q", "-b", "big")
	var shas []string
	for i := range 12 {
		files := map[string]string{fmt.Sprintf("f%02d.txt", i): fmt.Sprintf("line %d\n", i)}
		switch i {
		case 0:
			files["old.env"] = "STRIPE=" + g.Stripe() + "\n"
		case 11:
			files["new.env"] = "TOKEN=" + g.GitHub() + "\n"
		}
		shas = append(shas, r.Commit("", fmt.Sprintf("commit %d", i), files))
	}
	head := shas[11]
	r.Git("checkout", "-q", "main") // HEAD is a ref too
	target := scanner.NewBranch("refs/heads/big", head)
	cases := []struct {
		name      string
		limits    scanner.Limits
		commits   int
		detectors []string
		truncated *scanner.Truncation
	}{
		{"no limits", scanner.Limits{}, 12, []string{"Stripe", "Github"}, nil},
		{"fits", scanner.Limits{MaxCommits: 12, MaxBytes: 1 << 20}, 12, []string{"Stripe", "Github"}, nil},
		{"max commits", scanner.Limits{MaxCommits: 5}, 5, []string{"Github"},
			&scanner.Truncation{By: "commits", Commits: 12, Oldest: shas[7]}},
		{"max bytes", scanner.Limits{MaxBytes: 1}, 1, []string{"Github"},
			&scanner.Truncation{By: "bytes", Commits: 12, Oldest: head}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := scan(t, r.Dir, target, scanner.WithLimits(tc.limits))
			var detectors []string
			for _, f := range res.Findings {
				detectors = append(detectors, f.Detector)
			}
			if diff := cmp.Diff(tc.detectors, detectors); diff != "" {
				t.Errorf("detectors (-want +got):\n%s", diff)
			}
			if res.Stats.Commits != tc.commits {
				t.Errorf("scanned %d commits, want %d", res.Stats.Commits, tc.commits)
			}
			if diff := cmp.Diff(tc.truncated, res.Truncated); diff != "" {
				t.Errorf("truncation (-want +got):\n%s", diff)
			}
		})
	}
}
