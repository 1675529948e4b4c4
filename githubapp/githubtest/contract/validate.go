package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

func filterOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		// Validate what was sent, not what defaults would make of it.
		SkipSettingDefaults: true,
		// Every problem at once, so one test run shows them all.
		MultiError: true,
		// Authentication is the stand-in's business, not the schema's.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// An undocumented status is a contract break.
		IncludeResponseStatus: true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.DisableSchemaErrorDetails(),
			openapi3.WithStringFormatValidator("uri", openapi3.NewCallbackValidator(validateURI)),
		},
	}
}

// ValidateRequest finds the served operation for r and validates the
// request against it: path parameters, query parameters, the User-Agent
// header (GitHub rejects requests without one), the Content-Type and the
// body (already read from r by the caller; r.Body is not touched) against
// the operation's requestBody schema. It returns the operation and its path
// parameters even when the request breaks the contract; the error is then a
// *Violation. A request no served operation matches returns an error
// wrapping ErrNoOperation and a nil operation.
func (s *Spec) ValidateRequest(r *http.Request, body []byte) (*Operation, map[string]string, error) {
	op, params, err := s.Find(r.Method, r.URL.EscapedPath())
	if err != nil {
		return nil, nil, err
	}
	var found problems
	if r.Header.Get("User-Agent") == "" {
		found = append(found, "header User-Agent: required (GitHub rejects requests without one)")
	}
	if len(body) > 0 && op.route.Operation.RequestBody == nil {
		found = append(found, fmt.Sprintf("body: the operation documents no request body, got %d bytes", len(body)))
	}
	if len(body) > 0 && isJSON(r.Header.Get("Content-Type")) && !json.Valid(body) {
		found = append(found, "body: not valid JSON"+syntaxOffset(body))
		return op, params, &Violation{OperationID: op.ID, Kind: "request", Err: found}
	}
	req := r.Clone(contextOf(r))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      op.route,
		Options:    filterOptions(),
	}
	if err := openapi3filter.ValidateRequest(req.Context(), input); err != nil {
		found = append(found, describeKin(err)...)
	}
	if len(found) > 0 {
		return op, params, &Violation{OperationID: op.ID, Kind: "request", Err: found}
	}
	return op, params, nil
}

// ValidateResponse validates a response the stand-in sends for op (as
// returned by Find or ValidateRequest; r is the request it answers and may
// be nil): the status must be documented for the operation (or a default
// response be), a documented body must come with a documented content type
// and match the schema, headers the response documents must match theirs,
// and a status documenting no body must come without one. It returns a
// *Violation, or nil.
func (s *Spec) ValidateResponse(op *Operation, r *http.Request, status int, h http.Header, body []byte) error {
	if op == nil || op.route == nil {
		return fmt.Errorf("contract: ValidateResponse needs an operation from Find")
	}
	responses := op.route.Operation.Responses
	ref := responses.Status(status)
	if ref == nil {
		ref = responses.Default()
	}
	route := op.route
	if ref == nil && s.errorException(op, status) {
		ref = s.basicError
		// kin-openapi reads the responses from the route: give it a copy
		// of the operation that documents the exception.
		o := *route.Operation
		o.Responses = openapi3.NewResponses()
		for code, r := range responses.Map() {
			o.Responses.Set(code, r)
		}
		o.Responses.Set(strconv.Itoa(status), ref)
		rc := *route
		rc.Operation = &o
		route = &rc
	}
	if ref == nil || ref.Value == nil {
		return violation(op.ID, "response", "status %d: not documented (documented: %s)", status, documented(responses))
	}
	resp := ref.Value
	if len(resp.Content) == 0 {
		if len(body) > 0 {
			return violation(op.ID, "response", "status %d: documents no body, got %d bytes", status, len(body))
		}
	} else {
		if len(body) == 0 {
			return violation(op.ID, "response", "status %d: documents a body (%s), got none", status, contentTypes(resp.Content))
		}
		if isJSON(h.Get("Content-Type")) && !json.Valid(body) {
			return violation(op.ID, "response", "status %d: body: not valid JSON%s", status, syntaxOffset(body))
		}
	}
	if r == nil {
		r, _ = http.NewRequest(op.Method, "/", nil)
	}
	if h == nil {
		h = http.Header{}
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: r,
			Route:   route,
			Options: filterOptions(),
		},
		Status:  status,
		Header:  h,
		Options: filterOptions(),
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(contextOf(r), input); err != nil {
		return &Violation{OperationID: op.ID, Kind: "response", Err: describeKinPrefixed("status "+strconv.Itoa(status), err)}
	}
	return nil
}

// ValidateError validates an error answer the stand-in sends for op, as
// ValidateResponse does, except where GitHub documents the status as a
// oneOf of error shapes: there the body must match at least one of them.
// Those shapes overlap (409 on contents: basic-error or
// repository-rule-violation-error, every field of both optional), so
// GitHub's own basic-error body matches both, which a strict oneOf refuses.
func (s *Spec) ValidateError(op *Operation, r *http.Request, status int, h http.Header, body []byte) error {
	alts := errorAlternatives(op, status)
	if len(alts) == 0 {
		return s.ValidateResponse(op, r, status, h, body)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return violation(op.ID, "response", "status %d: body: not valid JSON%s", status, syntaxOffset(body))
	}
	for _, alt := range alts {
		if alt.Value != nil && alt.Value.VisitJSON(v, filterOptions().SchemaValidationOptions...) == nil {
			return nil
		}
	}
	return violation(op.ID, "response", "status %d: body: matches none of the %d error shapes documented", status, len(alts))
}

// errorAlternatives is the oneOf op documents as its JSON body for status,
// nil when it documents no oneOf there.
func errorAlternatives(op *Operation, status int) openapi3.SchemaRefs {
	if op == nil || op.route == nil {
		return nil
	}
	ref := op.route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	return mt.Schema.Value.OneOf
}

func contextOf(r *http.Request) context.Context {
	if r == nil {
		return context.Background()
	}
	return r.Context()
}

func documented(responses *openapi3.Responses) string {
	keys := make([]string, 0, responses.Len())
	for k := range responses.Map() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	return mt == "application/json" || mt == githubObject || strings.HasSuffix(mt, "+json")
}

// githubObject is GitHub's media type for a JSON object view of contents.
const githubObject = "application/vnd.github.object"

var registerOnce sync.Once

// registerGitHubMediaTypes teaches kin-openapi GitHub's own media types:
// application/vnd.github.object is JSON; diff, patch, sha, raw and html are
// text. kin-openapi's registry is global, so this runs once and only adds
// decoders for types it does not know.
func registerGitHubMediaTypes() {
	registerOnce.Do(func() {
		add := func(ct string, d openapi3filter.BodyDecoder) {
			if openapi3filter.RegisteredBodyDecoder(ct) == nil {
				openapi3filter.RegisterBodyDecoder(ct, d)
			}
		}
		add(githubObject, openapi3filter.JSONBodyDecoder)
		for _, t := range []string{"diff", "patch", "sha", "raw", "html"} {
			add("application/vnd.github."+t, openapi3filter.PlainBodyDecoder)
		}
	})
}

// syntaxOffset names where a body stops being JSON, without quoting it.
func syntaxOffset(body []byte) string {
	var v any
	err := json.Unmarshal(body, &v)
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf(" (syntax error at byte %d)", se.Offset)
	}
	return ""
}

func contentTypes(c openapi3.Content) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
