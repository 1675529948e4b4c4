package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// jsonSyntax is JSON, parsed with encoding/json. Values are found with the
// decoder's token stream and offsets, so the scanner is the real parser.
type jsonSyntax struct{}

func (jsonSyntax) name() string { return "JSON" }

func (jsonSyntax) parse(content []byte) error {
	if !json.Valid(content) {
		return errors.New("invalid JSON")
	}
	return nil
}

func (jsonSyntax) scalars(content []byte) ([]scalar, error) {
	type frame struct {
		obj     bool
		wantKey bool
		key     string
		id      int
	}
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	var (
		stack []frame
		out   []scalar
		group []int              // frame id of each scalar in out
		named = map[int]string{} // frame id -> its "name"/"key" member
		prev  int
		ids   int
	)
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				ids++
				stack = append(stack, frame{obj: true, wantKey: true, id: ids})
			case '[':
				ids++
				stack = append(stack, frame{id: ids})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			n := len(stack)
			if n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				stack[n-1].key, stack[n-1].wantKey = t, false
				break
			}
			start := bytes.IndexByte(content[prev:end], '"')
			if start < 0 {
				return nil, errors.New("string token without a quote")
			}
			key, id := "", 0
			for i := n - 1; i >= 0; i-- {
				if stack[i].obj {
					key = stack[i].key
					break
				}
			}
			if n > 0 {
				id = stack[n-1].id
				if stack[n-1].obj && (key == "name" || key == "key") {
					named[id] = t
				}
			}
			out = append(out, scalar{start: prev + start, end: end, value: t, key: key})
			group = append(group, id)
			valueDone()
		default:
			valueDone()
		}
		prev = end
	}
	// A {"name": X, "value": secret} object names the value X.
	for i := range out {
		if out[i].key == "value" && named[group[i]] != "" {
			out[i].key = named[group[i]]
		}
	}
	return out, nil
}

func (jsonSyntax) render(_ scalar, v string, _ dollars) (string, bool) {
	return `"` + jsonEscape(v) + `"`, true
}

func (jsonSyntax) escape(_ scalar, s string, _ dollars) (string, bool) {
	return jsonEscape(s), true
}

// jsonEscape is s as written between the quotes of a JSON string (no HTML
// escaping).
func jsonEscape(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return s
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}
