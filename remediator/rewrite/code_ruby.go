package rewrite

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/ruby"
)

// rubyLang rewrites Ruby: a whole string becomes ENV.fetch("NAME"); a
// secret inside a double-quoted string (or %Q, or a heredoc that
// interpolates) becomes #{ENV.fetch("NAME")}; inside a single-quoted
// string (or %q), the string is split and concatenated with +. Refused: a
// secret inside part of a non-interpolating heredoc, or inside part of a
// single-quoted string that is adjacent to another string literal.
type rubyLang struct{}

func (rubyLang) name() string                { return "Ruby" }
func (rubyLang) grammar() *sitter.Language   { return ruby.GetLanguage() }
func (rubyLang) lookup(env string) string    { return `ENV.fetch("` + env + `")` }
func (rubyLang) comment(n *sitter.Node) bool { return n.Type() == "comment" }

func (rubyLang) literal(f *tsFile, n *sitter.Node) *tsLit {
	switch n.Type() {
	case "string":
		lit := tsDelimited(f, n, "interp", "interpolation")
		if lit == nil {
			return nil
		}
		if lit.open == "'" || strings.HasPrefix(lit.open, "%q") {
			lit.kind = "plain"
			lit.escapes = backslashEscapes(f.src, lit.cstart, lit.cend)
		}
		return lit
	case "heredoc_body":
		cnt := int(n.ChildCount())
		if cnt == 0 {
			return nil
		}
		end := n.Child(cnt - 1)
		if end.Type() != "heredoc_end" {
			return nil
		}
		lit := &tsLit{node: n, kind: "heredoc", start: int(n.StartByte()), end: int(end.StartByte()),
			cstart: int(n.StartByte()), cend: int(end.StartByte())}
		for i := 0; i < cnt-1; i++ {
			c := n.Child(i)
			r := [2]int{int(c.StartByte()), int(c.EndByte())}
			switch c.Type() {
			case "interpolation":
				lit.holes = append(lit.holes, r)
			case "escape_sequence":
				lit.escapes = append(lit.escapes, r)
			}
		}
		if b := rubyHeredocStart(f, n); b == nil || strings.ContainsAny(f.text(b), "'`") {
			lit.kind = "heredoc-plain"
		}
		return lit
	}
	return nil
}

// rubyHeredocStart is the <<~EOS that opens a heredoc body: bodies follow
// their openings in order.
func rubyHeredocStart(f *tsFile, body *sitter.Node) *sitter.Node {
	var starts, bodies []*sitter.Node
	tsWalk(f.root, func(n *sitter.Node) bool {
		switch n.Type() {
		case "heredoc_beginning":
			starts = append(starts, n)
		case "heredoc_body":
			bodies = append(bodies, n)
		}
		return true
	})
	for i, b := range bodies {
		if b.Equal(body) && i < len(starts) {
			return starts[i]
		}
	}
	return nil
}

var rubyLooser = map[string]bool{"+": true, "==": true, "!=": true, "&&": true, "||": true,
	"and": true, "or": true, "<": true, ">": true, "<=": true, ">=": true}

func (r rubyLang) replace(f *tsFile, lit *tsLit, segs []codeSeg) (string, *codeRefusal) {
	s := segs[0]
	interp := func(env string) string { return "#{" + r.lookup(env) + "}" }
	parts := splitParts(f.src, lit.cstart, lit.cend, segs)
	parent := lit.node.Parent()
	chained := parent != nil && parent.Type() == "chained_string"
	switch {
	case lit.kind == "heredoc":
		return joinInterp(parts, "", "", nil, interp), nil
	case lit.kind == "heredoc-plain":
		return "", refuse(s.rep, s.line, "the secret is in a Ruby heredoc that does not interpolate")
	case lit.whole(segs) && chained:
		return `"` + interp(s.env) + `"`, nil
	case lit.whole(segs):
		return r.lookup(s.env), nil
	case lit.kind == "interp":
		return joinInterp(parts, lit.open, lit.close, nil, interp), nil
	case chained:
		return "", refuse(s.rep, s.line, "the secret is part of a single-quoted Ruby string next to another string")
	}
	expr := joinConcat(parts, lit.open, lit.close, " + ", r.lookup)
	if tsNeedsParens(f, lit.node, "binary", rubyLooser, "call", "element_reference", "unary") {
		expr = "(" + expr + ")"
	}
	return expr, nil
}

func (rubyLang) finish(*tsFile) *codeRefusal { return nil }

func (r rubyLang) holder(f *tsFile, n, child *sitter.Node) (string, bool) {
	switch n.Type() {
	case "binary", "parenthesized_statements", "chained_string":
		return "", true
	case "assignment", "operator_assignment":
		if tsFieldIs(n, child, "right") {
			return r.target(f, n.ChildByFieldName("left")), false
		}
	case "pair":
		if tsFieldIs(n, child, "value") {
			return r.target(f, n.ChildByFieldName("key")), false
		}
	case "argument_list":
		call := n.Parent()
		if call == nil || call.Type() != "call" || tsArgIndex(n, child) != 1 {
			return "", false
		}
		if fn := call.ChildByFieldName("method"); fn != nil && codeSetter(f.text(fn)) {
			return r.target(f, tsFirstArg(n)), false
		}
	}
	return "", false
}

// target is the name an assignment target or hash key gives.
func (r rubyLang) target(f *tsFile, n *sitter.Node) string {
	if n == nil {
		return ""
	}
	switch n.Type() {
	case "identifier", "constant", "hash_key_symbol":
		return f.text(n)
	case "instance_variable", "class_variable", "global_variable":
		return strings.TrimLeft(f.text(n), "@$")
	case "simple_symbol":
		return strings.TrimPrefix(f.text(n), ":")
	case "call":
		return r.target(f, n.ChildByFieldName("method"))
	case "element_reference":
		if n.NamedChildCount() >= 2 {
			return r.target(f, n.NamedChild(1))
		}
	case "string":
		return f.content(r, n)
	}
	return ""
}
