package rewrite

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/php"
)

// phpLang rewrites PHP: a whole string becomes getenv('NAME'); a secret
// inside a string splits it into a . concatenation. Refused: heredocs and
// nowdocs, and places PHP requires a constant expression (const, class
// constants, property defaults, parameter defaults, static variables, enum
// cases, attributes).
type phpLang struct{}

func (phpLang) name() string                { return "PHP" }
func (phpLang) grammar() *sitter.Language   { return php.GetLanguage() }
func (phpLang) lookup(env string) string    { return "getenv('" + env + "')" }
func (phpLang) comment(n *sitter.Node) bool { return n.Type() == "comment" }

func (phpLang) literal(f *tsFile, n *sitter.Node) *tsLit {
	switch n.Type() {
	case "string":
		return tsDelimited(f, n, "string")
	case "encapsed_string":
		lit := tsDelimited(f, n, "string")
		if lit == nil {
			return nil
		}
		for i := 1; i < int(n.ChildCount())-1; i++ {
			if c := n.Child(i); !tsIsOneOf(c.Type(), "string_content", "escape_sequence") {
				lit.holes = append(lit.holes, [2]int{int(c.StartByte()), int(c.EndByte())})
			}
		}
		return lit
	case "heredoc", "nowdoc":
		return &tsLit{node: n, kind: "heredoc", start: int(n.StartByte()), end: int(n.EndByte()),
			cstart: int(n.StartByte()), cend: int(n.EndByte())}
	}
	return nil
}

var phpLooser = map[string]bool{".": true, "==": true, "!=": true, "===": true, "!==": true, "<>": true,
	"<": true, ">": true, "<=": true, ">=": true, "&&": true, "||": true, "and": true, "or": true, "xor": true, "??": true}

func (p phpLang) replace(f *tsFile, lit *tsLit, segs []codeSeg) (string, *codeRefusal) {
	s := segs[0]
	if lit.kind == "heredoc" {
		return "", refuse(s.rep, s.line, "the secret is in a PHP heredoc or nowdoc")
	}
	if a := tsAncestor(lit.node, "const_declaration", "property_declaration", "simple_parameter",
		"property_promotion_parameter", "static_variable_declaration", "enum_case", "attribute"); a != nil {
		what := strings.ReplaceAll(a.Type(), "_", " ")
		return "", refuseConst(s.rep, s.line, "the secret is in a PHP "+what+", which needs a constant expression")
	}
	if lit.whole(segs) {
		return p.lookup(s.env), nil
	}
	expr := joinConcat(splitParts(f.src, lit.cstart, lit.cend, segs), lit.open, lit.close, " . ", p.lookup)
	if tsNeedsParens(f, lit.node, "binary_expression", phpLooser, "member_call_expression", "member_access_expression",
		"subscript_expression", "function_call_expression", "unary_op_expression", "cast_expression") {
		expr = "(" + expr + ")"
	}
	return expr, nil
}

func (phpLang) finish(*tsFile) *codeRefusal { return nil }

func (p phpLang) holder(f *tsFile, n, child *sitter.Node) (string, bool) {
	switch n.Type() {
	case "binary_expression", "parenthesized_expression", "argument":
		return "", true
	case "assignment_expression", "augmented_assignment_expression":
		if tsFieldIs(n, child, "right") {
			return p.target(f, n.ChildByFieldName("left")), false
		}
	case "array_element_initializer":
		if n.NamedChildCount() == 2 && n.NamedChild(1).Equal(child) {
			return p.target(f, n.NamedChild(0)), false
		}
	case "const_element":
		if c := n.NamedChild(0); c != nil && c.Type() == "name" {
			return f.text(c), false
		}
	case "property_initializer":
		if el := n.Parent(); el != nil && el.NamedChildCount() > 0 {
			return p.target(f, el.NamedChild(0)), false
		}
	case "arguments":
		call := n.Parent()
		if call == nil || tsArgIndex(n, child) != 1 {
			return "", false
		}
		var fn *sitter.Node
		switch call.Type() {
		case "function_call_expression":
			fn = call.ChildByFieldName("function")
		case "member_call_expression", "scoped_call_expression":
			fn = call.ChildByFieldName("name")
		}
		if fn != nil && codeSetter(f.text(fn)) {
			if a := tsFirstArg(n); a != nil && a.NamedChildCount() > 0 {
				return p.target(f, a.NamedChild(0)), false
			}
		}
	}
	return "", false
}

// target is the name an assignment target or array key gives.
func (p phpLang) target(f *tsFile, n *sitter.Node) string {
	if n == nil {
		return ""
	}
	switch n.Type() {
	case "variable_name":
		return strings.TrimPrefix(f.text(n), "$")
	case "name":
		return f.text(n)
	case "member_access_expression":
		return p.target(f, n.ChildByFieldName("name"))
	case "subscript_expression":
		if n.NamedChildCount() >= 2 {
			return p.target(f, n.NamedChild(1))
		}
	case "string", "encapsed_string":
		return f.content(p, n)
	}
	return ""
}
