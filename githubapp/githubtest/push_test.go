package githubtest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pushOf returns the single push webhook for ref among those received
// after skip, failing unless exactly one came.
func (f *fixture) pushOf(t *testing.T, skip int, ref string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, p := range f.rc.events("push")[skip:] {
		if p["ref"] == ref {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("push webhooks for %s = %d, want 1", ref, len(found))
	}
	return found[0]
}

func commitIDs(p map[string]any) []string {
	ids := []string{}
	for _, c := range p["commits"].([]any) {
		ids = append(ids, c.(map[string]any)["id"].(string))
	}
	return ids
}

// gitFiles is what git itself says a commit did to its first parent, in
// the webhook's terms (a rename is a removal and an addition).
func gitFiles(t *testing.T, dir, sha string) map[string][]string {
	out := mustGit(t, dir, "diff-tree", "--no-commit-id", "-r", "--name-status", "-M", "--root", sha)
	m := map[string][]string{"added": {}, "removed": {}, "modified": {}}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "\t")
		switch {
		case len(f) < 2:
		case f[0][0] == 'A':
			m["added"] = append(m["added"], f[1])
		case f[0][0] == 'D':
			m["removed"] = append(m["removed"], f[1])
		case f[0][0] == 'R':
			m["removed"] = append(m["removed"], f[1])
			m["added"] = append(m["added"], f[2])
		default:
			m["modified"] = append(m["modified"], f[1])
		}
	}
	return m
}

func webhookFiles(c map[string]any) map[string][]string {
	m := map[string][]string{}
	for _, k := range []string{"added", "removed", "modified"} {
		m[k] = []string{}
		for _, v := range c[k].([]any) {
			m[k] = append(m[k], v.(string))
		}
	}
	return m
}

// checkPush compares a push payload with what git did.
func checkPush(t *testing.T, dir string, p map[string]any, before, after string, created, deleted bool, wantCommits []string) {
	t.Helper()
	forced := false
	if !created && !deleted {
		_, err := gitCmd(dir, "merge-base", "--is-ancestor", before, after)
		forced = err != nil
	}
	got := map[string]any{"before": p["before"], "after": p["after"], "created": p["created"], "deleted": p["deleted"], "forced": p["forced"], "commits": commitIDs(p)}
	want := map[string]any{"before": before, "after": after, "created": created, "deleted": deleted, "forced": forced, "commits": wantCommits}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("push %s (-want +got):\n%s", p["ref"], d)
	}
	for _, c := range p["commits"].([]any) {
		cm := c.(map[string]any)
		if d := cmp.Diff(gitFiles(t, dir, cm["id"].(string)), webhookFiles(cm)); d != "" {
			t.Errorf("commit %s files (-git +webhook):\n%s", cm["id"], d)
		}
	}
}

func revList(t *testing.T, dir, rng string) []string {
	out := mustGit(t, dir, "rev-list", "--reverse", rng)
	if out == "" {
		return []string{}
	}
	return strings.Fields(out)
}

