package scanner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pushvault/pushvault/internal/gitexec"
)

// MessageKind says which message a Location is in; "" for a file.
type MessageKind string

const (
	// MessageCommit: the message of the location's commit.
	MessageCommit MessageKind = "commit"
	// MessageTag: the message of an annotated tag (Location.Tag names it,
	// Location.Commit is the tag object's id).
	MessageTag MessageKind = "tag"
)

// readMessages feeds the reader the message of every commit it has read,
// and of the annotated tags the target pushes: a secret pasted into a
// message is as public as one in a file.
func (s *Scanner) readMessages(ctx context.Context, git *gitRepo, target Target, reader *diffReader) error {
	commits := reader.commits
	ids := make([]string, len(commits))
	for i, c := range commits {
		ids[i] = c.sha
	}
	i := 0
	err := catObjects(ctx, git, ids, func(_, _ string, content []byte) error {
		c := *commits[i]
		i++
		c.message = MessageCommit
		return reader.message(&c, messageOf(content))
	})
	if err != nil {
		return err
	}
	tags, err := target.tagObjects(ctx, git)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for len(tags) > 0 {
		var next []string
		err := catObjects(ctx, git, tags, func(id, typ string, content []byte) error {
			if typ != "tag" || seen[id] {
				return nil
			}
			seen[id] = true
			t := parseTag(content)
			if t.objectType == "tag" {
				next = append(next, t.object) // a tag of a tag
			}
			// Ordered after every commit: the newest thing pushed.
			c := &commitInfo{sha: id, author: t.tagger, date: t.date, order: -1, message: MessageTag, tag: t.name}
			return reader.message(c, messageOf(content))
		})
		if err != nil {
			return err
		}
		tags = next
	}
	return nil
}

// catObjects calls fn with each object of ids, in order, as `git cat-file
// --batch` prints it; missing objects are passed over.
func catObjects(ctx context.Context, git *gitRepo, ids []string, fn func(id, typ string, content []byte) error) error {
	if len(ids) == 0 {
		return nil
	}
	var in strings.Builder
	for _, id := range ids {
		if isObjectID(id) {
			in.WriteString(id + "\n")
		}
	}
	cmd := git.command(ctx, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(in.String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	if err := gitexec.Start(cmd); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	readErr := readBatch(bufio.NewReader(stdout), fn)
	if readErr != nil {
		_, _ = io.Copy(io.Discard, stdout)
	}
	waitErr := cmd.Wait()
	if readErr != nil {
		return readErr
	}
	if waitErr != nil {
		return fmt.Errorf("git cat-file: %w", waitErr)
	}
	return nil
}

// readBatch reads `git cat-file --batch` output: "<id> <type> <size>\n",
// the content, "\n"; or "<id> missing\n".
func readBatch(br *bufio.Reader, fn func(id, typ string, content []byte) error) error {
	for {
		head, err := br.ReadString('\n')
		if err == io.EOF && head == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("git cat-file: %w", err)
		}
		f := strings.Fields(head)
		if len(f) != 3 {
			continue // "<id> missing"
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("git cat-file: bad header %q", strings.TrimSpace(head))
		}
		content := make([]byte, size+1)
		if _, err := io.ReadFull(br, content); err != nil {
			return fmt.Errorf("git cat-file: %w", err)
		}
		if err := fn(f[0], f[1], content[:size]); err != nil {
			return err
		}
	}
}

// messageOf is a commit's or tag's message: what follows its headers.
func messageOf(object []byte) []byte {
	if _, msg, ok := bytes.Cut(object, []byte("\n\n")); ok {
		return msg
	}
	return nil
}

// tagHeader is what a Location needs of an annotated tag object.
type tagHeader struct {
	object, objectType, name, tagger, date string
}

func parseTag(object []byte) tagHeader {
	var t tagHeader
	head, _, _ := bytes.Cut(object, []byte("\n\n"))
	for _, line := range strings.Split(string(head), "\n") {
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "object":
			t.object = val
		case "type":
			t.objectType = val
		case "tag":
			t.name = val
		case "tagger":
			t.tagger, t.date = identity(val)
		}
	}
	return t
}

// identity splits "Name <email> 1700000000 +0100" into the person and the
// date in ISO 8601, as git log's %an <%ae> and %aI print them.
func identity(s string) (who, date string) {
	end := strings.LastIndexByte(s, '>')
	if end < 0 {
		return s, ""
	}
	who = s[:end+1]
	f := strings.Fields(s[end+1:])
	if len(f) != 2 {
		return who, ""
	}
	secs, err := strconv.ParseInt(f[0], 10, 64)
	zone, zerr := time.Parse("-0700", f[1])
	if err != nil || zerr != nil {
		return who, ""
	}
	return who, time.Unix(secs, 0).In(zone.Location()).Format(time.RFC3339)
}

// message feeds one message to the detectors as the added lines of a file
// of c (windowed, size-capped and classified as any file's lines).
func (r *diffReader) message(c *commitInfo, text []byte) error {
	return r.addedFile(c, "", "", text)
}

// addedFile feeds text to the detectors as the added lines of path (blob,
// its object id) in commit c, from line 1.
func (r *diffReader) addedFile(c *commitInfo, path, blob string, text []byte) error {
	if err := r.endFile(); err != nil {
		return err
	}
	r.commit = c
	r.file = &fileState{path: path, blob: blob, newLine: 1}
	for _, line := range bytes.SplitAfter(text, []byte("\n")) {
		if len(line) > 0 {
			r.added(bytes.TrimSuffix(line, []byte("\n")))
		}
	}
	return r.endFile()
}
