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

func parseDockerfile(content []byte) ([]dockerInstr, error) {
	src := string(content)
	escape := byte('\\')
	directives := true
	var (
		out []dockerInstr
		cur *dockerInstr
	)
	type physLine struct {
		text  string
		start int
	}
	var lines []physLine
	for pos := 0; pos <= len(src); {
		end := strings.IndexByte(src[pos:], '\n')
		if end < 0 {
			if pos < len(src) {
				lines = append(lines, physLine{strings.TrimRight(src[pos:], "\r"), pos})
			}
			break
		}
		lines = append(lines, physLine{strings.TrimRight(src[pos:pos+end], "\r"), pos})
		pos += end + 1
	}
	for li := 0; li < len(lines); li++ {
		l := lines[li]
		t := strings.TrimSpace(l.text)
		if cur == nil {
			if directives {
				if m := dockerDirective.FindStringSubmatch(t); m != nil {
					if strings.EqualFold(m[1], "escape") {
						switch m[2] {
						case "`":
							escape = '`'
						case `\`:
							escape = '\\'
						default:
							return nil, errDockerfile
						}
					}
					continue
				}
				directives = false
			}
			if t == "" || t[0] == '#' {
				continue
			}
			word, _, _ := strings.Cut(strings.ReplaceAll(t, "\t", " "), " ")
			cmd := strings.ToUpper(word)
			if !dockerInstructions[cmd] {
				return nil, errDockerfile
			}
			cur = &dockerInstr{cmd: cmd, escape: escape}
			lead := len(l.text) - len(strings.TrimLeft(l.text, " \t"))
			cur.add(l.text[lead:], l.start+lead)
		} else {
			if t == "" || t[0] == '#' {
				continue // blank and comment lines inside a continuation
			}
			cur.add(l.text, l.start)
		}
		// a line ending with the escape character (and blanks) continues
		trimmed := strings.TrimRight(cur.text, " \t")
		if strings.HasSuffix(trimmed, string(escape)) {
			cur.text = trimmed[:len(trimmed)-1]
			cur.offs = cur.offs[:len(cur.text)]
			continue
		}
		if cur.cmd == "RUN" || cur.cmd == "COPY" || cur.cmd == "ADD" {
			for _, m := range dockerHeredoc.FindAllStringSubmatch(cur.text, -1) {
				if m[2] != m[4] {
					return nil, errDockerfile
				}
				found := false
				for li++; li < len(lines); li++ {
					body := lines[li].text
					if m[1] == "-" {
						body = strings.TrimLeft(body, "\t")
					}
					if body == m[3] {
						found = true
						break
					}
				}
				if !found {
					return nil, errDockerfile
				}
			}
		}
		out = append(out, *cur)
		cur = nil
	}
	if cur != nil {
		out = append(out, *cur) // the file ends in a continuation
	}
	if len(out) == 0 {
		return nil, errDockerfile
	}
	seenFrom := false
	for _, in := range out {
		args := strings.TrimSpace(in.text[len(dockerKeyword(in.text)):])
		if args == "" {
			return nil, errDockerfile
		}
		switch in.cmd {
		case "FROM":
			seenFrom = true
		case "ARG":
		case "ONBUILD":
			next := strings.ToUpper(dockerKeyword(args))
			if !dockerInstructions[next] || next == "ONBUILD" || next == "FROM" || next == "MAINTAINER" {
				return nil, errDockerfile
			}
		}
		if !seenFrom && in.cmd != "ARG" && in.cmd != "FROM" {
			return nil, errDockerfile
		}
	}
	return out, nil
}

func (in *dockerInstr) add(text string, start int) {
	in.text += text
	for i := range text {
		in.offs = append(in.offs, start+i)
	}
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
