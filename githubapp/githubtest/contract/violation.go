package contract

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Violation is a request, response or webhook payload that breaks GitHub's
// published contract.
type Violation struct {
	OperationID string // GitHub's operationId, or "event" / "event.action" for a webhook
	Kind        string // "request", "response" or "webhook"
	Err         error  // what is wrong; its message names JSON pointers and rules, never values
}

// Error names the operation and the rules broken. It never quotes a value
// from the request, response or payload: messages are built from the schema
// (pointers, keywords, the schema's own types, enums and limits) only.
func (v *Violation) Error() string {
	return fmt.Sprintf("contract: %s %s violates GitHub's description: %v", v.Kind, v.OperationID, v.Err)
}

// Unwrap returns Err.
func (v *Violation) Unwrap() error { return v.Err }

// maxProblems bounds how many problems one Violation lists.
const maxProblems = 8

// problems is the value-free description of a validation failure.
type problems []string

func (p problems) Error() string {
	if len(p) > maxProblems {
		return strings.Join(p[:maxProblems], "; ") + fmt.Sprintf("; and %d more", len(p)-maxProblems)
	}
	return strings.Join(p, "; ")
}

func violation(op, kind string, format string, args ...any) *Violation {
	return &Violation{OperationID: op, Kind: kind, Err: problems{fmt.Sprintf(format, args...)}}
}

// describeKin renders an error of kin-openapi without the values it may
// carry (SchemaError.Value, ParseError.Value, decoder messages).
func describeKin(err error) problems {
	return describeKinPrefixed("", err)
}

// describeKinPrefixed is describeKin with prefix before every problem.
func describeKinPrefixed(prefix string, err error) problems {
	var out problems
	describeKinInto(&out, prefix, err, 0)
	if len(out) == 0 {
		out = problems{"invalid"}
	}
	return out
}

func describeKinInto(out *problems, prefix string, err error, depth int) {
	if depth > 16 {
		return
	}
	var (
		multi  openapi3.MultiError
		reqErr *openapi3filter.RequestError
		resErr *openapi3filter.ResponseError
		schErr *openapi3.SchemaError
		parErr *openapi3filter.ParseError
	)
	switch {
	case errors.As(err, &multi) && isMulti(err):
		for _, e := range multi {
			describeKinInto(out, prefix, e, depth+1)
		}
	case errors.As(err, &reqErr) && isType[*openapi3filter.RequestError](err):
		p := prefix
		switch {
		case reqErr.Parameter != nil:
			p += fmt.Sprintf("%s parameter %q", reqErr.Parameter.In, reqErr.Parameter.Name)
		case reqErr.RequestBody != nil:
			p += "body"
		}
		if reqErr.Err == nil || strings.Contains(reqErr.Reason, "failed to decode") {
			*out = append(*out, joinPrefix(p, reqErr.Reason))
			return
		}
		describeKinInto(out, p, reqErr.Err, depth+1)
	case errors.As(err, &resErr) && isType[*openapi3filter.ResponseError](err):
		// kin-openapi's reasons name the part (body and its schema, or a
		// header) without its value; a decoder's error may quote it.
		p := joinPrefix(prefix, resErr.Reason)
		if strings.HasPrefix(resErr.Reason, "response body doesn't match schema") {
			p = joinPrefix(prefix, "body")
		}
		if resErr.Err == nil || strings.Contains(resErr.Reason, "failed to decode") {
			*out = append(*out, p)
			return
		}
		describeKinInto(out, p, resErr.Err, depth+1)
	case errors.As(err, &schErr) && isType[*openapi3.SchemaError](err):
		where := "/" + strings.Join(schErr.JSONPointer(), "/")
		p := joinPrefix(prefix, "at "+where)
		*out = append(*out, joinPrefix(p, kinRule(schErr)))
		if schErr.Origin != nil && (schErr.SchemaField == "oneOf" || schErr.SchemaField == "anyOf") {
			describeKinInto(out, joinPrefix(prefix, schErr.SchemaField+" alternative"), schErr.Origin, depth+1)
		}
	case errors.As(err, &parErr) && isType[*openapi3filter.ParseError](err):
		*out = append(*out, joinPrefix(prefix, "value does not parse as the parameter's type"))
	case errors.Is(err, openapi3filter.ErrInvalidRequired):
		*out = append(*out, joinPrefix(prefix, "required but missing"))
	case errors.Is(err, openapi3filter.ErrInvalidEmptyValue):
		*out = append(*out, joinPrefix(prefix, "empty value not allowed"))
	default:
		if u := errors.Unwrap(err); u != nil {
			describeKinInto(out, prefix, u, depth+1)
			return
		}
		if m, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range m.Unwrap() {
				describeKinInto(out, prefix, e, depth+1)
			}
			return
		}
		// A message we do not know may quote the value: name its type only.
		*out = append(*out, joinPrefix(prefix, fmt.Sprintf("invalid (%T; message withheld)", err)))
	}
}

func isType[T error](err error) bool {
	_, ok := err.(T)
	return ok
}

func isMulti(err error) bool {
	_, ok := err.(openapi3.MultiError)
	return ok
}

