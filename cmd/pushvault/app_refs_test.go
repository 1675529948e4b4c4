package main_test

import (
	"context"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppScansTagsAndPushvaultLookalikes: what a push names does not decide
// whether it is scanned. A lightweight and an annotated tag on commits no
// branch holds are scanned: findings on the tagged commits, the values
// vaulted, a leaked GitHub token revoked, no fix PR (none can change a
// tag) and the check run says what to do. A person's push to a branch named
// like pushvault's fixes, the App's bot pushing a commit on top of a fix
// branch, and a person pushing pushvault's own fix commit are scanned like
// any branch; the fix branches pushvault pushes itself are not (no check
// run on them, no loop of fixes).
func TestAppScansTagsAndPushvaultLookalikes(t *testing.T) {
	e := newAppEnv(t)
	seed := rand.Uint64()
	t.Logf("secrets from seed %d", seed)
	g := secrettest.New(seed)
	ghToken, err := e.srv.UserToken("acme", "ghp_")
	if err != nil {
		t.Fatal(err)
	}
	light, annotated, onBranch, onFix := g.Stripe(), g.SendGrid(), g.Stripe(), g.Stripe()
	planted := []string{light, annotated, ghToken, onBranch, onFix}

	// Two tags on commits no branch holds, in one push.
	work := e.clone(t)
	c1 := work.Commit("dev <dev@acme.test>", "light", map[string]string{"deploy/light.yml": "light_key: " + light + "\n"})
	work.Git("tag", "leak-light")
	work.Git("reset", "-q", "--hard", "origin/main")
	c2 := work.Commit("dev <dev@acme.test>", "annotated", map[string]string{
		"deploy/release.env": "SENDGRID_API_KEY=" + annotated + "\n",
		"deploy/ci.py":       "import os\n\nGITHUB_TOKEN = \"" + ghToken + "\"\n",
	})
	work.Git("tag", "-a", "leak-annotated", "-m", "release")
	work.Git("reset", "-q", "--hard", "origin/main")
	work.Git("push", "origin", "leak-light", "leak-annotated")
	for _, tc := range []struct {
		tag, head string
		secrets   int
	}{{"leak-light", c1, 1}, {"leak-annotated", c2, 2}} {
		r := e.completedRun(t, tc.head)
		if r.Conclusion != "action_required" || len(r.Annotations) != tc.secrets ||
			!strings.Contains(r.Summary, "tag `"+tc.tag+"`") || !strings.Contains(r.Summary, "git push origin :refs/tags/"+tc.tag) {
			t.Errorf("tag %s: %s with %d annotations, want action_required with %d and what to do:\n%s", tc.tag, r.Conclusion, len(r.Annotations), tc.secrets, r.Summary)
		}
		e.vaulted(t, r.Summary, planted)
	}
	if got := e.srv.RevokedCredentials(); len(got) != 1 || got[0] != ghToken {
		t.Errorf("revoked %d credentials, want the GitHub token the annotated tag holds", len(got))
	}
	if n := len(e.srv.PullRequests()); n != 0 {
		t.Errorf("%d pull requests for tags, want none", n)
	}

	// A person pushes to a branch named like pushvault's fixes: scanned,
	// fixed by a PR.
	person, err := e.srv.UserToken("acme", "ghp_")
	if err != nil {
		t.Fatal(err)
	}
	const mimic = "pushvault/fix-c0ffee0"
	c3 := work.Commit("dev <dev@acme.test>", "sneaky", map[string]string{"deploy/branch.yml": "branch_key: " + onBranch + "\n"})
	work.Git("push", e.srv.AuthCloneURL("acme", "shop", person), "HEAD:refs/heads/"+mimic)
	if r := e.completedRun(t, c3); r.Conclusion != "action_required" || len(r.Annotations) != 1 {
		t.Errorf("a person's push to %s: %s with %d annotations\n%s", mimic, r.Conclusion, len(r.Annotations), r.Summary)
	}
	fix3 := e.fixPR(t, c3, mimic)
	// A tag of a commit a branch holds adds nothing: that branch's push
	// owns the commit's check run.
	work.Git("tag", "on-branch", c3)
	work.Git("push", "origin", "on-branch")

	// The App's bot pushes one more commit onto that fix branch: not the
	// commit pushvault made, so scanned.
	work.Git("fetch", "-q", "origin")
	work.Git("checkout", "-q", "-B", "on-fix", "origin/"+fix3.Head)
	c4 := work.Commit("dev <dev@acme.test>", "on top", map[string]string{"deploy/fix.yml": "fix_key: " + onFix + "\n"})
	work.Git("push", "origin", "HEAD:refs/heads/"+fix3.Head)
	if r := e.completedRun(t, c4); r.Conclusion != "action_required" || len(r.Annotations) != 1 {
		t.Errorf("the bot's commit on a fix branch: %s with %d annotations\n%s", r.Conclusion, len(r.Annotations), r.Summary)
	}
	fix4 := e.fixPR(t, c4, fix3.Head)

	// A person re-creates that fix branch at pushvault's very commit: the
	// commit is pushvault's, the push is not, so it is scanned (the
	// secrets are in its history; its files already hold references, so
	// there is nothing left to fix).
	work.Git("fetch", "-q", "origin")
	fixHead, _, _ := strings.Cut(work.Git("ls-remote", "origin", "refs/heads/"+fix4.Head), "\t")
	personURL := e.srv.AuthCloneURL("acme", "shop", person)
	work.Git("push", personURL, ":refs/heads/"+fix4.Head)
	work.Git("push", personURL, fixHead+":refs/heads/"+fix4.Head)
	if r := e.completedRun(t, fixHead); r.Conclusion != "action_required" {
		t.Errorf("a person's push of pushvault's fix commit: %s\n%s", r.Conclusion, r.Summary)
	}

	// Every push handled: the fix branches pushvault pushed got no check
	// run and no fix of their own.
	e.waitFor(t, "every push handled", func() bool {
		pushes := 0
		for _, d := range e.srv.Deliveries() {
			if d.Event == "push" {
				pushes++
			}
		}
		_, body := e.serve.get(t, "/metrics")
		return pushesHandled(body) == float64(pushes)
	})
	heads := map[string]bool{}
	for _, r := range e.srv.CheckRuns() {
		if r.Name == "pushvault" {
			heads[r.HeadSHA] = true
		}
	}
	want := map[string]bool{c1: true, c2: true, c3: true, c4: true, fixHead: true}
	if len(heads) != len(want) {
		t.Errorf("check runs on %d commits, want only the 5 heads pushed by others than pushvault", len(heads))
	}
	for h := range want {
		if !heads[h] {
			t.Errorf("no check run on %s", h)
		}
	}
	if n := len(e.srv.PullRequests()); n != 2 {
		t.Errorf("%d pull requests, want the 2 fixes (#%d, #%d)", n, fix3.Number, fix4.Number)
	}
	if n := strings.Count(e.serve.logs.String(), "pushvault's own fix commit, pushed by the App"); n != 2 {
		t.Errorf("%d fix branch pushes skipped as pushvault's own, want its 2", n)
	}
	if n := strings.Count(e.serve.logs.String(), "every commit of the tag is on a branch"); n != 1 {
		t.Errorf("%d tag pushes ignored as adding nothing, want 1", n)
	}

	for _, o := range append(e.githubTexts(), e.serve.logs.String()) {
		for _, v := range planted {
			if strings.Contains(o, v) {
				t.Errorf("a planted secret reached an output: %.120s…", o)
			}
		}
	}
}

// completedRun waits for head's pushvault check run to complete.
func (e *appEnv) completedRun(t *testing.T, head string) *githubtest.CheckRun {
	t.Helper()
	e.waitFor(t, "the check run on "+head+" completes", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Status == "completed"
	})
	return e.checkRun(head)
}

