package rewrite

import (
	"sort"
	"strings"
)

// lineIndex maps byte offsets to 1-based line numbers and back.
type lineIndex []int // offsets of line starts

func newLineIndex(content []byte) lineIndex {
	idx := lineIndex{0}
	for i, b := range content {
		if b == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line is the 1-based line holding byte offset off.
func (l lineIndex) line(off int) int {
	return sort.Search(len(l), func(i int) bool { return l[i] > off })
}

// start is the offset of the 1-based line n, or -1.
func (l lineIndex) start(n int) int {
	if n < 1 || n > len(l) {
		return -1
	}
	return l[n-1]
}

// eachLine calls fn with each line of src, without its line ending ("\n"
// or "\r\n"), and the offset where the line starts.
func eachLine(src string, fn func(line string, start int)) {
	for pos := 0; pos < len(src); {
		end := strings.IndexByte(src[pos:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += pos
		}
		fn(strings.TrimRight(src[pos:end], "\r"), pos)
		pos = end + 1
	}
}
