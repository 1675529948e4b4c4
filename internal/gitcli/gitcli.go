// Package gitcli runs the git CLI for pushvault: reading a file at a
// commit, writing a fix commit through a private index (no work tree
// needed, so it works in a checkout and in a bare mirror alike), and naming
// a repository from its remote.
package gitcli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pushvault/pushvault/internal/gitexec"
	"github.com/pushvault/pushvault/remediator"
)

// waitDelay is how long a cancelled git's output is waited for.
const waitDelay = 5 * time.Second

// ZeroID is the object id git uses for "no commit" (a new or deleted ref).
const ZeroID = "0000000000000000000000000000000000000000"

// Run runs the git CLI in dir with extra environment and returns trimmed
// stdout; errors carry git's stderr.
func Run(ctx context.Context, dir string, env []string, stdin []byte, args ...string) (string, error) {
	out, err := output(ctx, dir, env, stdin, args...)
	return string(bytes.TrimSpace(out)), err
}

// output is Run's stdout as git wrote it.
func output(ctx context.Context, dir string, env []string, stdin []byte, args ...string) ([]byte, error) {
	cmd := gitexec.Command(ctx, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C"), env...)
	// When ctx ends git is killed, but a helper it started (git-remote-https)
	// may hold its output open: stop waiting for it soon after.
	cmd.WaitDelay = waitDelay
	out, stderr, err := gitexec.Output(cmd, stdin)
	if err != nil {
		return nil, fmt.Errorf("git %s: %s", args[0], strings.TrimSpace(string(stderr)))
	}
	return out, nil
}

// Lines runs the git CLI in dir and calls fn with each line of its stdout
// (without the newline) as git writes it, so that output of any length is
// read in constant memory. An error from fn stops git and is returned;
// other errors carry git's stderr.
func Lines(ctx context.Context, dir string, fn func(line string) error, args ...string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := gitexec.Command(ctx, append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	cmd.WaitDelay = waitDelay
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("git %s: %w", args[0], err)
	}
	if err := gitexec.Start(cmd); err != nil {
		return fmt.Errorf("git %s: %w", args[0], err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var fnErr error
	for fnErr == nil && sc.Scan() {
		fnErr = fn(sc.Text())
	}
	if fnErr != nil {
		cancel()
		_ = cmd.Wait()
		return fnErr
	}
	scanErr := sc.Err()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git %s: %s", args[0], strings.TrimSpace(stderr.String()))
	}
	if scanErr != nil {
		return fmt.Errorf("git %s: %w", args[0], scanErr)
	}
	return nil
}

// ReadAt reads path at commit; ok=false if absent. One git process:
// `cat-file --batch` says "missing" for a path the commit lacks, where
// `cat-file blob` would only fail.
func ReadAt(ctx context.Context, dir, commit, path string) ([]byte, bool, error) {
	read, err := readAll(ctx, dir, commit, []string{path})
	if err != nil {
		return nil, false, err
	}
	r := read[0]
	return r.content, r.ok, r.err
}

// readAll reads paths at commit with one `git cat-file --batch`, each
// answer in the paths' order; a path that is not a file there gets its own
// error.
func readAll(ctx context.Context, dir, commit string, paths []string) ([]fileAt, error) {
	var in bytes.Buffer
	for _, path := range paths {
		if strings.ContainsAny(path, "\n") {
			return nil, fmt.Errorf("git cat-file: a path with a line break cannot be read")
		}
		in.WriteString(commit + ":" + path + "\n")
	}
	out, err := output(ctx, dir, nil, in.Bytes(), "cat-file", "--batch")
	if err != nil {
		return nil, fmt.Errorf("git cat-file %s: %w", commit, err)
	}
	read := make([]fileAt, len(paths))
	for i, path := range paths {
		header, rest, ok := bytes.Cut(out, []byte("\n"))
		f := strings.Fields(string(header))
		switch {
		case !ok:
			return nil, fmt.Errorf("git cat-file %s:%s: unexpected answer", commit, path)
		case len(f) >= 2 && f[len(f)-1] == "missing":
			out = rest
			continue
		case len(f) != 3:
			return nil, fmt.Errorf("git cat-file %s:%s: unexpected answer", commit, path)
		}
		size, err := strconv.Atoi(f[2])
		if err != nil || size+1 > len(rest) {
			return nil, fmt.Errorf("git cat-file %s:%s: unexpected answer", commit, path)
		}
		if f[1] != "blob" {
			read[i].err = fmt.Errorf("git cat-file %s:%s: a %s, not a file", commit, path, f[1])
		} else {
			read[i] = fileAt{content: rest[:size:size], ok: true}
		}
		out = rest[size+1:]
	}
	return read, nil
}

// Files reads files at one commit, each from git once: remediating a push
// reads the same file for vaulting, for the rotation's dry run and for the
// rewrite. Safe for concurrent use.
type Files struct {
	dir, commit string
	mu          sync.Mutex
	read        map[string]fileAt
	expected    []string
}

type fileAt struct {
	content []byte
	ok      bool
	err     error
}

// NewFiles reads from the repository in dir at commit.
func NewFiles(dir, commit string) *Files {
	return &Files{dir: dir, commit: commit, read: map[string]fileAt{}}
}

// Expect names paths that are about to be read: the first Read reads them
// all with one git process (a path the commit lacks costs nothing).
func (f *Files) Expect(paths ...string) *Files {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expected = append(f.expected, paths...)
	return f
}

// Read is ReadAt at the Files' commit; each caller gets its own copy.
func (f *Files) Read(ctx context.Context, path string) ([]byte, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, seen := f.read[path]; seen {
		return bytes.Clone(r.content), r.ok, r.err
	}
	paths := []string{path}
	for _, p := range f.expected {
		if _, seen := f.read[p]; !seen && p != path && !strings.Contains(p, "\n") {
			paths = append(paths, p)
		}
	}
	f.expected = nil
	read, err := readAll(ctx, f.dir, f.commit, paths)
	if err != nil {
		return nil, false, err
	}
	for i, p := range paths {
		f.read[p] = read[i]
	}
	r := read[0]
	return bytes.Clone(r.content), r.ok, r.err
}

// CommitFix writes files as one commit on top of parent and points branch
// at it, without touching the working tree, the index or the current
// branch: the tree is built in a private index file. When branch already
// points at a commit with the same parent and tree, nothing changes. The
// result's Previous is the branch's commit before ("" when there was none).
func CommitFix(ctx context.Context, dir, parent, branch string, files map[string][]byte, message string) (remediator.FixCommit, error) {
	tmp, err := os.MkdirTemp("", "pushvault-index-")
	if err != nil {
		return remediator.FixCommit{}, err
	}
	defer os.RemoveAll(tmp)
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index")}
	if _, err := Run(ctx, dir, env, nil, "read-tree", parent); err != nil {
		return remediator.FixCommit{}, err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	modes, err := treeModes(ctx, dir, parent, paths)
	if err != nil {
		return remediator.FixCommit{}, err
	}
	blobs, err := writeBlobs(ctx, dir, tmp, paths, files)
	if err != nil {
		return remediator.FixCommit{}, err
	}
	// One `update-index --index-info` for every entry: unlike --add and
	// --force-remove it needs no work tree, so the same code writes the fix
	// in a checkout (scan --fix) and in the App's bare mirror. A zero mode
	// removes the path.
	var info bytes.Buffer
	for _, p := range paths {
		if files[p] == nil {
			fmt.Fprintf(&info, "0 %s\t%s\n", ZeroID, p)
			continue
		}
		mode := modes[p]
		if mode == "" {
			mode = "100644"
		}
		fmt.Fprintf(&info, "%s %s\t%s\n", mode, blobs[p], p)
	}
	if _, err := Run(ctx, dir, env, info.Bytes(), "update-index", "--index-info"); err != nil {
		return remediator.FixCommit{}, err
	}
	tree, err := Run(ctx, dir, env, nil, "write-tree")
	if err != nil {
		return remediator.FixCommit{}, err
	}
	ref := "refs/heads/" + branch
	cur, err := Run(ctx, dir, nil, nil, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		cur = "" // no such branch
	}
	if cur != "" {
		// Its tree and first parent, in one process (two lines).
		if out, err := Run(ctx, dir, nil, nil, "rev-parse", cur+"^{tree}", cur+"^"); err == nil && out == tree+"\n"+parent {
			return remediator.FixCommit{Branch: branch, Commit: cur, Previous: cur}, nil
		}
	}
	who := []string{"GIT_AUTHOR_NAME=pushvault", "GIT_AUTHOR_EMAIL=pushvault@localhost",
		"GIT_COMMITTER_NAME=pushvault", "GIT_COMMITTER_EMAIL=pushvault@localhost"}
	commit, err := Run(ctx, dir, who, []byte(message), "commit-tree", tree, "-p", parent)
	if err != nil {
		return remediator.FixCommit{}, err
	}
	if _, err := Run(ctx, dir, nil, nil, "update-ref", "-m", "pushvault fix", ref, commit); err != nil {
		return remediator.FixCommit{}, err
	}
	return remediator.FixCommit{Branch: branch, Commit: commit, Changed: true, Previous: cur}, nil
}

// writeBlobs writes the contents of paths (those not deleted: nil) into
// dir's object store with one `git hash-object`, through files in tmp, and
// returns each path's blob id. The contents are stored as they are
// (--no-filters, as --stdin stores them): they are the fix's bytes.
func writeBlobs(ctx context.Context, dir, tmp string, paths []string, files map[string][]byte) (map[string]string, error) {
	var list bytes.Buffer
	var written []string
	for _, p := range paths {
		if files[p] == nil {
			continue
		}
		name := filepath.Join(tmp, fmt.Sprintf("blob-%d", len(written)))
		if err := os.WriteFile(name, files[p], 0o600); err != nil {
			return nil, fmt.Errorf("git hash-object: %w", err)
		}
		list.WriteString(name + "\n")
		written = append(written, p)
	}
	blobs := make(map[string]string, len(written))
	if len(written) == 0 {
		return blobs, nil
	}
	out, err := Run(ctx, dir, nil, list.Bytes(), "hash-object", "-w", "--no-filters", "--stdin-paths")
	if err != nil {
		return nil, err
	}
	ids := strings.Fields(out)
	if len(ids) != len(written) {
		return nil, fmt.Errorf("git hash-object: %d ids for %d files", len(ids), len(written))
	}
	for i, p := range written {
		blobs[p] = ids[i]
	}
	return blobs, nil
}

// treeModes returns the mode of each of paths in commit (absent paths are
// missing from the map), so an edited executable script stays executable.
func treeModes(ctx context.Context, dir, commit string, paths []string) (map[string]string, error) {
	out, err := Run(ctx, dir, nil, nil, append([]string{"ls-tree", "-z", "--full-tree", commit, "--"}, paths...)...)
	if err != nil {
		return nil, err
	}
	modes := map[string]string{}
	for _, rec := range strings.Split(out, "\x00") {
		meta, path, ok := strings.Cut(rec, "\t")
		if f := strings.Fields(meta); ok && len(f) == 3 {
			modes[path] = f[0]
		}
	}
	return modes, nil
}

// Branch is the FixWriter of a repository on disk (a checkout or a bare
// mirror): the fix is committed on Parent and Branch points at it.
type Branch struct {
	Dir, Parent, Branch string
}

var _ remediator.FixWriter = Branch{}

// WriteFix implements remediator.FixWriter.
func (b Branch) WriteFix(ctx context.Context, files map[string][]byte, message string) (remediator.FixCommit, error) {
	return CommitFix(ctx, b.Dir, b.Parent, b.Branch, files, message)
}

var remotePat = regexp.MustCompile(`[:/]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$`)

// Repository names the repository as owner/repo: from the origin remote's
// URL, else "local/<directory name>".
func Repository(ctx context.Context, dir string) (owner, repo string) {
	if u, err := Run(ctx, dir, nil, nil, "remote", "get-url", "origin"); err == nil {
		if m := remotePat.FindStringSubmatch(u); m != nil {
			return m[1], m[2]
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return "local", strings.TrimSuffix(filepath.Base(abs), ".git")
}
