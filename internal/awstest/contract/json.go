package contract

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"
)

// ParseJSON decodes a JSON-protocol request body into a tree of the
// operation's input shape (as ParseQuery; numbers are int64 or float64,
// timestamps time.Time, blobs []byte) and checks it against the shape.
func (m *Model) ParseJSON(op *Operation, body []byte) (map[string]any, error) {
	v := &Violation{Service: m.Service, Operation: op.Name, Where: "request"}
	var raw any
	if len(bytes.TrimSpace(body)) == 0 {
		raw = map[string]any{}
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			v.Problems = append(v.Problems, "body is not JSON")
			return nil, v
		}
	}
	tree, probs := m.fromJSON(op.Input, raw, "")
	v.Problems = append(v.Problems, probs...)
	if st, ok := tree.(map[string]any); ok {
		v.Problems = append(v.Problems, m.required(op.Input, st, "")...)
		if len(v.Problems) == 0 {
			return st, nil
		}
		return st, v
	}
	return nil, v
}

// CheckJSONResponse checks a JSON-protocol answer body against the
// operation's output shape.
func (m *Model) CheckJSONResponse(op *Operation, body []byte) error {
	v := &Violation{Service: m.Service, Operation: op.Name, Where: "response"}
	var raw any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		v.Problems = append(v.Problems, "body is not JSON")
		return v
	}
	out := op.Output
	if out == nil {
		out = &Shape{Type: "structure"}
	}
	tree, probs := m.fromJSON(out, raw, "")
	v.Problems = append(v.Problems, probs...)
	v.Problems = append(v.Problems, m.required(out, tree, "")...)
	if len(v.Problems) > 0 {
		return v
	}
	return nil
}

// fromJSON converts a decoded JSON value to a tree of shape s, listing
// what does not fit.
func (m *Model) fromJSON(s *Shape, raw any, path string) (any, []string) {
	s = m.resolve(s)
	where := path
	if where == "" {
		where = "(body)"
	}
	bad := func(msg string) (any, []string) { return nil, []string{where + ": " + msg} }
	if raw == nil {
		return bad("null")
	}
	switch k := kind(s); k {
	case "structure":
		obj, ok := raw.(map[string]any)
		if !ok {
			return bad("not an object")
		}
		out := map[string]any{}
		var probs []string
		names := make([]string, 0, len(obj))
		for n := range obj {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			mem, ok := s.Members[n]
			if !ok {
				probs = append(probs, join(path, n)+": member not in the shape")
				continue
			}
			v, p := m.fromJSON(mem, obj[n], join(path, n))
			probs = append(probs, p...)
			if v != nil {
				out[n] = v
			}
		}
		return out, probs
	case "list":
		arr, ok := raw.([]any)
		if !ok {
			return bad("not an array")
		}
		out := make([]any, 0, len(arr))
		var probs []string
		for i, e := range arr {
			v, p := m.fromJSON(s.Member, e, fmt.Sprintf("%s[%d]", path, i))
			probs = append(probs, p...)
			out = append(out, v)
		}
		return out, probs
	case "map":
		obj, ok := raw.(map[string]any)
		if !ok {
			return bad("not an object")
		}
		out := map[string]any{}
		var probs []string
		for key, e := range obj {
			v, p := m.fromJSON(s.Value, e, path+"{}")
			probs = append(probs, p...)
			out[key] = v
		}
		return out, probs
	case "string":
		str, ok := raw.(string)
		if !ok {
			return bad("not a string")
		}
		return str, nil
	case "blob":
		str, ok := raw.(string)
		if !ok {
			return bad("not a base64 string")
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return bad("not base64")
		}
		return b, nil
	case "boolean":
		b, ok := raw.(bool)
		if !ok {
			return bad("not a boolean")
		}
		return b, nil
	case "integer", "long":
		n, ok := raw.(json.Number)
		if !ok {
			return bad("not a number")
		}
		i, err := n.Int64()
		if err != nil || (k == "integer" && (i > math.MaxInt32 || i < math.MinInt32)) {
			return bad("not an " + k)
		}
		return i, nil
	case "double", "float":
		n, ok := raw.(json.Number)
		if !ok {
			return bad("not a number")
		}
		f, err := n.Float64()
		if err != nil {
			return bad("not a " + k)
		}
		return f, nil
	case "timestamp":
		// JSON 1.1 timestamps are epoch seconds, possibly fractional.
		n, ok := raw.(json.Number)
		if !ok {
			return bad("not epoch seconds")
		}
		f, err := n.Float64()
		if err != nil {
			return bad("not epoch seconds")
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	default:
		return bad("unknown type " + k)
	}
}

// EncodeJSON encodes a tree (as ParseJSON returns; []string and
// map[string][]string are taken too) as JSON 1.1 does: timestamps as epoch
// seconds, blobs as base64.
func EncodeJSON(tree map[string]any) ([]byte, error) {
	return json.Marshal(toJSON(tree))
}

func toJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSON(e)
		}
		return out
	case time.Time:
		return json.Number(fmt.Sprintf("%.3f", float64(x.UnixMilli())/1000))
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	default:
		return v
	}
}
