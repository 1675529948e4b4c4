package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ErrNotRepository is returned when the directory to scan is not a git repository.
var ErrNotRepository = errors.New("not a git repository")

// gitRepo runs the git CLI against one repository. The CLI, not an
// in-process implementation, so that what git itself would see (alternates,
// quarantined objects of a pre-receive hook) is what is scanned.
type gitRepo struct {
	dir string
	env []string
}

func openRepo(ctx context.Context, dir string) (*gitRepo, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotRepository)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is a file: %w", dir, ErrNotRepository)
	}
	g := &gitRepo{dir: dir}
	if _, err := g.output(ctx, "rev-parse", "--git-dir"); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotRepository)
	}
	return g, nil
}

func (g *gitRepo) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", g.dir, "-c", "core.quotePath=false"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	cmd.Env = append(cmd.Env, g.env...)
	return cmd
}

func (g *gitRepo) output(ctx context.Context, args ...string) ([]byte, error) {
	cmd := g.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], msg)
	}
	return out, nil
}

// verifyCommit checks that rev names a commit. Revisions that look like
// options are refused so they can't change the meaning of a git command.
func (g *gitRepo) verifyCommit(ctx context.Context, rev string) error {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return fmt.Errorf("%q is not a commit", rev)
	}
	if _, err := g.output(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}"); err != nil {
		return fmt.Errorf("%q is not a commit in %s", rev, g.dir)
	}
	return nil
}

// isObjectID reports whether id is a full hexadecimal object id (SHA-1 or
// SHA-256), so it can't be taken for an option or a revision expression.
func isObjectID(id string) bool {
	if len(id) != 40 && len(id) != 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// show returns the contents of path at rev, or ok=false if it doesn't exist.
func (g *gitRepo) show(ctx context.Context, rev, path string) (data []byte, ok bool, err error) {
	obj := rev + ":" + path
	if _, err := g.output(ctx, "cat-file", "-e", obj); err != nil {
		return nil, false, nil
	}
	out, err := g.output(ctx, "cat-file", "blob", obj)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// ReadFileAt returns the contents of path at rev in the repository at dir;
// ok is false when the repository, revision or path does not exist.
func ReadFileAt(ctx context.Context, dir, rev, path string) (data []byte, ok bool, err error) {
	g, err := openRepo(ctx, dir)
	if err != nil {
		return nil, false, nil
	}
	return g.show(ctx, rev, path)
}
