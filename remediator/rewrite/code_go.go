package rewrite

import (
	"bytes"
	"go/ast"
	gofmt "go/format"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"strings"
)

// goSource rewrites Go files: each secret becomes os.Getenv("NAME"), "os"
// is imported if it is not, a constant that held a secret becomes a
// variable (os.Getenv is not a constant), and the result is gofmt-formatted.
// A file that was not gofmt-clean before is therefore reformatted as a
// whole.
type goSource struct{}

func (goSource) name() string { return "Go" }

func goLookup(env string) string { return `os.Getenv("` + env + `")` }

func (goSource) apply(path string, content []byte, reps []Replacement, _ Options) (*Result, error) {
	out, r := goRewrite(path, content, reps)
	if r != nil {
		return nil, codeUnsafe(path, reps, r, goLookup)
	}
	return &Result{Content: out, Env: codeEnv(reps)}, nil
}

func goRewrite(path string, content []byte, reps []Replacement) ([]byte, *codeRefusal) {
	if r := checkCodeReps(reps); r != nil {
		return nil, r
	}
	if _, _, err := goParse(content); err != nil {
		return nil, refuse(0, 0, "the file does not parse as Go before the edit")
	}
	src, r := goConstsToVars(content, reps)
	if r != nil {
		return nil, r
	}
	edited, r := goReplace(path, src, reps)
	if r != nil {
		return nil, r
	}
	out, err := gofmt.Source(edited)
	if err != nil {
		return nil, refuse(0, 0, "the edited file would not parse as Go")
	}
	if again, err := gofmt.Source(out); err != nil || !bytes.Equal(again, out) {
		return nil, refuse(0, 0, "the edited file would not be gofmt-clean")
	}
	if secretRemains(out, reps) {
		return nil, refuse(0, 0, "the secret would still be in the edited file")
	}
	return out, nil
}

func goParse(content []byte) (*token.FileSet, *ast.File, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", content, parser.ParseComments)
	return fset, f, err
}

// goLit is a string literal with its enclosing nodes.
type goLit struct {
	lit        *ast.BasicLit
	stack      []ast.Node // enclosing nodes, outermost first
	start, end int
}

func (g goLit) parent() ast.Node { return g.stack[len(g.stack)-1] }

func goStringLits(fset *token.FileSet, f *ast.File) []goLit {
	var lits []goLit
	ast.PreorderStack(f, nil, func(n ast.Node, stack []ast.Node) bool {
		if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			lits = append(lits, goLit{lit: bl, stack: append([]ast.Node(nil), stack...),
				start: fset.Position(bl.Pos()).Offset, end: fset.Position(bl.End()).Offset})
		}
		return true
	})
	return lits
}

// goLitFor returns the index of the literal holding [s,e), or -1.
func goLitFor(lits []goLit, s, e int) int {
	for i, l := range lits {
		if l.start <= s && e <= l.end {
			return i
		}
	}
	return -1
}

// goNotInString explains an occurrence outside every string literal.
func goNotInString(fset *token.FileSet, f *ast.File, o codeOcc, path string, reps []Replacement) *codeRefusal {
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if fset.Position(c.Pos()).Offset <= o.start && o.end <= fset.Position(c.End()).Offset {
				return &codeRefusal{rep: o.rep, line: o.line, reason: "the secret is in a comment",
					manual: commentManual(path, o.line, reps[o.rep])}
			}
		}
	}
	return refuse(o.rep, o.line, "the secret is not inside a single string literal")
}

// goConstsToVars turns each constant declaration that holds a secret into
// a variable declaration: "const" becomes "var" when the declaration has
// only such specs, else the spec moves out of the const group into its own
// var declaration right after it. It refuses when the constant is used in
// another constant's value in this file, or when the next spec of the group
// repeats its value implicitly.
func goConstsToVars(content []byte, reps []Replacement) ([]byte, *codeRefusal) {
	fset, f, err := goParse(content)
	if err != nil {
		return nil, refuse(0, 0, "the file does not parse as Go before the edit")
	}
	occs, r := findCodeOccs(content, reps)
	if r != nil {
		return nil, r
	}
	groups := goConstsHolding(goStringLits(fset, f), occs)
	if len(groups) == 0 {
		return content, nil
	}
	if r := goCheckConstsUnused(f, groups); r != nil {
		return nil, r
	}
	edits, r := goConstEdits(fset, content, groups)
	if r != nil {
		return nil, r
	}
	out, _, err := applyEdits(content, edits)
	if err != nil {
		return nil, refuse(0, 0, "the Go constants holding the secret could not be turned into variables")
	}
	if _, _, err := goParse(out); err != nil {
		return nil, refuse(0, 0, "the Go constants holding the secret could not be turned into variables")
	}
	return out, nil
}

