package rewrite

import (
	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/javascript"
	"github.com/smacker/go-tree-sitter/typescript/tsx"
	"github.com/smacker/go-tree-sitter/typescript/typescript"
)

type jsDialect int

const (
	jsPlain      jsDialect = iota // JavaScript, JSX included
	jsTypeScript                  // .ts
	jsTSX                         // .tsx
)

// jsLang rewrites JavaScript and TypeScript: a whole string becomes
// process.env.NAME (in braces as a JSX attribute value, in brackets as an
// object key); a secret inside a template literal becomes
// ${process.env.NAME}; inside a quoted string, the string is split and
// concatenated with +. Module paths, TypeScript literal types and enum
// members, and directive-like string statements are refused.
type jsLang struct {
	dialect jsDialect
}

func (j jsLang) name() string {
	if j.dialect == jsPlain {
		return "JavaScript"
	}
	return "TypeScript"
}

func (j jsLang) grammar() *sitter.Language {
	switch j.dialect {
	case jsTypeScript:
		return typescript.GetLanguage()
	case jsTSX:
		return tsx.GetLanguage()
	}
	return javascript.GetLanguage()
}

func (jsLang) lookup(env string) string { return "process.env." + env }
func (jsLang) comment(n *sitter.Node) bool {
	return n.Type() == "comment" || n.Type() == "html_comment"
}

func (jsLang) literal(f *tsFile, n *sitter.Node) *tsLit {
	switch n.Type() {
	case "string":
		return tsDelimited(f, n, "string")
	case "template_string":
		return tsDelimited(f, n, "template", "template_substitution")
	}
	return nil
}

// jsLooser are the binary operators that bind no tighter than +, so
// a + b + c can stand as their operand.
var jsLooser = map[string]bool{"+": true, "==": true, "!=": true, "===": true, "!==": true,
	"<": true, ">": true, "<=": true, ">=": true, "&&": true, "||": true, "??": true,
	"in": true, "instanceof": true}

func (j jsLang) replace(f *tsFile, lit *tsLit, segs []codeSeg) (string, *codeRefusal) {
	s := segs[0]
	parent := lit.node.Parent()
	if parent != nil && parent.Type() == "expression_statement" {
		return "", &codeRefusal{rep: s.rep, line: s.line, reason: "the secret is in a string statement (a directive)",
			manual: deleteManual("string statement", f.path, s.line, f.reps[s.rep])}
	}
	if a := tsAncestor(lit.node, "import_statement", "export_statement", "literal_type", "enum_body", "enum_assignment"); a != nil {
		switch a.Type() {
		case "literal_type":
			return "", refuse(s.rep, s.line, "the secret is a TypeScript literal type")
		case "enum_body", "enum_assignment":
			return "", refuseConst(s.rep, s.line, "the secret is a TypeScript enum member, which must be a constant")
		default:
			if src := a.ChildByFieldName("source"); src != nil && src.Equal(lit.node) {
				return "", refuse(s.rep, s.line, "the secret is in a module path")
			}
		}
	}
	parts := splitParts(f.src, lit.cstart, lit.cend, segs)
	var expr string
	switch {
	case lit.whole(segs):
		expr = j.lookup(s.env)
	case lit.kind == "template":
		return joinInterp(parts, lit.open, lit.close, nil, func(env string) string {
			return "${" + j.lookup(env) + "}"
		}), nil
	default:
		expr = joinConcat(parts, lit.open, lit.close, " + ", j.lookup)
		if tsNeedsParens(f, lit.node, "binary_expression", jsLooser, "member_expression", "subscript_expression",
			"call_expression", "new_expression", "unary_expression", "update_expression", "await_expression",
			"as_expression", "satisfies_expression", "non_null_expression", "type_assertion") {
			expr = "(" + expr + ")"
		}
	}
	if parent != nil {
		switch {
		case parent.Type() == "jsx_attribute":
			expr = "{" + expr + "}"
		case parent.Type() == "pair" && tsFieldIs(parent, lit.node, "key"):
			expr = "[" + expr + "]"
		}
	}
	return expr, nil
}

func (jsLang) finish(*tsFile) *codeRefusal { return nil }

func (j jsLang) holder(f *tsFile, n, child *sitter.Node) (string, bool) {
	switch n.Type() {
	case "binary_expression", "parenthesized_expression", "as_expression", "satisfies_expression",
		"non_null_expression", "type_assertion":
		return "", true
	case "variable_declarator":
		if tsFieldIs(n, child, "value") {
			return j.target(f, n.ChildByFieldName("name")), false
		}
	case "assignment_expression", "augmented_assignment_expression":
		if tsFieldIs(n, child, "right") {
			return j.target(f, n.ChildByFieldName("left")), false
		}
	case "pair":
		if tsFieldIs(n, child, "value") {
			return j.target(f, n.ChildByFieldName("key")), false
		}
	case "field_definition", "public_field_definition":
		if tsFieldIs(n, child, "value") {
			name := n.ChildByFieldName("property")
			if name == nil {
				name = n.ChildByFieldName("name")
			}
			return j.target(f, name), false
		}
	case "jsx_attribute":
		if c := n.NamedChild(0); c != nil && c.Type() == "property_identifier" {
			return f.text(c), false
		}
	case "arguments":
		call := n.Parent()
		if call == nil || call.Type() != "call_expression" || tsArgIndex(n, child) != 1 {
			return "", false
		}
		fn := call.ChildByFieldName("function")
		if fn != nil && fn.Type() == "member_expression" {
			fn = fn.ChildByFieldName("property")
		}
		if fn != nil && codeSetter(f.text(fn)) {
			return f.content(j, tsFirstArg(n)), false
		}
	}
	return "", false
}

// target is the name an assignment target, declarator or key gives.
func (j jsLang) target(f *tsFile, n *sitter.Node) string {
	if n == nil {
		return ""
	}
	switch n.Type() {
	case "identifier", "property_identifier", "private_property_identifier", "shorthand_property_identifier":
		return f.text(n)
	case "member_expression":
		return j.target(f, n.ChildByFieldName("property"))
	case "subscript_expression":
		return j.target(f, n.ChildByFieldName("index"))
	case "string":
		return f.content(j, n)
	}
	return ""
}
