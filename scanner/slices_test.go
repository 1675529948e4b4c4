package scanner_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/scanner"
)

// TestScanSlices: a history of two branches and an annotated tag, one
// secret added again in several commits far apart, scanned in slices of 3
// commits reads every commit once and finds what one scan of the whole
// history finds: the same findings, IDs and locations (oldest first), the
// tag's message included.
func TestScanSlices(t *testing.T) {
	g := secrettest.Fresh(t)
	stripe, token, tagged := g.Stripe(), g.GitHub(), g.GitHub()
	r := gittest.New(t)
	r.Commit("", "base", map[string]string{"README": "hello\n"})
	for i := range 8 {
		files := map[string]string{fmt.Sprintf("f%02d.txt", i): fmt.Sprintf("line %d\n", i)}
		switch i {
		case 1, 6: // the same secret in two slices
			files[fmt.Sprintf("pay%d.env", i)] = "STRIPE=" + stripe + "\n"
		case 4:
			files["deploy.env"] = "TOKEN=" + token + "\n"
		}
		r.Commit("", fmt.Sprintf("commit %d", i), files)
	}
	r.Git("tag", "-a", "v1", "-m", "release token "+tagged)
	r.Git("checkout", "-q", "-b", "dev", "HEAD~3")
	for i := range 4 {
		files := map[string]string{fmt.Sprintf("d%02d.txt", i): fmt.Sprintf("dev %d\n", i)}
		if i == 2 {
			files["old.env"] = "STRIPE=" + stripe + "\n"
		}
		r.Commit("", fmt.Sprintf("dev %d", i), files)
	}
	r.Git("checkout", "-q", "main")
	revs := []string{r.Git("rev-parse", "main"), r.Git("rev-parse", "dev"), r.Git("rev-parse", "v1")}
	target := scanner.Revisions(revs...)

	whole := scan(t, r.Dir, target)
	var progress []scanner.SliceProgress
	sliced, err := scanner.New().ScanSlices(context.Background(), r.Dir, target, 3, func(p scanner.SliceProgress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	if whole.Stats.Commits != 13 || sliced.Stats.Commits != 13 {
		t.Errorf("commits read: %d in one scan, %d in slices; want 13 each", whole.Stats.Commits, sliced.Stats.Commits)
	}
	if len(progress) != 5 || progress[4] != (scanner.SliceProgress{Slice: 5, Slices: 5, Commits: 13, Total: 13}) {
		t.Errorf("progress %+v, want 5 slices ending at 13 of 13 commits", progress)
	}
	type found struct {
		ID, Detector string
		Locations    []string
	}
	view := func(res *scanner.Result) []found {
		var out []found
		for _, f := range res.Findings {
			x := found{ID: f.ID, Detector: f.Detector}
			for _, l := range f.Locations {
				x.Locations = append(x.Locations, l.Commit[:7]+" "+l.Where())
			}
			out = append(out, x)
		}
		return out
	}
	if len(whole.Findings) != 3 {
		t.Fatalf("one scan finds %d secrets, want 3 (the fixture no longer shows the case)", len(whole.Findings))
	}
	if diff := cmp.Diff(view(whole), view(sliced)); diff != "" {
		t.Errorf("findings in slices differ from one scan (-whole +sliced):\n%s", diff)
	}
}
