package scanner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// commitInfo is what a Location needs to know of a commit.
type commitInfo struct {
	sha    string
	author string
	date   string
	order  int // 0 = newest in log order; turned around when findings are built
}

// chunk is the added lines of one file in one commit (or a window of them,
// for large additions), joined by '\n', with the new-file line number of each.
type chunk struct {
	commit *commitInfo
	path   string
	data   []byte
	starts []int // byte offset in data where each line starts
	lines  []int // new-file line number of each line
}

// lineAt returns the index into c.lines of the line holding byte offset off.
func (c *chunk) lineAt(off int) int { return lineOf(c.starts, off) }

// lineText returns the text of line i of the chunk.
func (c *chunk) lineText(i int) []byte {
	end := len(c.data)
	if i+1 < len(c.starts) {
		end = c.starts[i+1] - 1
	}
	return c.data[c.starts[i]:end]
}

// SkipReason says why a file was not scanned.
type SkipReason string

const (
	SkipBinary   SkipReason = "binary"
	SkipLFS      SkipReason = "lfs_pointer"
	SkipTooLarge SkipReason = "too_large"
)

// diffStats counts what the diff reader saw.
type diffStats struct {
	commits int
	files   int
	bytes   int64
	skipped map[SkipReason]int
}

// diffReader turns `git log -p -U0` output into chunks of added lines.
type diffReader struct {
	maxFileBytes int
	chunkBytes   int // window size for large additions
	overlapBytes int // context repeated between windows (multi-line keys)
	emit         func(*chunk) error
	stats        diffStats

	commit  *commitInfo
	file    *fileState
	ordinal int
	err     error // first error from emit
}

type fileState struct {
	path      string
	data      []byte
	starts    []int
	lines     []int
	bytes     int
	skip      SkipReason
	newLine   int // next new-file line number in the current hunk
	remaining int // lines of the current hunk still to read ('-' and '+')
}

const lfsPointerPrefix = "version https://git-lfs.github.com/spec/v1"

var commitMarker = []byte("\x1ecommit ")

// logFormat marks each commit header so it can't be confused with diff text.
// The author comes last: it is the one field the pusher writes, so whatever
// bytes it holds (a \x1f included) stay in it (see the header's SplitN).
const logFormat = "--format=%x1ecommit %H%x1f%aI%x1f%an <%ae>"

