package githubtest

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUnroutedRequestIsAViolation: a request to an operation the stand-in
// does not serve is answered 404 as GitHub's basic-error and recorded as a
// contract violation (so the test that made it fails): pushvault calling
// an endpoint the stand-in lacks cannot go unnoticed.
func TestUnroutedRequestIsAViolation(t *testing.T) {
	var reported []error
	s, err := newServer(t.TempDir(), func(err error) { reported = append(reported, err) })
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	s.URL = ts.URL
	for _, path := range []string{"/repos/acme/shop/branches", "/api/v3/repos/acme/shop/branches"} {
		st, body := rawRequest(t, s, "", "GET", path, "")
		var m map[string]any
		if st != 404 || json.Unmarshal(body, &m) != nil || m["message"] != "Not Found" {
			t.Errorf("GET %s: %d %s, want 404 Not Found", path, st, body)
		}
	}
	if st, _ := rawRequest(t, s, "", "DELETE", "/credentials/revoke", ""); st != 404 {
		t.Errorf("DELETE /credentials/revoke: %d, want 404", st)
	}
	v := s.Violations()
	if len(v) != 3 || len(reported) != 3 {
		t.Fatalf("%d violations (%d reported), want one per unrouted request (3): %v", len(v), len(reported), v)
	}
	if !strings.Contains(v[0].Error(), "GET /repos/acme/shop/branches") || !strings.Contains(v[2].Error(), "DELETE /credentials/revoke") {
		t.Errorf("violations do not name the request: %v", v)
	}
}
