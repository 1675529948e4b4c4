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
	// message is set on the commitInfo of a message's chunks: MessageCommit
	// for the commit's message, MessageTag for an annotated tag's (sha is
	// then the tag object's id, tag its name).
	message MessageKind
	tag     string
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
	// SkipBinary: not text in UTF-8, UTF-16 or UTF-32 (an image, an
	// archive, object code), whatever git or .gitattributes call it.
	SkipBinary SkipReason = "binary"
	// SkipLFS: a Git LFS pointer; the content is not in the repository.
	SkipLFS SkipReason = "lfs_pointer"
	// SkipTooLarge: the commit adds more to the file than scan.max_file_size.
	SkipTooLarge SkipReason = "too_large"
	// SkipUnreadable: git cannot read the file's content (Object): a
	// blobless or partial clone whose promisor remote is out of reach, an
	// object lost from the repository. With Path "", the whole commit.
	SkipUnreadable SkipReason = "unreadable"
)

// SkippedFile is a file one commit changed that the scan did not read.
type SkippedFile struct {
	Commit string     `json:"commit"`
	Path   string     `json:"path"`
	Reason SkipReason `json:"reason"`
	// Bytes is how much the commit adds to the file (its added lines).
	Bytes int64 `json:"bytes"`
	// Object is the id of the object git could not read (SkipUnreadable).
	Object string `json:"object,omitempty"`
}

// Where names the skipped file for people: its path, or "the whole
// commit" for a commit git could not show at all.
func (f SkippedFile) Where() string {
	if f.Path == "" {
		return "the whole commit"
	}
	return f.Path
}

// FormatSize writes a byte count for people: "12.3 MiB", "4.0 KiB", "17 bytes".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// diffStats counts what the diff reader saw.
type diffStats struct {
	commits      int
	files        int
	bytes        int64
	skipped      map[SkipReason]int
	skippedFiles []SkippedFile
}

// diffReader turns `git log -p -U0` output into chunks of added lines.
type diffReader struct {
	maxFileBytes int
	limits       Limits
	// limited names the limit that stopped the reader ("" while none has).
	limited      string
	chunkBytes   int // window size for large additions
	overlapBytes int // context repeated between windows (multi-line keys)
	emit         func(*chunk) error
	// blob returns a blob's content: a UTF-16 or UTF-32 file's, to number
	// its lines where a commit changes it after line 1.
	blob  func(id string) ([]byte, error)
	stats diffStats

	commit  *commitInfo
	file    *fileState
	ordinal int
	// commits are the commits read, in log order, each once (a commit
	// read again when reading around unreadable objects keeps its place).
	commits []*commitInfo
	bySHA   map[string]*commitInfo
	err     error // first error from emit
	// dropped is how many bytes of the current line were not kept: a line
	// is kept up to maxFileBytes+1 bytes, enough to skip its file as too
	// large, so one huge line (a binary without 0x0A bytes) can't exhaust
	// memory.
	dropped int
}

type fileState struct {
	path      string
	blob      string // the new content's object id
	content   []byte // the new content, once read (UTF-16 and UTF-32 files only)
	data      []byte
	starts    []int
	lines     []int
	bytes     int64
	skip      SkipReason
	enc       textEncoding
	dec       *textDecoder // for UTF-16 and UTF-32 files
	newLine   int          // next new-file line number in the current hunk
	remaining int          // lines of the current hunk still to read ('-', '+' and ' ')
}

const lfsPointerPrefix = "version https://git-lfs.github.com/spec/v1"

var commitMarker = []byte("\x00commit ")

// logFormat marks each commit header so it can't be confused with diff text
// (diff text is read by hunk line counts, and every line of a hunk starts
// with '+', '-' or ' '), with NUL bytes between its fields. The header holds
// nothing but the id, the author date and, last, the author: the one field
// the pusher writes, so whatever bytes it holds (NUL, \x1f, \x1e) stay in it
// (see the header's SplitN), and git prints no line break in it. The
// committer and the message are never printed.
const logFormat = "--format=%x00commit %H%x00%aI%x00%an <%ae>"

