package contract

import (
	"errors"
	"net/http"
	"testing"
)

const headSHA = "9f1c2ab4e0d3c6f8b7a5e4d3c2b1a09f8e7d6c5b"

func TestValidateRequest(t *testing.T) {
	s := mustLoad(t)
	tests := []struct {
		name         string
		method, path string
		body         string
		header       func(h http.Header)
		wantID       string
		want         string // "" for a valid request, else part of the violation
	}{
		{
			name: "check run create", method: "POST", path: "/repos/acme/shop/check-runs",
			body:   `{"name":"pushvault","head_sha":"` + headSHA + `","status":"in_progress","started_at":"2026-11-30T05:00:00Z","external_id":"push-9f1c2ab"}`,
			wantID: "checks/create",
		},
		{
			name: "check run complete with annotations and actions", method: "PATCH", path: "/repos/acme/shop/check-runs/4821093657",
			body: `{"status":"completed","conclusion":"action_required","completed_at":"2026-11-30T05:00:04Z",
				"output":{"title":"1 secret moved to Vault","summary":"see the fix PR",
				"annotations":[{"path":"config/payments.yml","start_line":12,"end_line":12,"annotation_level":"failure","message":"Stripe key moved to Vault"}]},
				"actions":[{"label":"False positive","description":"Mark as a false positive","identifier":"false_positive"}]}`,
			wantID: "checks/update",
		},
		{
			name: "create a branch", method: "POST", path: "/repos/acme/shop/git/refs",
			body:   `{"ref":"refs/heads/pushvault/fix-9f1c2ab","sha":"` + headSHA + `"}`,
			wantID: "git/create-ref",
		},
		{
			name: "update a ref with slashes", method: "PATCH", path: "/repos/acme/shop/git/refs/heads/pushvault/fix-9f1c2ab",
			body: `{"sha":"` + headSHA + `","force":false}`, wantID: "git/update-ref",
		},
		{
			name: "delete a ref with slashes", method: "DELETE", path: "/repos/acme/shop/git/refs/heads/pushvault/fix-9f1c2ab",
			wantID: "git/delete-ref",
		},
		{
			name: "write a file whose path has slashes", method: "PUT", path: "/repos/acme/shop/contents/config/prod/payments.yml",
			body:   `{"message":"pushvault: reference the vaulted key","content":"c3RyaXBlX2tleTogdmF1bHQ6c2VjcmV0","sha":"3a7b1c9d2e4f6a8b0c1d3e5f7a9b2c4d6e8f0a1b","branch":"pushvault/fix-9f1c2ab"}`,
			wantID: "repos/create-or-update-file-contents",
		},
		{
			name: "open a pull request", method: "POST", path: "/repos/acme/shop/pulls",
			body:   `{"title":"pushvault: move 1 secret to Vault","head":"pushvault/fix-9f1c2ab","base":"main","body":"| what | where |"}`,
			wantID: "pulls/create",
		},
		{
			name: "list issues with query", method: "GET", path: "/repos/acme/shop/issues?state=open&labels=pushvault&per_page=100",
			wantID: "issues/list-for-repo",
		},
		{
			name: "revoke credentials", method: "POST", path: "/credentials/revoke",
			body: `{"credentials":["ghp_000000000000000000000000000000000000"]}`, wantID: "credentials/revoke",
		},
		{
			name: "installation token without body", method: "POST", path: "/app/installations/57012345/access_tokens",
			wantID: "apps/create-installation-access-token",
		},
		{
			name: "malformed check run body", method: "POST", path: "/repos/acme/shop/check-runs",
			body: `{"name":"pushvault","head_sha":`, wantID: "checks/create", want: "body: not valid JSON",
		},
		{
			name: "check run status of the wrong type", method: "POST", path: "/repos/acme/shop/check-runs",
			body: `{"name":"pushvault","head_sha":"` + headSHA + `","status":5}`, wantID: "checks/create", want: "body: at /status: ",
		},
		{
			name: "check run status not in the enum", method: "POST", path: "/repos/acme/shop/check-runs",
			body: `{"name":"pushvault","head_sha":"` + headSHA + `","status":"done"}`, wantID: "checks/create", want: "at /status: enum",
		},
		{
			name: "check run without head_sha", method: "POST", path: "/repos/acme/shop/check-runs",
			body: `{"name":"pushvault"}`, wantID: "checks/create", want: `property "head_sha" is missing`,
		},
		{
			name: "check run without body", method: "POST", path: "/repos/acme/shop/check-runs",
			wantID: "checks/create", want: "body: required but missing",
		},
		{
			name: "annotation level not in the enum", method: "PATCH", path: "/repos/acme/shop/check-runs/4821093657",
			body:   `{"output":{"title":"t","summary":"s","annotations":[{"path":"a","start_line":1,"end_line":1,"annotation_level":"fatal","message":"m"}]}}`,
			wantID: "checks/update", want: "at /output/annotations/0/annotation_level: enum",
		},
		{
			name: "body in plain text", method: "POST", path: "/repos/acme/shop/git/refs",
			body:   `{"ref":"refs/heads/x","sha":"` + headSHA + `"}`,
			header: func(h http.Header) { h.Set("Content-Type", "text/plain") },
			wantID: "git/create-ref", want: "Content-Type",
		},
		{
			name: "no user agent", method: "GET", path: "/repos/acme/shop",
			header: func(h http.Header) { h.Del("User-Agent") },
			wantID: "repos/get", want: "header User-Agent: required",
		},
		{
			name: "installation id not an integer", method: "POST", path: "/app/installations/acme/access_tokens",
			wantID: "apps/create-installation-access-token", want: `path parameter "installation_id"`,
		},
		{
			name: "per_page not an integer", method: "GET", path: "/repos/acme/shop/issues?per_page=lots",
			wantID: "issues/list-for-repo", want: `query parameter "per_page"`,
		},
		{
			name: "body on an operation without one", method: "GET", path: "/repos/acme/shop/git/ref/heads/main",
			body: `{"sha":"` + headSHA + `"}`, wantID: "git/get-ref", want: "documents no request body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(tt.method, tt.path, tt.body)
			if tt.header != nil {
				tt.header(r.Header)
			}
			op, _, err := s.ValidateRequest(r, []byte(tt.body))
			if op == nil {
				t.Fatalf("no operation: %v", err)
			}
			if op.ID != tt.wantID {
				t.Errorf("operation %s, want %s", op.ID, tt.wantID)
			}
			checkViolation(t, err, "request", tt.wantID, tt.want)
		})
	}
}

