package rewrite

import (
	"errors"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// hclSyntax is HCL native syntax (.hcl, .tf, .tfvars), parsed with
// github.com/hashicorp/hcl/v2/hclsyntax. Values are string templates
// (quoted strings and heredocs) found in the syntax tree: attribute values,
// object items, tuple elements and function arguments, in every block. A
// template with interpolations can have its literal parts edited, not be
// replaced whole. References are written with "$${" so HCL does not read
// them as interpolations.
type hclSyntax struct{}

// HCL template kinds, as scalar.style.
const (
	hclQuoted = iota
	hclHeredoc
)

// hclHole stands for an interpolation in a template's decoded value: it can
// never be part of a literal.
const hclHole = "\x00"

func (hclSyntax) name() string { return "HCL" }

func (hclSyntax) parse(content []byte) error {
	_, err := hclBody(content)
	return err
}

func hclBody(content []byte) (*hclsyntax.Body, error) {
	f, diags := hclsyntax.ParseConfig(content, "config.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, errors.New("hcl: does not parse")
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, errors.New("hcl: not native syntax")
	}
	return body, nil
}

func (hclSyntax) scalars(content []byte) ([]scalar, error) {
	body, err := hclBody(content)
	if err != nil {
		return nil, err
	}
	w := hclWalker{src: content}
	w.body(body, "")
	return w.out, nil
}

type hclWalker struct {
	src []byte
	out []scalar
}

// body visits a body's attributes; a Terraform variable's default is
// named by the variable (variable "db_password" { default = "..." }).
func (w *hclWalker) body(b *hclsyntax.Body, variable string) {
	for name, a := range b.Attributes {
		if name == "default" && variable != "" {
			name = variable
		}
		w.expr(a.Expr, name)
	}
	for _, blk := range b.Blocks {
		label := ""
		if blk.Type == "variable" && len(blk.Labels) == 1 {
			label = blk.Labels[0]
		}
		w.body(blk.Body, label)
	}
}

func (w *hclWalker) expr(e hclsyntax.Expression, key string) {
	switch t := e.(type) {
	case *hclsyntax.TemplateExpr:
		r := t.SrcRange
		var v strings.Builder
		for _, p := range t.Parts {
			lit, ok := p.(*hclsyntax.LiteralValueExpr)
			if !ok || lit.Val.Type() != cty.String || lit.Val.IsNull() {
				v.WriteString(hclHole)
				continue
			}
			v.WriteString(lit.Val.AsString())
		}
		style := hclQuoted
		if strings.HasPrefix(string(w.src[r.Start.Byte:r.End.Byte]), "<<") {
			style = hclHeredoc
		}
		w.out = append(w.out, scalar{start: r.Start.Byte, end: r.End.Byte, value: v.String(), key: key, style: style})
	case *hclsyntax.ObjectConsExpr:
		for _, item := range t.Items {
			w.expr(item.ValueExpr, hclKey(item.KeyExpr, key))
		}
	case *hclsyntax.TupleConsExpr:
		for _, x := range t.Exprs {
			w.expr(x, key)
		}
	case *hclsyntax.FunctionCallExpr:
		for _, x := range t.Args {
			w.expr(x, key)
		}
	case *hclsyntax.ConditionalExpr:
		w.expr(t.TrueResult, key)
		w.expr(t.FalseResult, key)
	case *hclsyntax.ParenthesesExpr:
		w.expr(t.Expression, key)
	}
}

// hclKey is the name of an object item: a bare word or a literal string.
func hclKey(k hclsyntax.Expression, outer string) string {
	if ok, isKey := k.(*hclsyntax.ObjectConsKeyExpr); isKey {
		k = ok.Wrapped
	}
	if name := hcl.ExprAsKeyword(k); name != "" {
		return name
	}
	if v, diags := k.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
		return v.AsString()
	}
	return outer
}

func (hclSyntax) render(_ scalar, v string, _ dollars) (string, bool) {
	if strings.Contains(v, hclHole) || !configPrintable(v) {
		return "", false
	}
	return `"` + hclEscape(v, true) + `"`, true
}

func (hclSyntax) escape(sc scalar, s string, _ dollars) (string, bool) {
	if strings.Contains(s, hclHole) {
		return "", false
	}
	return hclEscape(s, sc.style == hclQuoted), true
}

// hclEscape writes s inside a quoted string (quoted) or a heredoc: template
// sequences are doubled ("$${", "%%{") so they stay literal text.
func hclEscape(s string, quoted bool) string {
	if quoted {
		s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
	}
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}
