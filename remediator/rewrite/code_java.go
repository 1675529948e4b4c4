package rewrite

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/java"
)

// javaLang rewrites Java: a whole string (text blocks included) becomes
// System.getenv("NAME"); a secret inside a quoted string splits it into a
// + concatenation. Refused: a secret inside part of a text block, and
// strings that must be compile-time constants (annotation arguments, case
// labels). A static final String that held a secret is no longer a
// compile-time constant: a use of it in another file's annotation or case
// label will not compile, and nothing here can see that.
type javaLang struct{}

func (javaLang) name() string              { return "Java" }
func (javaLang) grammar() *sitter.Language { return java.GetLanguage() }
func (javaLang) lookup(env string) string  { return `System.getenv("` + env + `")` }
func (javaLang) comment(n *sitter.Node) bool {
	return n.Type() == "line_comment" || n.Type() == "block_comment"
}

func (javaLang) literal(f *tsFile, n *sitter.Node) *tsLit {
	if n.Type() != "string_literal" {
		return nil
	}
	lit := tsDelimited(f, n, "string", "string_interpolation")
	if lit != nil && lit.open == `"""` {
		lit.kind = "block"
	}
	return lit
}

// javaLooser are the binary operators that bind no tighter than +.
var javaLooser = map[string]bool{"+": true, "==": true, "!=": true, "<": true, ">": true,
	"<=": true, ">=": true, "&&": true, "||": true}

func (j javaLang) replace(f *tsFile, lit *tsLit, segs []codeSeg) (string, *codeRefusal) {
	s := segs[0]
	if a := tsAncestor(lit.node, "annotation", "marker_annotation", "annotation_argument_list", "element_value_pair", "switch_label"); a != nil {
		if a.Type() == "switch_label" {
			return "", refuseConst(s.rep, s.line, "the secret is a case label, which must be a constant")
		}
		return "", refuseConst(s.rep, s.line, "the secret is in a Java annotation, which needs a constant")
	}
	if lit.whole(segs) || lit.kind == "block" && javaBlockHoldsOnly(f.src, lit, segs) {
		return j.lookup(s.env), nil
	}
	if lit.kind == "block" {
		return "", refuse(s.rep, s.line, "the secret is part of a Java text block")
	}
	expr := joinConcat(splitParts(f.src, lit.cstart, lit.cend, segs), lit.open, lit.close, " + ", j.lookup)
	if tsNeedsParens(f, lit.node, "binary_expression", javaLooser, "method_invocation", "field_access",
		"array_access", "cast_expression", "unary_expression", "instanceof_expression") {
		expr = "(" + expr + ")"
	}
	return expr, nil
}

// javaBlockHoldsOnly reports whether a text block holds nothing but the
// secret: the line break after the opening delimiter, the secret, and at
// most whitespace and a line break before the closing one. (The block's
// value is the secret, give or take incidental indentation and a final
// line break.)
func javaBlockHoldsOnly(src []byte, lit *tsLit, segs []codeSeg) bool {
	if len(segs) != 1 {
		return false
	}
	pre := strings.TrimRight(string(src[lit.cstart:segs[0].start]), " \t")
	post := string(src[segs[0].end:lit.cend])
	return strings.TrimLeft(pre, " \t\r") == "\n" && strings.Count(post, "\n") <= 1 && strings.TrimSpace(post) == ""
}

func (javaLang) finish(*tsFile) *codeRefusal { return nil }

func (j javaLang) holder(f *tsFile, n, child *sitter.Node) (string, bool) {
	switch n.Type() {
	case "binary_expression", "parenthesized_expression":
		return "", true
	case "variable_declarator":
		if tsFieldIs(n, child, "value") {
			return f.text(n.ChildByFieldName("name")), false
		}
	case "assignment_expression":
		if tsFieldIs(n, child, "right") {
			return j.target(f, n.ChildByFieldName("left")), false
		}
	case "argument_list":
		call := n.Parent()
		if call == nil || call.Type() != "method_invocation" || tsArgIndex(n, child) != 1 {
			return "", false
		}
		if fn := call.ChildByFieldName("name"); fn != nil && codeSetter(f.text(fn)) {
			return f.content(j, tsFirstArg(n)), false
		}
	}
	return "", false
}

func (j javaLang) target(f *tsFile, n *sitter.Node) string {
	if n == nil {
		return ""
	}
	switch n.Type() {
	case "identifier":
		return f.text(n)
	case "field_access":
		return f.text(n.ChildByFieldName("field"))
	case "array_access":
		return f.content(j, n.ChildByFieldName("index"))
	}
	return ""
}
