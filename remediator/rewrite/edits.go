package rewrite

import (
	"bytes"
	"errors"
	"sort"
)

// edit replaces content[start:end] with text. Code and config formats plan
// their changes as edits and apply them with applyEdits.
type edit struct {
	start, end int
	text       string
}

var errOverlap = errors.New("overlapping edits")

// applyEdits applies non-overlapping edits to content. It sorts edits by
// start in place (insertions at the same offset keep their order) and
// returns the new content and, for each edit in that order, the offset in
// the new content where its text begins. Overlapping edits, or an edit
// outside content, are errOverlap.
func applyEdits(content []byte, edits []edit) ([]byte, []int, error) {
	sort.SliceStable(edits, func(a, b int) bool { return edits[a].start < edits[b].start })
	var b bytes.Buffer
	at := make([]int, len(edits))
	pos := 0
	for i, e := range edits {
		if e.start < pos || e.end < e.start || e.end > len(content) {
			return nil, nil, errOverlap
		}
		b.Write(content[pos:e.start])
		at[i] = b.Len()
		b.WriteString(e.text)
		pos = e.end
	}
	b.Write(content[pos:])
	return b.Bytes(), at, nil
}
