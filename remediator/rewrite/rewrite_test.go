package rewrite

import (
	"errors"
	"testing"
)

// A file type no format handles is refused like an unsafe edit (callers
// that only know *UnsafeError still get its manual step), and the refusal
// wraps ErrUnsupported; a refusal of a known format does not.
func TestApplyUnknownFileTypeWrapsErrUnsupported(t *testing.T) {
	tok := fakeToken("unsupported")
	reps := []Replacement{{Line: 3, Literal: tok, EnvName: "API_TOKEN",
		Ref: Ref{Mount: "secret", Path: "pushvault/acme/shop/api_token", Key: "value"}}}

	_, err := Apply("docs/setup.md", []byte("# Setup\n\ntoken: "+tok+"\n"), reps, Options{})
	var unsafe *UnsafeError
	if !errors.As(err, &unsafe) {
		t.Fatalf("Apply on a Markdown file: %v, want an *UnsafeError", err)
	}
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("Apply on a Markdown file: %v does not wrap ErrUnsupported", err)
	}
	if unsafe.Line != 3 || unsafe.Manual == "" {
		t.Errorf("refusal %+v: want line 3 and a manual step", unsafe)
	}

	_, err = Apply("config.yaml", []byte("key: [unclosed\n"), reps, Options{})
	if !errors.As(err, &unsafe) || errors.Is(err, ErrUnsupported) {
		t.Errorf("Apply on broken YAML: %v, want an *UnsafeError that is not ErrUnsupported", err)
	}
}
