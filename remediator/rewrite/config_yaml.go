package rewrite

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// yamlSyntax is YAML (every document of a stream), parsed with
// gopkg.in/yaml.v3. In docker-compose files (compose set), items of an
// "environment" or build "args" list ("- KEY=value") are values named KEY,
// and inline references are written with "$$" because compose
// interpolates "${...}" itself.
type yamlSyntax struct{ compose bool }

// YAML scalar styles, as scalar.style.
const (
	yamlPlain = iota
	yamlSingle
	yamlDouble
	yamlLiteral // |
	yamlFolded  // >
)

func (y yamlSyntax) name() string { return "YAML" }

// yarnrcSyntax is Yarn's .yarnrc.yml: YAML, where Yarn expands ${NAME}
// itself (npmAuthToken, npmAuthIdent), so the reference is always that,
// filled by pushvault exec from vault.env.
type yarnrcSyntax struct{ yamlSyntax }

var _ envResolver = yarnrcSyntax{}

func (yarnrcSyntax) envRef(name string) string { return "${" + name + "}" }

func (y yamlSyntax) parse(content []byte) error {
	_, err := yamlDocs(content)
	return err
}

func yamlDocs(content []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

func (y yamlSyntax) inline(r Replacement, s Style) string {
	if s == StyleEnv {
		return "${" + r.EnvName + "}"
	}
	if y.compose {
		return "$" + r.Ref.Inline()
	}
	return r.Ref.Inline()
}

func (y yamlSyntax) scalars(content []byte) ([]scalar, error) {
	docs, err := yamlDocs(content)
	if err != nil {
		return nil, err
	}
	w := yamlWalker{src: content, lines: newLineIndex(content), compose: y.compose}
	for _, d := range docs {
		w.secretData = kubernetesSecretData(d)
		w.walk(d, "", "", false)
	}
	return w.out, nil
}

type yamlWalker struct {
	src     []byte
	lines   lineIndex
	compose bool
	out     []scalar
	// secretData is the data mapping of the document being walked when it
	// is a Kubernetes Secret, whose values are base64-encoded.
	secretData *yaml.Node
}

// kubernetesSecretData returns the data mapping of a document that is a
// Kubernetes Secret (apiVersion v1, kind Secret), or nil.
func kubernetesSecretData(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var kind, version string
	var data *yaml.Node
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		switch v := m[i+1]; m[i].Value {
		case "kind":
			kind = v.Value
		case "apiVersion":
			version = v.Value
		case "data":
			data = v
		}
	}
	if kind != "Secret" || version != "v1" || data == nil || data.Kind != yaml.MappingNode {
		return nil
	}
	return data
}

// walk visits n, whose innermost mapping key is key; seqKey is that key
// when n is an item of a sequence (docker-compose "environment" lists).
func (w *yamlWalker) walk(n *yaml.Node, key, seqKey string, flow bool) {
	flow = flow || n.Style&yaml.FlowStyle != 0
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, key, seqKey, flow)
		}
	case yaml.MappingNode:
		// A Kubernetes-style {name: X, value: secret} pair names the value X.
		named := ""
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if (k.Value == "name" || k.Value == "key") && v.Kind == yaml.ScalarNode {
				named = v.Value
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := k.Value
			if name == "value" && named != "" {
				name = named
			}
			if n == w.secretData && v.Kind == yaml.ScalarNode {
				w.encodedValue(v, name, flow)
				continue
			}
			w.walk(v, name, "", flow)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			w.walk(c, key, key, flow)
		}
	case yaml.ScalarNode:
		sc, ok := w.scalar(n, flow)
		if !ok {
			return
		}
		sc.key = key
		if w.compose && (seqKey == "environment" || seqKey == "args") {
			name, _, ok := strings.Cut(n.Value, "=")
			if !ok || strings.TrimSpace(name) == "" {
				return // "- KEY" takes the value from the host: nothing here
			}
			sc.prefix = name + "="
			sc.key = strings.TrimSpace(name)
		}
		w.out = append(w.out, sc)
	}
}

