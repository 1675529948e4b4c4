package contract

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Violation is a request or answer that does not match the model. Its
// message names the operation, the member path and the rule, never a value.
type Violation struct {
	Service   Service
	Operation string
	Where     string // "request" or "response"
	Problems  []string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("%s %s %s off-model: %s", v.Service, v.Operation, v.Where, strings.Join(v.Problems, "; "))
}

// ErrUnknownOperation is returned (wrapped) for an operation the model
// does not have.
var ErrUnknownOperation = errors.New("operation not in the model")

// QueryParams are the query protocol's own parameters, not members of any
// input shape.
var queryParams = map[string]bool{"Action": true, "Version": true}

// ParseQuery parses a query-protocol request (the form's Action names the
// operation) into a tree of the operation's input shape: structures are
// map[string]any, lists []any, maps map[string]any, integers and longs
// int64, booleans bool, timestamps time.Time, blobs []byte, strings string.
// A parameter the shape does not have, a value not of its member's type,
// a missing required member or a wrong Version is a *Violation.
func (m *Model) ParseQuery(form url.Values) (*Operation, map[string]any, error) {
	name := form.Get("Action")
	op := m.Op(name)
	if op == nil {
		return nil, nil, fmt.Errorf("%s action %q: %w", m.Service, name, ErrUnknownOperation)
	}
	v := &Violation{Service: m.Service, Operation: name, Where: "request"}
	if got := form.Get("Version"); got != m.Metadata.APIVersion {
		v.Problems = append(v.Problems, fmt.Sprintf("Version %q, the model's is %s", got, m.Metadata.APIVersion))
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	root := map[string]any{}
	for _, k := range keys {
		if queryParams[k] {
			continue
		}
		if len(form[k]) != 1 {
			v.Problems = append(v.Problems, k+": given more than once")
			continue
		}
		if _, err := m.insertQuery(root, op.Input, strings.Split(k, "."), form[k][0]); err != nil {
			v.Problems = append(v.Problems, k+": "+err.Error())
		}
	}
	tree := finishQuery(root).(map[string]any)
	v.Problems = append(v.Problems, m.required(op.Input, tree, "")...)
	if len(v.Problems) > 0 {
		return op, tree, v
	}
	return op, tree, nil
}

// listBuild is a list being assembled from indexed parameters.
type listBuild map[int]any

// insertQuery puts one parameter into the tree at the path segs.
func (m *Model) insertQuery(node any, s *Shape, segs []string, raw string) (any, error) {
	s = m.resolve(s)
	switch kind(s) {
	case "structure":
		if len(segs) == 0 {
			return nil, errors.New("a structure given as a scalar")
		}
		st, ok := node.(map[string]any)
		if !ok {
			return nil, errors.New("conflicting parameters")
		}
		mem, ok := s.Members[segs[0]]
		if !ok {
			return nil, fmt.Errorf("member %s not in the shape", segs[0])
		}
		child, err := m.insertQuery(st[segs[0]], mem, segs[1:], raw)
		if err != nil {
			return nil, err
		}
		st[segs[0]] = child
		return st, nil
	case "list":
		rest := segs
		if !s.Flattened {
			if len(rest) == 0 || rest[0] != "member" {
				if len(rest) == 0 && raw == "" {
					return listBuild{}, nil // an empty list is sent as Name=
				}
				return nil, errors.New("a list member without .member.N")
			}
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return nil, errors.New("a list member without an index")
		}
		i, err := strconv.Atoi(rest[0])
		if err != nil || i < 1 {
			return nil, fmt.Errorf("list index %q is not a positive integer", rest[0])
		}
		lb, _ := node.(listBuild)
		if lb == nil {
			lb = listBuild{}
		}
		child, err := m.insertQuery(lb[i], s.Member, rest[1:], raw)
		if err != nil {
			return nil, err
		}
		lb[i] = child
		return lb, nil
	case "map":
		if len(segs) < 3 || segs[0] != "entry" {
			return nil, errors.New("a map member without .entry.N.key/value")
		}
		i, err := strconv.Atoi(segs[1])
		if err != nil || i < 1 {
			return nil, fmt.Errorf("map index %q is not a positive integer", segs[1])
		}
		lb, _ := node.(listBuild)
		if lb == nil {
			lb = listBuild{}
		}
		e, _ := lb[i].(map[string]any)
		if e == nil {
			e = map[string]any{}
		}
		var part *Shape
		switch segs[2] {
		case "key":
			part = s.Key
		case "value":
			part = s.Value
		default:
			return nil, fmt.Errorf("map entry part %q", segs[2])
		}
		child, err := m.insertQuery(e[segs[2]], part, segs[3:], raw)
		if err != nil {
			return nil, err
		}
		e[segs[2]] = child
		lb[i] = e
		return lb, nil
	default:
		if len(segs) != 0 {
			return nil, fmt.Errorf("a %s given as a structure", kind(s))
		}
		if node != nil {
			return nil, errors.New("given more than once")
		}
		return scalarFromText(kind(s), raw)
	}
}

// finishQuery turns the indexed lists and maps into slices and maps.
func finishQuery(node any) any {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			n[k] = finishQuery(v)
		}
		return n
	case listBuild:
		idx := make([]int, 0, len(n))
		for i := range n {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		out := make([]any, 0, len(n))
		for _, i := range idx {
			out = append(out, finishQuery(n[i]))
		}
		return out
	default:
		return node
	}
}

// scalarFromText parses one query or XML text value of a scalar type.
func scalarFromText(k, raw string) (any, error) {
	switch k {
	case "string":
		return raw, nil
	case "integer", "long":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || (k == "integer" && (n > 1<<31-1 || n < -1<<31)) {
			return nil, fmt.Errorf("not an %s", k)
		}
		return n, nil
	case "double", "float":
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("not a %s", k)
		}
		return f, nil
	case "boolean":
		switch raw {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errors.New("not a boolean (true or false)")
	case "timestamp":
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return nil, errors.New("not an ISO 8601 timestamp")
		}
		return t, nil
	case "blob":
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return nil, errors.New("not base64")
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown type %s", k)
}

// required lists the required members missing anywhere in tree.
func (m *Model) required(s *Shape, node any, path string) []string {
	s = m.resolve(s)
	var out []string
	switch kind(s) {
	case "structure":
		st, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		for _, r := range s.Required {
			if _, ok := st[r]; !ok {
				out = append(out, join(path, r)+": required member missing")
			}
		}
		names := make([]string, 0, len(st))
		for n := range st {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if mem := s.Members[n]; mem != nil {
				out = append(out, m.required(mem, st[n], join(path, n))...)
			}
		}
	case "list":
		l, _ := node.([]any)
		for i, e := range l {
			out = append(out, m.required(s.Member, e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case "map":
		mp, _ := node.(map[string]any)
		for _, e := range mp {
			out = append(out, m.required(s.Value, e, path+"{}")...)
		}
	}
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
