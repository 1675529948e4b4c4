package rewrite

import (
	"context"
	"errors"
	"regexp"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/dockerfile"
)

// dockerfileSyntax is a Dockerfile. It is checked by tree-sitter's
// Dockerfile grammar and by a hand-written, line-based scanner that finds
// the values and follows BuildKit's rules: parser directives (escape=`),
// instructions from the known set, continuation lines ending with the
// escape character (comment and blank lines inside them skipped), heredocs
// (RUN <<EOF ... EOF), only ARG before the first FROM, and well-formed
// ENV/ARG arguments. Values edited are those of ENV (KEY=value and the
// legacy "ENV KEY value") and ARG (NAME=value); a '$' that must stay a
// literal character is written "\$" so the build does not expand it.
type dockerfileSyntax struct{}

// Dockerfile value styles, as scalar.style.
const (
	dockerBare = iota
	dockerDouble
	dockerSingle
	dockerMixed  // several quoted and unquoted pieces
	dockerLegacy // ENV KEY value with blanks
)

var dockerInstructions = map[string]bool{
	"FROM": true, "RUN": true, "CMD": true, "LABEL": true, "MAINTAINER": true, "EXPOSE": true,
	"ENV": true, "ADD": true, "COPY": true, "ENTRYPOINT": true, "VOLUME": true, "USER": true,
	"WORKDIR": true, "ARG": true, "ONBUILD": true, "STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true,
}

var (
	dockerDirective = regexp.MustCompile(`^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$`)
	dockerHeredoc   = regexp.MustCompile(`<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)(["']?)`)
	dockerName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	errDockerfile   = errors.New("dockerfile: invalid")
)

// dockerInstr is one logical instruction: its text (continuations joined,
// escape characters at line ends removed) and each byte's file offset.
type dockerInstr struct {
	cmd    string
	text   string
	offs   []int
	escape byte
}

func (dockerfileSyntax) name() string { return "Dockerfile" }

// backtickEscape matches the parser directive that switches the escape
// character, which must come before any instruction or comment.
var backtickEscape = regexp.MustCompile("^(?:#[ \t]*[a-zA-Z]+[ \t]*=[^\n]*\n)*#[ \t]*(?i:escape)[ \t]*=[ \t]*`")

// parse checks content twice: with tree-sitter's Dockerfile grammar (no
// ERROR or MISSING node), and with the hand-written scanner that finds the
// ENV and ARG values, which refuses anything it does not understand.
//
// tree-sitter's grammar knows only the backslash escape, so a file that
// switches to the backtick (`# escape=\“, for Windows images) is checked
// by the scanner alone.
func (dockerfileSyntax) parse(content []byte) error {
	if backtickEscape.Match(content) {
		_, err := dockerfileScalars(content)
		return err
	}
	ps := sitter.NewParser()
	ps.SetLanguage(dockerfile.GetLanguage())
	tree, err := ps.ParseCtx(context.Background(), nil, content)
	if err != nil {
		return err
	}
	if tree.RootNode().HasError() {
		return errors.New("the Dockerfile grammar reports a syntax error")
	}
	_, err = dockerfileScalars(content)
	return err
}

func (dockerfileSyntax) scalars(content []byte) ([]scalar, error) {
	return dockerfileScalars(content)
}

// parseDockerfile reads content as BuildKit does, without expanding
// anything: it joins physical lines into instructions and checks their
// order. Anything it does not understand is errDockerfile.
func parseDockerfile(content []byte) ([]dockerInstr, error) {
	instrs, err := joinDockerLines(splitDockerLines(content))
	if err != nil {
		return nil, err
	}
	if err := checkDockerOrder(instrs); err != nil {
		return nil, err
	}
	return instrs, nil
}

// dockerLine is one physical line, without its line ending.
type dockerLine struct {
	text  string
	start int // offset in the file
}

// blank reports whether the line is empty or a comment, which BuildKit
// skips between instructions and inside continuations.
func (l dockerLine) blank() bool {
	t := strings.TrimSpace(l.text)
	return t == "" || t[0] == '#'
}

