package contract

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// planted is a secret-shaped value placed in offending fields.
const planted = "sk_live_51PvPlantedContractSecret0123456789abcdef"

// errorTexts returns the messages of err and of everything it wraps.
func errorTexts(err error) []string {
	var out []string
	for err != nil {
		out = append(out, err.Error())
		err = errors.Unwrap(err)
	}
	return out
}

func TestViolationDoesNotQuoteValues(t *testing.T) {
	s := mustLoad(t)
	w := mustLoadWebhooks(t)
	long := strings.Repeat(planted, 65535/len(planted)+1)
	checkRun := fixture(t, "check_run.json")
	push := fixture(t, "push.json")
	tests := []struct {
		name string
		err  func() error
	}{
		{"request enum", func() error {
			_, _, err := s.ValidateRequest(newRequest("POST", "/repos/acme/shop/check-runs", ""), []byte(`{"name":"n","head_sha":"s","status":"`+planted+`"}`))
			return err
		}},
		{"request format", func() error {
			_, _, err := s.ValidateRequest(newRequest("POST", "/repos/acme/shop/check-runs", ""), []byte(`{"name":"n","head_sha":"s","started_at":"`+planted+`"}`))
			return err
		}},
		{"request type", func() error {
			_, _, err := s.ValidateRequest(newRequest("POST", "/repos/acme/shop/check-runs", ""), []byte(`{"name":{"token":"`+planted+`"},"head_sha":"s"}`))
			return err
		}},
		{"request maxLength", func() error {
			_, _, err := s.ValidateRequest(newRequest("POST", "/repos/acme/shop/check-runs", ""), []byte(`{"name":"n","head_sha":"s","output":{"title":"t","summary":"`+long+`"}}`))
			return err
		}},
		{"query parameter", func() error {
			_, _, err := s.ValidateRequest(newRequest("GET", "/repos/acme/shop/issues?per_page="+planted, ""), nil)
			return err
		}},
		{"path parameter", func() error {
			_, _, err := s.ValidateRequest(newRequest("POST", "/app/installations/"+planted+"/access_tokens", ""), nil)
			return err
		}},
		{"malformed body", func() error {
			_, _, err := s.ValidateRequest(newRequest("POST", "/repos/acme/shop/check-runs", ""), []byte(`{"name":"`+planted+`" "head_sha":"s"}`))
			return err
		}},
		{"response enum", func() error {
			op, _, _ := s.Find("GET", "/repos/acme/shop/check-runs/1")
			body := edit(t, checkRun, func(m map[string]any) { m["conclusion"] = planted })
			return s.ValidateResponse(op, nil, 200, http.Header{"Content-Type": {"application/json"}}, body)
		}},
		{"response type", func() error {
			op, _, _ := s.Find("GET", "/repos/acme/shop/check-runs/1")
			body := edit(t, checkRun, func(m map[string]any) { m["head_sha"] = []any{planted} })
			return s.ValidateResponse(op, nil, 200, http.Header{"Content-Type": {"application/json"}}, body)
		}},
		{"response oneOf", func() error {
			op, _, _ := s.Find("GET", "/repos/acme/shop/check-runs/1")
			body := edit(t, checkRun, func(m map[string]any) { obj(obj(m, "app"), "owner")["login"] = map[string]any{"v": planted} })
			return s.ValidateResponse(op, nil, 200, http.Header{"Content-Type": {"application/json"}}, body)
		}},
		{"webhook format", func() error {
			return w.Validate("push", edit(t, push, func(m map[string]any) { obj(m, "pusher")["email"] = planted }))
		}},
		{"webhook type", func() error {
			return w.Validate("push", edit(t, push, func(m map[string]any) { m["created"] = planted }))
		}},
		{"webhook enum", func() error {
			return w.Validate("push", edit(t, push, func(m map[string]any) { obj(m, "repository")["visibility"] = planted }))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			var v *Violation
			if !errors.As(err, &v) {
				t.Fatalf("want a *Violation, got %v", err)
			}
			for _, msg := range errorTexts(err) {
				if strings.Contains(msg, planted) || strings.Contains(msg, planted[:16]) {
					t.Errorf("message quotes the planted value: %s", msg)
				}
			}
		})
	}
}

// TestValidatorsQuoteValues shows the redaction above is load-bearing: the
// validators' own messages do quote the values they reject.
func TestValidatorsQuoteValues(t *testing.T) {
	s := mustLoad(t)
	op, params, err := s.Find("GET", "/repos/acme/shop/issues")
	if err != nil {
		t.Fatal(err)
	}
	r := newRequest("GET", "/repos/acme/shop/issues?per_page="+planted, "")
	kinErr := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params, Route: op.route, Options: filterOptions(),
	})
	if kinErr == nil || !strings.Contains(kinErr.Error(), planted) {
		t.Errorf("kin-openapi's message was expected to quote the value: %v", kinErr)
	}

	w := mustLoadWebhooks(t)
	payload := edit(t, fixture(t, "push.json"), func(m map[string]any) { obj(m, "pusher")["email"] = planted })
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.schemas["push"].Validate(v); err == nil || !strings.Contains(err.Error(), planted) {
		t.Errorf("jsonschema's message was expected to quote the value: %v", err)
	}
}
