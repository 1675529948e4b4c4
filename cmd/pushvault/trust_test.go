package main_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// attack is a push that tries to get a secret past pushvault: it commits
// onto a branch started at base and says what to push and which path the
// secret is in. The values are fresh each run.
type attack struct {
	name string
	// build commits the attack in w, on a new branch from base; it
	// returns the refspec to push, the commit the check run is on, the
	// path holding the secret and the planted values.
	build func(w *gittest.Repo, base string, g *secrettest.Gen) (refspec, head, path string, planted []string)
	// hookOnly: what the attack uses does not reach the App (push options).
	hookOnly bool
	// pushOptions for the hook.
	pushOptions []string
}

// utf16LE is s in UTF-16LE with a byte-order mark, as Windows PowerShell
// ISE and Notepad save it.
func utf16LE(s string) string {
	var b strings.Builder
	b.WriteString("\xff\xfe")
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u))
		b.WriteByte(byte(u >> 8))
	}
	return b.String()
}

// leakOn commits files with the secret on a new branch from base.
func leakOn(w *gittest.Repo, base, branch, author string, files map[string]string) string {
	w.Git("checkout", "-q", "-B", branch, base)
	return w.Commit(author, "update "+branch, files)
}

// attacks are the pushes the trust-model issue lists: each was accepted by
// the hook, or ignored or dead-lettered by the App, before it.
var attacks = []attack{
	{name: "settings allowlist every path", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		head := leakOn(w, base, "a-allowlist", "", map[string]string{
			".github/pushvault.yml": "allowlist:\n  paths: [\"**\"]\n", "billing/keys.env": "STRIPE_KEY=" + k + "\n"})
		return "HEAD:refs/heads/a-allowlist", head, "billing/keys.env", []string{k}
	}},
	{name: "settings size limit of one byte", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		head := leakOn(w, base, "a-size", "", map[string]string{
			".github/pushvault.yml": "scan:\n  max_file_size: 1B\n", "billing/size.env": "STRIPE_KEY=" + k + "\n"})
		return "HEAD:refs/heads/a-size", head, "billing/size.env", []string{k}
	}},
	{name: "settings rotation off", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.SendGrid()
		head := leakOn(w, base, "a-rotation", "", map[string]string{
			".github/pushvault.yml": "rotation:\n  enabled: []\n", "mail/.env": "SENDGRID_API_KEY=" + k + "\n"})
		return "HEAD:refs/heads/a-rotation", head, "mail/.env", []string{k}
	}},
	{name: "attributes -diff", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		head := leakOn(w, base, "a-nodiff", "", map[string]string{".gitattributes": "*.env -diff\n", "pay.env": "STRIPE_KEY=" + k + "\n"})
		return "HEAD:refs/heads/a-nodiff", head, "pay.env", []string{k}
	}},
	{name: "attributes binary", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		head := leakOn(w, base, "a-binary", "", map[string]string{".gitattributes": "*.cfg binary\n", "pay.cfg": "stripe_key = " + k + "\n"})
		return "HEAD:refs/heads/a-binary", head, "pay.cfg", []string{k}
	}},
	{name: "evil merge", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		w.Git("checkout", "-q", "-B", "a-side", base)
		w.Commit("", "side", map[string]string{"side.md": "side\n"})
		w.Git("checkout", "-q", "-B", "a-merge", base)
		w.Commit("", "main line", map[string]string{"main.md": "main\n"})
		w.Git("merge", "-q", "--no-commit", "--no-ff", "a-side")
		w.Write(map[string]string{"merged.env": "STRIPE_KEY=" + k + "\n"})
		w.Git("add", "-A")
		w.Git("commit", "-q", "-m", "Merge side")
		return "HEAD:refs/heads/a-merge", w.Head(), "merged.env", []string{k}
	}},
	{name: "UTF-16 PowerShell script", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		head := leakOn(w, base, "a-utf16", "", map[string]string{"deploy/setup.ps1": utf16LE("$env:STRIPE_KEY = \"" + k + "\"\r\nWrite-Host done\r\n")})
		return "HEAD:refs/heads/a-utf16", head, "deploy/setup.ps1", []string{k}
	}},
	{name: "text file with one NUL byte", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		head := leakOn(w, base, "a-nul", "", map[string]string{"notes/keys.txt": "header\x00\nSTRIPE_KEY=" + k + "\n"})
		return "HEAD:refs/heads/a-nul", head, "notes/keys.txt", []string{k}
	}},
	{name: "tag on no branch", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		head := leakOn(w, base, "a-tagged", "", map[string]string{"release/keys.env": "STRIPE_KEY=" + k + "\n"})
		w.Git("tag", "v-leak-"+head[:7], head)
		return "refs/tags/v-leak-" + head[:7], head, "release/keys.env", []string{k}
	}},
	{name: "branch named like pushvault's", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		head := leakOn(w, base, "a-ownbranch", "", map[string]string{"own/keys.env": "STRIPE_KEY=" + k + "\n"})
		return "HEAD:refs/heads/pushvault/fix-" + head[:12], head, "own/keys.env", []string{k}
	}},
	{name: "author name with a control character", build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
		k := g.Stripe()
		head := leakOn(w, base, "a-author", "Eve\x1fAdmin <eve@acme.test>", map[string]string{"ctl/keys.env": "STRIPE_KEY=" + k + "\n"})
		return "HEAD:refs/heads/a-author", head, "ctl/keys.env", []string{k}
	}},
	{name: "skip push option from anyone", hookOnly: true, pushOptions: []string{"-o", "pushvault.skip=hotfix"},
		build: func(w *gittest.Repo, base string, g *secrettest.Gen) (string, string, string, []string) {
			k := g.Stripe()
			head := leakOn(w, base, "a-skip", "", map[string]string{"skip/keys.env": "STRIPE_KEY=" + k + "\n"})
			return "HEAD:refs/heads/a-skip", head, "skip/keys.env", []string{k}
		}},
}

