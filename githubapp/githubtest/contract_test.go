package githubtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp/githubtest/contract"
)

// recorder is a testing.TB that keeps the errors reported to it, so a test
// can assert that the stand-in failed "its" test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

// recordedFixture is a fixture whose stand-in reports to a recorder.
func recordedFixture(t *testing.T, opts ...Option) (*recorder, *Server, string, string) {
	rec := &recorder{TB: t}
	srv := New(rec, opts...)
	if err := srv.CreateRepo("acme", "shop", map[string]string{"a.txt": "a\n"}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := srv.Token(srv.Install("acme"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := srv.RepoDir("acme", "shop")
	if err != nil {
		t.Fatal(err)
	}
	head := mustGit(t, dir, "rev-parse", "main")
	return rec, srv, tok, head
}

// wantViolation checks that exactly the expected violation was reported,
// both to the test (through the recorder) and in Violations.
func wantViolation(t *testing.T, rec *recorder, srv *Server, op, kind, rule string) {
	t.Helper()
	fails := rec.failures()
	if len(fails) != 1 || !strings.Contains(fails[0], op) || !strings.Contains(fails[0], rule) {
		t.Fatalf("reported failures = %q, want one naming %s and %q", fails, op, rule)
	}
	vs := srv.Violations()
	var v *contract.Violation
	if len(vs) != 1 || !errors.As(vs[0], &v) || v.OperationID != op || v.Kind != kind {
		t.Fatalf("violations = %v, want one %s %s", vs, kind, op)
	}
}

func TestContractRequestViolations(t *testing.T) {
	cases := []struct {
		name string
		body func(head string) string
		rule string
	}{
		{"malformed check run body: head_sha missing, name a number",
			func(string) string { return `{"name": 7}` }, "head_sha"},
		{"unknown field type: start_line as a string",
			func(head string) string {
				return `{"name":"pushvault","head_sha":"` + head + `","output":{"title":"t","summary":"s","annotations":[{"path":"a.txt","start_line":"one","end_line":1,"annotation_level":"failure","message":"m"}]}}`
			}, "start_line"},
		{"annotation level outside the enum",
			func(head string) string {
				return `{"name":"pushvault","head_sha":"` + head + `","output":{"title":"t","summary":"s","annotations":[{"path":"a.txt","start_line":1,"end_line":1,"annotation_level":"catastrophic","message":"m"}]}}`
			}, "annotation_level"},
		{"51 annotations in one request",
			func(head string) string {
				var anns []string
				for range 51 {
					anns = append(anns, `{"path":"a.txt","start_line":1,"end_line":1,"annotation_level":"notice","message":"m"}`)
				}
				return `{"name":"pushvault","head_sha":"` + head + `","output":{"title":"t","summary":"s","annotations":[` + strings.Join(anns, ",") + `]}}`
			}, "annotations"},
		{"summary over 65535 characters",
			func(head string) string {
				return `{"name":"pushvault","head_sha":"` + head + `","output":{"title":"t","summary":"` + strings.Repeat("x", 65536) + `"}}`
			}, "summary"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, srv, tok, head := recordedFixture(t)
			status, body := rawRequest(t, srv, tok, "POST", "/repos/acme/shop/check-runs", tc.body(head))
			if status != 422 {
				t.Errorf("status = %d, want 422 (GitHub's answer to an invalid body): %s", status, body)
			}
			wantViolation(t, rec, srv, "checks/create", "request", tc.rule)
			if len(srv.CheckRuns()) != 0 {
				t.Error("an invalid request created a check run")
			}
		})
	}
}

// TestContractResponseViolation makes the stand-in answer wrongly (a check
// run without head_sha, an id of the wrong type): response validation
// catches it, the client gets a 500, and the test is failed.
func TestContractResponseViolation(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(map[string]any)
		rule    string
	}{
		{"required field dropped", func(m map[string]any) { delete(m, "head_sha") }, "head_sha"},
		{"wrong type", func(m map[string]any) { m["id"] = "not-a-number" }, "/id"},
		{"status outside the enum", func(m map[string]any) { m["status"] = "exploded" }, "status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, srv, tok, head := recordedFixture(t, WithResponseHook(func(op string, status int, body []byte) []byte {
				if op != "checks/create" {
					return body
				}
				var m map[string]any
				if err := json.Unmarshal(body, &m); err != nil {
					return body
				}
				tc.corrupt(m)
				out, _ := json.Marshal(m)
				return out
			}))
			gh := client(t, srv, &tokenTransport{tok})
			_, _, err := gh.Checks.CreateCheckRun(context.Background(), "acme", "shop", github.CreateCheckRunOptions{Name: "pushvault", HeadSHA: head})
			var er *github.ErrorResponse
			if !errors.As(err, &er) || er.Response.StatusCode != 500 {
				t.Fatalf("err = %v, want a 500", err)
			}
			wantViolation(t, rec, srv, "checks/create", "response", tc.rule)
		})
	}
}

// TestAddLabelsBareArray: go-github v60's AddLabelsToIssue sends a bare
// JSON array, which GitHub's published description does not allow; the
// stand-in flags it (the App must send {"labels": [...]}).
func TestAddLabelsBareArray(t *testing.T) {
	rec, srv, tok, _ := recordedFixture(t)
	gh := client(t, srv, &tokenTransport{tok})
	ctx := context.Background()
	is, _, err := gh.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = gh.Issues.AddLabelsToIssue(ctx, "acme", "shop", is.GetNumber(), []string{"x"})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 422 {
		t.Fatalf("err = %v, want 422", err)
	}
	wantViolation(t, rec, srv, "issues/add-labels", "request", "type")
}

// TestWebhookViolationNotSent: a payload that breaks the webhook
// description is reported and never sent.
func TestWebhookViolationNotSent(t *testing.T) {
	rec, srv, _, _ := recordedFixture(t)
	rc := newReceiver(t, srv.App().WebhookSecret)
	srv.SetWebhookURL(rc.srv.URL)
	d := srv.deliver("push", obj{"ref": "refs/heads/main"})
	if d.Err == "" || len(rc.all()) != 0 {
		t.Errorf("delivery = %+v, received %d", d, len(rc.all()))
	}
	wantViolation(t, rec, srv, "push", "webhook", "required")
}

// tokenTransport authenticates with a fixed installation token.
type tokenTransport struct{ token string }

func (tt *tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "token "+tt.token)
	return http.DefaultTransport.RoundTrip(r)
}