// goConstGroup is a const declaration and those of its specs that hold a
// secret, each with the first occurrence found in it.
type goConstGroup struct {
	decl  *ast.GenDecl
	specs []goConstSpec
}

type goConstSpec struct {
	spec *ast.ValueSpec
	occ  codeOcc
}

// goConstsHolding finds the const declarations whose specs hold an
// occurrence, in the order of the occurrences. Occurrences outside string
// literals are left for goReplace to explain.
func goConstsHolding(lits []goLit, occs []codeOcc) []*goConstGroup {
	var groups []*goConstGroup
	byDecl := map[*ast.GenDecl]*goConstGroup{}
	for _, o := range occs {
		i := goLitFor(lits, o.start, o.end)
		if i < 0 {
			continue
		}
		decl, spec := goConstSpecOf(lits[i].stack)
		if spec == nil {
			continue
		}
		g := byDecl[decl]
		if g == nil {
			g = &goConstGroup{decl: decl}
			byDecl[decl] = g
			groups = append(groups, g)
		}
		if !g.has(spec) {
			g.specs = append(g.specs, goConstSpec{spec, o})
		}
	}
	return groups
}

// goConstSpecOf returns the innermost value spec enclosing a literal when
// it belongs to a const declaration, or nils.
func goConstSpecOf(stack []ast.Node) (*ast.GenDecl, *ast.ValueSpec) {
	for j := len(stack) - 1; j > 0; j-- {
		spec, ok := stack[j].(*ast.ValueSpec)
		if !ok {
			continue
		}
		decl, ok := stack[j-1].(*ast.GenDecl)
		if !ok || decl.Tok != token.CONST {
			return nil, nil
		}
		return decl, spec
	}
	return nil, nil
}

func (g *goConstGroup) has(spec *ast.ValueSpec) bool {
	for _, cs := range g.specs {
		if cs.spec == spec {
			return true
		}
	}
	return false
}

// goCheckConstsUnused refuses a constant to convert that has several names
// or that another constant's value uses: it can't become a variable.
func goCheckConstsUnused(f *ast.File, groups []*goConstGroup) *codeRefusal {
	converted := map[*ast.ValueSpec]bool{}
	for _, g := range groups {
		for _, cs := range g.specs {
			converted[cs.spec] = true
		}
	}
	for _, g := range groups {
		for _, cs := range g.specs {
			if len(cs.spec.Names) != 1 {
				return refuse(cs.occ.rep, cs.occ.line, "the secret is in a Go constant declaration with several names")
			}
			if name := cs.spec.Names[0].Name; goUsedInConst(f, name, converted) {
				return refuseConst(cs.occ.rep, cs.occ.line,
					"the Go constant "+name+" holding the secret is used in another constant, so it can't become a variable")
			}
		}
	}
	return nil
}

// goUsedInConst reports whether name appears in the value of a constant
// that is not being converted.
func goUsedInConst(f *ast.File, name string, converted map[*ast.ValueSpec]bool) bool {
	used := false
	ast.Inspect(f, func(n ast.Node) bool {
		gd, ok := n.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			return true
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			if converted[vs] {
				continue
			}
			for _, v := range vs.Values {
				ast.Inspect(v, func(m ast.Node) bool {
					if id, ok := m.(*ast.Ident); ok && id.Name == name {
						used = true
					}
					return !used
				})
			}
		}
		return true
	})
	return used
}

