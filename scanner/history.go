package scanner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pushvault/pushvault/internal/gitexec"
)

// logFlags make `git log` print what the diff reader reads.
// --diff-merges=remerge: a merge shows what it adds beyond git's own
// merge of its parents, so content an "evil merge" introduces (that
// neither parent had) is scanned; a clean merge shows nothing.
// --text, --no-textconv, --no-ext-diff: every file's added lines, as
// bytes, whatever git or the repository's .gitattributes think of it
// (-diff, binary, a diff driver with textconv, binary or command); the
// scanner decides what is text (see classify).
// --root, the prefixes and --inter-hunk-context: what the diff shows
// does not depend on git configuration (log.showRoot, diff.noprefix,
// diff.interHunkContext).
var logFlags = []string{"log", "-p", "-U0", "--inter-hunk-context=0", "-M", "--text", "--no-color", "--no-ext-diff", "--no-textconv",
	"--src-prefix=a/", "--dst-prefix=b/", "--full-index", "--root", "--diff-merges=remerge", "--full-history", "--date-order"}

// gitLogError is git failing part way through a history: most often an
// object it cannot read (a blobless clone without its promisor remote, a
// lost loose object).
type gitLogError struct{ stderr string }

func (e *gitLogError) Error() string { return "git log: " + e.stderr }

// readHistory feeds the reader every commit of revs. When git cannot read
// the whole history in one go, it reads it again around what cannot be
// read (readAround), so one lost object costs the files it holds, not the
// scan.
func (s *Scanner) readHistory(ctx context.Context, git *gitRepo, revs []string, reader *diffReader) error {
	args := append(append(append([]string{}, logFlags...), logFormat), revs...)
	err := readLog(ctx, git, reader, append(args, "--"), nil)
	var gitErr *gitLogError
	if !errors.As(err, &gitErr) {
		return err
	}
	s.log.WarnContext(ctx, "git could not read the whole history; reading around what it cannot read", slog.String("error", gitErr.stderr))
	reader.reset()
	return s.readAround(ctx, git, revs, reader)
}

// readLog runs one `git log` (args, with stdin as its input when not nil)
// into the reader. A failure of git itself is a *gitLogError.
func readLog(ctx context.Context, git *gitRepo, reader *diffReader, args []string, stdin io.Reader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := git.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("git log: %w", err)
	}
	if err := gitexec.Start(cmd); err != nil {
		return fmt.Errorf("git log: %w", err)
	}
	readErr := reader.read(ctx, stdout)
	if readErr != nil {
		cancel()
		_, _ = io.Copy(io.Discard, stdout)
	}
	waitErr := cmd.Wait()
	switch {
	case readErr != nil:
		return readErr
	case waitErr != nil && ctx.Err() != nil:
		return ctx.Err()
	case waitErr != nil:
		return &gitLogError{stderr: strings.TrimSpace(stderr.String())}
	}
	return nil
}