// splitDockerLines cuts content into lines, dropping "\r" at line ends.
func splitDockerLines(content []byte) []dockerLine {
	src := string(content)
	var lines []dockerLine
	for pos := 0; pos <= len(src); {
		end := strings.IndexByte(src[pos:], '\n')
		if end < 0 {
			if pos < len(src) {
				lines = append(lines, dockerLine{strings.TrimRight(src[pos:], "\r"), pos})
			}
			break
		}
		lines = append(lines, dockerLine{strings.TrimRight(src[pos:pos+end], "\r"), pos})
		pos += end + 1
	}
	return lines
}

// dockerJoiner reads lines into instructions, front to back.
type dockerJoiner struct {
	lines  []dockerLine
	next   int  // index of the first line not read yet
	escape byte // the escape character, '\\' unless a directive says '`'
}

// joinDockerLines reads the parser directives, then each instruction with
// its continuation lines and heredoc bodies. A file without instructions is
// errDockerfile.
func joinDockerLines(lines []dockerLine) ([]dockerInstr, error) {
	j := &dockerJoiner{lines: lines, escape: '\\'}
	if err := j.directives(); err != nil {
		return nil, err
	}
	var out []dockerInstr
	for j.skipBlank() {
		in, err := j.instruction()
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	if len(out) == 0 {
		return nil, errDockerfile
	}
	return out, nil
}

// directives reads the parser directives at the top of the file, which
// end at the first line that is not one; only escape matters here.
func (j *dockerJoiner) directives() error {
	for ; j.next < len(j.lines); j.next++ {
		m := dockerDirective.FindStringSubmatch(strings.TrimSpace(j.lines[j.next].text))
		if m == nil {
			return nil
		}
		if !strings.EqualFold(m[1], "escape") {
			continue
		}
		switch m[2] {
		case "`":
			j.escape = '`'
		case `\`:
			j.escape = '\\'
		default:
			return errDockerfile
		}
	}
	return nil
}

// skipBlank skips blank and comment lines and reports whether a line is
// left.
func (j *dockerJoiner) skipBlank() bool {
	for j.next < len(j.lines) && j.lines[j.next].blank() {
		j.next++
	}
	return j.next < len(j.lines)
}

// instruction reads the instruction starting on the next line: a known
// instruction word, the lines it continues onto (a file may end in a
// continuation), and the bodies of its heredocs.
func (j *dockerJoiner) instruction() (dockerInstr, error) {
	l := j.lines[j.next]
	j.next++
	word, _, _ := strings.Cut(strings.ReplaceAll(strings.TrimSpace(l.text), "\t", " "), " ")
	cmd := strings.ToUpper(word)
	if !dockerInstructions[cmd] {
		return dockerInstr{}, errDockerfile
	}
	in := dockerInstr{cmd: cmd, escape: j.escape}
	lead := len(l.text) - len(strings.TrimLeft(l.text, " \t"))
	in.add(l.text[lead:], l.start+lead)
	for in.continues() {
		if !j.skipBlank() {
			return in, nil // the file ends in a continuation
		}
		in.add(j.lines[j.next].text, j.lines[j.next].start)
		j.next++
	}
	if err := j.skipHeredocs(in); err != nil {
		return dockerInstr{}, err
	}
	return in, nil
}

// skipHeredocs skips the body of each heredoc a RUN, COPY or ADD opens,
// up to its terminator line; a heredoc without one is errDockerfile.
func (j *dockerJoiner) skipHeredocs(in dockerInstr) error {
	if in.cmd != "RUN" && in.cmd != "COPY" && in.cmd != "ADD" {
		return nil
	}
	for _, m := range dockerHeredoc.FindAllStringSubmatch(in.text, -1) {
		if m[2] != m[4] {
			return errDockerfile
		}
		if !j.skipPast(m[3], m[1] == "-") {
			return errDockerfile
		}
	}
	return nil
}

// skipPast skips lines up to and including the line that is word (after
// leading tabs, with trimTabs); false when there is none.
func (j *dockerJoiner) skipPast(word string, trimTabs bool) bool {
	for ; j.next < len(j.lines); j.next++ {
		body := j.lines[j.next].text
		if trimTabs {
			body = strings.TrimLeft(body, "\t")
		}
		if body == word {
			j.next++
			return true
		}
	}
	return false
}

// checkDockerOrder checks what BuildKit checks of the instructions as a
// whole: each has arguments, only ARG comes before the first FROM, and
// ONBUILD wraps an instruction it may wrap.
func checkDockerOrder(instrs []dockerInstr) error {
	seenFrom := false
	for _, in := range instrs {
		args := strings.TrimSpace(in.text[len(dockerKeyword(in.text)):])
		if args == "" {
			return errDockerfile
		}
		switch in.cmd {
		case "FROM":
			seenFrom = true
		case "ONBUILD":
			next := strings.ToUpper(dockerKeyword(args))
			if !dockerInstructions[next] || next == "ONBUILD" || next == "FROM" || next == "MAINTAINER" {
				return errDockerfile
			}
		}
		if !seenFrom && in.cmd != "ARG" && in.cmd != "FROM" {
			return errDockerfile
		}
	}
	return nil
}

func (in *dockerInstr) add(text string, start int) {
	in.text += text
	for i := range text {
		in.offs = append(in.offs, start+i)
	}
}

// continues reports whether the instruction's text so far ends with the
// escape character (and blanks), which continues it on the next line; it
// removes them.
func (in *dockerInstr) continues() bool {
	trimmed := strings.TrimRight(in.text, " \t")
	if !strings.HasSuffix(trimmed, string(in.escape)) {
		return false
	}
	in.text = trimmed[:len(trimmed)-1]
	in.offs = in.offs[:len(in.text)]
	return true
}

func dockerKeyword(s string) string {
	s = strings.TrimLeft(s, " \t")
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// dockerfileScalars validates the Dockerfile and lists its ENV and ARG
// values.
func dockerfileScalars(content []byte) ([]scalar, error) {
	instrs, err := parseDockerfile(content)
	if err != nil {
		return nil, err
	}
	var out []scalar
	for _, in := range instrs {
		if in.cmd != "ENV" && in.cmd != "ARG" {
			continue
		}
		kw := len(in.text) - len(strings.TrimLeft(in.text, " \t")) + len(dockerKeyword(in.text))
		words, err := dockerWords(in.text, kw, in.escape)
		if err != nil {
			return nil, err
		}
		if len(words) == 0 {
			return nil, errDockerfile
		}
		if in.cmd == "ENV" && !strings.Contains(in.text[words[0].start:words[0].end], "=") {
			// legacy form: ENV KEY the rest of the line
			key := in.text[words[0].start:words[0].end]
			if len(words) < 2 || !dockerName.MatchString(key) {
				return nil, errDockerfile
			}
			vs, ve := words[1].start, len(strings.TrimRight(in.text, " \t"))
			v, _, err := dockerDecode(in.text[vs:ve], in.escape, true)
			if err != nil {
				return nil, err
			}
			out = append(out, scalar{start: in.offs[vs], end: in.offs[ve-1] + 1, value: v, key: key,
				style: dockerLegacy, quote: in.escape})
			continue
		}
		for _, w := range words {
			word := in.text[w.start:w.end]
			key, _, hasValue := strings.Cut(word, "=")
			if !dockerName.MatchString(key) || (in.cmd == "ENV" && !hasValue) {
				return nil, errDockerfile
			}
			if !hasValue {
				continue
			}
			vs := w.start + len(key) + 1
			if vs == w.end {
				continue
			}
			v, style, err := dockerDecode(in.text[vs:w.end], in.escape, false)
			if err != nil {
				return nil, err
			}
			out = append(out, scalar{start: in.offs[vs], end: in.offs[w.end-1] + 1, value: v, key: key,
				style: style, quote: in.escape})
		}
	}
	return out, nil
}

// dockerSpan is a word of an instruction, as offsets in its text.
type dockerSpan struct{ start, end int }

// dockerWords splits s from offset i into blank-separated words, honouring
// quotes and the escape character.
func dockerWords(s string, i int, esc byte) ([]dockerSpan, error) {
	var out []dockerSpan
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		start := i
		var q byte
	word:
		for ; i < len(s); i++ {
			switch c := s[i]; {
			case q == 0 && (c == ' ' || c == '\t'):
				break word
			case c == esc && q != '\'':
				i++ // the escaped character
			case q == 0 && (c == '"' || c == '\''):
				q = c
			case c == q:
				q = 0
			}
		}
		if q != 0 || i > len(s) {
			return nil, errDockerfile
		}
		out = append(out, dockerSpan{start, i})
	}
}

// dockerDecode removes quotes and escapes from a value as the build does
// (without expanding variables), and says how it was quoted.
func dockerDecode(s string, esc byte, legacy bool) (string, int, error) {
	var b strings.Builder
	var q, first byte
	quotes, unquoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q == 0 && (c == '"' || c == '\''):
			q = c
			quotes++
			if first == 0 {
				first = c
			}
		case q != 0 && c == q:
			q = 0
		case c == esc && q == 0:
			if i+1 >= len(s) {
				return "", 0, errDockerfile
			}
			i++
			unquoted = true
			b.WriteByte(s[i])
		case c == esc && q == '"':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '$' || s[i+1] == esc) {
				i++
			}
			b.WriteByte(s[i])
		default:
			if q == 0 {
				unquoted = true
			}
			b.WriteByte(c)
		}
	}
	if q != 0 {
		return "", 0, errDockerfile
	}
	switch {
	case quotes == 0 && legacy:
		return b.String(), dockerLegacy, nil
	case quotes == 0:
		return b.String(), dockerBare, nil
	case quotes == 1 && !unquoted && first == '"':
		return b.String(), dockerDouble, nil
	case quotes == 1 && !unquoted:
		return b.String(), dockerSingle, nil
	}
	return b.String(), dockerMixed, nil
}

func (d dockerfileSyntax) render(sc scalar, v string, dl dollars) (string, bool) {
	if v == "" || strings.ContainsAny(v, "\n\r") || !configPrintable(v) || (dl == dollarsMixed && strings.Contains(v, "$")) {
		return "", false
	}
	if sc.style == dockerSingle && !strings.Contains(v, "'") && (dl != dollarsExpand || !strings.Contains(v, "$")) {
		return "'" + v + "'", true
	}
	if sc.style != dockerDouble && !strings.ContainsAny(v, " \t\"'") {
		return dockerEscape(v, sc.quote, dl, false), true
	}
	return `"` + dockerEscape(v, sc.quote, dl, true) + `"`, true
}

func (d dockerfileSyntax) escape(sc scalar, s string, dl dollars) (string, bool) {
	if strings.ContainsAny(s, "\n\r") || !configPrintable(s) {
		return "", false
	}
	switch sc.style {
	case dockerSingle:
		if strings.Contains(s, "'") || (dl == dollarsExpand && strings.Contains(s, "$")) {
			return "", false
		}
		return s, true
	case dockerMixed:
		return "", false
	}
	return dockerEscape(s, sc.quote, dl, sc.style == dockerDouble), true
}

// dockerEscape writes s for a double-quoted (quoted set) or unquoted
// value; with dollars literal, '$' is escaped so it is not expanded.
func dockerEscape(s string, esc byte, dl dollars, quoted bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == esc, c == '"':
			b.WriteByte(esc)
		case c == '$' && dl == dollarsLiteral:
			b.WriteByte(esc)
		case !quoted && (c == ' ' || c == '\t' || c == '\''):
			b.WriteByte(esc)
		}
		b.WriteByte(c)
	}
	return b.String()
}
