package scanner

import (
	"context"
	"fmt"
	"strings"
)

// Target says which commits of a repository to scan. Build one with Range,
// All, NewBranch or Reachable.
type Target struct {
	kind string
	a, b string
	ref  string
	revs []string // Revisions
	// skip and max make the target a slice of its commits in log order
	// (Slice): git log --skip --max-count.
	skip, max int
}

// Range is the commits reachable from to and not from from, as `git log
// from..to`.
func Range(from, to string) Target { return Target{kind: "range", a: from, b: to} }

// All is every commit reachable from any ref.
func All() Target { return Target{kind: "all"} }

// Revisions is every commit reachable from any of revs (commit ids, tag
// objects, refs): a repository's history as a snapshot of its branch heads
// and tags, however its refs move while it is read.
func Revisions(revs ...string) Target { return Target{kind: "revs", revs: revs} }

// Slice is the part of t's commits that git log lists after skipping skip
// of them, at most n (n <= 0: all the rest). Slices of one target that
// follow each other read each commit once. Annotated tag messages belong
// to the first slice (skip 0).
func (t Target) Slice(skip, n int) Target {
	t.skip, t.max = skip, n
	return t
}

// Reachable is every commit reachable from rev (for example "HEAD").
func Reachable(rev string) Target { return Target{kind: "rev", b: rev} }

// NewBranch is the commits of head that no other ref reaches: what a newly
// pushed branch adds. ref is the branch's full name (refs/heads/x); it is
// excluded from "other refs" in case it already points at head.
func NewBranch(ref, head string) Target { return Target{kind: "new", b: head, ref: ref} }

// ParseRange parses "A..B" as given on the command line.
func ParseRange(s string) (Target, error) {
	from, to, ok := strings.Cut(s, "..")
	if !ok || from == "" || to == "" || strings.HasPrefix(to, ".") {
		return Target{}, fmt.Errorf("bad range %q: want A..B, two commits separated by two dots", s)
	}
	return Range(from, to), nil
}

// Tip is the revision whose tree a fix rewrites: B of a range, the head of
// a new branch, the revision of Reachable, HEAD for All.
func (t Target) Tip() string {
	if t.kind == "all" || t.b == "" {
		return "HEAD"
	}
	return t.b
}

// From is where a range starts (A of A..B); "" for other targets.
func (t Target) From() string {
	if t.kind == "range" {
		return t.a
	}
	return ""
}

// String describes the target for messages.
func (t Target) String() string {
	switch t.kind {
	case "range":
		return t.a + ".." + t.b
	case "all":
		return "--all"
	case "revs":
		return fmt.Sprintf("%d revisions", len(t.revs))
	case "new":
		return t.b + " (new branch " + t.ref + ")"
	default:
		return t.b
	}
}

// logArgs checks that the target's revisions exist in the repository and
// returns the revision arguments for git log.
func (t Target) logArgs(ctx context.Context, git *gitRepo) ([]string, error) {
	args, err := t.revArgs(ctx, git)
	if err != nil || (t.skip <= 0 && t.max <= 0) {
		return args, err
	}
	// Options before the revisions: the pathspec separator follows them.
	var opts []string
	if t.skip > 0 {
		opts = append(opts, fmt.Sprintf("--skip=%d", t.skip))
	}
	if t.max > 0 {
		opts = append(opts, fmt.Sprintf("--max-count=%d", t.max))
	}
	return append(opts, args...), nil
}

// revArgs are the target's revisions for git log.
func (t Target) revArgs(ctx context.Context, git *gitRepo) ([]string, error) {
	switch t.kind {
	case "revs":
		if len(t.revs) == 0 {
			return nil, fmt.Errorf("no revisions to scan")
		}
		for _, rev := range t.revs {
			if err := git.verifyCommit(ctx, rev); err != nil {
				return nil, err
			}
		}
		return t.revs, nil
	case "all":
		return []string{"--all"}, nil
	case "range":
		for _, rev := range []string{t.a, t.b} {
			if err := git.verifyCommit(ctx, rev); err != nil {
				return nil, fmt.Errorf("bad range %s: %w", t, err)
			}
		}
		return []string{t.a + ".." + t.b}, nil
	case "new":
		if err := git.verifyCommit(ctx, t.b); err != nil {
			return nil, fmt.Errorf("bad new branch head: %w", err)
		}
		return []string{t.b, "--not", "--exclude=" + t.ref, "--all"}, nil
	case "rev":
		if err := git.verifyCommit(ctx, t.b); err != nil {
			return nil, err
		}
		return []string{t.b}, nil
	}
	return nil, fmt.Errorf("empty scan target")
}

// tagObjects are the annotated tags the target pushes, whose messages are
// scanned: every annotated tag for All, else the tip when it names one (a
// pushed tag: its new value, or B of A..B).
func (t Target) tagObjects(ctx context.Context, git *gitRepo) ([]string, error) {
	if t.skip > 0 {
		return nil, nil // the first slice reads them
	}
	if t.kind == "revs" {
		// Those that are tag objects: the reader passes over the rest.
		return t.revs, nil
	}
	if t.kind == "all" {
		out, err := git.output(ctx, "for-each-ref", "--format=%(objecttype) %(objectname)")
		if err != nil {
			return nil, err
		}
		var tags []string
		for _, line := range strings.Split(string(out), "\n") {
			if id, ok := strings.CutPrefix(line, "tag "); ok {
				tags = append(tags, id)
			}
		}
		return tags, nil
	}
	if t.b == "" || strings.HasPrefix(t.b, "-") {
		return nil, nil
	}
	if o, asked := git.resolved(t.b); asked {
		if o.typ != "tag" {
			return nil, nil
		}
		return []string{o.id}, nil
	}
	out, err := git.output(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", t.b)
	if err != nil {
		return nil, nil
	}
	id := strings.TrimSpace(string(out))
	if typ, err := git.output(ctx, "cat-file", "-t", id); err != nil || strings.TrimSpace(string(typ)) != "tag" {
		return nil, nil
	}
	return []string{id}, nil
}

// names are the revisions the target verifies (as rev^{commit}) and
// whose type its tag messages depend on, for openRepo to resolve at once.
func (t Target) names() []string {
	switch t.kind {
	case "revs":
		names := make([]string, 0, len(t.revs))
		for _, rev := range t.revs {
			names = append(names, rev+"^{commit}")
		}
		return names
	case "range":
		return []string{t.a + "^{commit}", t.b + "^{commit}", t.b}
	case "new", "rev":
		return []string{t.b + "^{commit}", t.b}
	}
	return nil
}