// TestHookRejectsEveryAttack: under the default server settings, each
// attack's push is rejected by the real hook, with a finding at its path,
// and nothing planted in what the pusher sees.
func TestHookRejectsEveryAttack(t *testing.T) {
	s := newHookServer(t)
	g := secrettest.Fresh(t)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			refspec, _, path, planted := a.build(s.work, s.base, g)
			before := s.refs()
			r := s.push(t, nil, append(append([]string{}, a.pushOptions...), "origin", refspec)...)
			msg := remoteText(r.stderr)
			if r.code == 0 || !strings.Contains(msg, path+":") || s.refs() != before {
				t.Errorf("push accepted or no finding at %s: exit %d\n%s", path, r.code, r.stderr)
			}
			for _, v := range planted {
				if strings.Contains(r.stdout+r.stderr, v) {
					t.Errorf("planted value in the push's output")
				}
			}
		})
	}
}

// TestAppFindsEveryAttack: under the default server settings, each
// attack pushed to GitHub gets a check run that wants action, with an
// annotation at its path, and its value vaulted; nothing planted appears
// in any text pushvault wrote or logged.
func TestAppFindsEveryAttack(t *testing.T) {
	e := newAppEnv(t)
	g := secrettest.Fresh(t)
	work := e.clone(t)
	base := work.Head()
	var all []string
	type pushed struct {
		a          attack
		head, path string
	}
	var done []pushed
	for _, a := range attacks {
		if a.hookOnly {
			continue
		}
		refspec, head, path, planted := a.build(work, base, g)
		work.Git("push", "-q", "origin", refspec)
		all = append(all, planted...)
		done = append(done, pushed{a, head, path})
	}
	for _, p := range done {
		e.waitFor(t, "the check run of "+p.a.name, func() bool {
			r := e.checkRun(p.head)
			return r != nil && r.Status == "completed"
		})
		r := e.checkRun(p.head)
		var at bool
		for _, an := range r.Annotations {
			at = at || an.Path == p.path
		}
		if r.Conclusion != "action_required" || !at {
			t.Errorf("%s: check run %s, annotation at %s: %v\n%s", p.a.name, r.Conclusion, p.path, at, r.Summary)
		}
		if !strings.Contains(r.Summary, "secret/data/pushvault/acme/shop/") {
			t.Errorf("%s: no vault path in the check run:\n%s", p.a.name, r.Summary)
		}
	}
	for _, out := range append(e.githubTexts(), e.serve.logs.String()) {
		for _, v := range all {
			if strings.Contains(out, v) {
				t.Fatalf("a planted value is in an output: %s", fmt.Sprintf("%.80q", out))
			}
		}
	}
}
