package rewrite

import (
	"bytes"
	"fmt"
	pathpkg "path"
	"regexp"
	"sort"
	"strings"
)

// codeFormat returns the source-code format for path, or nil.
//
// Source code gets the language's environment lookup in place of the
// literal (os.Getenv("NAME"), os.environ["NAME"], process.env.NAME, ...), the
// import where the language needs one, and NAME=reference in Result.Env for
// vault.env. Go is parsed with go/parser and the result is gofmt-formatted;
// the other languages are parsed with tree-sitter, and a file whose tree has
// an ERROR or MISSING node, before or after the edit, is never rewritten.
// Files without an extension (shell scripts known only by their shebang)
// are not recognised: the format is chosen from the path alone.
func codeFormat(path string) format {
	switch strings.ToLower(pathpkg.Ext(path)) {
	case ".go":
		return goSource{}
	case ".py":
		return &tsSource{lang: pythonLang{}}
	case ".js", ".mjs", ".cjs", ".jsx":
		return &tsSource{lang: jsLang{dialect: jsPlain}}
	case ".ts":
		return &tsSource{lang: jsLang{dialect: jsTypeScript}}
	case ".tsx":
		return &tsSource{lang: jsLang{dialect: jsTSX}}
	case ".java":
		return &tsSource{lang: javaLang{}}
	case ".kt", ".kts":
		return &tsSource{lang: kotlinLang{}}
	case ".rb":
		return &tsSource{lang: rubyLang{}}
	case ".php":
		return &tsSource{lang: phpLang{}}
	case ".cs":
		return &tsSource{lang: csharpLang{}}
	case ".sh", ".bash":
		return &tsSource{lang: shellLang{}}
	}
	return nil
}

// codeEnvName is what an environment variable name must look like to be
// written into source code: it is pasted into string literals and, for
// JavaScript, after "process.env.".
var codeEnvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// codeRefusal is a reason not to edit, found while planning the edit. The
// format turns it into an *UnsafeError with the file's path. Its strings
// never contain the secret.
type codeRefusal struct {
	line   int    // 1-based; 0 means the replacement's own line
	reason string // why no edit is made
	manual string // what a person should do; "" means codeManual's default
	rep    int    // index of the replacement concerned, -1 if none
	// constant: the language needs a constant where the secret is, so the
	// lookup can't simply take its place.
	constant bool
}

func (r *codeRefusal) Error() string { return r.reason }

func refuse(rep, line int, reason string) *codeRefusal {
	return &codeRefusal{rep: rep, line: line, reason: reason}
}

// refuseConst refuses a secret in a place that must be a constant.
func refuseConst(rep, line int, reason string) *codeRefusal {
	return &codeRefusal{rep: rep, line: line, reason: reason, constant: true}
}

// codeUnsafe builds the *UnsafeError for a refusal. lookup renders the
// environment lookup of the language for the manual step.
func codeUnsafe(path string, reps []Replacement, r *codeRefusal, lookup func(string) string) *UnsafeError {
	line := r.line
	var rep Replacement
	if r.rep >= 0 && r.rep < len(reps) {
		rep = reps[r.rep]
	} else if len(reps) > 0 {
		rep = reps[0]
	}
	if line == 0 {
		line = rep.Line
	}
	manual := r.manual
	switch {
	case manual != "":
	case r.constant && codeEnvName.MatchString(rep.EnvName):
		manual = fmt.Sprintf("the code on line %d of %s needs a constant there: change it to read the value at run time with %s and add %s=%s to vault.env",
			line, path, lookup(rep.EnvName), rep.EnvName, rep.Ref.Vault())
	default:
		manual = codeManual(path, line, rep, lookup)
	}
	return &UnsafeError{Path: path, Line: line, Reason: r.reason, Manual: manual}
}

// codeManual is the manual step for one replacement: which line, which
// expression, which vault.env line.
func codeManual(path string, line int, rep Replacement, lookup func(string) string) string {
	if rep.EnvName == "" || !codeEnvName.MatchString(rep.EnvName) {
		return manualStep(path, []Replacement{rep})
	}
	if rep.Encoded {
		return fmt.Sprintf("the string on line %d of %s holds the secret base64-encoded: have the code read the decoded value with %s instead of decoding that string, and add %s=%s to vault.env",
			line, path, lookup(rep.EnvName), rep.EnvName, rep.Ref.Vault())
	}
	return fmt.Sprintf("replace the string on line %d of %s with %s and add %s=%s to vault.env",
		line, path, lookup(rep.EnvName), rep.EnvName, rep.Ref.Vault())
}