func TestValidateRequestUnserved(t *testing.T) {
	s := mustLoad(t)
	op, _, err := s.ValidateRequest(newRequest("GET", "/repos/acme/shop/branches/main", ""), nil)
	if !errors.Is(err, ErrNoOperation) || op != nil {
		t.Fatalf("want ErrNoOperation and no operation, got %v, %v", op, err)
	}
	var v *Violation
	if errors.As(err, &v) {
		t.Errorf("an unserved operation is not a violation: %v", err)
	}
}

func TestValidateResponse(t *testing.T) {
	s := mustLoad(t)
	checkRun := fixture(t, "check_run.json")
	jsonCT := "application/json; charset=utf-8"
	tests := []struct {
		name         string
		method, path string
		status       int
		contentType  string
		body         []byte
		wantID       string
		want         string
	}{
		{name: "check run created", method: "POST", path: "/repos/acme/shop/check-runs", status: 201, contentType: jsonCT, body: checkRun, wantID: "checks/create"},
		{name: "check run read", method: "GET", path: "/repos/acme/shop/check-runs/4821093657", status: 200, contentType: jsonCT, body: checkRun, wantID: "checks/get"},
		{
			name: "check runs for a ref with slashes", method: "GET", path: "/repos/acme/shop/commits/heads/feature/x/check-runs", status: 200, contentType: jsonCT,
			body: []byte(`{"total_count":1,"check_runs":[` + string(checkRun) + `]}`), wantID: "checks/list-for-ref",
		},
		{name: "ref with slashes", method: "GET", path: "/repos/acme/shop/git/ref/heads/feature/x", status: 200, contentType: jsonCT, body: fixture(t, "git_ref.json"), wantID: "git/get-ref"},
		{name: "ref deleted", method: "DELETE", path: "/repos/acme/shop/git/refs/heads/feature/x", status: 204, wantID: "git/delete-ref"},
		{
			name: "installation token", method: "POST", path: "/app/installations/57012345/access_tokens", status: 201, contentType: jsonCT,
			body: fixture(t, "installation_token.json"), wantID: "apps/create-installation-access-token",
		},
		{
			name: "documented not found", method: "GET", path: "/repos/acme/shop/git/ref/heads/gone", status: 404, contentType: jsonCT,
			body: []byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest/git/refs#get-a-reference","status":"404"}`), wantID: "git/get-ref",
		},
		{
			name: "revocation accepted", method: "POST", path: "/credentials/revoke", status: 202, contentType: jsonCT,
			body: []byte(`{}`), wantID: "credentials/revoke",
		},
		{
			name: "check run without head_sha", method: "POST", path: "/repos/acme/shop/check-runs", status: 201, contentType: jsonCT,
			body:   edit(t, checkRun, func(m map[string]any) { delete(m, "head_sha") }),
			wantID: "checks/create", want: `property "head_sha" is missing`,
		},
		{
			name: "check run id of the wrong type", method: "GET", path: "/repos/acme/shop/check-runs/4821093657", status: 200, contentType: jsonCT,
			body:   edit(t, checkRun, func(m map[string]any) { m["id"] = "4821093657" }),
			wantID: "checks/get", want: "at /id: type: want integer",
		},
		{
			name: "check run name null", method: "GET", path: "/repos/acme/shop/check-runs/4821093657", status: 200, contentType: jsonCT,
			body:   edit(t, checkRun, func(m map[string]any) { m["name"] = nil }),
			wantID: "checks/get", want: "at /name",
		},
		{
			name: "app owner missing login", method: "GET", path: "/repos/acme/shop/check-runs/4821093657", status: 200, contentType: jsonCT,
			body:   edit(t, checkRun, func(m map[string]any) { delete(obj(obj(m, "app"), "owner"), "login") }),
			wantID: "checks/get", want: "/app",
		},
		{
			name: "output annotations_count of the wrong type", method: "GET", path: "/repos/acme/shop/check-runs/4821093657", status: 200, contentType: jsonCT,
			body:   edit(t, checkRun, func(m map[string]any) { obj(m, "output")["annotations_count"] = "1" }),
			wantID: "checks/get", want: "at /output/annotations_count: type: want integer",
		},
		{
			name: "annotations_url not a URI", method: "GET", path: "/repos/acme/shop/check-runs/4821093657", status: 200, contentType: jsonCT,
			body:   edit(t, checkRun, func(m map[string]any) { obj(m, "output")["annotations_url"] = "annotations" }),
			wantID: "checks/get", want: "at /output/annotations_url: format: want uri",
		},
		{
			name: "started_at not a date-time", method: "GET", path: "/repos/acme/shop/check-runs/4821093657", status: 200, contentType: jsonCT,
			body:   edit(t, checkRun, func(m map[string]any) { m["started_at"] = "2026-11-30 05:00" }),
			wantID: "checks/get", want: "at /started_at: format: want date-time",
		},
		{
			name: "undocumented success status", method: "POST", path: "/repos/acme/shop/check-runs", status: 200, contentType: jsonCT,
			body: checkRun, wantID: "checks/create", want: "status 200: not documented (documented: 201)",
		},
		{
			name: "undocumented error status", method: "GET", path: "/repos/acme/shop/check-runs/1", status: 418, contentType: jsonCT,
			body: []byte(`{"message":"teapot"}`), wantID: "checks/get", want: "status 418: not documented",
		},
		{
			name: "wrong content type", method: "GET", path: "/repos/acme/shop/git/ref/heads/main", status: 200, contentType: "text/plain",
			body: fixture(t, "git_ref.json"), wantID: "git/get-ref", want: "Content-Type",
		},
		{
			name: "no content with a body", method: "DELETE", path: "/repos/acme/shop/git/refs/heads/main", status: 204, contentType: jsonCT,
			body: []byte(`{}`), wantID: "git/delete-ref", want: "status 204: documents no body",
		},
		{
			name: "created without a body", method: "POST", path: "/repos/acme/shop/check-runs", status: 201, contentType: jsonCT,
			wantID: "checks/create", want: "status 201: documents a body",
		},
		{
			name: "malformed body", method: "GET", path: "/repos/acme/shop/git/ref/heads/main", status: 200, contentType: jsonCT,
			body: []byte(`{"ref":"refs/heads/main",`), wantID: "git/get-ref", want: "not valid JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(tt.method, tt.path, "")
			op, _, err := s.Find(tt.method, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if op.ID != tt.wantID {
				t.Fatalf("operation %s, want %s", op.ID, tt.wantID)
			}
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			checkViolation(t, s.ValidateResponse(op, r, tt.status, h, tt.body), "response", tt.wantID, tt.want)
		})
	}
}

