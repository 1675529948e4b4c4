package rewrite

import (
	"bytes"
	"context"
	"strconv"

	sitter "github.com/smacker/go-tree-sitter"
)

// tsLanguage is what the tree-sitter engine needs from one language.
type tsLanguage interface {
	// name is the language's name for messages ("Python").
	name() string
	grammar() *sitter.Language
	// lookup is the environment lookup for env as written in a manual step.
	lookup(env string) string
	// comment reports whether n is a comment.
	comment(n *sitter.Node) bool
	// literal describes n if it is a string literal, else nil.
	literal(f *tsFile, n *sitter.Node) *tsLit
	// replace returns the text for lit with each segment (sorted, inside
	// the content, clear of holes and escapes) replaced by a lookup. It may
	// add edits elsewhere in the file with f.addExtra.
	replace(f *tsFile, lit *tsLit, segs []codeSeg) (string, *codeRefusal)
	// finish adds file-wide edits (an import) once every literal is done.
	finish(f *tsFile) *codeRefusal
	// holder names the identifier that n gives to its child holding the
	// string, or says to climb further (climb true) or stop with "" .
	holder(f *tsFile, n, child *sitter.Node) (name string, climb bool)
}

// tsLit is a string literal found in the tree.
type tsLit struct {
	node         *sitter.Node
	kind         string // language-specific: "template", "bytes", "heredoc", ...
	start, end   int    // the token a whole-string replacement replaces
	cstart, cend int    // the content between the delimiters
	open, close  string // the delimiters as written
	holes        [][2]int
	escapes      [][2]int
}

// whole reports whether segs is one secret that is the whole content.
func (l *tsLit) whole(segs []codeSeg) bool {
	return len(segs) == 1 && segs[0].start == l.cstart && segs[0].end == l.cend
}

// tsFile is one file being rewritten.
type tsFile struct {
	path  string
	src   []byte
	root  *sitter.Node
	lines lineIndex
	reps  []Replacement
	extra []edit
	keys  map[string]bool
	flags map[string]bool // language state, e.g. "import os needed"
}

// addExtra adds an edit outside the literals once per key.
func (f *tsFile) addExtra(key string, e edit) {
	if f.keys[key] {
		return
	}
	f.keys[key] = true
	f.extra = append(f.extra, e)
}

func (f *tsFile) text(n *sitter.Node) string { return n.Content(f.src) }

// content is the raw text between a string literal's delimiters, or "" if
// n is not a string literal.
func (f *tsFile) content(lang tsLanguage, n *sitter.Node) string {
	if n == nil {
		return ""
	}
	if l := lang.literal(f, n); l != nil {
		return string(f.src[l.cstart:l.cend])
	}
	return ""
}

// tsSource is a source-code format parsed with tree-sitter.
type tsSource struct {
	lang tsLanguage
}

func (t *tsSource) name() string { return t.lang.name() }

func (t *tsSource) apply(path string, content []byte, reps []Replacement, _ Options) (*Result, error) {
	out, r := t.rewrite(path, content, reps)
	if r != nil {
		return nil, codeUnsafe(path, reps, r, t.lang.lookup)
	}
	return &Result{Content: out, Env: codeEnv(reps)}, nil
}

func (t *tsSource) rewrite(path string, content []byte, reps []Replacement) ([]byte, *codeRefusal) {
	if r := checkCodeReps(reps); r != nil {
		return nil, r
	}
	root, ok := tsParse(content, t.lang.grammar())
	if !ok {
		return nil, refuse(0, 0, "the file does not parse as "+t.lang.name()+" before the edit")
	}
	f := &tsFile{path: path, src: content, root: root, lines: newLineIndex(content), reps: reps,
		keys: map[string]bool{}, flags: map[string]bool{}}
	occs, r := findCodeOccs(content, reps)
	if r != nil {
		return nil, r
	}

	type litSegs struct {
		lit  *tsLit
		segs []codeSeg
	}
	var groups []*litSegs
	byStart := map[[2]int]*litSegs{}
	for _, o := range occs {
		lit, r := t.literalAt(f, o)
		if r != nil {
			return nil, r
		}
		k := [2]int{lit.start, lit.end}
		g := byStart[k]
		if g == nil {
			g = &litSegs{lit: lit}
			byStart[k] = g
			groups = append(groups, g)
		}
		g.segs = append(g.segs, codeSeg{start: o.start, end: o.end, rep: o.rep, line: o.line, env: reps[o.rep].EnvName})
	}

	var edits []edit
	for _, g := range groups {
		if r := tsCheckSegs(g.lit, g.segs); r != nil {
			return nil, r
		}
		text, r := t.lang.replace(f, g.lit, g.segs)
		if r != nil {
			return nil, r
		}
		edits = append(edits, edit{g.lit.start, g.lit.end, text})
	}
	if r := t.lang.finish(f); r != nil {
		return nil, r
	}
	edits = append(edits, f.extra...)
	out, _, err := applyEdits(content, edits)
	if err != nil {
		return nil, refuse(0, 0, "the edits to the "+t.lang.name()+" file overlap")
	}
	if _, ok := tsParse(out, t.lang.grammar()); !ok {
		return nil, refuse(0, 0, "the edited file would not parse as "+t.lang.name())
	}
	if secretRemains(out, reps) {
		return nil, refuse(0, 0, "the secret would still be in the edited file")
	}
	return out, nil
}

