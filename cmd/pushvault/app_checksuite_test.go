package main_test

import (
	"testing"

	"github.com/pushvault/pushvault/githubapp/githubtest"
)

// TestAppRerunAllChecks: GitHub's "Re-run all checks" (check_suite
// rerequested, sent by the stand-in like GitHub's) on a leaking push's head
// scans it again: a second check run on the same head completes with the
// same conclusion and findings, and nothing is done twice — one fix PR, one
// vault version per secret.
func TestAppRerunAllChecks(t *testing.T) {
	e := newAppEnv(t)
	head, planted := e.pushSecrets(t, 31)
	first := e.completedRun(t, head)
	if first.Conclusion != "action_required" {
		t.Fatalf("the push's check run: %s\n%s", first.Conclusion, first.Summary)
	}
	e.fixPR(t, head, "main")

	if _, err := e.srv.TriggerCheckSuite("acme", "shop", head, "octocat"); err != nil {
		t.Fatal(err)
	}
	var runs []githubtest.CheckRun
	e.waitFor(t, "the re-run's own check run completes", func() bool {
		runs = runs[:0]
		for _, r := range e.srv.CheckRuns() {
			if r.HeadSHA == head && r.Name == "pushvault" && r.Status == "completed" {
				runs = append(runs, r)
			}
		}
		return len(runs) == 2
	})
	again := runs[1]
	if again.ID == first.ID || again.Conclusion != first.Conclusion || len(again.Annotations) != len(first.Annotations) {
		t.Errorf("re-run: check run %d %s with %d annotations; want a new run concluding %s with %d\n%s",
			again.ID, again.Conclusion, len(again.Annotations), first.Conclusion, len(first.Annotations), again.Summary)
	}
	e.remediatedOnce(t, head)
	noPlantedValue(t, planted, nil, append(e.githubTexts(), e.serve.logs.String()))
}