// fixPR waits for the fix pull request of head onto base.
func (e *appEnv) fixPR(t *testing.T, head, base string) githubtest.PullRequest {
	t.Helper()
	var pr githubtest.PullRequest
	e.waitFor(t, "the fix PR of "+head+" onto "+base, func() bool {
		for _, p := range e.srv.PullRequests() {
			if p.Head == "pushvault/fix-"+head[:7] && p.Base == base {
				pr = p
				return true
			}
		}
		return false
	})
	return pr
}

var vaultPathRE = regexp.MustCompile("`secret/data/(pushvault/[^`]+)` v1")

// vaulted checks that every vault path a check-run summary names holds,
// at version 1, one of the planted values (unless a rotation destroyed
// that version).
func (e *appEnv) vaulted(t *testing.T, summary string, planted []string) {
	t.Helper()
	var m [][]string
	for _, row := range strings.Split(summary, "\n") {
		if p := vaultPathRE.FindStringSubmatch(row); p != nil && !strings.Contains(row, "exposed version destroyed") {
			m = append(m, p)
		}
	}
	if len(m) == 0 {
		t.Errorf("the summary names no vault path holding an exposed value:\n%s", summary)
	}
	vc := e.vault.Client(t)
	for _, p := range m {
		s, err := vc.KVv2("secret").GetVersion(context.Background(), p[1], 1)
		if err != nil {
			t.Errorf("vault %s: %v", p[1], err)
			continue
		}
		found := false
		for k := range s.Data {
			for _, v := range planted {
				found = found || s.Data[k] == v
			}
		}
		if !found {
			t.Errorf("vault %s holds none of the planted values", p[1])
		}
	}
}
