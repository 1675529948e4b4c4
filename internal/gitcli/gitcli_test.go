package gitcli_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/gitcli"
)

// TestReadAt: a file is read byte for byte (trailing blank lines and
// spaces, NUL bytes, no final newline), a path the commit lacks is absent
// (not an error), a directory is an error, odd names work; Files answers
// the same from one read.
func TestReadAt(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"config/app.env":       "TOKEN=x\n\n  \n",
		"bin/blob.dat":         "a\x00b\x00",
		"no newline.txt":       "last line",
		"dir with space/é.yml": "k: v\n",
		"empty":                "",
		"a missing":            "named like git's answer for a missing path\n",
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	ctx := context.Background()
	cached := gitcli.NewFiles(dir, "HEAD")
	for name, want := range files {
		for _, read := range []func(context.Context, string) ([]byte, bool, error){
			func(ctx context.Context, p string) ([]byte, bool, error) { return gitcli.ReadAt(ctx, dir, "HEAD", p) },
			cached.Read, cached.Read,
		} {
			got, ok, err := read(ctx, name)
			if err != nil || !ok || string(got) != want {
				t.Errorf("read %q = %q, %v, %v; want %q", name, got, ok, err, want)
			}
		}
	}
	if got, ok, err := gitcli.ReadAt(ctx, dir, "HEAD", "config/missing.env"); err != nil || ok || got != nil {
		t.Errorf("missing file = %q, %v, %v; want absent", got, ok, err)
	}
	if _, _, err := gitcli.ReadAt(ctx, dir, "HEAD", "config"); err == nil {
		t.Error("a directory read as a file")
	}
	// Expected paths are read together on the first Read, with the same
	// answers: files, absent paths, a directory's error.
	batch := gitcli.NewFiles(dir, "HEAD").Expect("config/missing.env", "config", "x missing", "config/app.env")
	for name := range files {
		batch.Expect(name)
	}
	for name, want := range files {
		got, ok, err := batch.Read(ctx, name)
		if err != nil || !ok || string(got) != want {
			t.Errorf("expected read %q = %q, %v, %v; want %q", name, got, ok, err, want)
		}
	}
	if got, ok, err := batch.Read(ctx, "config/missing.env"); err != nil || ok || got != nil {
		t.Errorf("expected missing file = %q, %v, %v; want absent", got, ok, err)
	}
	if got, ok, err := batch.Read(ctx, "x missing"); err != nil || ok || got != nil {
		t.Errorf("expected missing file with a space = %q, %v, %v; want absent", got, ok, err)
	}
	if _, _, err := batch.Read(ctx, "config"); err == nil {
		t.Error("an expected directory read as a file")
	}
	b, _, _ := cached.Read(ctx, "config/app.env")
	b[0] = 'X'
	if again, _, _ := cached.Read(ctx, "config/app.env"); string(again) != files["config/app.env"] {
		t.Errorf("a caller's change reached the cache: %q", again)
	}
}

// TestLines: every line of git's output reaches fn in order, without its
// newline; fn's error stops git and comes back as it is; a failing git's
// error carries its stderr.
func TestLines(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@acme.test", "GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@acme.test")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	run("init", "-q", "-b", "main")
	var want []string
	for i := range 3 {
		run("commit", "-q", "--allow-empty", "-m", fmt.Sprintf("c%d", i))
		head, err := gitcli.Run(context.Background(), dir, nil, nil, "rev-parse", "HEAD")
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{head}, want...) // rev-list: newest first
	}
	var got []string
	if err := gitcli.Lines(context.Background(), dir, func(l string) error { got = append(got, l); return nil }, "rev-list", "main"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	stop := errors.New("enough")
	n := 0
	err := gitcli.Lines(context.Background(), dir, func(string) error { n++; return stop }, "rev-list", "main")
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn stopping after one line: %d lines, error %v; want 1 and %v", n, err, stop)
	}
	err = gitcli.Lines(context.Background(), dir, func(string) error { return nil }, "rev-list", "no-such-ref")
	if err == nil || !strings.Contains(err.Error(), "no-such-ref") {
		t.Errorf("rev-list of a missing ref: error %v, want git's stderr naming it", err)
	}
}