// literalAt finds the string literal holding an occurrence, or explains
// why there is none.
func (t *tsSource) literalAt(f *tsFile, o codeOcc) (*tsLit, *codeRefusal) {
	for n := tsCovering(f.root, o.start, o.end); n != nil; n = n.Parent() {
		if t.lang.comment(n) {
			return nil, &codeRefusal{rep: o.rep, line: o.line, reason: "the secret is in a comment",
				manual: commentManual(f.path, o.line, f.reps[o.rep])}
		}
		if lit := t.lang.literal(f, n); lit != nil {
			return lit, nil
		}
	}
	return nil, refuse(o.rep, o.line, "the secret is not inside a single string literal")
}

// tsCheckSegs normalises a secret covering the whole literal to its
// content and refuses secrets that cross the delimiters, overlap an
// interpolation, or cut an escape sequence.
func tsCheckSegs(lit *tsLit, segs []codeSeg) *codeRefusal {
	for k, s := range segs {
		if s.start < lit.cstart || s.end > lit.cend {
			if s.start <= lit.cstart && s.end >= lit.cend && s.start >= lit.start && s.end <= lit.end && len(segs) == 1 {
				segs[k].start, segs[k].end = lit.cstart, lit.cend
				continue
			}
			return refuse(s.rep, s.line, "the secret spans the quotes of a string literal")
		}
		if overlapsAny(s.start, s.end, lit.holes) {
			return refuse(s.rep, s.line, "the secret overlaps an interpolation in the string")
		}
		if cutInside(s.start, lit.escapes) || cutInside(s.end, lit.escapes) {
			return refuse(s.rep, s.line, "the secret starts or ends inside an escape sequence")
		}
	}
	return nil
}

// identifier names what holds the string on line: the engine finds the
// string literal (the one containing literal when given), then climbs
// through the language's holders.
func (t *tsSource) identifier(content []byte, line int, literal string) string {
	root := tsParseAny(content, t.lang.grammar())
	if root == nil {
		return ""
	}
	f := &tsFile{src: content, root: root, lines: newLineIndex(content), keys: map[string]bool{}, flags: map[string]bool{}}
	lit := t.literalOnLine(f, line, literal)
	if lit == nil {
		return ""
	}
	child := lit.node
	for n := child.Parent(); n != nil; child, n = n, n.Parent() {
		name, climb := t.lang.holder(f, n, child)
		if !climb {
			return name
		}
	}
	return ""
}

// literalOnLine is the string literal on line that contains literal, else
// the first string literal on the line.
func (t *tsSource) literalOnLine(f *tsFile, line int, literal string) *tsLit {
	if literal != "" {
		for off := 0; ; {
			j := indexFrom(f.src, literal, off)
			if j < 0 {
				break
			}
			off = j + len(literal)
			if f.lines.line(j) > line || f.lines.line(off-1) < line {
				continue
			}
			for n := tsCovering(f.root, j, off); n != nil; n = n.Parent() {
				if lit := t.lang.literal(f, n); lit != nil {
					return lit
				}
			}
		}
	}
	var found *tsLit
	tsWalk(f.root, func(n *sitter.Node) bool {
		if found != nil || int(n.EndPoint().Row)+1 < line || int(n.StartPoint().Row)+1 > line {
			return false
		}
		if lit := t.lang.literal(f, n); lit != nil && int(n.StartPoint().Row)+1 == line {
			found = lit
			return false
		}
		return true
	})
	return found
}

func indexFrom(src []byte, s string, off int) int {
	if off > len(src) {
		return -1
	}
	if j := bytes.Index(src[off:], []byte(s)); j >= 0 {
		return off + j
	}
	return -1
}

// tsParse parses content and reports whether the tree is free of ERROR
// and MISSING nodes.
func tsParse(content []byte, lang *sitter.Language) (*sitter.Node, bool) {
	root := tsParseAny(content, lang)
	if root == nil || root.HasError() {
		return root, false
	}
	ok := true
	tsWalk(root, func(n *sitter.Node) bool {
		if n.IsMissing() || n.IsError() {
			ok = false
		}
		return ok
	})
	return root, ok
}