// goConstEdits are the edits converting the groups: "const" becomes "var"
// for a group that is all secrets; otherwise each secret's spec moves into
// a var declaration after its group.
func goConstEdits(fset *token.FileSet, content []byte, groups []*goConstGroup) ([]edit, *codeRefusal) {
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var edits []edit
	for _, g := range groups {
		d := g.decl
		if len(g.specs) == len(d.Specs) {
			edits = append(edits, edit{off(d.TokPos), off(d.TokPos) + len("const"), "var"})
			continue
		}
		var moved []string
		for _, cs := range g.specs {
			cut, text, r := goMoveSpec(fset, content, d, cs)
			if r != nil {
				return nil, r
			}
			edits = append(edits, cut)
			moved = append(moved, text)
		}
		end := off(d.End())
		edits = append(edits, edit{end, end, "\n\n" + strings.Join(moved, "\n\n")})
	}
	return edits, nil
}

// goMoveSpec returns the edit removing cs's lines (its doc and line
// comments included) from its const group and the var declaration to
// write after the group. It refuses a spec whose next spec repeats its
// value implicitly, or that shares its lines with other code.
func goMoveSpec(fset *token.FileSet, content []byte, d *ast.GenDecl, cs goConstSpec) (edit, string, *codeRefusal) {
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	idx := -1
	for k, s := range d.Specs {
		if s == cs.spec {
			idx = k
		}
	}
	if idx+1 < len(d.Specs) && len(d.Specs[idx+1].(*ast.ValueSpec).Values) == 0 {
		return edit{}, "", refuse(cs.occ.rep, cs.occ.line,
			"the next constant in the Go const group repeats this one's value, so it can't become a variable")
	}
	a, b := off(cs.spec.Pos()), off(cs.spec.End())
	if cs.spec.Doc != nil {
		a = off(cs.spec.Doc.Pos())
	}
	if cs.spec.Comment != nil {
		b = off(cs.spec.Comment.End())
	}
	ls, le := lineStart(content, a), lineEnd(content, b)
	if !blankBetween(content, ls, a) || len(bytes.TrimSpace(content[b:le])) != 0 {
		return edit{}, "", refuse(cs.occ.rep, cs.occ.line,
			"the Go constant holding the secret shares its line with other code, so it can't be moved into a var declaration")
	}
	sp := off(cs.spec.Pos())
	return edit{ls, le, ""}, string(content[a:sp]) + "var " + string(content[sp:b]), nil
}

// goReplace replaces every occurrence with os.Getenv and adds the import.
func goReplace(path string, content []byte, reps []Replacement) ([]byte, *codeRefusal) {
	fset, f, err := goParse(content)
	if err != nil {
		return nil, refuse(0, 0, "the file does not parse as Go before the edit")
	}
	occs, r := findCodeOccs(content, reps)
	if r != nil {
		return nil, r
	}
	lits := goStringLits(fset, f)
	osName, needImport := goOsName(f)
	if goDeclares(f, osName) {
		return nil, refuse(occs[0].rep, occs[0].line,
			"the file declares its own identifier "+osName+", which would hide the os package")
	}

	segs := map[int][]codeSeg{}
	var order []int
	for _, o := range occs {
		i := goLitFor(lits, o.start, o.end)
		if i < 0 {
			return nil, goNotInString(fset, f, o, path, reps)
		}
		if segs[i] == nil {
			order = append(order, i)
		}
		segs[i] = append(segs[i], codeSeg{start: o.start, end: o.end, rep: o.rep, line: o.line, env: reps[o.rep].EnvName})
	}
	var edits []edit
	for _, i := range order {
		text, r := goLitText(content, fset, lits[i], segs[i], osName)
		if r != nil {
			return nil, r
		}
		edits = append(edits, edit{lits[i].start, lits[i].end, text})
	}
	if needImport {
		edits = append(edits, goImportEdit(fset, f, content))
	}
	out, _, err := applyEdits(content, edits)
	if err != nil {
		return nil, refuse(0, 0, "the edits to the Go file overlap")
	}
	return out, nil
}

// goOsName is the name the file imports "os" under, or "os" and true when
// it must be imported.
func goOsName(f *ast.File) (string, bool) {
	for _, imp := range f.Imports {
		if p, err := strconv.Unquote(imp.Path.Value); err != nil || p != "os" {
			continue
		}
		if imp.Name == nil {
			return "os", false
		}
		if n := imp.Name.Name; n != "_" && n != "." {
			return n, false
		}
	}
	return "os", true
}

// goDeclares reports whether the file declares name itself (a variable,
// parameter, function...), which could hide the imported package.
func goDeclares(f *ast.File, name string) bool {
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == name && id.Obj != nil {
			found = true
		}
		return !found
	})
	return found
}

