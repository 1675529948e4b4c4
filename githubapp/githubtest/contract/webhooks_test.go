package contract

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestWebhooks(t *testing.T) {
	w := mustLoadWebhooks(t)
	push := fixture(t, "push.json")
	closed := fixture(t, "webhook-pull-request-closed.json")
	tests := []struct {
		name    string
		event   string
		payload []byte
		wantID  string
		want    string
	}{
		{name: "push", event: "push", payload: push, wantID: "push"},
		{
			name: "push creating a branch", event: "push", wantID: "push",
			payload: edit(t, push, func(m map[string]any) {
				m["ref"] = "refs/heads/feature/x"
				m["before"] = "0000000000000000000000000000000000000000"
				m["created"] = true
				m["base_ref"] = "refs/heads/main"
			}),
		},
		{name: "pull request closed", event: "pull_request", payload: closed, wantID: "pull_request.closed"},
		{
			name: "pull request opened", event: "pull_request", wantID: "pull_request.opened",
			payload: edit(t, closed, func(m map[string]any) {
				m["action"] = "opened"
				pr := obj(m, "pull_request")
				pr["state"], pr["merged"], pr["closed_at"], pr["merged_at"], pr["merged_by"], pr["merge_commit_sha"] = "open", false, nil, nil, nil, nil
			}),
		},
		{name: "check run requested action", event: "check_run", payload: fixture(t, "webhook-check-run-requested-action.json"), wantID: "check_run.requested_action"},
		{name: "installation created", event: "installation", payload: fixture(t, "webhook-installation-created.json"), wantID: "installation.created"},
		{name: "ping", event: "ping", payload: fixture(t, "webhook-ping.json"), wantID: "ping"},
		{
			name: "push without after", event: "push", wantID: "push", want: `at /: required: missing "after"`,
			payload: edit(t, push, func(m map[string]any) { delete(m, "after") }),
		},
		{
			name: "push with a numeric after", event: "push", wantID: "push", want: "at /after: type: want string, got number",
			payload: edit(t, push, func(m map[string]any) { m["after"] = 42 }),
		},
		{
			name: "push commit without id", event: "push", wantID: "push", want: `at /commits/0: required: missing "id"`,
			payload: edit(t, push, func(m map[string]any) { delete(m["commits"].([]any)[0].(map[string]any), "id") }),
		},
		{
			name: "push with a bad timestamp", event: "push", wantID: "push", want: "at /head_commit/timestamp: format: want date-time",
			payload: edit(t, push, func(m map[string]any) { obj(m, "head_commit")["timestamp"] = "yesterday" }),
		},
		{
			name: "push that is not JSON", event: "push", wantID: "push", want: "payload: not valid JSON",
			payload: []byte(`{"ref":"refs/heads/main"`),
		},
		{
			name: "pull request closed without a number", event: "pull_request", wantID: "pull_request.closed", want: `missing "number"`,
			payload: edit(t, closed, func(m map[string]any) { delete(m, "number") }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkViolation(t, w.Validate(tt.event, tt.payload), "webhook", tt.wantID, tt.want)
		})
	}
}

func TestWebhooksNotServed(t *testing.T) {
	w := mustLoadWebhooks(t)
	closed := fixture(t, "webhook-pull-request-closed.json")
	tests := []struct {
		name, event string
		payload     []byte
	}{
		{"unserved action", "pull_request", edit(t, closed, func(m map[string]any) { m["action"] = "labeled" })},
		{"unserved event", "issues", []byte(`{"action":"opened"}`)},
		{"action missing where events have one", "check_run", []byte(`{}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.Validate(tt.event, tt.payload)
			if !errors.Is(err, ErrNoOperation) {
				t.Fatalf("want ErrNoOperation, got %v", err)
			}
		})
	}
}

func TestWebhookEventsResolve(t *testing.T) {
	w := mustLoadWebhooks(t)
	for _, e := range WebhookEvents {
		if w.schemas[e] == nil {
			t.Errorf("event %s has no schema", e)
		}
	}
}

func TestValidateDelivery(t *testing.T) {
	w := mustLoadWebhooks(t)
	push := fixture(t, "push.json")
	headers := func() http.Header {
		return http.Header{
			"User-Agent":                             {"GitHub-Hookshot/pushvault-standin"},
			"X-Github-Event":                         {"push"},
			"X-Github-Delivery":                      {"72d3162e-cc78-11e3-81ab-4c9367dc0958"},
			"X-Github-Hook-Id":                       {"471130208"},
			"X-Github-Hook-Installation-Target-Id":   {"104729"},
			"X-Github-Hook-Installation-Target-Type": {"integration"},
			"X-Hub-Signature-256":                    {"sha256=" + strings.Repeat("ab", 32)},
		}
	}
	tests := []struct {
		name    string
		header  func(h http.Header)
		payload []byte
		wantID  string
		want    string
	}{
		{name: "complete delivery", payload: push, wantID: "push"},
		{name: "no signature", header: func(h http.Header) { h.Del("X-Hub-Signature-256") }, payload: push, wantID: "push", want: "header X-Hub-Signature-256: required"},
		{name: "no delivery id", header: func(h http.Header) { h.Del("X-GitHub-Delivery") }, payload: push, wantID: "push", want: "header X-GitHub-Delivery: required"},
		{
			name: "no hook id and a broken payload", header: func(h http.Header) { h.Del("X-GitHub-Hook-ID") }, wantID: "push",
			payload: edit(t, push, func(m map[string]any) { delete(m, "after") }),
			want:    `header X-Github-Hook-Id: required; at /: required: missing "after"`,
		},
		{name: "no event", header: func(h http.Header) { h.Del("X-GitHub-Event") }, payload: push, wantID: "(no event)", want: "header X-GitHub-Event: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := headers()
			if tt.header != nil {
				tt.header(h)
			}
			checkViolation(t, w.ValidateDelivery(h, tt.payload), "webhook", tt.wantID, tt.want)
		})
	}
	h := headers()
	h.Set("X-GitHub-Event", "issues")
	if err := w.ValidateDelivery(h, []byte(`{"action":"opened"}`)); !errors.Is(err, ErrNoOperation) {
		t.Errorf("unserved event: want ErrNoOperation, got %v", err)
	}
}
