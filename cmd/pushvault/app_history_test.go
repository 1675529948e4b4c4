package main_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppMessagesAndUnreadableObjects: through the GitHub stand-in, a
// GitHub token pasted only into a commit's message is vaulted and revoked
// like any other secret; the check run locates it in the message and says
// that only rewriting history takes it out, and no fix pull request edits
// a file for it. Then an object lost from pushvault's own mirror costs the
// file that holds it, not the push: the rest is scanned and remediated, and
// the check run names what was skipped (path and object) and how to scan it.
func TestAppMessagesAndUnreadableObjects(t *testing.T) {
	e := newAppEnv(t)
	token, err := e.srv.UserToken("acme", "ghp_")
	if err != nil {
		t.Fatal(err)
	}
	fileKey := stripeKey(secrettest.Fresh(t))
	planted := []string{token, fileKey}
	work := e.clone(t)

	inMessage := work.Commit("dev <dev@acme.test>", "ci runner\n\nregistered with "+token+" for now\n", map[string]string{"ci.yml": "runs-on: ubuntu-latest\n"})
	work.Git("push", "origin", "HEAD:main")
	r := e.completedRun(t, inMessage)
	if r.Conclusion != githubapp.ConclusionActionRequired {
		t.Fatalf("check run concluded %q, want action_required:\n%s\n%s", r.Conclusion, r.Summary, e.serve.logs)
	}
	for _, want := range []string{"| commit message of " + inMessage[:7] + " | `secret/data/pushvault/acme/shop/github_token` v1 | rotated by github_token; exposed value proven dead",
		"only rewriting history removes it"} {
		if !strings.Contains(r.Summary, want) {
			t.Errorf("the check run's summary lacks %q:\n%s", want, r.Summary)
		}
	}
	if got := e.srv.RevokedCredentials(); !slices.Contains(got, token) {
		t.Errorf("the token in the commit message was not revoked (revoked: %d)", len(got))
	}
	for _, pr := range e.srv.PullRequests() {
		if pr.Head == "pushvault/fix-"+inMessage[:7] {
			t.Errorf("fix pull request #%d for a secret no file holds", pr.Number)
		}
	}

	// A commit on a branch is scanned and mirrored; then its file's
	// object is lost from the mirror. A new branch holding that commit
	// and one more scans both: the lost version is skipped and named (the
	// next commit's version of the file is read whole).
	notes := work.Commit("dev <dev@acme.test>", "notes", map[string]string{"notes.txt": "remember the milk\n"})
	work.Git("push", "origin", "HEAD:refs/heads/notes")
	e.completedRun(t, notes)
	lost := work.Git("rev-parse", notes+":notes.txt")
	gittest.LoseObject(t, filepath.Join(e.data, "git", "acme", "shop.git"), lost)
	// The head's tree no longer holds the lost object: the fix commit
	// (written in the mirror) needs every object of the tree it changes.
	head := work.Commit("dev <dev@acme.test>", "payments", map[string]string{"config/payments.yml": "stripe_key: " + fileKey + "\n",
		"notes.txt": "remember the eggs\n"})
	work.Git("push", "origin", "HEAD:refs/heads/payments")
	r = e.completedRun(t, head)
	if r.Conclusion != githubapp.ConclusionActionRequired {
		t.Fatalf("check run concluded %q, want action_required:\n%s\n%s", r.Conclusion, r.Summary, e.serve.logs)
	}
	for _, want := range []string{"`config/payments.yml:1`", "| `notes.txt` | " + notes[:7] + " | unreadable (object `" + lost + "`)",
		"pushvault scan --range origin/main.." + head[:7]} {
		if !strings.Contains(r.Summary, want) {
			t.Errorf("the check run's summary lacks %q:\n%s", want, r.Summary)
		}
	}
	e.vaulted(t, r.Summary, planted)
	e.fixPR(t, head, "payments")
	e.serve.stop(t)
	if !strings.Contains(e.serve.logs.String(), `"object":"`+lost+`"`) {
		t.Errorf("serve's log does not name the lost object %s", lost)
	}
	noPlantedValue(t, planted, exportLedger(t, e.vault, "--data-dir", e.data), append(e.githubTexts(), e.serve.logs.String()))
}