// encodedValue adds a value of a Kubernetes Secret's data, named key, as
// the text it encodes; a value that is not base64 of text is added as it
// is written.
func (w *yamlWalker) encodedValue(n *yaml.Node, key string, flow bool) {
	sc, ok := w.scalar(n, flow)
	if !ok {
		return
	}
	sc.key = key
	if dec, ok := decodeBase64Text(n.Value); ok && sc.style != yamlLiteral && sc.style != yamlFolded {
		sc.value, sc.encoded = dec, true
	}
	w.out = append(w.out, sc)
}

// scalar finds n's token in the text; false when its extent can't be
// established (a plain scalar folded over several lines).
func (w *yamlWalker) scalar(n *yaml.Node, flow bool) (scalar, bool) {
	ls := w.lines.start(n.Line)
	if ls < 0 {
		return scalar{}, false
	}
	off := ls
	for col := 1; col < n.Column && off < len(w.src); col++ {
		_, size := utf8.DecodeRune(w.src[off:])
		off += size
	}
	// skip an anchor and a tag written before the value
	for off < len(w.src) && (w.src[off] == '&' || w.src[off] == '!') {
		for off < len(w.src) && !isYAMLSpace(w.src[off]) {
			off++
		}
		for off < len(w.src) && isYAMLSpace(w.src[off]) {
			off++
		}
	}
	if off >= len(w.src) {
		return scalar{}, false
	}
	sc := scalar{start: off, value: n.Value, flow: flow}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		sc.style = yamlDouble
		end, ok := yamlQuotedEnd(w.src, off, '"', '\\')
		if !ok {
			return scalar{}, false
		}
		sc.end = end
	case n.Style&yaml.SingleQuotedStyle != 0:
		sc.style = yamlSingle
		end, ok := yamlQuotedEnd(w.src, off, '\'', 0)
		if !ok {
			return scalar{}, false
		}
		sc.end = end
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		sc.style = yamlLiteral
		if n.Style&yaml.FoldedStyle != 0 {
			sc.style = yamlFolded
		}
		if !w.block(&sc, n) {
			return scalar{}, false
		}
	default:
		sc.style = yamlPlain
		if n.Value == "" || !bytes.HasPrefix(w.src[off:], []byte(n.Value)) {
			return scalar{}, false
		}
		sc.end = off + len(n.Value)
	}
	return sc, true
}

// block finds the extent of a block scalar whose indicator is at sc.start:
// the header line, then every line that is blank or indented at least as
// much as the first content line. The header's comment is kept as trailer.
func (w *yamlWalker) block(sc *scalar, n *yaml.Node) bool {
	src := w.src
	eol := bytes.IndexByte(src[sc.start:], '\n')
	if eol < 0 {
		return false
	}
	header := string(src[sc.start : sc.start+eol])
	indicators, comment, hasComment := strings.Cut(header, "#")
	if strings.ContainsAny(indicators, "123456789") {
		return false // explicit indentation: not worth guessing
	}
	if hasComment {
		sc.trailer = " #" + strings.TrimRight(comment, " \t\r")
	}
	pos := sc.start + eol + 1
	indent := -1
	end := -1
	var body []string
	for pos < len(src) {
		le := bytes.IndexByte(src[pos:], '\n')
		lineEnd := len(src)
		if le >= 0 {
			lineEnd = pos + le
		}
		line := strings.TrimRight(string(src[pos:lineEnd]), "\r")
		if strings.TrimSpace(line) == "" {
			body = append(body, "")
		} else {
			lead := len(line) - len(strings.TrimLeft(line, " "))
			if indent < 0 {
				indent = lead
			}
			if lead < indent || indent == 0 {
				break
			}
			body = append(body, line[indent:])
			end = pos + len(line)
		}
		if le < 0 {
			break
		}
		pos = lineEnd + 1
	}
	if end < 0 {
		return false
	}
	sc.end = end
	sc.indent = indent
	if sc.style == yamlLiteral {
		// check the extent against what the parser read
		got := strings.TrimRight(strings.Join(body, "\n"), "\n")
		if got != strings.TrimRight(n.Value, "\n") {
			return false
		}
	}
	return true
}

func isYAMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// yamlQuotedEnd returns the offset after the quoted token starting at off.
// With esc 0, a doubled quote stands for one (YAML single quotes).
func yamlQuotedEnd(src []byte, off int, q, esc byte) (int, bool) {
	if off >= len(src) || src[off] != q {
		return 0, false
	}
	for i := off + 1; i < len(src); i++ {
		switch {
		case esc != 0 && src[i] == esc:
			i++
		case src[i] == q:
			if esc == 0 && i+1 < len(src) && src[i+1] == q {
				i++
				continue
			}
			return i + 1, true
		}
	}
	return 0, false
}

func (y yamlSyntax) render(sc scalar, v string, _ dollars) (string, bool) {
	if sc.encoded {
		v = base64.StdEncoding.EncodeToString([]byte(v))
	}
	switch sc.style {
	case yamlPlain:
		if yamlPlainOK(v, sc.flow) {
			return v, true
		}
	case yamlSingle:
		if !strings.ContainsAny(v, "\n\r") && configPrintable(v) {
			return "'" + strings.ReplaceAll(v, "'", "''") + "'", true
		}
	case yamlLiteral:
		if body := strings.TrimRight(v, "\n"); strings.Contains(body, "\n") && configPrintable(strings.ReplaceAll(body, "\n", "")) &&
			!strings.HasPrefix(body, " ") {
			// still multi-line: keep it a literal block
			chomp := "|-"
			switch {
			case strings.HasSuffix(v, "\n\n"):
				chomp = "|+"
			case strings.HasSuffix(v, "\n"):
				chomp = "|"
			}
			pad := strings.Repeat(" ", sc.indent)
			var b strings.Builder
			b.WriteString(chomp)
			for _, l := range strings.Split(strings.TrimRight(v, "\n"), "\n") {
				b.WriteString("\n")
				if l != "" {
					b.WriteString(pad + l)
				}
			}
			return b.String(), true
		}
	}
	return `"` + yamlEscapeDouble(v) + `"`, true
}

func (y yamlSyntax) escape(sc scalar, s string, _ dollars) (string, bool) {
	if sc.encoded {
		return "", false // base64 is re-encoded whole: see render
	}
	switch sc.style {
	case yamlPlain:
		if strings.ContainsAny(s, "\n\r") || strings.Contains(s, ": ") || strings.Contains(s, " #") ||
			strings.HasSuffix(s, ":") || (sc.flow && strings.ContainsAny(s, ",[]{}")) {
			return "", false
		}
		return s, true
	case yamlSingle:
		if strings.ContainsAny(s, "\n\r") {
			return "", false
		}
		return strings.ReplaceAll(s, "'", "''"), true
	case yamlDouble:
		return yamlEscapeDouble(s), true
	case yamlLiteral:
		return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", sc.indent)), true
	default: // folded: a newline would fold into a space
		if strings.Contains(s, "\n") {
			return "", false
		}
		return s, true
	}
}

// yamlPlainOK reports whether v can be written as a plain scalar that reads
// back as the string v.
func yamlPlainOK(v string, flow bool) bool {
	if v == "" || strings.TrimSpace(v) != v || !configPrintable(v) || strings.ContainsAny(v, "\n\r\t") ||
		strings.ContainsRune("-?:,[]{}#&*!|>'\"%@`", rune(v[0])) ||
		strings.Contains(v, ": ") || strings.Contains(v, " #") || strings.HasSuffix(v, ":") ||
		(flow && strings.ContainsAny(v, ",[]{}")) {
		return false
	}
	var got any
	if err := yaml.Unmarshal([]byte("v: "+v), &got); err != nil {
		return false
	}
	m, ok := got.(map[string]any)
	return ok && m["v"] == v
}

// yamlEscapeDouble escapes s for a double-quoted YAML scalar.
func yamlEscapeDouble(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// configPrintable reports whether s has no control characters other than
// newline, tab and carriage return.
func configPrintable(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}