// read consumes the whole stream.
func (r *diffReader) read(ctx context.Context, in io.Reader) error {
	if r.stats.skipped == nil {
		r.stats.skipped = map[SkipReason]int{}
	}
	br := bufio.NewReaderSize(in, 256<<10)
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := br.ReadSlice('\n')
		r.dropped = 0
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: gather it, up to the cap.
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				if r.maxFileBytes > 0 && len(long)+len(line) > r.maxFileBytes+1 {
					r.dropped += len(line)
					continue
				}
				long = append(long, line...)
			}
			line = long
		}
		r.stats.bytes += int64(len(line) + r.dropped)
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
		case len(line) > 0 && line[0] == ' ':
			// Context, in old and new (diff.interHunkContext can bring it
			// into a -U0 diff).
			f.remaining -= 2
			f.newLine++
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
		fields := strings.SplitN(string(line[len(commitMarker):]), "\x00", 3)
		if len(fields) != 3 {
			return fmt.Errorf("git log: unexpected commit header %q", strings.Join(fields, " "))
		}
		if why := r.overLimit(); why != "" && r.bySHA[fields[0]] == nil {
			r.limited = why
			return errLimitReached
		}
		r.startCommit(fields[0], fields[1], fields[2])
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
	case bytes.HasPrefix(line, []byte("index ")):
		// index OLD..NEW[ MODE], ids in full (--full-index)
		if _, ids, ok := strings.Cut(string(line[len("index "):]), ".."); ok {
			f.blob, _, _ = strings.Cut(ids, " ")
		}
	case bytes.HasPrefix(line, []byte("@@ ")):
		oldN, newStart, newN, ok := parseHunk(line)
		if !ok {
			return fmt.Errorf("git log: bad hunk header %q", line)
		}
		f.newLine = newStart
		f.remaining = oldN + newN
	}
	return nil
}

func (r *diffReader) added(text []byte) {
	f := r.file
	lineNo := f.newLine
	f.newLine++
	f.bytes += int64(len(text) + 1 + r.dropped)
	if f.skip != "" {
		return
	}
	if f.bytes == int64(len(text)+1+r.dropped) && bytes.HasPrefix(text, []byte(lfsPointerPrefix)) {
		f.skip = SkipLFS
		return
	}
	if r.maxFileBytes > 0 && f.bytes > int64(r.maxFileBytes) {
		// A binary is skipped as binary, whatever its size.
		if f.enc == encUnknown {
			f.appendLine(text, lineNo)
			r.classify()
		}
		if f.skip == "" {
			f.skip = SkipTooLarge
		}
		f.data, f.starts, f.lines, f.dec = nil, nil, nil, nil
		return
	}
	switch {
	case f.dec != nil:
		r.decode(text, lineNo)
	default:
		f.appendLine(text, lineNo)
		if f.enc == encUnknown && len(f.data) >= classifySample {
			r.classify()
		}
	}
	if len(f.data) >= r.chunkBytes+r.overlapBytes {
		r.flushWindow()
	}
}

// appendLine adds one line of text, line number line, to the file's data.
func (f *fileState) appendLine(text []byte, line int) {
	f.starts = append(f.starts, len(f.data))
	f.lines = append(f.lines, line)
	f.data = append(f.data, text...)
	f.data = append(f.data, '\n')
}

