package gitcli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/gitcli"
)

// TestCommitFix: the fix commit holds the given bytes exactly (CRLF kept
// though .gitattributes would normalise it), keeps an edited script
// executable, deletes what is given nil, adds new files, sits on the
// parent, and is not written twice (Changed false, same commit).
func TestCommitFix(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, content string, mode os.FileMode) {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write(".gitattributes", "* text=auto eol=lf\n", 0o644)
	write("deploy.sh", "#!/bin/sh\nTOKEN=x\n", 0o755)
	write("config/app.env", "KEY=x\n", 0o644)
	write("old.txt", "gone\n", 0o644)
	git("add", "-A")
	git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
	parent := git("rev-parse", "HEAD")

	files := map[string][]byte{
		"deploy.sh":      []byte("#!/bin/sh\nTOKEN=\"${TOKEN}\"\n"),
		"config/app.env": []byte("KEY=vault:secret/data/x#value\r\n"),
		"vault.env":      []byte("TOKEN=vault:secret/data/y#value\n"),
		"old.txt":        nil,
	}
	ctx := context.Background()
	fc, err := gitcli.CommitFix(ctx, dir, parent, "pushvault/fix-1234567", files, "pushvault: fix\n")
	if err != nil {
		t.Fatal(err)
	}
	if !fc.Changed || fc.Branch != "pushvault/fix-1234567" || fc.Previous != "" || git("rev-parse", "refs/heads/pushvault/fix-1234567") != fc.Commit {
		t.Fatalf("fix commit %+v: not written or the branch is elsewhere", fc)
	}
	if got := git("rev-parse", fc.Commit+"^"); got != parent {
		t.Errorf("parent %s, want %s", got, parent)
	}
	for path, want := range files {
		got, ok, err := gitcli.ReadAt(ctx, dir, fc.Commit, path)
		switch {
		case err != nil:
			t.Errorf("%s: %v", path, err)
		case want == nil && ok:
			t.Errorf("%s: still in the fix commit, want deleted", path)
		case want != nil && (!ok || string(got) != string(want)):
			t.Errorf("%s = %q (present %v), want %q", path, got, ok, want)
		}
	}
	if mode := strings.Fields(git("ls-tree", fc.Commit, "deploy.sh"))[0]; mode != "100755" {
		t.Errorf("deploy.sh mode %s, want 100755 (kept)", mode)
	}
	if mode := strings.Fields(git("ls-tree", fc.Commit, "vault.env"))[0]; mode != "100644" {
		t.Errorf("vault.env mode %s, want 100644", mode)
	}
	if got := git("rev-parse", "HEAD"); got != parent {
		t.Errorf("HEAD moved to %s", got)
	}
	if st := git("status", "--porcelain"); st != "" {
		t.Errorf("the work tree or index changed:\n%s", st)
	}

	again, err := gitcli.CommitFix(ctx, dir, parent, "pushvault/fix-1234567", files, "pushvault: fix\n")
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || again.Commit != fc.Commit || again.Previous != fc.Commit {
		t.Errorf("second write = %+v, want the same commit unchanged, found there", again)
	}

	// Another fix of the same head replaces the branch's commit and says
	// which commit it replaced.
	files["vault.env"] = []byte("DB_PASSWORD={{ vault \"secret/data/other\" }}\n")
	other, err := gitcli.CommitFix(ctx, dir, parent, "pushvault/fix-1234567", files, "pushvault: fix\n")
	if err != nil {
		t.Fatal(err)
	}
	if !other.Changed || other.Commit == fc.Commit || other.Previous != fc.Commit ||
		git("rev-parse", "refs/heads/pushvault/fix-1234567") != other.Commit {
		t.Errorf("another fix = %+v, want a new commit replacing %s", other, fc.Commit)
	}
}
