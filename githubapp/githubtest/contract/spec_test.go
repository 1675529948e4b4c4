package contract

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFind(t *testing.T) {
	s := mustLoad(t)
	tests := []struct {
		name, method, path string
		wantID             string
		wantPath           string
		wantParams         map[string]string
	}{
		{
			name: "ref with slashes", method: "GET", path: "/repos/acme/shop/git/ref/heads/feature/x",
			wantID: "git/get-ref", wantPath: "/repos/{owner}/{repo}/git/ref/{ref}",
			wantParams: map[string]string{"owner": "acme", "repo": "shop", "ref": "heads/feature/x"},
		},
		{
			name: "ref with slashes on update", method: "PATCH", path: "/repos/acme/shop/git/refs/heads/pushvault/fix-9f1c2ab",
			wantID: "git/update-ref", wantPath: "/repos/{owner}/{repo}/git/refs/{ref}",
			wantParams: map[string]string{"owner": "acme", "repo": "shop", "ref": "heads/pushvault/fix-9f1c2ab"},
		},
		{
			name: "path with slashes", method: "PUT", path: "/repos/acme/shop/contents/config/prod/payments.yml",
			wantID: "repos/create-or-update-file-contents", wantPath: "/repos/{owner}/{repo}/contents/{path}",
			wantParams: map[string]string{"owner": "acme", "repo": "shop", "path": "config/prod/payments.yml"},
		},
		{
			name: "escaped path segment", method: "GET", path: "/repos/acme/shop/contents/docs/read%20me.md",
			wantID: "repos/get-content", wantPath: "/repos/{owner}/{repo}/contents/{path}",
			wantParams: map[string]string{"owner": "acme", "repo": "shop", "path": "docs/read me.md"},
		},
		{
			name: "ref with slashes in the middle", method: "GET", path: "/repos/acme/shop/commits/feature/x/check-runs",
			wantID: "checks/list-for-ref", wantPath: "/repos/{owner}/{repo}/commits/{ref}/check-runs",
			wantParams: map[string]string{"owner": "acme", "repo": "shop", "ref": "feature/x"},
		},
		{
			name: "literal segment beats a ref", method: "GET", path: "/repos/acme/shop/commits/9f1c2ab/comments",
			wantID: "repos/list-comments-for-commit", wantPath: "/repos/{owner}/{repo}/commits/{commit_sha}/comments",
			wantParams: map[string]string{"owner": "acme", "repo": "shop", "commit_sha": "9f1c2ab"},
		},
		{
			name: "commit by branch name", method: "GET", path: "/repos/acme/shop/commits/release/2026.11",
			wantID: "repos/get-commit", wantPath: "/repos/{owner}/{repo}/commits/{ref}",
			wantParams: map[string]string{"owner": "acme", "repo": "shop", "ref": "release/2026.11"},
		},
		{
			name: "query string ignored", method: "GET", path: "/repos/acme/shop/issues?state=open",
			wantID: "issues/list-for-repo", wantPath: "/repos/{owner}/{repo}/issues",
			wantParams: map[string]string{"owner": "acme", "repo": "shop"},
		},
		{
			name: "enterprise prefix", method: "post", path: "/api/v3/app/installations/57012345/access_tokens",
			wantID: "apps/create-installation-access-token", wantPath: "/app/installations/{installation_id}/access_tokens",
			wantParams: map[string]string{"installation_id": "57012345"},
		},
		{
			name: "no parameters", method: "GET", path: "/app",
			wantID: "apps/get-authenticated", wantPath: "/app", wantParams: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, params, err := s.Find(tt.method, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if op.ID != tt.wantID || op.Path != tt.wantPath {
				t.Errorf("found %s %s, want %s %s", op.ID, op.Path, tt.wantID, tt.wantPath)
			}
			if diff := cmp.Diff(tt.wantParams, params); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindNoOperation(t *testing.T) {
	s := mustLoad(t)
	tests := []struct{ name, method, path string }{
		{"unserved path", "GET", "/user/repos"},
		{"unserved path under a served one", "GET", "/repos/acme/shop/branches"},
		{"repo name takes one segment", "GET", "/repos/acme/shop/extra/segments"},
		{"unserved method", "DELETE", "/repos/acme/shop/pulls/42"},
		{"empty ref", "GET", "/repos/acme/shop/git/ref/"},
		{"empty segment inside a ref", "GET", "/repos/acme/shop/git/ref/heads//x"},
		{"trailing slash", "GET", "/repos/acme/shop/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, _, err := s.Find(tt.method, tt.path)
			if !errors.Is(err, ErrNoOperation) {
				t.Fatalf("want ErrNoOperation, got operation %v, error %v", op, err)
			}
		})
	}
}

func TestServedOperationsResolve(t *testing.T) {
	s := mustLoad(t)
	ops := s.Operations()
	if len(ops) != len(Served) {
		t.Fatalf("%d operations for %d served lines", len(ops), len(Served))
	}
	seen := map[string]bool{}
	for i, op := range ops {
		if op.ID == "" || seen[op.ID] {
			t.Errorf("served %q: operation id %q empty or repeated", Served[i], op.ID)
		}
		seen[op.ID] = true
		if got := op.Method + " " + op.Path; got != Served[i] {
			t.Errorf("operation %d is %q, served %q", i, got, Served[i])
		}
	}
}

func TestDeriveRESTRejectsUnknownOperation(t *testing.T) {
	full := map[string]any{
		"openapi": "3.0.3",
		"paths": map[string]any{
			"/app": map[string]any{"get": map[string]any{"operationId": "apps/get-authenticated"}},
		},
		"components": map[string]any{"schemas": map[string]any{"basic-error": map[string]any{"type": "object"}}},
	}
	for _, line := range []string{"GET /nope", "POST /app", "get /app", "GET"} {
		if _, err := deriveREST(full, []string{line}); err == nil {
			t.Errorf("served %q: want an error", line)
		}
	}
	if _, err := deriveREST(full, []string{"GET /app"}); err != nil {
		t.Errorf("served GET /app: %v", err)
	}
}