func TestStatusExceptions(t *testing.T) {
	s := mustLoad(t)
	op, _, err := s.Find("GET", "/repos/acme/shop/check-runs/1")
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	notFound := []byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
	if err := s.ValidateResponse(op, nil, 404, h, notFound); err == nil {
		t.Fatal("checks/get documents no 404: want a violation before an exception is listed")
	}
	StatusExceptions[op.ID] = []int{404}
	t.Cleanup(func() { delete(StatusExceptions, op.ID) })
	if err := s.ValidateResponse(op, nil, 404, h, notFound); err != nil {
		t.Errorf("listed exception: %v", err)
	}
	checkViolation(t, s.ValidateResponse(op, nil, 404, h, []byte(`{"message":5}`)), "response", "checks/get", "at /message: type: want string")
}

// TestValidateError: an error body is held to what the operation documents
// for its status — a oneOf of overlapping error shapes (409 on contents)
// takes a body matching any of them — and to basic-error where
// StatusExceptions lists the status (401/403 on credentials/revoke).
func TestValidateError(t *testing.T) {
	s := mustLoad(t)
	h := http.Header{"Content-Type": {"application/json"}}
	basic := []byte(`{"message":"Conflict","documentation_url":"https://docs.github.com/rest"}`)
	for _, tc := range []struct {
		name, method, path string
		status             int
		body               string
		want               string // "" when valid
	}{
		{"409 basic-error on contents", "PUT", "/repos/acme/shop/contents/a.txt", 409, string(basic), ""},
		{"409 of neither shape", "PUT", "/repos/acme/shop/contents/a.txt", 409, `{"message":5}`, "matches none of the 2 error shapes"},
		{"422 simple validation on revoke", "POST", "/credentials/revoke", 422, `{"message":"Validation Failed","documentation_url":"https://docs.github.com/rest","errors":["spammed"]}`, ""},
		{"422 with object errors on revoke", "POST", "/credentials/revoke", 422, `{"message":"Validation Failed","documentation_url":"https://docs.github.com/rest","errors":[{"code":"x"}]}`, "errors/0"},
		{"403 listed on revoke", "POST", "/api/v3/credentials/revoke", 403, string(basic), ""},
		{"401 listed on revoke, not basic-error", "POST", "/credentials/revoke", 401, `{"message":["no"]}`, "at /message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op, _, err := s.Find(tc.method, tc.path)
			if err != nil {
				t.Fatal(err)
			}
			err = s.ValidateError(op, nil, tc.status, h, []byte(tc.body))
			if tc.want == "" {
				if err != nil {
					t.Errorf("valid error body: %v", err)
				}
				return
			}
			checkViolation(t, err, "response", op.ID, tc.want)
		})
	}
}
