package main_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/scanner"
	"github.com/pushvault/pushvault/scanner/report"
)

// messageRepo is a repository with a secret in a commit's message (and in
// no file), one in an annotated tag's message, and one in a file: fresh
// values each run.
type messageRepo struct {
	repo                       *gittest.Repo
	base, inMessage, head, tag string
	planted                    []string
}

func newMessageRepo(t *testing.T) *messageRepo {
	t.Helper()
	g := secrettest.Fresh(t)
	msgKey, tagToken, fileKey := stripeKey(g), g.GitHub(), stripeKey(g)
	r := gittest.New(t)
	m := &messageRepo{repo: r, planted: []string{msgKey, tagToken, fileKey}}
	m.base = r.Commit("", "base", map[string]string{"README.md": "# shop\n"})
	m.inMessage = r.Commit("dev <dev@acme.test>", "configure payments\n\nstaging works with "+msgKey+" for now\n",
		map[string]string{"app.py": "import os\n\nKEY = os.environ[\"STRIPE_KEY\"]\n"})
	r.Git("tag", "-a", "v1", "-m", "release v1\n\ndeploy with "+tagToken)
	m.tag = r.Git("rev-parse", "v1")
	m.head = r.Commit("", "settings", map[string]string{"config.env": "STRIPE_KEY=" + fileKey + "\n"})
	return m
}

// TestScanCommitAndTagMessages: a secret only in a commit's message, and one
// only in an annotated tag's message, are findings like any other, located
// as "commit message of <sha>" / "message of tag <name>" in every report
// format (SARIF still valid), never with their value.
func TestScanCommitAndTagMessages(t *testing.T) {
	m := newMessageRepo(t)
	var outputs []string

	js := pushvault(t, m.repo.Dir, "scan", "--all", "--format", "json", "--log-level", "debug")
	outputs = append(outputs, js.stdout, js.stderr)
	if js.code != 1 {
		t.Fatalf("json: exit %d, want 1 (findings)\n%s", js.code, js.stderr)
	}
	var doc report.JSONReport
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	type place struct {
		message     scanner.MessageKind
		commit, tag string
		path        string
		line        int
	}
	var got []place
	for _, f := range doc.Findings {
		for _, l := range f.Locations {
			got = append(got, place{l.Message, l.Commit, l.Tag, l.Path, l.Line})
		}
	}
	want := []place{
		{scanner.MessageCommit, m.inMessage, "", "", 3},
		{scanner.MessageTag, m.tag, "v1", "", 3},
		{"", m.head, "", "config.env", 1},
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("no finding at %+v; got %+v", w, got)
		}
	}

	text := pushvault(t, m.repo.Dir, "scan", "--all")
	outputs = append(outputs, text.stdout, text.stderr)
	for _, s := range []string{"commit message of " + m.inMessage[:7] + ": Stripe", "message of tag v1 (" + m.tag[:7] + "): Github"} {
		if !strings.Contains(text.stdout, s) {
			t.Errorf("text report lacks %q:\n%s", s, text.stdout)
		}
	}

	sarif := pushvault(t, m.repo.Dir, "scan", "--all", "--format", "sarif")
	outputs = append(outputs, sarif.stdout, sarif.stderr)
	validateSARIF(t, sarif.stdout)
	if !strings.Contains(sarif.stdout, `"fullyQualifiedName": "commit message of `+m.inMessage[:7]+`"`) {
		t.Errorf("SARIF does not locate the message finding:\n%s", sarif.stdout)
	}

	// A range scans the messages of the commits it holds; B is no tag.
	rng := pushvault(t, m.repo.Dir, "scan", "--range", m.base+".."+m.inMessage)
	outputs = append(outputs, rng.stdout, rng.stderr)
	if rng.code != 1 || !strings.Contains(rng.stdout, "commit message of "+m.inMessage[:7]) || strings.Contains(rng.stdout, "tag v1") {
		t.Errorf("--range: exit %d, want the commit message's finding alone:\n%s", rng.code, rng.stdout)
	}
	// The tag itself as B: its message is what it pushes.
	tag := pushvault(t, m.repo.Dir, "scan", "--range", m.base+"..v1")
	outputs = append(outputs, tag.stdout, tag.stderr)
	if !strings.Contains(tag.stdout, "message of tag v1") {
		t.Errorf("--range %s..v1 does not scan the tag's message:\n%s", m.base[:7], tag.stdout)
	}
	noValueIn(t, m.planted, outputs)
}

