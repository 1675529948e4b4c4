package rewrite

import (
	"strconv"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/csharp"
)

// csharpLang rewrites C#: a whole string becomes
// System.Environment.GetEnvironmentVariable("NAME"); a secret inside a
// string splits it into a + concatenation, each piece keeping the string's
// own delimiters ($"...", @"..."). A const that held a secret becomes
// static readonly (a field) or a plain local; that is refused when the
// file uses it where C# needs a constant. Refused: attribute arguments,
// case labels, parameter defaults, UTF-8 literals, and a secret inside part
// of a multi-line raw string.
type csharpLang struct{}

func (csharpLang) name() string                { return "C#" }
func (csharpLang) grammar() *sitter.Language   { return csharp.GetLanguage() }
func (csharpLang) comment(n *sitter.Node) bool { return n.Type() == "comment" }
func (csharpLang) lookup(env string) string {
	return `System.Environment.GetEnvironmentVariable("` + env + `")`
}

func (csharpLang) literal(f *tsFile, n *sitter.Node) *tsLit {
	start, end := int(n.StartByte()), int(n.EndByte())
	switch n.Type() {
	case "string_literal":
		lit := tsDelimited(f, n, "string")
		if lit == nil {
			return nil
		}
		if last := n.Child(int(n.ChildCount()) - 1); last.Type() == "string_literal_encoding" {
			lit.kind = "utf8"
		}
		return lit
	case "verbatim_string_literal":
		text := f.text(n)
		if !strings.HasPrefix(text, `@"`) || !strings.HasSuffix(text, `"`) || len(text) < 3 {
			return nil
		}
		lit := &tsLit{node: n, kind: "verbatim", start: start, end: end,
			cstart: start + 2, cend: end - 1, open: `@"`, close: `"`}
		lit.escapes = doubledEscapes(f.src, lit.cstart, lit.cend, `"`)
		return lit
	case "raw_string_literal":
		cnt := int(n.ChildCount())
		if cnt < 2 {
			return nil
		}
		first, last := n.Child(0), n.Child(cnt-1)
		return &tsLit{node: n, kind: "raw", start: start, end: end,
			cstart: int(first.EndByte()), cend: int(last.StartByte()), open: f.text(first), close: f.text(last)}
	case "interpolated_string_expression":
		cnt := int(n.ChildCount())
		if cnt < 3 {
			return nil
		}
		quote, last := n.Child(1), n.Child(cnt-1)
		lit := &tsLit{node: n, kind: "interpolated", start: start, end: end,
			cstart: int(quote.EndByte()), cend: int(last.StartByte()),
			open: string(f.src[start:quote.EndByte()]), close: f.text(last)}
		for i := 2; i < cnt-1; i++ {
			c := n.Child(i)
			r := [2]int{int(c.StartByte()), int(c.EndByte())}
			switch c.Type() {
			case "interpolation":
				lit.holes = append(lit.holes, r)
			case "escape_sequence":
				lit.escapes = append(lit.escapes, r)
			}
		}
		lit.escapes = append(lit.escapes, doubledEscapes(f.src, lit.cstart, lit.cend, "{}")...)
		if strings.Contains(lit.open, "@") {
			lit.escapes = append(lit.escapes, doubledEscapes(f.src, lit.cstart, lit.cend, `"`)...)
		}
		return lit
	}
	return nil
}

// doubledEscapes are the ranges of doubled characters ("" in a verbatim
// string, {{ and }} in an interpolated one) between start and end.
func doubledEscapes(src []byte, start, end int, chars string) [][2]int {
	var out [][2]int
	for i := start; i+1 < end; i++ {
		if strings.IndexByte(chars, src[i]) >= 0 && src[i+1] == src[i] {
			out = append(out, [2]int{i, i + 2})
			i++
		}
	}
	return out
}

var csharpLooser = map[string]bool{"+": true, "==": true, "!=": true, "<": true, ">": true,
	"<=": true, ">=": true, "&&": true, "||": true, "??": true}

func (c csharpLang) replace(f *tsFile, lit *tsLit, segs []codeSeg) (string, *codeRefusal) {
	s := segs[0]
	if a := tsAncestor(lit.node, "attribute_list", "constant_pattern", "case_switch_label", "parameter"); a != nil {
		switch a.Type() {
		case "attribute_list":
			return "", refuseConst(s.rep, s.line, "the secret is in a C# attribute, which needs a constant")
		case "parameter":
			return "", refuseConst(s.rep, s.line, "the secret is a C# parameter default value, which must be a constant")
		}
		return "", refuseConst(s.rep, s.line, "the secret is a case label, which must be a constant")
	}
	if lit.kind == "utf8" {
		return "", refuse(s.rep, s.line, "the secret is a C# UTF-8 string literal")
	}
	if r := c.dropConst(f, lit, s); r != nil {
		return "", r
	}
	if lit.whole(segs) {
		return c.lookup(s.env), nil
	}
	if lit.kind == "raw" && strings.Contains(string(f.src[lit.start:lit.end]), "\n") {
		return "", refuse(s.rep, s.line, "the secret is part of a multi-line C# raw string")
	}
	expr := joinConcat(splitParts(f.src, lit.cstart, lit.cend, segs), lit.open, lit.close, " + ", c.lookup)
	if tsNeedsParens(f, lit.node, "binary_expression", csharpLooser, "member_access_expression",
		"invocation_expression", "element_access_expression", "cast_expression", "prefix_unary_expression",
		"postfix_unary_expression", "conditional_access_expression") {
		expr = "(" + expr + ")"
	}
	return expr, nil
}