// readAround reads revs commit by commit where it must: it lists every
// commit's changes without reading a file (git log --raw), asks git which
// of their objects it holds, reads the commits whose objects are all there
// in batches, and each of the others without the files it cannot read,
// which are recorded as skipped (SkipUnreadable) with their object id. A
// commit git still cannot show (a lost tree, a merge whose merge base has
// lost files) is skipped whole: Path "".
func (s *Scanner) readAround(ctx context.Context, git *gitRepo, revs []string, reader *diffReader) error {
	headers, err := commitHeaders(ctx, git, revs)
	if err != nil {
		return err
	}
	changes, trees := listChanges(ctx, git, headers)
	missing, err := missingObjects(ctx, git, trees)
	if err != nil {
		return err
	}
	var batch []commitHeader
	flush := func() error {
		defer func() { batch = nil }()
		if len(batch) == 0 {
			return nil
		}
		var in strings.Builder
		for _, h := range batch {
			in.WriteString(h.sha + "\n")
		}
		args := append(append(append([]string{}, logFlags...), logFormat), "--no-walk=unsorted", "--stdin", "--")
		err := readLog(ctx, git, reader, args, strings.NewReader(in.String()))
		var gitErr *gitLogError
		if !errors.As(err, &gitErr) {
			return err
		}
		// Something else git needs (a merge base's file) is lost: one
		// commit at a time, so only the commit that needs it is lost.
		for _, h := range batch {
			if err := readCommitWithout(ctx, git, reader, h, nil); err != nil {
				return err
			}
		}
		return nil
	}
	for _, h := range headers {
		cs, listed := changes[h.sha]
		unreadable := unreadableFiles(h.sha, cs, missing)
		if listed && len(unreadable) == 0 {
			batch = append(batch, h)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if !listed {
			reader.skipCommit(h)
			continue
		}
		if err := readCommitWithout(ctx, git, reader, h, unreadable); err != nil {
			return err
		}
	}
	return flush()
}

// commitHeader is one commit as logFormat prints it.
type commitHeader struct {
	sha  string
	line []byte
}

// commitHeaders lists revs' commits in log order, as the diff reader's
// headers, reading no tree and no file.
func commitHeaders(ctx context.Context, git *gitRepo, revs []string) ([]commitHeader, error) {
	args := append([]string{"log", "--no-patch", "--full-history", "--date-order", logFormat}, revs...)
	out, err := git.output(ctx, append(args, "--")...)
	if err != nil {
		return nil, err
	}
	var headers []commitHeader
	for _, rec := range bytes.Split(out, commitMarker)[1:] {
		line := append(append([]byte(nil), commitMarker...), bytes.TrimRight(rec, "\n")...)
		sha, _, _ := strings.Cut(string(rec), "\x00")
		headers = append(headers, commitHeader{sha: sha, line: line})
	}
	return headers, nil
}

// change is one file a commit changes (for a merge, against one parent),
// with the objects a diff of it reads: the old and the new content ("" for
// none: an added or deleted file, a gitlink, which names a commit of
// another repository).
type change struct {
	path     string
	old, new string
}

// listChanges lists each commit's changes (git log --raw: trees only). A
// commit git cannot list (a lost tree) is absent from the map. trees are
// the commits whose trees hold every object the changes name: the listed
// commits and their parents.
func listChanges(ctx context.Context, git *gitRepo, headers []commitHeader) (changes map[string][]change, trees []string) {
	changes = map[string][]change{}
	seen := map[string]bool{}
	if listChangesOf(ctx, git, headers, changes, seen) != nil {
		for _, h := range headers {
			if _, ok := changes[h.sha]; !ok {
				_ = listChangesOf(ctx, git, []commitHeader{h}, changes, seen)
			}
		}
	}
	for id := range seen {
		trees = append(trees, id)
	}
	return changes, trees
}

func listChangesOf(ctx context.Context, git *gitRepo, headers []commitHeader, into map[string][]change, commits map[string]bool) error {
	var in strings.Builder
	for _, h := range headers {
		in.WriteString(h.sha + "\n")
	}
	cmd := git.command(ctx, "log", "--raw", "--no-abbrev", "--no-renames", "--diff-merges=separate", "--root",
		"--format=%x00commit %H %P", "--no-walk=unsorted", "--stdin", "--")
	cmd.Stdin = strings.NewReader(in.String())
	raw, err := gitexec.Stdout(cmd)
	if err != nil {
		return err
	}
	listed := map[string][]change{}
	var sha string
	var all []string // the listed commits and their parents
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, string(commitMarker)); ok {
			ids := strings.Fields(rest)
			all = append(all, ids...)
			if len(ids) == 0 {
				continue
			}
			sha = ids[0]
			if _, ok := listed[sha]; !ok {
				listed[sha] = nil
			}
			continue
		}
		// :100644 100644 OLD NEW M<TAB>path
		meta, path, ok := strings.Cut(line, "\t")
		f := strings.Fields(meta)
		if !ok || sha == "" || len(f) != 5 {
			continue
		}
		blob := func(mode, id string) string {
			if strings.Trim(id, "0") == "" || strings.TrimPrefix(mode, ":") == "160000" {
				return ""
			}
			return id
		}
		listed[sha] = append(listed[sha], change{path: unquotePath(path), old: blob(f[0], f[2]), new: blob(f[1], f[3])})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for k, v := range listed {
		into[k] = v
	}
	for _, id := range all {
		commits[id] = true
	}
	return nil
}

