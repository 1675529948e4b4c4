package rewrite

import (
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/python"
)

// pythonLang rewrites Python: a whole string becomes os.environ["NAME"]; a
// secret inside a string turns the string into an f-string with
// {os.environ['NAME']} in its place (braces elsewhere in a string that was
// not an f-string are doubled, which keeps its value); "import os" is
// added after the module docstring and __future__ imports when the module
// has none. Bytes literals are refused except as a whole string
// (os.environ["NAME"].encode()); docstrings and match-case patterns are
// refused.
type pythonLang struct{}

func (pythonLang) name() string                { return "Python" }
func (pythonLang) grammar() *sitter.Language   { return python.GetLanguage() }
func (pythonLang) lookup(env string) string    { return `os.environ["` + env + `"]` }
func (pythonLang) comment(n *sitter.Node) bool { return n.Type() == "comment" }

func (pythonLang) literal(f *tsFile, n *sitter.Node) *tsLit {
	if n.Type() != "string" {
		return nil
	}
	cnt := int(n.ChildCount())
	if cnt < 2 {
		return nil
	}
	first, last := n.Child(0), n.Child(cnt-1)
	if first.Type() != "string_start" || last.Type() != "string_end" {
		return nil
	}
	lit := &tsLit{node: n, start: int(n.StartByte()), end: int(n.EndByte()),
		cstart: int(first.EndByte()), cend: int(last.StartByte()),
		open: f.text(first), close: f.text(last)}
	prefix := strings.ToLower(strings.TrimRight(lit.open, `"'`))
	switch {
	case strings.Contains(prefix, "b"):
		lit.kind = "bytes"
	case strings.Contains(prefix, "f"):
		lit.kind = "f"
	}
	if !strings.Contains(prefix, "r") {
		// Also unknown escapes such as \s, which keep their backslash.
		lit.escapes = backslashEscapes(f.src, lit.cstart, lit.cend)
	}
	for i := 1; i < cnt-1; i++ {
		tsWalk(n.Child(i), func(c *sitter.Node) bool {
			r := [2]int{int(c.StartByte()), int(c.EndByte())}
			switch c.Type() {
			case "interpolation":
				lit.holes = append(lit.holes, r)
				return false
			case "escape_sequence", "escape_interpolation":
				lit.escapes = append(lit.escapes, r)
			}
			return true
		})
	}
	return lit
}

func (p pythonLang) replace(f *tsFile, lit *tsLit, segs []codeSeg) (string, *codeRefusal) {
	s := segs[0]
	parent := lit.node.Parent()
	if parent != nil && parent.Type() == "expression_statement" && parent.NamedChildCount() == 1 {
		return "", &codeRefusal{rep: s.rep, line: s.line, reason: "the secret is in a docstring or a string statement",
			manual: deleteManual("docstring", f.path, s.line, f.reps[s.rep])}
	}
	if tsAncestor(lit.node, "case_pattern") != nil {
		return "", refuseConst(s.rep, s.line, "the secret is a match-case pattern, which must be a literal")
	}
	f.flags["import os"] = true
	quote := lit.close[:1]
	other := `'`
	if quote == `'` {
		other = `"`
	}
	inConcat := parent != nil && parent.Type() == "concatenated_string"
	if lit.whole(segs) && !inConcat {
		expr := `os.environ[` + quote + s.env + quote + `]`
		if lit.kind == "bytes" {
			expr += ".encode()"
		}
		return expr, nil
	}
	if lit.kind == "bytes" {
		return "", refuse(s.rep, s.line, "the secret is part of a Python bytes literal")
	}
	// An f-string keeps the other parts in place; the lookup's quotes must
	// differ from the string's (Python before 3.12).
	prefix := strings.TrimRight(lit.open, `"'`)
	quotes := lit.open[len(prefix):]
	prefix = strings.NewReplacer("u", "", "U", "").Replace(prefix)
	text := func(t string) string { return t }
	if lit.kind != "f" {
		raw := strings.ContainsAny(prefix, "rR")
		prefix += "f"
		text = func(t string) string { return pyDoubleBraces(t, raw) }
	}
	parts := splitParts(f.src, lit.cstart, lit.cend, segs)
	return joinInterp(parts, prefix+quotes, lit.close, text, func(env string) string {
		return `{os.environ[` + other + env + other + `]}`
	}), nil
}

