package contract

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	"github.com/pushvault/pushvault/internal/npmfixture"
)

// ErrNoOperation is returned (wrapped) when no served operation matches a
// request's method and path, or no served webhook matches an event.
var ErrNoOperation = errors.New("no served operation of GitHub's description matches")

// Operation is one served REST operation.
type Operation struct {
	ID     string // GitHub's operationId, e.g. "checks/create"
	Method string // upper case, e.g. "POST"
	Path   string // GitHub's path template, e.g. "/repos/{owner}/{repo}/check-runs"

	segs     []string // the template split at slashes, without the leading one
	literals int      // how many of segs are not parameters
	route    *routers.Route
}

// Spec is the REST contract: the served subset of GitHub's description. It
// is safe for concurrent use.
type Spec struct {
	doc    *openapi3.T
	ops    []*Operation
	source source
	path   string // the cached subset it was loaded from

	// basicError is GitHub's basic-error response, used for the statuses
	// StatusExceptions allows.
	basicError *openapi3.ResponseRef
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Load returns the REST contract for the operations in Served. The first
// call in a process derives (or reads from the cache) the subset and parses
// it; later calls return the same *Spec, or the same error.
func Load() (*Spec, error) {
	loadOnce.Do(func() {
		data, src, err := cachedSubset("rest", npmfixture.GitHubREST, npmfixture.GitHubRESTFile, Served, deriveREST)
		if err != nil {
			loadErr = err
			return
		}
		loaded, loadErr = parseSpec(data, Served)
		if loaded != nil {
			loaded.source = src
			loaded.path = src.path("rest")
		}
	})
	return loaded, loadErr
}

// parseSpec parses a description (the subset, or GitHub's full one) and
// resolves the served operations in it.
func parseSpec(data []byte, served []string) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contract: parse REST description: %w", err)
	}
	registerGitHubMediaTypes()
	s := &Spec{doc: doc}
	if schema := doc.Components.Schemas["basic-error"]; schema != nil {
		s.basicError = &openapi3.ResponseRef{Value: openapi3.NewResponse().
			WithDescription("GitHub's basic error").
			WithJSONSchemaRef(schema)}
	}
	for _, line := range served {
		method, tmpl, err := splitServed(line)
		if err != nil {
			return nil, fmt.Errorf("contract: %w", err)
		}
		item := doc.Paths.Value(tmpl)
		if item == nil {
			return nil, fmt.Errorf("contract: served %q: the description has no path %s", line, tmpl)
		}
		op := item.GetOperation(method)
		if op == nil {
			return nil, fmt.Errorf("contract: served %q: the description has no %s operation on %s", line, method, tmpl)
		}
		o := &Operation{
			ID:     op.OperationID,
			Method: method,
			Path:   tmpl,
			segs:   strings.Split(strings.TrimPrefix(tmpl, "/"), "/"),
			route:  &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op},
		}
		for _, seg := range o.segs {
			name, isParam := paramName(seg)
			switch {
			case !isParam && strings.ContainsAny(seg, "{}"):
				return nil, fmt.Errorf("contract: served %q: segment %q mixes a parameter with text, which the router does not match", line, seg)
			case !isParam:
				o.literals++
			case name == "":
				return nil, fmt.Errorf("contract: served %q: empty parameter name", line)
			}
		}
		s.ops = append(s.ops, o)
	}
	return s, nil
}

// Operations returns the served operations in Served order.
func (s *Spec) Operations() []*Operation {
	return append([]*Operation(nil), s.ops...)
}

// Find returns the served operation for method and path and the path
// parameters, unescaped. path is the URL path as sent (its escaped form, as
// from url.URL.EscapedPath; a query string is ignored; a leading "/api/v3",
// the prefix GitHub Enterprise Server and go-github's enterprise client use,
// is dropped). Parameters in SlashParams ({ref}, {path}, {branch}) may span
// several segments, so GET /repos/o/r/git/ref/heads/feature/x has ref
// "heads/feature/x". When several operations match, the one with more
// literal segments wins, then the one whose parameters span fewer segments.
// It returns an error wrapping ErrNoOperation when none matches.
func (s *Spec) Find(method, path string) (*Operation, map[string]string, error) {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if rest, ok := strings.CutPrefix(path, "/api/v3/"); ok {
		path = "/" + rest
	}
	method = strings.ToUpper(method)
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var (
		best       *Operation
		bestParams map[string]string
	)
	for _, op := range s.ops {
		if op.Method != method || len(segs) < len(op.segs) {
			continue
		}
		if best != nil && (op.literals < best.literals ||
			op.literals == best.literals && len(op.segs) <= len(best.segs)) {
			continue // cannot beat the match we have
		}
		params := map[string]string{}
		if matchSegments(op.segs, segs, params) {
			best, bestParams = op, params
		}
	}
	if best == nil {
		return nil, nil, fmt.Errorf("contract: %s %s: %w", method, path, ErrNoOperation)
	}
	return best, bestParams, nil
}

// matchSegments matches a template's segments against a path's, filling
// params. A parameter in SlashParams takes as many segments as still lets
// the rest of the template match, the most first.
func matchSegments(tmpl, segs []string, params map[string]string) bool {
	if len(tmpl) == 0 {
		return len(segs) == 0
	}
	name, isParam := paramName(tmpl[0])
	if !isParam {
		return len(segs) > 0 && segs[0] == tmpl[0] && matchSegments(tmpl[1:], segs[1:], params)
	}
	if len(segs) == 0 || segs[0] == "" {
		return false
	}
	if !SlashParams[name] {
		if !matchSegments(tmpl[1:], segs[1:], params) {
			return false
		}
		params[name] = unescape(segs[0])
		return true
	}
	// The parameter can take segs[:n] only while none of them is empty.
	maxN := 0
	for maxN < len(segs) && segs[maxN] != "" {
		maxN++
	}
	maxN = min(maxN, len(segs)-(len(tmpl)-1))
	for n := maxN; n >= 1; n-- {
		if matchSegments(tmpl[1:], segs[n:], params) {
			parts := make([]string, n)
			for i, seg := range segs[:n] {
				parts[i] = unescape(seg)
			}
			params[name] = strings.Join(parts, "/")
			return true
		}
	}
	return false
}

func paramName(seg string) (string, bool) {
	if len(seg) >= 2 && seg[0] == '{' && seg[len(seg)-1] == '}' && !strings.ContainsAny(seg[1:len(seg)-1], "{}") {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

func unescape(seg string) string {
	if u, err := url.PathUnescape(seg); err == nil {
		return u
	}
	return seg
}

// Documents reports whether GitHub's description documents status as an
// answer of o (the stand-in's error answers are checked where it does).
func (o *Operation) Documents(status int) bool {
	return o.route != nil && o.route.Operation.Responses.Status(status) != nil
}

// Answers reports whether op may answer status: the description documents
// it for op, or StatusExceptions lists it (held to basic-error).
func (s *Spec) Answers(op *Operation, status int) bool {
	return op.Documents(status) || s.errorException(op, status)
}

// errorException reports whether StatusExceptions allows status for op
// (and GitHub's description has the basic-error schema to check it with).
func (s *Spec) errorException(op *Operation, status int) bool {
	if s.basicError == nil {
		return false
	}
	for _, st := range StatusExceptions[op.ID] {
		if st == status {
			return true
		}
	}
	return false
}