// commentManual is the manual step for a secret found in a comment.
func commentManual(path string, line int, rep Replacement) string {
	return fmt.Sprintf("delete the secret from the comment on line %d of %s (the value now lives at %s)",
		line, path, rep.Ref.Vault())
}

// checkCodeReps rejects replacements that can't be written into code at
// all: an empty literal, or an environment variable name that is not an
// identifier (it is pasted into the source).
func checkCodeReps(reps []Replacement) *codeRefusal {
	if len(reps) == 0 {
		return refuse(-1, 0, "there is nothing to replace")
	}
	for i, r := range reps {
		if r.Literal == "" {
			return refuse(i, 0, "the replacement has an empty literal")
		}
		if !codeEnvName.MatchString(r.EnvName) {
			// codeManual falls back to the generic step for such a name.
			return refuse(i, 0, "the environment variable name is not a valid identifier")
		}
	}
	return nil
}

// codeEnv is Result.Env for the replacements.
func codeEnv(reps []Replacement) map[string]string {
	env := make(map[string]string, len(reps))
	for _, r := range reps {
		env[r.EnvName] = r.Ref.Vault()
	}
	return env
}

// codeOcc is one occurrence of a replacement's literal in the content.
type codeOcc struct {
	start, end int // byte offsets
	rep        int // index into the replacements
	line       int // 1-based line of start
}

// findCodeOccs finds every occurrence of every literal. Each occurrence is
// given to the replacement with that literal whose line is nearest (the same
// secret may be reported once or once per line). An occurrence inside a
// longer literal's occurrence is dropped: the longer edit removes it. A
// literal that is nowhere in the file, or two literals that overlap without
// one containing the other, are refusals.
func findCodeOccs(content []byte, reps []Replacement) ([]codeOcc, *codeRefusal) {
	lines := newLineIndex(content)
	var occs []codeOcc
	seen := map[string]bool{}
	for i, r := range reps {
		if seen[r.Literal] {
			continue
		}
		seen[r.Literal] = true
		lit := []byte(r.Literal)
		found := false
		for off := 0; ; {
			j := bytes.Index(content[off:], lit)
			if j < 0 {
				break
			}
			s := off + j
			found = true
			line := lines.line(s)
			best := i
			for k, o := range reps {
				if o.Literal == r.Literal && absInt(o.Line-line) < absInt(reps[best].Line-line) {
					best = k
				}
			}
			occs = append(occs, codeOcc{start: s, end: s + len(lit), rep: best, line: line})
			off = s + len(lit)
		}
		if !found {
			if line, ok := EncodedLine(content, r.Literal); ok {
				return nil, refuse(i, line, "the secret is base64-encoded in the string on this line, which pushvault does not rewrite in code")
			}
			return nil, refuse(i, 0, "the secret was not found in the file")
		}
	}
	sort.Slice(occs, func(a, b int) bool {
		if occs[a].start != occs[b].start {
			return occs[a].start < occs[b].start
		}
		return occs[a].end > occs[b].end
	})
	out := occs[:0]
	for _, o := range occs {
		if n := len(out); n > 0 && o.start < out[n-1].end {
			if o.end <= out[n-1].end {
				continue // inside a longer secret's occurrence
			}
			return nil, refuse(o.rep, o.line, "two secrets overlap in the file")
		}
		out = append(out, o)
	}
	return out, nil
}