func noValueIn(t *testing.T, planted, outputs []string) {
	t.Helper()
	for _, v := range planted {
		for _, out := range outputs {
			if strings.Contains(out, v) {
				t.Errorf("planted value (%d chars, starts %q) found in an output", len(v), v[:4])
			}
		}
	}
}

// unreadableRepo is a repository where git cannot read two objects: the
// first version of lost.txt (a later commit adds a secret to the file: only
// its old side is lost) and the only version of gone.cfg. config.env holds
// a secret git can read.
type unreadableRepo struct {
	repo                     *gittest.Repo
	addLost, addGone         string
	lostObject, goneObject   string
	lostSecret, configSecret string
}

func newUnreadableRepo(t *testing.T) *unreadableRepo {
	t.Helper()
	g := secrettest.Fresh(t)
	u := &unreadableRepo{repo: gittest.New(t), lostSecret: stripeKey(g), configSecret: g.GitHub()}
	r := u.repo
	u.addLost = r.Commit("", "notes", map[string]string{"lost.txt": "first version\n"})
	u.lostObject = r.Git("rev-parse", u.addLost+":lost.txt")
	r.Commit("", "more notes", map[string]string{"lost.txt": "first version\nstripe " + u.lostSecret + "\n"})
	u.addGone = r.Commit("", "settings", map[string]string{"gone.cfg": "mode = fast\n"})
	u.goneObject = r.Git("rev-parse", u.addGone+":gone.cfg")
	r.Commit("", "ci", map[string]string{"config.env": "GITHUB_TOKEN=" + u.configSecret + "\n"})
	r.LoseObject(u.lostObject)
	r.LoseObject(u.goneObject)
	return u
}

