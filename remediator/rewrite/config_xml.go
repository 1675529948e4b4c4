package rewrite

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// xmlSyntax is XML (.xml, and .config for .NET app.config/web.config),
// parsed with encoding/xml in strict mode, every token decoded. Values are
// element text (including CDATA) and attribute values, located with the
// decoder's offsets. An attribute "value" (or "connectionString") next to
// a "key" or "name" attribute, as in <add key="StripeKey" value="..."/>, is
// named by that attribute.
type xmlSyntax struct{}

// mavenSettingsSyntax is Maven's settings.xml: XML, where Maven expands
// ${env.NAME} itself (the <servers> passwords and tokens that leak there),
// so the reference is always that, filled by pushvault exec from vault.env.
type mavenSettingsSyntax struct{ xmlSyntax }

var _ envResolver = mavenSettingsSyntax{}

func (mavenSettingsSyntax) envRef(name string) string { return "${env." + name + "}" }

// XML value kinds, as scalar.style.
const (
	xmlText = iota
	xmlCDATA
	xmlAttr
)

func (xmlSyntax) name() string { return "XML" }

func (xmlSyntax) parse(content []byte) error {
	_, err := xmlScan(content)
	return err
}

func (xmlSyntax) scalars(content []byte) ([]scalar, error) {
	return xmlScan(content)
}

func xmlScan(content []byte) ([]scalar, error) {
	dec := xml.NewDecoder(bytes.NewReader(content))
	dec.Strict = true
	var (
		out   []scalar
		stack []string
		roots int
	)
	for {
		off0 := int(dec.InputOffset())
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		off1 := int(dec.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
			}
			stack = append(stack, t.Name.Local)
			out = append(out, xmlAttrs(content[off0:off1], off0, t)...)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			raw := content[off0:off1]
			key := ""
			if len(stack) > 0 {
				key = stack[len(stack)-1]
			}
			if bytes.HasPrefix(raw, []byte("<![CDATA[")) {
				out = append(out, scalar{start: off0, end: off1, value: string(t), key: key, style: xmlCDATA})
				continue
			}
			lead := len(raw) - len(bytes.TrimLeft(raw, " \t\r\n"))
			trail := len(bytes.TrimRight(raw, " \t\r\n"))
			if lead >= trail || len(stack) == 0 {
				continue
			}
			out = append(out, scalar{start: off0 + lead, end: off0 + trail, value: strings.TrimSpace(string(t)), key: key, style: xmlText})
		}
	}
	if roots != 1 || len(stack) != 0 {
		return nil, errors.New("xml: want one root element")
	}
	return out, nil
}

// xmlAttrs finds the attribute values of a start tag (raw, at offset off).
func xmlAttrs(raw []byte, off int, t xml.StartElement) []scalar {
	type attr struct {
		name       string
		start, end int
		quote      byte
	}
	var attrs []attr
	i := 1
	for i < len(raw) && !isXMLSpace(raw[i]) && raw[i] != '>' && raw[i] != '/' {
		i++ // element name
	}
	for {
		for i < len(raw) && isXMLSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] == '>' || raw[i] == '/' {
			break
		}
		ns := i
		for i < len(raw) && raw[i] != '=' && !isXMLSpace(raw[i]) {
			i++
		}
		name := string(raw[ns:i])
		for i < len(raw) && isXMLSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] != '=' {
			return nil
		}
		i++
		for i < len(raw) && isXMLSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || (raw[i] != '"' && raw[i] != '\'') {
			return nil
		}
		q := raw[i]
		e := bytes.IndexByte(raw[i+1:], q)
		if e < 0 {
			return nil
		}
		attrs = append(attrs, attr{name: name, start: i + 1, end: i + 1 + e, quote: q})
		i += e + 2
	}
	if len(attrs) != len(t.Attr) {
		return nil
	}
	named := ""
	for _, a := range t.Attr {
		if a.Name.Local == "key" || a.Name.Local == "name" {
			named = a.Value
		}
	}
	var out []scalar
	for k, a := range attrs {
		key := t.Attr[k].Name.Local
		if (key == "value" || key == "connectionString") && named != "" {
			key = named
		}
		out = append(out, scalar{start: off + a.start, end: off + a.end, value: t.Attr[k].Value, key: key,
			style: xmlAttr, quote: a.quote})
	}
	return out
}

func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

func (xmlSyntax) render(sc scalar, v string, _ dollars) (string, bool) {
	switch sc.style {
	case xmlCDATA:
		if strings.Contains(v, "]]>") {
			return "", false
		}
		return "<![CDATA[" + v + "]]>", true
	case xmlAttr:
		return xmlEscape(v, sc.quote), true
	}
	return xmlEscape(v, 0), true
}

func (xmlSyntax) escape(sc scalar, s string, _ dollars) (string, bool) {
	switch sc.style {
	case xmlCDATA:
		return s, !strings.Contains(s, "]]>")
	case xmlAttr:
		return xmlEscape(s, sc.quote), true
	}
	return xmlEscape(s, 0), true
}

// xmlEscape escapes s for element text (quote 0) or an attribute value in
// the given quotes; in attributes, line breaks and tabs are written as
// character references so they survive attribute normalisation.
func xmlEscape(s string, quote byte) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && quote == '"':
			b.WriteString("&quot;")
		case r == '\'' && quote == '\'':
			b.WriteString("&apos;")
		case quote != 0 && r == '\n':
			b.WriteString("&#xA;")
		case quote != 0 && r == '\r':
			b.WriteString("&#xD;")
		case quote != 0 && r == '\t':
			b.WriteString("&#x9;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
