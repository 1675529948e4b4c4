package gittest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a git repository in a temporary directory.
type Repo struct {
	t    testing.TB
	Dir  string
	tick int
}

// New makes an empty repository with branch main in a temp dir.
func New(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// NewAt makes an empty repository in dir, which must exist.
func NewAt(t testing.TB, dir string) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: dir}
	r.Git("init", "-q", "-b", "main")
	return r
}

// Env is the environment git runs with in tests: no user or system config,
// fixed identities.
func Env() []string {
	env := []string{}
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "GIT_") {
			continue
		}
		env = append(env, e)
	}
	return append(env,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Test Author", "GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=Test Committer", "GIT_COMMITTER_EMAIL=committer@example.com",
	)
}

// Git runs a git command in the repository and returns its trimmed stdout;
// it fails the test on error.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	out, err := r.run(nil, args...)
	if err != nil {
		r.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (r *Repo) run(extraEnv []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(Env(), extraEnv...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// Write writes files (path -> content) into the work tree.
func (r *Repo) Write(files map[string]string) {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.Dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// Move renames a file in the work tree and the index (git mv), making the
// destination's directories; the next Commit records the rename.
func (r *Repo) Move(from, to string) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(r.Dir, filepath.FromSlash(to))), 0o755); err != nil {
		r.t.Fatal(err)
	}
	r.Git("mv", from, to)
}

// Commit writes files, stages everything and commits as author ("Name
// <email>"; empty for the default), with a deterministic date. It returns
// the new commit's id.
func (r *Repo) Commit(author, msg string, files map[string]string) string {
	r.t.Helper()
	r.Write(files)
	r.Git("add", "-A")
	r.tick++
	date := fmt.Sprintf("2026-01-01T00:%02d:%02dZ", r.tick/60, r.tick%60)
	env := []string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}
	if author != "" {
		name, email, _ := strings.Cut(author, " <")
		env = append(env, "GIT_AUTHOR_NAME="+name, "GIT_AUTHOR_EMAIL="+strings.TrimSuffix(email, ">"))
	}
	if _, err := r.run(env, "commit", "-q", "--allow-empty", "-m", msg); err != nil {
		r.t.Fatalf("commit: %v", err)
	}
	return r.Git("rev-parse", "HEAD")
}

// Head returns the id of HEAD.
func (r *Repo) Head() string { return r.Git("rev-parse", "HEAD") }

// Clone clones src (a path or URL) into a new temp dir.
func Clone(t testing.TB, src string, args ...string) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git(append(append([]string{"clone", "-q"}, args...), src, r.Dir)...)
	return r
}

// Bare makes an empty bare repository in a temp dir.
func Bare(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "--bare", "-b", "main")
	return r
}

// LoseObject deletes object id (a loose object, as a commit or a small
// push leaves it) from the repository, as a lost file or an interrupted
// copy would: git then fails to read it.
func (r *Repo) LoseObject(id string) {
	r.t.Helper()
	LoseObject(r.t, r.Dir, id)
}

// LoseObject deletes the loose object id from the repository at dir (a
// work tree or a bare repository); the test fails if it is not loose.
func LoseObject(t testing.TB, dir, id string) {
	t.Helper()
	rel := (&Repo{t: t, Dir: dir}).Git("rev-parse", "--git-path", "objects/"+id[:2]+"/"+id[2:])
	if !filepath.IsAbs(rel) {
		rel = filepath.Join(dir, rel)
	}
	if err := os.Remove(rel); err != nil {
		t.Fatalf("losing object %s: %v (not a loose object?)", id, err)
	}
}
