package contract

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture reads testdata/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit decodes a JSON object, lets change edit it, and encodes it again.
func edit(t *testing.T, data []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// obj returns the object at key in m.
func obj(m map[string]any, key string) map[string]any {
	return m[key].(map[string]any)
}

// newRequest builds a request the way go-github sends one.
func newRequest(method, target string, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("User-Agent", "go-github/v60.0.0")
	r.Header.Set("Accept", "application/vnd.github.v3+json")
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

func mustLoad(t *testing.T) *Spec {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustLoadWebhooks(t *testing.T) *Webhooks {
	t.Helper()
	w, err := LoadWebhooks()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// checkViolation checks err against want: want "" means no error; else err
// must be a *Violation of kind for operation id whose message contains want.
func checkViolation(t *testing.T, err error, kind, id, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("want no violation, got %v", err)
		}
		return
	}
	var v *Violation
	if !errors.As(err, &v) {
		t.Fatalf("want a *Violation containing %q, got %v", want, err)
	}
	if v.OperationID != id || v.Kind != kind {
		t.Errorf("violation names %s %s, want %s %s", v.Kind, v.OperationID, kind, id)
	}
	msg := v.Error()
	t.Log(msg)
	if !strings.Contains(msg, want) {
		t.Errorf("violation %q does not contain %q", msg, want)
	}
	if !strings.Contains(msg, id) {
		t.Errorf("violation %q does not name the operation %s", msg, id)
	}
}