// missingObjects returns the objects of the trees of commits that the
// repository cannot read. rev-list --missing reports them without asking a
// partial clone's promisor remote for each (cat-file would, and dies when
// the remote is gone).
func missingObjects(ctx context.Context, git *gitRepo, commits []string) (map[string]bool, error) {
	var in strings.Builder
	for _, id := range commits {
		if isObjectID(id) {
			in.WriteString(id + "\n")
		}
	}
	cmd := git.command(ctx, "rev-list", "--objects", "--missing=print", "--no-walk", "--stdin")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := gitexec.Stdout(cmd)
	if err != nil {
		return nil, fmt.Errorf("git rev-list --missing: %w", err)
	}
	missing := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if id, ok := strings.CutPrefix(line, "?"); ok {
			missing[id] = true
		}
	}
	return missing, nil
}

// unreadable is a file of a commit git cannot diff: its new content is
// read whole when git holds it (only the old one is lost), else the file
// is skipped.
type unreadable struct {
	path string
	// whole is the new content's id when git holds it; skipped, when it
	// does not.
	whole   string
	skipped *SkippedFile
}

// unreadableFiles are the changes of commit sha that read a missing
// object, once per path. A deletion whose old content is lost adds
// nothing, and needs no diff.
func unreadableFiles(sha string, cs []change, missing map[string]bool) []unreadable {
	var out []unreadable
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.path] || !missing[c.old] && !missing[c.new] || c.new == "" {
			continue
		}
		seen[c.path] = true
		u := unreadable{path: c.path, whole: c.new}
		if missing[c.new] {
			u.whole = ""
			u.skipped = &SkippedFile{Commit: sha, Path: c.path, Reason: SkipUnreadable, Object: c.new}
		}
		out = append(out, u)
	}
	return out
}

// readCommitWithout reads one commit without diffing the unreadable files:
// the new content of each is read whole where git holds it (its old
// content is lost, so all of it counts as added), else the file is
// recorded as skipped. If git still cannot show the commit, the commit is
// skipped whole.
func readCommitWithout(ctx context.Context, git *gitRepo, reader *diffReader, h commitHeader, files []unreadable) error {
	// The header comes from here: git prints none for a commit whose
	// every change the pathspec excludes.
	if err := reader.line(h.line); err != nil {
		return err
	}
	args := append(append([]string{}, logFlags...), "--format=", "--no-walk", h.sha, "--")
	for _, u := range files {
		args = append(args, ":(exclude,literal)"+u.path)
	}
	err := readLog(ctx, git, reader, args, nil)
	var gitErr *gitLogError
	if errors.As(err, &gitErr) {
		reader.skipCommit(h)
		return nil
	}
	if err != nil {
		return err
	}
	commit := reader.commit
	for _, u := range files {
		if u.skipped != nil {
			reader.skip(*u.skipped)
			continue
		}
		content, err := git.output(ctx, "cat-file", "blob", u.whole)
		if err != nil {
			reader.skip(SkippedFile{Commit: h.sha, Path: u.path, Reason: SkipUnreadable, Object: u.whole})
			continue
		}
		if err := reader.addedFile(commit, u.path, u.whole, content); err != nil {
			return err
		}
	}
	return nil
}

// logSkipped names in the log each file the scan could not read.
func (s *Scanner) logSkipped(ctx context.Context, files []SkippedFile) {
	for _, f := range files {
		if f.Reason == SkipUnreadable {
			s.log.WarnContext(ctx, "not scanned: git cannot read it", slog.String("commit", f.Commit),
				slog.String("path", f.Path), slog.String("object", f.Object))
		}
	}
}