// tsParseAny parses content, errors and all; nil if the parser gave up.
func tsParseAny(content []byte, lang *sitter.Language) *sitter.Node {
	p := sitter.NewParser()
	p.SetLanguage(lang)
	tree, err := p.ParseCtx(context.Background(), nil, content)
	if err != nil || tree == nil {
		return nil
	}
	return tree.RootNode()
}

// tsWalk visits n and its descendants in document order; fn returning false
// skips the node's children.
func tsWalk(n *sitter.Node, fn func(*sitter.Node) bool) {
	if !fn(n) {
		return
	}
	for i := 0; i < int(n.ChildCount()); i++ {
		tsWalk(n.Child(i), fn)
	}
}

// tsCovering is the smallest node holding [s,e).
func tsCovering(root *sitter.Node, s, e int) *sitter.Node {
	n := root
	for {
		next := (*sitter.Node)(nil)
		for i := 0; i < int(n.ChildCount()); i++ {
			c := n.Child(i)
			if int(c.StartByte()) <= s && e <= int(c.EndByte()) {
				next = c
				break
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
}

// tsDelimited describes a literal whose first and last children are its
// delimiters; children of the given hole types are interpolations and
// "escape_sequence" children are escapes.
func tsDelimited(f *tsFile, n *sitter.Node, kind string, holeTypes ...string) *tsLit {
	cnt := int(n.ChildCount())
	if cnt < 2 {
		return nil
	}
	first, last := n.Child(0), n.Child(cnt-1)
	lit := &tsLit{node: n, kind: kind,
		start: int(n.StartByte()), end: int(n.EndByte()),
		cstart: int(first.EndByte()), cend: int(last.StartByte()),
		open: f.text(first), close: f.text(last)}
	for i := 1; i < cnt-1; i++ {
		c := n.Child(i)
		r := [2]int{int(c.StartByte()), int(c.EndByte())}
		switch {
		case c.Type() == "escape_sequence":
			lit.escapes = append(lit.escapes, r)
		case tsIsOneOf(c.Type(), holeTypes...):
			lit.holes = append(lit.holes, r)
		}
	}
	return lit
}

func tsIsOneOf(t string, types ...string) bool {
	for _, x := range types {
		if t == x {
			return true
		}
	}
	return false
}

// tsAncestor is the nearest ancestor of n (n excluded) of one of the types.
func tsAncestor(n *sitter.Node, types ...string) *sitter.Node {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if tsIsOneOf(p.Type(), types...) {
			return p
		}
	}
	return nil
}

// tsFieldIs reports whether child is parent's field.
func tsFieldIs(parent, child *sitter.Node, field string) bool {
	c := parent.ChildByFieldName(field)
	return c != nil && c.Equal(child)
}

// tsOperator is the operator of a binary expression ("+", "%"), or "".
func tsOperator(f *tsFile, n *sitter.Node) string {
	if op := n.ChildByFieldName("operator"); op != nil {
		return f.text(op)
	}
	// Grammars without an operator field: the first anonymous child
	// between the operands.
	for i := 1; i < int(n.ChildCount())-1; i++ {
		if c := n.Child(i); !c.IsNamed() {
			return f.text(c)
		}
	}
	return ""
}

// tsNeedsParens reports whether a concatenation put in place of n needs
// parentheses: n is the operand of a tighter-binding construct (member
// access, call, index, unary...), or of a binary operator other than the
// ones that bind looser than (or as) string concatenation.
func tsNeedsParens(f *tsFile, n *sitter.Node, binary string, looser map[string]bool, tight ...string) bool {
	p := n.Parent()
	if p == nil {
		return false
	}
	if p.Type() == binary {
		return !looser[tsOperator(f, p)]
	}
	return tsIsOneOf(p.Type(), tight...)
}

// tsArgIndex is the index of child among the named children of an
// argument list, or -1.
func tsArgIndex(list, child *sitter.Node) int {
	k := 0
	for i := 0; i < int(list.NamedChildCount()); i++ {
		c := list.NamedChild(i)
		if c.Type() == "comment" || c.Type() == "line_comment" || c.Type() == "block_comment" {
			continue
		}
		if c.Equal(child) {
			return k
		}
		k++
	}
	return -1
}

// tsFirstArg is the first named, non-comment child of an argument list.
func tsFirstArg(list *sitter.Node) *sitter.Node {
	for i := 0; i < int(list.NamedChildCount()); i++ {
		c := list.NamedChild(i)
		if c.Type() != "comment" && c.Type() != "line_comment" && c.Type() != "block_comment" {
			return c
		}
	}
	return nil
}

// deleteManual is the manual step for a secret in a docstring, a bare
// string statement or similar dead text.
func deleteManual(what, path string, line int, rep Replacement) string {
	return "delete the secret from the " + what + " on line " + strconv.Itoa(line) + " of " + path +
		" (the value now lives at " + rep.Ref.Vault() + ")"
}