// TestScanReadsAroundUnreadableObjects: objects git cannot read (lost
// loose objects; a blobless clone whose promisor remote is gone) cost the
// files that hold them, not the scan: the rest is reported, the exit
// status follows the findings, and every report and the log name what was
// skipped (path and object id).
func TestScanReadsAroundUnreadableObjects(t *testing.T) {
	t.Run("lost objects", func(t *testing.T) {
		u := newUnreadableRepo(t)
		js := pushvault(t, u.repo.Dir, "scan", "--format", "json")
		if js.code != 1 {
			t.Fatalf("exit %d, want 1 (findings)\n%s", js.code, js.stderr)
		}
		var doc report.JSONReport
		if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		where := map[string]bool{}
		for _, f := range doc.Findings {
			where[f.Path] = true
		}
		// lost.txt's new version is read whole: its old one is lost.
		if len(doc.Findings) != 2 || !where["lost.txt"] || !where["config.env"] {
			t.Errorf("findings %+v, want the secrets in lost.txt and config.env", doc.Findings)
		}
		wantSkipped := []scanner.SkippedFile{
			{Commit: u.addGone, Path: "gone.cfg", Reason: scanner.SkipUnreadable, Object: u.goneObject},
			{Commit: u.addLost, Path: "lost.txt", Reason: scanner.SkipUnreadable, Object: u.lostObject},
		}
		if len(doc.Unreadable) != 2 || doc.Unreadable[0] != wantSkipped[0] || doc.Unreadable[1] != wantSkipped[1] {
			t.Errorf("unreadable %+v, want %+v", doc.Unreadable, wantSkipped)
		}
		if doc.Stats.Commits != 4 || doc.Stats.Reasons[scanner.SkipUnreadable] != 2 {
			t.Errorf("stats %+v, want 4 commits, 2 unreadable", doc.Stats)
		}
		for _, id := range []string{u.goneObject, u.lostObject} {
			if !strings.Contains(js.stderr, `"object":"`+id+`"`) {
				t.Errorf("the log does not name object %s:\n%s", id, js.stderr)
			}
		}

		text := pushvault(t, u.repo.Dir, "scan")
		if text.code != 1 || !strings.Contains(text.stdout, "not scanned, git cannot read it: gone.cfg in commit "+u.addGone[:7]+" (object "+u.goneObject+")") {
			t.Errorf("text: exit %d, want 1 and gone.cfg named:\n%s", text.code, text.stdout)
		}
		sarif := pushvault(t, u.repo.Dir, "scan", "--format", "sarif")
		validateSARIF(t, sarif.stdout)
		if sarif.code != 1 || !strings.Contains(sarif.stdout, u.goneObject) {
			t.Errorf("sarif: exit %d, want 1 and gone.cfg's object named:\n%s", sarif.code, sarif.stdout)
		}
		noValueIn(t, []string{u.lostSecret, u.configSecret}, []string{js.stdout, js.stderr, text.stdout, text.stderr, sarif.stdout, sarif.stderr})
	})

	t.Run("blobless clone without its promisor", func(t *testing.T) {
		g := secrettest.Fresh(t)
		old, current := stripeKey(g), g.GitHub()
		src := gittest.New(t)
		first := src.Commit("", "keys", map[string]string{"keys.env": "STRIPE=" + old + "\n"})
		src.Commit("", "keys from the environment", map[string]string{"keys.env": "STRIPE=${STRIPE}\n"})
		src.Commit("", "ci", map[string]string{"ci.env": "GITHUB_TOKEN=" + current + "\n"})
		src.Git("config", "uploadpack.allowFilter", "true")
		clone := gittest.Clone(t, "file://"+src.Dir, "--filter=blob:none")
		if err := os.Rename(src.Dir, src.Dir+".gone"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(src.Dir + ".gone") })
		missing := clone.Git("rev-parse", first+":keys.env")

		r := pushvault(t, clone.Dir, "scan")
		if r.code != 1 || !strings.Contains(r.stdout, "ci.env:1: Github") {
			t.Fatalf("exit %d, want 1 with the token in ci.env\n%s%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "keys.env in commit "+first[:7]+" (object "+missing+")") {
			t.Errorf("the report does not name keys.env's first version:\n%s", r.stdout)
		}
		noValueIn(t, []string{old, current}, []string{r.stdout, r.stderr})
	})
}