// goLitText is the replacement for one string literal.
func goLitText(content []byte, fset *token.FileSet, gl goLit, segs []codeSeg, osName string) (string, *codeRefusal) {
	first := segs[0]
	switch p := gl.parent().(type) {
	case *ast.ImportSpec:
		return "", refuse(first.rep, first.line, "the secret is in an import path")
	case *ast.Field:
		if p.Tag == gl.lit {
			return "", refuseConst(first.rep, first.line, "the secret is in a struct tag, which must be a constant")
		}
	}
	raw := content[gl.start] == '`'
	cstart, cend := gl.start+1, gl.end-1
	var escapes [][2]int
	if !raw {
		escapes = backslashEscapes(content, cstart, cend)
	}
	for k, s := range segs {
		if s.start < cstart || s.end > cend {
			if s.start <= cstart && s.end >= cend {
				segs[k].start, segs[k].end = cstart, cend
				continue
			}
			return "", refuse(s.rep, s.line, "the secret spans the quotes of a string literal")
		}
		if cutInside(s.start, escapes) || cutInside(s.end, escapes) {
			return "", refuse(s.rep, s.line, "the secret starts or ends inside an escape sequence")
		}
	}
	lookup := func(env string) string { return osName + `.Getenv("` + env + `")` }
	parts := splitParts(content, cstart, cend, segs)
	var expr string
	if len(parts) == 1 && parts[0].env != "" {
		expr = lookup(parts[0].env)
	} else {
		q := `"`
		if raw {
			q = "`"
		}
		expr = joinConcat(parts, q, q, " + ", lookup)
		if goNeedsParens(gl.parent(), gl.lit) {
			expr = "(" + expr + ")"
		}
	}
	// A declaration with a named string type needs a conversion.
	if spec, ok := gl.parent().(*ast.ValueSpec); ok && spec.Type != nil {
		if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "string" {
			t := string(content[fset.Position(spec.Type.Pos()).Offset:fset.Position(spec.Type.End()).Offset])
			expr = t + "(" + expr + ")"
		}
	}
	return expr, nil
}

// goNeedsParens reports whether a concatenation in place of lit needs
// parentheses to keep its meaning in parent.
func goNeedsParens(parent ast.Node, lit *ast.BasicLit) bool {
	switch p := parent.(type) {
	case *ast.SelectorExpr, *ast.IndexListExpr, *ast.UnaryExpr, *ast.StarExpr, *ast.TypeAssertExpr:
		return true
	case *ast.IndexExpr:
		return p.X == lit
	case *ast.SliceExpr:
		return p.X == lit
	case *ast.CallExpr:
		return p.Fun == lit
	case *ast.BinaryExpr:
		return p.Op.Precedence() > token.ADD.Precedence()
	}
	return false
}

// goImportEdit adds `"os"` to the imports: into the first parenthesised
// import block (its first group when that group is standard library, else
// as a group of its own), by turning a single `import "x"` into a block, or
// as a new import declaration after the package clause. gofmt then sorts
// the group.
func goImportEdit(fset *token.FileSet, f *ast.File, content []byte) edit {
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var imports []*ast.GenDecl
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			imports = append(imports, gd)
		}
	}
	for _, d := range imports {
		if !d.Lparen.IsValid() {
			continue
		}
		if len(d.Specs) == 0 {
			p := off(d.Lparen) + 1
			return edit{p, p, "\n\t\"os\"\n"}
		}
		first := d.Specs[0].(*ast.ImportSpec)
		pos := first.Pos()
		if first.Doc != nil {
			pos = first.Doc.Pos()
		}
		ls := lineStart(content, off(pos))
		if !blankBetween(content, ls, off(pos)) {
			continue
		}
		if goStdImport(first) {
			return edit{ls, ls, "\t\"os\"\n"}
		}
		return edit{ls, ls, "\t\"os\"\n\n"}
	}
	for _, d := range imports {
		if d.Lparen.IsValid() || len(d.Specs) != 1 {
			continue
		}
		spec := d.Specs[0].(*ast.ImportSpec)
		if spec.Path.Value == `"C"` || spec.Doc != nil || spec.Comment != nil {
			continue
		}
		text := string(content[off(spec.Pos()):off(spec.End())])
		if goStdImport(spec) {
			text = "import (\n\t" + text + "\n\t\"os\"\n)"
		} else {
			text = "import (\n\t\"os\"\n\n\t" + text + "\n)"
		}
		return edit{off(d.Pos()), off(d.End()), text}
	}
	if n := len(imports); n > 0 {
		p := lineEnd(content, off(imports[n-1].End()))
		return edit{p, p, "import \"os\"\n"}
	}
	p := lineEnd(content, off(f.Name.End()))
	if p == len(content) && (p == 0 || content[p-1] != '\n') {
		return edit{p, p, "\n\nimport \"os\"\n"}
	}
	return edit{p, p, "\nimport \"os\"\n"}
}

