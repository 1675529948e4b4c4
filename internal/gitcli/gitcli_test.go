package gitcli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
	b, _, _ := cached.Read(ctx, "config/app.env")
	b[0] = 'X'
	if again, _, _ := cached.Read(ctx, "config/app.env"); string(again) != files["config/app.env"] {
		t.Errorf("a caller's change reached the cache: %q", again)
	}
}
