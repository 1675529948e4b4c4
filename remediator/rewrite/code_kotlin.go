package rewrite

import (
	"strconv"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/kotlin"
)

// kotlinLang rewrites Kotlin: a whole string becomes System.getenv("NAME");
// a secret inside a string becomes the template ${System.getenv("NAME")}.
// A `const val` that held a secret loses its const modifier (a lookup is
// not a compile-time constant); that is refused when the file uses the
// constant in an annotation or another const val. Strings in annotations
// are refused.
type kotlinLang struct{}

func (kotlinLang) name() string              { return "Kotlin" }
func (kotlinLang) grammar() *sitter.Language { return kotlin.GetLanguage() }
func (kotlinLang) lookup(env string) string  { return `System.getenv("` + env + `")` }
func (kotlinLang) comment(n *sitter.Node) bool {
	return n.Type() == "line_comment" || n.Type() == "multiline_comment"
}

func (kotlinLang) literal(f *tsFile, n *sitter.Node) *tsLit {
	if n.Type() != "string_literal" {
		return nil
	}
	text := f.text(n)
	q := `"`
	if strings.HasPrefix(text, `"""`) {
		q = `"""`
	}
	if len(text) < 2*len(q) || !strings.HasSuffix(text, q) {
		return nil
	}
	lit := &tsLit{node: n, start: int(n.StartByte()), end: int(n.EndByte()), open: q, close: q}
	lit.cstart, lit.cend = lit.start+len(q), lit.end-len(q)
	if q == `"""` {
		lit.kind = "raw"
	}
	for i := 0; i < int(n.ChildCount()); i++ {
		c := n.Child(i)
		s, e := int(c.StartByte()), int(c.EndByte())
		if c.Type() != "string_content" {
			lit.holes = append(lit.holes, [2]int{s, e})
			continue
		}
		if lit.kind != "raw" {
			lit.escapes = append(lit.escapes, backslashEscapes(f.src, s, e)...)
		}
	}
	return lit
}

func (k kotlinLang) replace(f *tsFile, lit *tsLit, segs []codeSeg) (string, *codeRefusal) {
	s := segs[0]
	if tsAncestor(lit.node, "annotation") != nil {
		return "", refuseConst(s.rep, s.line, "the secret is in a Kotlin annotation, which needs a constant")
	}
	if r := k.dropConst(f, lit, s); r != nil {
		return "", r
	}
	if lit.whole(segs) {
		return k.lookup(s.env), nil
	}
	return joinInterp(splitParts(f.src, lit.cstart, lit.cend, segs), lit.open, lit.close, nil, func(env string) string {
		return "${" + k.lookup(env) + "}"
	}), nil
}

// dropConst removes the const modifier of the property the literal
// initialises.
func (kotlinLang) dropConst(f *tsFile, lit *tsLit, s codeSeg) *codeRefusal {
	prop := tsAncestor(lit.node, "property_declaration")
	if prop == nil {
		return nil
	}
	mod := kotlinConst(f, prop)
	if mod == nil {
		return nil
	}
	name := ""
	for i := 0; i < int(prop.NamedChildCount()); i++ {
		if c := prop.NamedChild(i); c.Type() == "variable_declaration" && c.NamedChildCount() > 0 {
			name = f.text(c.NamedChild(0))
		}
	}
	used := false
	tsWalk(f.root, func(n *sitter.Node) bool {
		if used {
			return false
		}
		if n.Type() != "simple_identifier" || f.text(n) != name {
			return true
		}
		if tsAncestor(n, "annotation") != nil {
			used = true
		} else if p := tsAncestor(n, "property_declaration"); p != nil && !p.Equal(prop) && kotlinConst(f, p) != nil {
			used = true
		}
		return false
	})
	if used {
		return refuseConst(s.rep, s.line, "the Kotlin constant "+name+" holding the secret is used where a constant is required, so it can't stop being const")
	}
	start, end := int(mod.StartByte()), int(mod.EndByte())
	for end < len(f.src) && (f.src[end] == ' ' || f.src[end] == '\t') {
		end++
	}
	f.addExtra("const@"+strconv.Itoa(start), edit{start, end, ""})
	return nil
}

// kotlinConst is the const modifier of a property declaration, or nil.
func kotlinConst(f *tsFile, prop *sitter.Node) *sitter.Node {
	for i := 0; i < int(prop.NamedChildCount()); i++ {
		c := prop.NamedChild(i)
		if c.Type() != "modifiers" {
			continue
		}
		for k := 0; k < int(c.NamedChildCount()); k++ {
			if m := c.NamedChild(k); m.Type() == "property_modifier" && f.text(m) == "const" {
				return m
			}
		}
	}
	return nil
}

func (kotlinLang) finish(*tsFile) *codeRefusal { return nil }

func (k kotlinLang) holder(f *tsFile, n, child *sitter.Node) (string, bool) {
	switch n.Type() {
	case "additive_expression", "parenthesized_expression":
		return "", true
	case "property_declaration":
		for i := 0; i < int(n.NamedChildCount()); i++ {
			if c := n.NamedChild(i); c.Type() == "variable_declaration" && c.NamedChildCount() > 0 {
				return f.text(c.NamedChild(0)), false
			}
		}
	case "assignment":
		target := n.NamedChild(0)
		if target == nil || target.Equal(child) || target.Type() != "directly_assignable_expression" {
			return "", false
		}
		return k.target(f, target), false
	case "value_argument":
		if c := n.NamedChild(0); c != nil && c.Type() == "simple_identifier" && !c.Equal(child) {
			return f.text(c), false
		}
	case "infix_expression":
		// mapOf("stripe_key" to "...")
		if n.NamedChildCount() == 3 && n.NamedChild(2).Equal(child) && f.text(n.NamedChild(1)) == "to" {
			return f.content(k, n.NamedChild(0)), false
		}
	}
	return "", false
}

// target names a directly assignable expression: x, this.x, m["x"].
func (k kotlinLang) target(f *tsFile, n *sitter.Node) string {
	cnt := int(n.NamedChildCount())
	if cnt == 0 {
		return ""
	}
	last := n.NamedChild(cnt - 1)
	switch last.Type() {
	case "simple_identifier":
		return f.text(last)
	case "navigation_suffix":
		if c := last.NamedChild(0); c != nil {
			return f.text(c)
		}
	case "indexing_suffix":
		return f.content(k, last.NamedChild(0))
	}
	return ""
}