// goStdImport reports whether the import looks like the standard library
// (no dot in the first path element), as goimports groups them.
func goStdImport(spec *ast.ImportSpec) bool {
	p, err := strconv.Unquote(spec.Path.Value)
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}

// identifier names the variable, constant, field or map key that holds the
// string on line.
func (goSource) identifier(content []byte, line int, literal string) string {
	fset, f, err := goParse(content)
	if err != nil {
		return ""
	}
	lits := goStringLits(fset, f)
	sort.SliceStable(lits, func(a, b int) bool { return lits[a].start < lits[b].start })
	lines := newLineIndex(content)
	pick := -1
	for i, l := range lits {
		if lines.line(l.start) > line || lines.line(l.end-1) < line {
			continue
		}
		if literal == "" || strings.Contains(l.lit.Value, literal) {
			pick = i
			break
		}
		if pick < 0 {
			pick = i
		}
	}
	if pick < 0 {
		return ""
	}
	gl := lits[pick]
	var child ast.Node = gl.lit
	for j := len(gl.stack) - 1; j >= 0; j-- {
		switch p := gl.stack[j].(type) {
		case *ast.ParenExpr, *ast.BinaryExpr:
			child = p
			continue
		case *ast.CallExpr:
			if goIsConversion(p) {
				child = p
				continue
			}
			return goSetterKey(p, child)
		case *ast.ValueSpec:
			for k, v := range p.Values {
				if v == child && k < len(p.Names) {
					return p.Names[k].Name
				}
			}
			if len(p.Names) == 1 {
				return p.Names[0].Name
			}
			return ""
		case *ast.AssignStmt:
			for k, v := range p.Rhs {
				if v == child && k < len(p.Lhs) && len(p.Lhs) == len(p.Rhs) {
					return goExprName(p.Lhs[k])
				}
			}
			return ""
		case *ast.KeyValueExpr:
			if p.Value == child {
				return goExprName(p.Key)
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}

// goIsConversion reports whether call converts a string: []byte(s),
// string(s).
func goIsConversion(call *ast.CallExpr) bool {
	switch fn := call.Fun.(type) {
	case *ast.ArrayType:
		return true
	case *ast.Ident:
		return fn.Name == "string"
	}
	return false
}

// goSetterKey names the value passed as the second argument of a setter
// such as os.Setenv("STRIPE_KEY", "...") or m.Set("stripe_key", "...").
func goSetterKey(call *ast.CallExpr, child ast.Node) string {
	if len(call.Args) != 2 || call.Args[1] != child {
		return ""
	}
	var fn string
	switch f := call.Fun.(type) {
	case *ast.SelectorExpr:
		fn = f.Sel.Name
	case *ast.Ident:
		fn = f.Name
	}
	if !codeSetter(fn) {
		return ""
	}
	if bl, ok := call.Args[0].(*ast.BasicLit); ok && bl.Kind == token.STRING {
		s, err := strconv.Unquote(bl.Value)
		if err == nil {
			return s
		}
	}
	return ""
}

// codeSetter reports whether a function or method named fn stores a value
// under the key given as its first argument.
func codeSetter(fn string) bool {
	switch strings.ToLower(fn) {
	case "setenv", "putenv", "set", "put", "setproperty", "putifabsent", "store", "add", "define":
		return true
	}
	return false
}

// goExprName is the name an assignment target or key gives: x, s.Field,
// m["key"].
func goExprName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		if x.Name == "_" {
			return ""
		}
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.IndexExpr:
		return goExprName(x.Index)
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			if s, err := strconv.Unquote(x.Value); err == nil {
				return s
			}
		}
	}
	return ""
}