func joinPrefix(prefix, s string) string {
	if prefix == "" {
		return s
	}
	return prefix + ": " + s
}

// kinRule describes the rule a SchemaError broke from its schema alone.
func kinRule(e *openapi3.SchemaError) string {
	s := e.Schema
	if s == nil {
		return "violates " + e.SchemaField
	}
	switch e.SchemaField {
	case "type":
		want := "any"
		if s.Type != nil {
			want = strings.Join(s.Type.Slice(), " or ")
		}
		if s.Nullable {
			want += " or null"
		}
		return "type: want " + want
	case "nullable":
		return "nullable: null is not allowed here"
	case "enum":
		return "enum: want one of " + limitedList(s.Enum)
	case "required":
		// kin-openapi names the missing property from the schema's list.
		return "required: " + e.Reason
	case "additionalProperties":
		return "additionalProperties: " + e.Reason // names the key, which the pointer shows anyway
	case "format":
		return fmt.Sprintf("format: want %s", s.Format)
	case "pattern":
		return fmt.Sprintf("pattern: want a match of %s", s.Pattern)
	case "minLength":
		return fmt.Sprintf("minLength: want at least %d characters", s.MinLength)
	case "maxLength":
		return fmt.Sprintf("maxLength: want at most %d characters", deref(s.MaxLength))
	case "minimum", "exclusiveMinimum":
		return fmt.Sprintf("%s: want at least %v", e.SchemaField, deref(s.Min))
	case "maximum", "exclusiveMaximum":
		return fmt.Sprintf("%s: want at most %v", e.SchemaField, deref(s.Max))
	case "minItems":
		return fmt.Sprintf("minItems: want at least %d items", s.MinItems)
	case "maxItems":
		return fmt.Sprintf("maxItems: want at most %d items", deref(s.MaxItems))
	case "minProperties":
		return fmt.Sprintf("minProperties: want at least %d properties", s.MinProps)
	case "maxProperties":
		return fmt.Sprintf("maxProperties: want at most %d properties", deref(s.MaxProps))
	case "oneOf":
		return fmt.Sprintf("oneOf: want exactly one of %d alternatives to match", len(s.OneOf))
	case "anyOf":
		return fmt.Sprintf("anyOf: want at least one of %d alternatives to match", len(s.AnyOf))
	case "allOf":
		return "allOf: an alternative does not match"
	case "not":
		return "not: matches a schema it must not"
	case "readOnly":
		return "readOnly: property may not be sent in a request"
	case "writeOnly":
		return "writeOnly: property may not be sent in a response"
	}
	return "violates " + e.SchemaField
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// limitedList prints a schema's enum, shortened when long.
func limitedList(vs []any) string {
	const limit = 12
	var parts []string
	for i, v := range vs {
		if i == limit {
			parts = append(parts, fmt.Sprintf("... %d more", len(vs)-limit))
			break
		}
		parts = append(parts, fmt.Sprintf("%q", fmt.Sprint(v)))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// describeJSONSchema renders a jsonschema/v6 error from its locations and
// the schema side of each error kind, never the instance's values.
func describeJSONSchema(err error) problems {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return problems{fmt.Sprintf("invalid (%T; message withheld)", err)}
	}
	var out problems
	var walk func(e *jsonschema.ValidationError, depth int)
	walk = func(e *jsonschema.ValidationError, depth int) {
		if len(e.Causes) == 0 || depth > 8 {
			out = append(out, "at /"+strings.Join(e.InstanceLocation, "/")+": "+jsonSchemaRule(e.ErrorKind))
			return
		}
		for _, c := range e.Causes {
			walk(c, depth+1)
		}
	}
	walk(ve, 0)
	// The validator visits properties in map order: sort for stable messages.
	sort.Strings(out)
	return out
}

func jsonSchemaRule(k jsonschema.ErrorKind) string {
	kw := strings.Join(k.KeywordPath(), "/")
	switch k := k.(type) {
	case *kind.Type:
		return "type: want " + strings.Join(k.Want, " or ") + ", got " + k.Got
	case *kind.Required:
		return "required: missing " + strings.Join(quoteAll(k.Missing), ", ")
	case *kind.Enum:
		return "enum: want one of " + limitedList(k.Want)
	case *kind.Const:
		return fmt.Sprintf("const: want %q", fmt.Sprint(k.Want))
	case *kind.Format:
		return "format: want " + k.Want
	case *kind.Pattern:
		return "pattern: want a match of " + k.Want
	case *kind.AdditionalProperties:
		return "additionalProperties: unexpected " + strings.Join(quoteAll(k.Properties), ", ")
	case *kind.MinLength:
		return fmt.Sprintf("minLength: want at least %d characters", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("maxLength: want at most %d characters", k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("minItems: want at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("maxItems: want at most %d items", k.Want)
	case *kind.Minimum:
		return "minimum: want at least " + k.Want.RatString()
	case *kind.Maximum:
		return "maximum: want at most " + k.Want.RatString()
	case *kind.FalseSchema:
		return "false schema: no value allowed here"
	case *kind.InvalidJsonValue:
		return "not a JSON value"
	}
	if kw == "" {
		return "invalid"
	}
	return "violates " + kw
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
