package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/pushvault/pushvault/internal/gitexec"
)

// ErrNotRepository is returned when the directory to scan is not a git repository.
var ErrNotRepository = errors.New("not a git repository")

// gitRepo runs the git CLI against one repository. The CLI, not an
// in-process implementation, so that what git itself would see (alternates,
// quarantined objects of a pre-receive hook) is what is scanned.
type gitRepo struct {
	dir string
	env []string
	// objects are the names resolved when the repository was opened
	// (openRepo's names), by name; a name asked for and not found maps to
	// the zero object.
	objects map[string]object
}

// object is what a name resolved to: an object id and its type.
type object struct{ id, typ string }

// openRepo opens the repository at dir, running git with env, and resolves
// names (revisions a scan will verify) in the same git process, a `git
// cat-file --batch-check`, which also fails when dir is not a repository:
// one process where a push's scan used to start five.
func openRepo(ctx context.Context, dir string, env []string, names ...string) (*gitRepo, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotRepository)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is a file: %w", dir, ErrNotRepository)
	}
	g := &gitRepo{dir: dir, env: env, objects: map[string]object{}}
	var in bytes.Buffer
	var asked []string
	for _, n := range names {
		// One name a line; an option-like name is refused by its user.
		if n == "" || strings.HasPrefix(n, "-") || strings.ContainsAny(n, "\n\r\x00") {
			continue
		}
		in.WriteString(n + "\n")
		asked = append(asked, n)
	}
	out, _, err := gitexec.Output(g.command(ctx, "cat-file", "--batch-check=%(objectname) %(objecttype)"), in.Bytes())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: %w", dir, ErrNotRepository)
	}
	lines := strings.Split(string(out), "\n")
	for i, n := range asked {
		g.objects[n] = object{}
		if i >= len(lines) {
			continue
		}
		// "<name> missing" (or "ambiguous") when it resolves to nothing.
		if id, typ, ok := strings.Cut(lines[i], " "); ok && isObjectID(id) && lines[i] != n+" missing" && lines[i] != n+" ambiguous" {
			g.objects[n] = object{id: id, typ: typ}
		}
	}
	return g, nil
}

// resolved is what name resolved to when the repository was opened; asked
// is false when it was not among the names resolved then.
func (g *gitRepo) resolved(name string) (o object, asked bool) {
	o, asked = g.objects[name]
	return o, asked
}

func (g *gitRepo) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := gitexec.Command(ctx, append([]string{"-C", g.dir, "-c", "core.quotePath=false"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	cmd.Env = append(cmd.Env, g.env...)
	return cmd
}

func (g *gitRepo) output(ctx context.Context, args ...string) ([]byte, error) {
	out, stderr, err := gitexec.Output(g.command(ctx, args...), nil)
	if err != nil {
		msg := strings.TrimSpace(string(stderr))
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
	if o, asked := g.resolved(rev + "^{commit}"); asked {
		if o.typ != "commit" {
			return fmt.Errorf("%q is not a commit in %s", rev, g.dir)
		}
		return nil
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
	g, err := openRepo(ctx, dir, nil)
	if err != nil {
		return nil, false, nil
	}
	return g.show(ctx, rev, path)
}