func absInt(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// secretRemains reports whether any literal, or any line of at least 16
// characters of a multi-line literal, is still in out.
func secretRemains(out []byte, reps []Replacement) bool {
	for _, r := range reps {
		if r.Literal == "" {
			continue
		}
		if bytes.Contains(out, []byte(r.Literal)) {
			return true
		}
		if !strings.Contains(r.Literal, "\n") {
			continue
		}
		for _, l := range strings.Split(r.Literal, "\n") {
			if l = strings.TrimSpace(l); len(l) >= 16 && bytes.Contains(out, []byte(l)) {
				return true
			}
		}
	}
	return false
}

// codePart is a piece of a string literal after the split: raw source text
// of the literal's content, or (env != "") an environment lookup.
type codePart struct {
	text string
	env  string
}

// codeSeg is a secret's place inside one string literal's content.
type codeSeg struct {
	start, end int // byte offsets in the file
	rep        int
	line       int
	env        string
}

// splitParts cuts content[cstart:cend] around segs (sorted, inside the
// range), dropping empty text pieces.
func splitParts(content []byte, cstart, cend int, segs []codeSeg) []codePart {
	var parts []codePart
	pos := cstart
	for _, s := range segs {
		if s.start > pos {
			parts = append(parts, codePart{text: string(content[pos:s.start])})
		}
		parts = append(parts, codePart{env: s.env})
		pos = s.end
	}
	if cend > pos {
		parts = append(parts, codePart{text: string(content[pos:cend])})
	}
	return parts
}

// joinConcat writes parts as a concatenation: each text piece wrapped in
// the literal's own delimiters, each lookup rendered by lookup, joined by op
// (" + ", " . ").
func joinConcat(parts []codePart, open, close, op string, lookup func(string) string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString(op)
		}
		if p.env != "" {
			b.WriteString(lookup(p.env))
		} else {
			b.WriteString(open + p.text + close)
		}
	}
	return b.String()
}

// joinInterp writes parts as one string with the lookups interpolated:
// open, text pieces through text (nil: as is), interp(env) for lookups,
// close.
func joinInterp(parts []codePart, open, close string, text func(string) string, interp func(string) string) string {
	var b strings.Builder
	b.WriteString(open)
	for _, p := range parts {
		switch {
		case p.env != "":
			b.WriteString(interp(p.env))
		case text != nil:
			b.WriteString(text(p.text))
		default:
			b.WriteString(p.text)
		}
	}
	b.WriteString(close)
	return b.String()
}

// cutInside reports whether offset p falls strictly inside one of the
// ranges (an escape sequence the cut would break).
func cutInside(p int, ranges [][2]int) bool {
	for _, r := range ranges {
		if r[0] < p && p < r[1] {
			return true
		}
	}
	return false
}

// overlapsAny reports whether [s,e) overlaps one of the ranges.
func overlapsAny(s, e int, ranges [][2]int) bool {
	for _, r := range ranges {
		if s < r[1] && r[0] < e {
			return true
		}
	}
	return false
}

// backslashEscapes returns the ranges of backslash escape sequences in
// content[start:end]: a backslash and the character after it, and the
// digits of \x, \u, \U and octal escapes.
func backslashEscapes(content []byte, start, end int) [][2]int {
	var out [][2]int
	for i := start; i < end; i++ {
		if content[i] != '\\' || i+1 >= end {
			continue
		}
		j := i + 2
		switch c := content[i+1]; {
		case c == 'x':
			j = scanHex(content, j, end, 2)
		case c == 'u' && j < end && content[j] == '{':
			for j < end && content[j] != '}' {
				j++
			}
			if j < end {
				j++
			}
		case c == 'u':
			j = scanHex(content, j, end, 4)
		case c == 'U':
			j = scanHex(content, j, end, 8)
		case c >= '0' && c <= '7':
			for k := 0; k < 2 && j < end && content[j] >= '0' && content[j] <= '7'; k++ {
				j++
			}
		}
		out = append(out, [2]int{i, j})
		i = j - 1
	}
	return out
}

func scanHex(content []byte, j, end, n int) int {
	for k := 0; k < n && j < end && isHexDigit(content[j]); k++ {
		j++
	}
	return j
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// lineStart is the offset of the start of the line holding off.
func lineStart(content []byte, off int) int {
	return bytes.LastIndexByte(content[:off], '\n') + 1
}

// lineEnd is the offset just past the newline ending the line holding off
// (len(content) on the last line).
func lineEnd(content []byte, off int) int {
	if i := bytes.IndexByte(content[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(content)
}

// blankBetween reports whether content[a:b] is only spaces and tabs.
func blankBetween(content []byte, a, b int) bool {
	return len(bytes.Trim(content[a:b], " \t\r")) == 0
}

// codeNewline is the file's line ending, for inserted lines.
func codeNewline(content []byte) string {
	if i := bytes.IndexByte(content, '\n'); i > 0 && content[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}