// classify decides the file's encoding from what it has added so far: a
// binary is skipped; UTF-16 and UTF-32 text is decoded from here on, the
// lines held so far included.
func (r *diffReader) classify() {
	f := r.file
	sample := f.data[:min(len(f.data), classifySample)]
	fromStart := len(f.lines) > 0 && f.lines[0] == 1
	f.enc = classify(sample, fromStart)
	if !fromStart && bytes.IndexByte(sample, 0) >= 0 {
		// Lines from the middle of a file can't tell UTF-16LE from
		// UTF-16BE one byte off; the file's start can (a byte order mark,
		// code units aligned at 0).
		if content, err := r.content(f); err == nil {
			if enc := classify(content[:min(len(content), classifySample)], true); enc != encUTF8 {
				f.enc = enc
			}
		}
	}
	switch f.enc {
	case encBinary:
		f.skip = SkipBinary
		f.data, f.starts, f.lines = nil, nil, nil
	case encUTF16LE, encUTF16BE, encUTF32LE, encUTF32BE:
		raw, starts, lines := f.data, f.starts, f.lines
		f.data, f.starts, f.lines = nil, nil, nil
		f.dec = &textDecoder{enc: f.enc, content: func() ([]byte, error) { return r.content(f) }}
		for i, start := range starts {
			end := len(raw) - 1
			if i+1 < len(starts) {
				end = starts[i+1] - 1
			}
			r.decode(raw[start:end], lines[i])
		}
	}
}

// content returns the file's content as the commit leaves it, read once.
func (r *diffReader) content(f *fileState) ([]byte, error) {
	if f.content == nil {
		data, err := r.blob(f.blob)
		if err != nil {
			return nil, err
		}
		f.content = data
	}
	return f.content, nil
}

// decode feeds one added line of a UTF-16 or UTF-32 file to its decoder.
func (r *diffReader) decode(text []byte, line int) {
	f := r.file
	if err := f.dec.add(text, line, f.appendLine); err != nil && r.err == nil {
		r.err = fmt.Errorf("decoding %s in %s: %w", f.path, r.commit.sha, err)
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
	if f == nil || r.commit == nil {
		r.file = nil
		return nil
	}
	if f.skip == "" && f.enc == encUnknown && len(f.data) > 0 {
		r.classify()
	}
	if f.dec != nil {
		f.dec.endRun(f.appendLine)
	}
	r.file = nil
	if f.skip != "" {
		r.skip(SkippedFile{Commit: r.commit.sha, Path: f.path, Reason: f.skip, Bytes: f.bytes})
		return nil
	}
	if len(f.data) == 0 {
		return nil
	}
	if r.commit.message == "" {
		r.stats.files++
	}
	r.send(&chunk{commit: r.commit, path: f.path, data: f.data, starts: f.starts, lines: f.lines})
	return r.err
}

// startCommit makes sha the current commit, counted and ordered once.
func (r *diffReader) startCommit(sha, date, author string) {
	if c := r.bySHA[sha]; c != nil {
		r.commit = c
		return
	}
	if r.bySHA == nil {
		r.bySHA = map[string]*commitInfo{}
	}
	r.commit = &commitInfo{sha: sha, date: date, author: author, order: r.ordinal}
	r.bySHA[sha] = r.commit
	r.commits = append(r.commits, r.commit)
	r.ordinal++
	r.stats.commits++
}

// skip records a file not read.
func (r *diffReader) skip(f SkippedFile) {
	if r.stats.skipped == nil {
		r.stats.skipped = map[SkipReason]int{}
	}
	r.stats.skipped[f.Reason]++
	r.stats.skippedFiles = append(r.stats.skippedFiles, f)
}

// skipCommit records a commit git cannot show at all as skipped whole.
func (r *diffReader) skipCommit(h commitHeader) {
	r.file = nil
	if r.bySHA[h.sha] == nil {
		_ = r.line(h.line)
	}
	r.skip(SkippedFile{Commit: h.sha, Reason: SkipUnreadable})
}

// reset forgets what was read, to read the history again from its start.
func (r *diffReader) reset() {
	*r = diffReader{maxFileBytes: r.maxFileBytes, limits: r.limits, chunkBytes: r.chunkBytes, overlapBytes: r.overlapBytes, emit: r.emit, blob: r.blob}
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
