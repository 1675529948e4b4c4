package rewrite

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/bash"
)

// shellLang rewrites shell scripts (bash grammar): a whole word or string
// (TOKEN=abc, "abc", 'abc', $'abc') becomes "${NAME}"; a secret inside a
// double-quoted string or a heredoc that expands becomes ${NAME}; inside a
// bare word, a single-quoted or an ANSI-C string, the word is split and
// "${NAME}" is put between the pieces (shell joins adjacent words). Refused:
// a quoted heredoc (no expansion), and a secret that is a command name.
type shellLang struct{}

func (shellLang) name() string                { return "shell" }
func (shellLang) grammar() *sitter.Language   { return bash.GetLanguage() }
func (shellLang) lookup(env string) string    { return `"${` + env + `}"` }
func (shellLang) comment(n *sitter.Node) bool { return n.Type() == "comment" }

func (shellLang) literal(f *tsFile, n *sitter.Node) *tsLit {
	start, end := int(n.StartByte()), int(n.EndByte())
	switch n.Type() {
	case "string":
		lit := tsDelimited(f, n, "string")
		if lit == nil {
			return nil
		}
		lit.escapes = nil
		for i := 1; i < int(n.ChildCount())-1; i++ {
			c := n.Child(i)
			if c.Type() == "string_content" {
				lit.escapes = append(lit.escapes, backslashEscapes(f.src, int(c.StartByte()), int(c.EndByte()))...)
			} else {
				lit.holes = append(lit.holes, [2]int{int(c.StartByte()), int(c.EndByte())})
			}
		}
		return lit
	case "raw_string":
		if end-start < 2 {
			return nil
		}
		return &tsLit{node: n, kind: "raw", start: start, end: end, cstart: start + 1, cend: end - 1, open: "'", close: "'"}
	case "ansi_c_string":
		if end-start < 3 {
			return nil
		}
		return &tsLit{node: n, kind: "ansi", start: start, end: end, cstart: start + 2, cend: end - 1,
			open: "$'", close: "'", escapes: backslashEscapes(f.src, start+2, end-1)}
	case "word":
		return &tsLit{node: n, kind: "word", start: start, end: end, cstart: start, cend: end,
			escapes: backslashEscapes(f.src, start, end)}
	case "heredoc_body":
		lit := &tsLit{node: n, kind: "heredoc", start: start, end: end, cstart: start, cend: end}
		for i := 0; i < int(n.ChildCount()); i++ {
			c := n.Child(i)
			if c.Type() != "heredoc_content" {
				lit.holes = append(lit.holes, [2]int{int(c.StartByte()), int(c.EndByte())})
			}
		}
		if start := shellHeredocStart(n); start == nil || strings.ContainsAny(f.text(start), `'"\`) {
			lit.kind = "heredoc-quoted"
		}
		return lit
	}
	return nil
}

// shellHeredocStart is the delimiter word of a heredoc body.
func shellHeredocStart(body *sitter.Node) *sitter.Node {
	for p := body.PrevSibling(); p != nil; p = p.PrevSibling() {
		if p.Type() == "heredoc_start" {
			return p
		}
	}
	return nil
}

func (sh shellLang) replace(f *tsFile, lit *tsLit, segs []codeSeg) (string, *codeRefusal) {
	s := segs[0]
	if p := lit.node.Parent(); p != nil && p.Type() == "command_name" {
		return "", refuse(s.rep, s.line, "the secret is a command name")
	}
	expand := func(env string) string { return "${" + env + "}" }
	parts := splitParts(f.src, lit.cstart, lit.cend, segs)
	if lit.kind == "string" || lit.kind == "word" || lit.kind == "heredoc" {
		// $ before the lookup would make $${NAME} ($$, the PID) or $"..."
		// (a translated string).
		for i, p := range parts {
			if p.env != "" && i > 0 && shellEndsWithDollar(parts[i-1].text) {
				return "", refuse(s.rep, s.line, "the secret follows a $ sign, which would change the expansion")
			}
		}
	}
	switch {
	case lit.kind == "heredoc":
		return joinInterp(parts, "", "", nil, expand), nil
	case lit.kind == "heredoc-quoted":
		return "", refuse(s.rep, s.line, "the secret is in a quoted heredoc, which does not expand variables")
	case lit.whole(segs):
		return sh.lookup(s.env), nil
	case lit.kind == "string":
		return joinInterp(parts, lit.open, lit.close, nil, expand), nil
	}
	// Adjacent words join: 'pre'"${NAME}"'post', pre"${NAME}"post.
	return joinConcat(parts, lit.open, lit.close, "", sh.lookup), nil
}

func (shellLang) finish(*tsFile) *codeRefusal { return nil }

func (shellLang) holder(f *tsFile, n, child *sitter.Node) (string, bool) {
	switch n.Type() {
	case "concatenation":
		return "", true
	case "variable_assignment":
		if tsFieldIs(n, child, "value") {
			return f.text(n.ChildByFieldName("name")), false
		}
	}
	return "", false
}

// shellEndsWithDollar reports whether text ends with an unescaped $.
func shellEndsWithDollar(text string) bool {
	n := 0
	for i := len(text) - 2; i >= 0 && text[i] == '\\'; i-- {
		n++
	}
	return strings.HasSuffix(text, "$") && n%2 == 0
}