// TestHookMessagesAndUnreadableObjects: through a real `git push`, the
// pre-receive hook rejects a secret found only in a pushed commit's message
// (vaulting it first when Vault is configured) or in a pushed annotated
// tag's message, and says where it is and how to take it out; and an object
// the server's repository has lost does not fail the hook: the pushed
// content is still scanned, and decides.
func TestHookMessagesAndUnreadableObjects(t *testing.T) {
	g := secrettest.Fresh(t)
	msgKey, tagToken, fileToken := stripeKey(g), g.GitHub(), g.GitHub()
	planted := []string{msgKey, tagToken, fileToken}
	var outputs []string

	t.Run("commit message", func(t *testing.T) {
		srv := vaulttest.Start(t)
		s := newHookServer(t)
		s.bare.Git("config", "pushvault.repository", "acme/shop")
		c := s.work.Commit("", "configure payments\n\nstaging works with "+msgKey+" for now\n",
			map[string]string{"app.py": "import os\n\nKEY = os.environ[\"STRIPE_KEY\"]\n"})
		env := []string{"PUSHVAULT_DATA_DIR=" + t.TempDir(), "VAULT_ADDR=" + srv.Addr, "VAULT_TOKEN=" + srv.Token, "PUSHVAULT_HOOK_BUDGET=30s"}
		r := s.push(t, env, "origin", "main")
		msg := remoteText(r.stderr)
		outputs = append(outputs, r.stdout, r.stderr)
		for _, want := range []string{"push rejected: 1 secret found", "Stripe", "added in " + c[:7] + " at line 3 of the commit message of " + c[:7],
			"now in Vault at secret/pushvault/acme/shop/", `mark it "reword"`} {
			if !strings.Contains(msg, want) {
				t.Errorf("the hook's message lacks %q:\n%s", want, msg)
			}
		}
		if r.code == 0 {
			t.Errorf("push accepted")
		}
	})

	t.Run("annotated tag message", func(t *testing.T) {
		s := newHookServer(t)
		s.work.Git("tag", "-a", "v1", "-m", "release v1\n\ndeploy with "+tagToken)
		r := s.push(t, nil, "origin", "v1")
		msg := remoteText(r.stderr)
		outputs = append(outputs, r.stdout, r.stderr)
		if r.code == 0 || !strings.Contains(msg, "line 3 of the message of tag v1") {
			t.Errorf("push of tag v1: exit %d, want rejected naming the tag's message:\n%s", r.code, msg)
		}
		if strings.Contains(s.refs(), "refs/tags/v1") {
			t.Error("the rejected tag is on the server")
		}
	})

	t.Run("object lost on the server", func(t *testing.T) {
		s := newHookServer(t)
		// README.md as the server holds it: the next push's diff needs it.
		gittest.LoseObject(t, s.bare.Dir, s.work.Git("rev-parse", s.base+":README.md"))
		s.work.Commit("", "ci token", map[string]string{"README.md": "# shop\n\ntoken: " + fileToken + "\n"})
		r := s.push(t, nil, "origin", "main")
		msg := remoteText(r.stderr)
		outputs = append(outputs, r.stdout, r.stderr)
		if r.code == 0 || !strings.Contains(msg, "push rejected: 1 secret found") || !strings.Contains(msg, "at README.md:3") {
			t.Errorf("exit %d, want the secret in README.md rejected:\n%s", r.code, msg)
		}
		s.work.Git("reset", "-q", "--hard", "HEAD~1")
		s.work.Commit("", "docs", map[string]string{"README.md": "# shop\n\nA shop.\n"})
		if r := s.push(t, nil, "origin", "main"); r.code != 0 {
			t.Errorf("a clean push over the lost object: exit %d\n%s", r.code, remoteText(r.stderr))
		}
	})
	noValueIn(t, planted, outputs)
}

// TestFixSecretInCommitMessage: `scan --fix` vaults a secret found only in
// a commit's message like any other, leaves it a manual step that says only
// rewriting history takes it out, and its fix commit edits no file for it.
func TestFixSecretInCommitMessage(t *testing.T) {
	srv := vaulttest.Start(t)
	m := newMessageRepo(t)
	m.repo.Git("remote", "add", "origin", "https://github.com/acme/shop.git")
	run := vaultRun(t, srv, t.TempDir(), m.repo.Dir, "scan", "--fix", "--log-level", "debug")
	if run.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", run.code, run.stdout, run.stderr)
	}
	want := "manual commit message of " + m.inMessage[:7] + ": the secret is in the commit message of " + m.inMessage[:7] +
		", not in a file: no fix commit can change a message; only rewriting history removes it"
	if !strings.Contains(run.stdout, want) {
		t.Errorf("no manual step for the message:\n%s", run.stdout)
	}
	changed := m.repo.Git("diff", "--name-only", m.head, "pushvault/fix-"+m.head[:7])
	if changed != "config.env" {
		t.Errorf("the fix commit changes %q, want config.env alone", changed)
	}
	c := srv.Client(t)
	list, err := c.Logical().List("secret/metadata/pushvault/acme/shop")
	if err != nil || list == nil {
		t.Fatalf("listing the vaulted secrets: %v", err)
	}
	vaulted := false
	for _, k := range list.Data["keys"].([]any) {
		s, err := c.KVv2("secret").Get(context.Background(), "pushvault/acme/shop/"+k.(string))
		if err != nil {
			t.Fatal(err)
		}
		vaulted = vaulted || s.Data["value"] == m.planted[0]
	}
	if !vaulted {
		t.Error("the secret in the commit message is not in Vault")
	}
	noValueIn(t, m.planted, []string{run.stdout, run.stderr})
}