// dropConst turns the const declaration the literal initialises into a
// static readonly field or a plain local variable.
func (csharpLang) dropConst(f *tsFile, lit *tsLit, s codeSeg) *codeRefusal {
	decl := tsAncestor(lit.node, "field_declaration", "local_declaration_statement")
	if decl == nil {
		return nil
	}
	mod := csharpConst(f, decl)
	if mod == nil {
		return nil
	}
	declarator := tsAncestor(lit.node, "variable_declarator")
	if declarator == nil {
		return nil
	}
	nameNode := declarator.ChildByFieldName("name")
	if nameNode == nil {
		nameNode = declarator.NamedChild(0)
	}
	name := f.text(nameNode)
	used := false
	tsWalk(f.root, func(n *sitter.Node) bool {
		if used {
			return false
		}
		if n.Type() != "identifier" || f.text(n) != name || n.Equal(nameNode) {
			return true
		}
		if tsAncestor(n, "attribute_list", "constant_pattern", "case_switch_label", "parameter") != nil {
			used = true
		} else if d := tsAncestor(n, "field_declaration", "local_declaration_statement"); d != nil && !d.Equal(decl) && csharpConst(f, d) != nil {
			used = true
		}
		return false
	})
	if used {
		return refuseConst(s.rep, s.line, "the C# constant "+name+" holding the secret is used where a constant is required, so it can't stop being const")
	}
	start, end := int(mod.StartByte()), int(mod.EndByte())
	if decl.Type() == "field_declaration" {
		f.addExtra("const@"+strconv.Itoa(start), edit{start, end, "static readonly"})
		return nil
	}
	for end < len(f.src) && (f.src[end] == ' ' || f.src[end] == '\t') {
		end++
	}
	f.addExtra("const@"+strconv.Itoa(start), edit{start, end, ""})
	return nil
}

// csharpConst is the const modifier of a declaration, or nil.
func csharpConst(f *tsFile, decl *sitter.Node) *sitter.Node {
	for i := 0; i < int(decl.NamedChildCount()); i++ {
		if c := decl.NamedChild(i); c.Type() == "modifier" && f.text(c) == "const" {
			return c
		}
	}
	return nil
}

func (csharpLang) finish(*tsFile) *codeRefusal { return nil }

func (c csharpLang) holder(f *tsFile, n, child *sitter.Node) (string, bool) {
	switch n.Type() {
	case "binary_expression", "parenthesized_expression":
		return "", true
	case "variable_declarator":
		if name := n.ChildByFieldName("name"); name != nil {
			return f.text(name), false
		}
	case "assignment_expression":
		if tsFieldIs(n, child, "right") {
			return c.target(f, n.ChildByFieldName("left")), false
		}
	case "argument":
		if name := n.ChildByFieldName("name"); name != nil {
			return f.text(name), false
		}
		return "", true
	case "argument_list":
		call := n.Parent()
		if call == nil || call.Type() != "invocation_expression" || tsArgIndex(n, child) != 1 {
			return "", false
		}
		fn := call.ChildByFieldName("function")
		if fn != nil && fn.Type() == "member_access_expression" {
			fn = fn.ChildByFieldName("name")
		}
		if fn != nil && codeSetter(f.text(fn)) {
			if a := tsFirstArg(n); a != nil && a.NamedChildCount() > 0 {
				return c.target(f, a.NamedChild(0)), false
			}
		}
	}
	return "", false
}

// target is the name an assignment target gives: x, this.X, cfg["x"].
func (c csharpLang) target(f *tsFile, n *sitter.Node) string {
	if n == nil {
		return ""
	}
	switch n.Type() {
	case "identifier":
		return f.text(n)
	case "member_access_expression":
		return c.target(f, n.ChildByFieldName("name"))
	case "element_access_expression":
		if args := n.ChildByFieldName("subscript"); args != nil {
			if a := tsFirstArg(args); a != nil && a.NamedChildCount() > 0 {
				return c.target(f, a.NamedChild(0))
			}
		}
	case "string_literal", "verbatim_string_literal", "raw_string_literal":
		return f.content(c, n)
	}
	return ""
}