// finish adds "import os" unless the module imports it: after the module
// docstring, __future__ imports and the header comments, before the
// comments that belong to the first statement.
func (pythonLang) finish(f *tsFile) *codeRefusal {
	if !f.flags["import os"] {
		return nil
	}
	root := f.root
	var first *sitter.Node
	firstIdx := -1
	statements := 0
	for i := 0; i < int(root.NamedChildCount()); i++ {
		c := root.NamedChild(i)
		if c.Type() == "import_statement" && pyImportsOS(f, c) {
			return nil
		}
		if c.Type() == "comment" {
			continue
		}
		statements++
		if c.Type() == "future_import_statement" ||
			statements == 1 && c.Type() == "expression_statement" && c.NamedChildCount() == 1 && c.NamedChild(0).Type() == "string" {
			continue // __future__ imports and the module docstring come first
		}
		if first == nil {
			first, firstIdx = c, i
		}
	}
	if first == nil {
		return refuse(0, 0, "could not find where to add import os")
	}
	at := first
	for i := firstIdx - 1; i >= 0; i-- {
		c := root.NamedChild(i)
		if c.Type() != "comment" || int(c.EndPoint().Row)+1 != int(at.StartPoint().Row) {
			break
		}
		if i == 0 || c.PrevNamedSibling() == nil {
			break // the file's header comments stay on top
		}
		at = c
	}
	pos := int(at.StartByte())
	ls := lineStart(f.src, pos)
	if !blankBetween(f.src, ls, pos) {
		return refuse(0, 0, "could not find where to add import os")
	}
	nl := codeNewline(f.src)
	text := "import os" + nl + nl
	if first.Type() == "import_statement" || first.Type() == "import_from_statement" {
		text = "import os" + nl
	}
	f.addExtra("import os", edit{ls, ls, text})
	return nil
}

// pyImportsOS reports whether an import statement binds the name os.
func pyImportsOS(f *tsFile, n *sitter.Node) bool {
	for i := 0; i < int(n.NamedChildCount()); i++ {
		c := n.NamedChild(i)
		if c.Type() == "dotted_name" && f.text(c) == "os" {
			return true
		}
	}
	return false
}

func (p pythonLang) holder(f *tsFile, n, child *sitter.Node) (string, bool) {
	switch n.Type() {
	case "binary_operator", "concatenated_string", "parenthesized_expression":
		return "", true
	case "assignment", "augmented_assignment":
		if !tsFieldIs(n, child, "right") {
			return "", false
		}
		return p.target(f, n.ChildByFieldName("left")), false
	case "keyword_argument":
		if tsFieldIs(n, child, "value") {
			return f.text(n.ChildByFieldName("name")), false
		}
	case "pair":
		if tsFieldIs(n, child, "value") {
			return p.target(f, n.ChildByFieldName("key")), false
		}
	case "argument_list":
		call := n.Parent()
		if call == nil || call.Type() != "call" || tsArgIndex(n, child) != 1 {
			return "", false
		}
		fn := call.ChildByFieldName("function")
		if fn != nil && fn.Type() == "attribute" {
			fn = fn.ChildByFieldName("attribute")
		}
		if fn != nil && (codeSetter(f.text(fn)) || f.text(fn) == "setdefault") {
			return f.content(p, tsFirstArg(n)), false
		}
	}
	return "", false
}

// target is the name an assignment target or dictionary key gives.
func (p pythonLang) target(f *tsFile, n *sitter.Node) string {
	if n == nil {
		return ""
	}
	switch n.Type() {
	case "identifier":
		return f.text(n)
	case "attribute":
		return f.text(n.ChildByFieldName("attribute"))
	case "subscript":
		return p.target(f, n.ChildByFieldName("subscript"))
	case "string":
		return f.content(p, n)
	}
	return ""
}

// pyDoubleBraces doubles the braces of a string's text for an f-string,
// leaving \N{NAME} escapes alone (unless the string is raw, where they are
// plain text).
func pyDoubleBraces(t string, raw bool) string {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case !raw && c == '\\' && i+1 < len(t):
			if t[i+1] == 'N' && i+2 < len(t) && t[i+2] == '{' {
				j := strings.IndexByte(t[i:], '}')
				if j > 0 {
					b.WriteString(t[i : i+j+1])
					i += j
					continue
				}
			}
			b.WriteString(t[i : i+2])
			i++
		case c == '{' || c == '}':
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
