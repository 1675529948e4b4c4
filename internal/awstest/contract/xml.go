package contract

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// xmlTime is the query protocol's timestamp format (ISO 8601, UTC).
const xmlTime = "2006-01-02T15:04:05Z"

// EncodeXML encodes a query-protocol answer for op: the tree (as
// ParseQuery's) under <OpResult>, inside <OpResponse> in the model's
// namespace, with ResponseMetadata/RequestId. Members are written in name
// order, lists as <member> elements; a tree member the output shape does
// not have is an error.
func (m *Model) EncodeXML(op *Operation, tree map[string]any, requestID string) ([]byte, error) {
	var b bytes.Buffer
	e := xml.NewEncoder(&b)
	root := xml.StartElement{Name: xml.Name{Local: op.Name + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: m.Metadata.XMLNamespace}}}
	if err := e.EncodeToken(root); err != nil {
		return nil, err
	}
	if op.Output != nil {
		if err := m.encodeXML(e, op.Output.ResultWrapper, op.Output, tree); err != nil {
			return nil, fmt.Errorf("%s %s answer: %w", m.Service, op.Name, err)
		}
	}
	if err := e.EncodeToken(xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return nil, err
	}
	if err := encodeXMLText(e, "RequestId", &requestID); err != nil {
		return nil, err
	}
	if err := e.EncodeToken(xml.EndElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return nil, err
	}
	if err := e.EncodeToken(root.End()); err != nil {
		return nil, err
	}
	if err := e.Flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encodeXMLText(e *xml.Encoder, name string, text *string) error {
	if text == nil {
		return nil
	}
	start := xml.StartElement{Name: xml.Name{Local: name}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if err := e.EncodeToken(xml.CharData(*text)); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

func (m *Model) encodeXML(e *xml.Encoder, name string, s *Shape, v any) error {
	s = m.resolve(s)
	start := xml.StartElement{Name: xml.Name{Local: name}}
	switch k := kind(s); k {
	case "structure":
		st, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not a structure", name)
		}
		if err := e.EncodeToken(start); err != nil {
			return err
		}
		names := make([]string, 0, len(st))
		for n := range st {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			mem, ok := s.Members[n]
			if !ok {
				return fmt.Errorf("%s.%s: member not in the shape", name, n)
			}
			if err := m.encodeXML(e, n, mem, st[n]); err != nil {
				return err
			}
		}
		return e.EncodeToken(start.End())
	case "list":
		items, err := listItems(v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := e.EncodeToken(start); err != nil {
			return err
		}
		for _, it := range items {
			if err := m.encodeXML(e, "member", s.Member, it); err != nil {
				return err
			}
		}
		return e.EncodeToken(start.End())
	case "map":
		mp, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not a map", name)
		}
		if err := e.EncodeToken(start); err != nil {
			return err
		}
		keys := make([]string, 0, len(mp))
		for k := range mp {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			entry := xml.StartElement{Name: xml.Name{Local: "entry"}}
			if err := e.EncodeToken(entry); err != nil {
				return err
			}
			if err := m.encodeXML(e, "key", s.Key, key); err != nil {
				return err
			}
			if err := m.encodeXML(e, "value", s.Value, mp[key]); err != nil {
				return err
			}
			if err := e.EncodeToken(entry.End()); err != nil {
				return err
			}
		}
		return e.EncodeToken(start.End())
	default:
		text, err := scalarText(k, v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return encodeXMLText(e, name, &text)
	}
}

func listItems(v any) ([]any, error) {
	switch l := v.(type) {
	case []any:
		return l, nil
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, nil
	case []map[string]any:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("not a list")
}

func scalarText(k string, v any) (string, error) {
	switch k {
	case "string":
		if s, ok := v.(string); ok {
			return s, nil
		}
	case "integer", "long":
		switch n := v.(type) {
		case int:
			return strconv.Itoa(n), nil
		case int64:
			return strconv.FormatInt(n, 10), nil
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
	case "timestamp":
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format(xmlTime), nil
		}
	case "blob":
		if b, ok := v.([]byte); ok {
			return base64.StdEncoding.EncodeToString(b), nil
		}
	case "double", "float":
		if f, ok := v.(float64); ok {
			return strconv.FormatFloat(f, 'g', -1, 64), nil
		}
	}
	return "", fmt.Errorf("a %T where the model has a %s", v, k)
}

// EncodeXMLError encodes a query-protocol error document as AWS sends it:
// ErrorResponse/Error/{Type,Code,Message} and RequestId. sender is true
// for a client fault (Type Sender), false for a server fault (Receiver).
func (m *Model) EncodeXMLError(code, message string, sender bool, requestID string) []byte {
	typ := "Receiver"
	if sender {
		typ = "Sender"
	}
	var b bytes.Buffer
	e := xml.NewEncoder(&b)
	root := xml.StartElement{Name: xml.Name{Local: "ErrorResponse"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: m.Metadata.XMLNamespace}}}
	_ = e.EncodeToken(root)
	_ = e.EncodeToken(xml.StartElement{Name: xml.Name{Local: "Error"}})
	_ = encodeXMLText(e, "Type", &typ)
	_ = encodeXMLText(e, "Code", &code)
	_ = encodeXMLText(e, "Message", &message)
	_ = e.EncodeToken(xml.EndElement{Name: xml.Name{Local: "Error"}})
	_ = encodeXMLText(e, "RequestId", &requestID)
	_ = e.EncodeToken(root.End())
	_ = e.Flush()
	return b.Bytes()
}

// node is a parsed XML element.
type node struct {
	name     xml.Name
	text     string
	children []*node
}

func parseXML(body []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root != nil {
				return nil, fmt.Errorf("more than one root element")
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

// CheckXMLResponse checks a query-protocol answer body against the
// operation's output shape and the protocol's envelope.
func (m *Model) CheckXMLResponse(op *Operation, body []byte) error {
	v := &Violation{Service: m.Service, Operation: op.Name, Where: "response"}
	root, err := parseXML(body)
	if err != nil {
		v.Problems = append(v.Problems, "body is not XML")
		return v
	}
	if root.name.Local != op.Name+"Response" {
		v.Problems = append(v.Problems, fmt.Sprintf("root element %s, want %sResponse", root.name.Local, op.Name))
	}
	if root.name.Space != m.Metadata.XMLNamespace {
		v.Problems = append(v.Problems, fmt.Sprintf("namespace %q, want %s", root.name.Space, m.Metadata.XMLNamespace))
	}
	var result, meta *node
	for _, c := range root.children {
		switch {
		case op.Output != nil && c.name.Local == op.Output.ResultWrapper && result == nil:
			result = c
		case c.name.Local == "ResponseMetadata" && meta == nil:
			meta = c
		default:
			v.Problems = append(v.Problems, "unexpected element "+c.name.Local)
		}
	}
	if op.Output != nil && result == nil {
		v.Problems = append(v.Problems, "no "+op.Output.ResultWrapper+" element")
	}
	if meta == nil || len(meta.children) != 1 || meta.children[0].name.Local != "RequestId" || strings.TrimSpace(meta.children[0].text) == "" {
		v.Problems = append(v.Problems, "ResponseMetadata/RequestId missing")
	}
	if result != nil {
		tree, probs := m.fromXML(op.Output, result, "")
		v.Problems = append(v.Problems, probs...)
		v.Problems = append(v.Problems, m.required(op.Output, tree, "")...)
	}
	if len(v.Problems) > 0 {
		return v
	}
	return nil
}

func (m *Model) fromXML(s *Shape, n *node, path string) (any, []string) {
	s = m.resolve(s)
	where := path
	if where == "" {
		where = "(result)"
	}
	switch k := kind(s); k {
	case "structure":
		out := map[string]any{}
		var probs []string
		for _, c := range n.children {
			p := join(path, c.name.Local)
			mem, ok := s.Members[c.name.Local]
			if !ok {
				probs = append(probs, p+": member not in the shape")
				continue
			}
			if _, dup := out[c.name.Local]; dup {
				probs = append(probs, p+": given more than once")
				continue
			}
			v, pr := m.fromXML(mem, c, p)
			probs = append(probs, pr...)
			if v != nil {
				out[c.name.Local] = v
			}
		}
		return out, probs
	case "list":
		out := []any{}
		var probs []string
		for i, c := range n.children {
			p := fmt.Sprintf("%s[%d]", path, i)
			if c.name.Local != "member" {
				probs = append(probs, p+": list element "+c.name.Local+", want member")
				continue
			}
			v, pr := m.fromXML(s.Member, c, p)
			probs = append(probs, pr...)
			out = append(out, v)
		}
		return out, probs
	case "map":
		out := map[string]any{}
		var probs []string
		for _, c := range n.children {
			if c.name.Local != "entry" || len(c.children) != 2 {
				probs = append(probs, path+"{}: map element is not an entry of key and value")
				continue
			}
			var key string
			var val *node
			for _, kv := range c.children {
				switch kv.name.Local {
				case "key":
					key = kv.text
				case "value":
					val = kv
				}
			}
			if val == nil {
				probs = append(probs, path+"{}: entry without value")
				continue
			}
			v, pr := m.fromXML(s.Value, val, path+"{}")
			probs = append(probs, pr...)
			out[key] = v
		}
		return out, probs
	default:
		if len(n.children) > 0 {
			return nil, []string{where + ": a " + k + " with child elements"}
		}
		v, err := scalarFromText(k, strings.TrimSpace(n.text))
		if err != nil {
			return nil, []string{where + ": " + err.Error()}
		}
		return v, nil
	}
}