// read consumes the whole stream.
func (r *diffReader) read(ctx context.Context, in io.Reader) error {
	r.stats.skipped = map[SkipReason]int{}
	br := bufio.NewReaderSize(in, 256<<10)
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: gather it whole.
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		r.stats.bytes += int64(len(line))
		if r.err != nil {
			return r.err
		}
		if len(line) > 0 {
			if perr := r.line(bytes.TrimSuffix(line, []byte{'\n'})); perr != nil {
				return perr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return r.endFile()
}

func (r *diffReader) line(line []byte) error {
	f := r.file
	// Inside a hunk every line is a '+', '-' or '\' line: count them so an
	// added line that starts with "+++" or "diff" is never taken for a header.
	if f != nil && f.remaining > 0 {
		switch {
		case len(line) > 0 && line[0] == '+':
			f.remaining--
			r.added(line[1:])
			return nil
		case len(line) > 0 && line[0] == '-':
			f.remaining--
			return nil
		case len(line) > 0 && line[0] == '\\':
			return nil
		}
		// Anything else: the hunk header lied (or the stream was cut);
		// fall through and treat it as a header line.
		f.remaining = 0
	}
	switch {
	case bytes.HasPrefix(line, commitMarker):
		if err := r.endFile(); err != nil {
			return err
		}
		fields := strings.SplitN(string(line[len(commitMarker):]), "\x1f", 3)
		if len(fields) != 3 {
			return fmt.Errorf("git log: unexpected commit header %q", strings.Join(fields, " "))
		}
		r.commit = &commitInfo{sha: fields[0], date: fields[1], author: fields[2], order: r.ordinal}
		r.ordinal++
		r.stats.commits++
	case bytes.HasPrefix(line, []byte("diff --git ")):
		if err := r.endFile(); err != nil {
			return err
		}
		r.file = &fileState{}
	case f == nil:
		// commit message body or notes: ignore
	case bytes.HasPrefix(line, []byte("+++ ")):
		// git ends the name with a tab when it contains a space.
		p := strings.TrimSuffix(string(line[4:]), "\t")
		if p == "/dev/null" {
			f.path = ""
			return nil
		}
		p = unquotePath(p)
		f.path = strings.TrimPrefix(p, "b/")
	case bytes.HasPrefix(line, []byte("@@ ")):
		oldN, newStart, newN, ok := parseHunk(line)
		if !ok {
			return fmt.Errorf("git log: bad hunk header %q", line)
		}
		f.newLine = newStart
		f.remaining = oldN + newN
	case bytes.HasPrefix(line, []byte("Binary files ")):
		f.skip = SkipBinary
		if f.path == "" {
			f.path = binaryPath(string(line))
		}
	}
	return nil
}

func (r *diffReader) added(text []byte) {
	f := r.file
	lineNo := f.newLine
	f.newLine++
	if f.skip != "" {
		return
	}
	if len(f.lines) == 0 && bytes.HasPrefix(text, []byte(lfsPointerPrefix)) {
		f.skip = SkipLFS
		return
	}
	f.bytes += len(text) + 1
	if r.maxFileBytes > 0 && f.bytes > r.maxFileBytes {
		f.skip = SkipTooLarge
		f.data, f.starts, f.lines = nil, nil, nil
		return
	}
	f.starts = append(f.starts, len(f.data))
	f.lines = append(f.lines, lineNo)
	f.data = append(f.data, text...)
	f.data = append(f.data, '\n')
	if len(f.data) >= r.chunkBytes+r.overlapBytes {
		r.flushWindow()
	}
}

// flushWindow emits the first chunkBytes of the file's pending lines and
// keeps the last overlapBytes as the start of the next window.
func (r *diffReader) flushWindow() {
	f := r.file
	cut := len(f.starts) - 1
	for cut > 0 && f.starts[cut] > len(f.data)-r.overlapBytes {
		cut--
	}
	if cut <= 0 {
		cut = len(f.starts) - 1
	}
	r.send(&chunk{commit: r.commit, path: f.path, data: f.data, starts: f.starts, lines: f.lines})
	base := f.starts[cut]
	data := append([]byte(nil), f.data[base:]...)
	starts := make([]int, 0, len(f.starts)-cut)
	for _, s := range f.starts[cut:] {
		starts = append(starts, s-base)
	}
	f.data, f.starts, f.lines = data, starts, append([]int(nil), f.lines[cut:]...)
}

func (r *diffReader) send(c *chunk) {
	if r.err == nil {
		r.err = r.emit(c)
	}
}

func (r *diffReader) endFile() error {
	f := r.file
	r.file = nil
	if f == nil || r.commit == nil {
		return nil
	}
	if f.skip != "" {
		r.stats.skipped[f.skip]++
		return nil
	}
	if len(f.data) == 0 {
		return nil
	}
	r.stats.files++
	r.send(&chunk{commit: r.commit, path: f.path, data: f.data, starts: f.starts, lines: f.lines})
	return r.err
}

// parseHunk reads "@@ -a[,b] +c[,d] @@".
func parseHunk(line []byte) (oldN, newStart, newN int, ok bool) {
	s := string(line)
	end := strings.Index(s[3:], " @@")
	if end < 0 {
		return 0, 0, 0, false
	}
	parts := strings.Fields(s[3 : 3+end])
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "-") || !strings.HasPrefix(parts[1], "+") {
		return 0, 0, 0, false
	}
	_, oldN, ok1 := parseSpan(parts[0][1:])
	newStart, newN, ok2 := parseSpan(parts[1][1:])
	return oldN, newStart, newN, ok1 && ok2
}

func parseSpan(s string) (start, n int, ok bool) {
	a, b, hasN := strings.Cut(s, ",")
	start, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, false
	}
	n = 1
	if hasN {
		if n, err = strconv.Atoi(b); err != nil {
			return 0, 0, false
		}
	}
	return start, n, true
}

// unquotePath undoes git's C-style quoting of unusual paths ("b/a\tb").
func unquotePath(p string) string {
	if len(p) < 2 || p[0] != '"' || p[len(p)-1] != '"' {
		return p
	}
	if u, err := strconv.Unquote(p); err == nil {
		return u
	}
	// git writes octal escapes of raw bytes (\303\251), which strconv
	// accepts; anything else is left as git printed it.
	return p[1 : len(p)-1]
}

// binaryPath extracts the new path from "Binary files a/x and b/y differ".
func binaryPath(line string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(line, "Binary files "), " differ")
	if i := strings.LastIndex(s, " and "); i >= 0 {
		s = s[i+5:]
	}
	return strings.TrimPrefix(unquotePath(s), "b/")
}