// TestPushWebhooks pushes for real (new branch, fast-forward, rename, force
// push, deletion, lightweight and annotated tags, several refs at once)
// and compares every push webhook with what git itself did.
func TestPushWebhooks(t *testing.T) {
	f := newFixture(t)
	dir := clone(t, f.srv, "acme", "shop", f.token(t))
	main0 := mustGit(t, dir, "rev-parse", "HEAD")
	const zero = "0000000000000000000000000000000000000000"
	n := 0
	next := func() int { k := len(f.rc.events("push")); defer func() { n = k }(); return n }

	t.Run("new branch", func(t *testing.T) {
		mustGit(t, dir, "checkout", "-q", "-b", "feature")
		writeFile(t, dir, "f1.txt", "one\n")
		mustGit(t, dir, "add", "-A")
		mustGit(t, dir, "commit", "-q", "-m", "f1")
		writeFile(t, dir, "f2.txt", "two\n")
		mustGit(t, dir, "add", "-A")
		mustGit(t, dir, "commit", "-q", "-m", "f2")
		mustGit(t, dir, "push", "-q", "origin", "feature")
		tip := mustGit(t, dir, "rev-parse", "HEAD")
		p := f.pushOf(t, next(), "refs/heads/feature")
		checkPush(t, dir, p, zero, tip, true, false, revList(t, dir, "main..feature"))
		if hc := p["head_commit"].(map[string]any); hc["id"] != tip || hc["message"] != "f2" {
			t.Errorf("head_commit = %v", hc["id"])
		}
	})
	t.Run("fast-forward with a rename", func(t *testing.T) {
		before := mustGit(t, dir, "rev-parse", "HEAD")
		mustGit(t, dir, "mv", "f1.txt", "renamed.txt")
		writeFile(t, dir, "f2.txt", "two, changed\n")
		mustGit(t, dir, "add", "-A")
		mustGit(t, dir, "commit", "-q", "-m", "rename")
		mustGit(t, dir, "push", "-q", "origin", "feature")
		after := mustGit(t, dir, "rev-parse", "HEAD")
		p := f.pushOf(t, next(), "refs/heads/feature")
		checkPush(t, dir, p, before, after, false, false, []string{after})
		c := p["commits"].([]any)[0].(map[string]any)
		if d := cmp.Diff(map[string][]string{"added": {"renamed.txt"}, "removed": {"f1.txt"}, "modified": {"f2.txt"}}, webhookFiles(c)); d != "" {
			t.Errorf("rename files (-want +got):\n%s", d)
		}
	})
	t.Run("force push", func(t *testing.T) {
		before := mustGit(t, dir, "rev-parse", "HEAD")
		mustGit(t, dir, "reset", "-q", "--hard", "HEAD~2")
		writeFile(t, dir, "other.txt", "rewritten\n")
		mustGit(t, dir, "add", "-A")
		mustGit(t, dir, "commit", "-q", "-m", "rewrite")
		mustGit(t, dir, "push", "-q", "-f", "origin", "feature")
		after := mustGit(t, dir, "rev-parse", "HEAD")
		p := f.pushOf(t, next(), "refs/heads/feature")
		if p["forced"] != true {
			t.Error("forced = false for a non-fast-forward push")
		}
		checkPush(t, dir, p, before, after, false, false, revList(t, dir, before+".."+after))
	})
	t.Run("branch deletion", func(t *testing.T) {
		before := mustGit(t, dir, "rev-parse", "feature")
		mustGit(t, dir, "push", "-q", "origin", ":feature")
		p := f.pushOf(t, next(), "refs/heads/feature")
		checkPush(t, dir, p, before, zero, false, true, []string{})
		if p["head_commit"] != nil {
			t.Errorf("head_commit = %v, want null", p["head_commit"])
		}
	})
	t.Run("lightweight tag", func(t *testing.T) {
		mustGit(t, dir, "checkout", "-q", "main")
		mustGit(t, dir, "tag", "v1")
		mustGit(t, dir, "push", "-q", "origin", "v1")
		p := f.pushOf(t, next(), "refs/tags/v1")
		checkPush(t, dir, p, zero, main0, true, false, []string{})
		if p["head_commit"].(map[string]any)["id"] != main0 || p["base_ref"] != "refs/heads/main" {
			t.Errorf("tag head_commit = %v base_ref = %v", p["head_commit"].(map[string]any)["id"], p["base_ref"])
		}
	})
	t.Run("annotated tag", func(t *testing.T) {
		mustGit(t, dir, "tag", "-a", "v2", "-m", "release 2")
		mustGit(t, dir, "push", "-q", "origin", "v2")
		tagObj := mustGit(t, dir, "rev-parse", "v2")
		p := f.pushOf(t, next(), "refs/tags/v2")
		checkPush(t, dir, p, zero, tagObj, true, false, []string{})
		if p["head_commit"].(map[string]any)["id"] != mustGit(t, dir, "rev-parse", "v2^{commit}") {
			t.Error("annotated tag head_commit is not the tagged commit")
		}
	})
	t.Run("several refs in one push", func(t *testing.T) {
		mustGit(t, dir, "branch", "b1")
		mustGit(t, dir, "branch", "b2")
		mustGit(t, dir, "push", "-q", "origin", "b1", "b2", ":v1")
		skip := next()
		p1, p2, pt := f.pushOf(t, skip, "refs/heads/b1"), f.pushOf(t, skip, "refs/heads/b2"), f.pushOf(t, skip, "refs/tags/v1")
		checkPush(t, dir, p1, zero, main0, true, false, []string{})
		checkPush(t, dir, p2, zero, main0, true, false, []string{})
		checkPush(t, dir, pt, main0, zero, false, true, []string{})
	})
	t.Run("pusher is whose token pushed", func(t *testing.T) {
		who := func(p map[string]any) []any {
			s := p["sender"].(map[string]any)
			return []any{p["pusher"].(map[string]any)["name"], s["login"], s["type"], p["installation"].(map[string]any)["id"]}
		}
		bot := f.srv.App().Slug + "[bot]"
		if d := cmp.Diff([]any{bot, bot, "Bot", float64(f.inst)}, who(f.pushOf(t, 0, "refs/heads/b1"))); d != "" {
			t.Errorf("push with the installation's token (-want +got):\n%s", d)
		}
		tok, err := f.srv.UserToken("acme", "ghp_")
		if err != nil {
			t.Fatal(err)
		}
		mustGit(t, dir, "push", "-q", f.srv.AuthCloneURL("acme", "shop", tok), "main:refs/heads/by-user")
		if d := cmp.Diff([]any{"acme", "acme", "User", float64(f.inst)}, who(f.pushOf(t, next(), "refs/heads/by-user"))); d != "" {
			t.Errorf("push with a user's token (-want +got):\n%s", d)
		}
	})
	for _, d := range f.srv.Deliveries() {
		if d.Err != "" || d.StatusCode != 202 {
			t.Errorf("delivery %s %s: status %d %s", d.ID, d.Event, d.StatusCode, d.Err)
		}
	}
}
