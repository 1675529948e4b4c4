package vault_test

import (
	"errors"
	"net"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/remediator/vault"
)

// Explain adds a sentinel and keeps the client's error inside, so a caller
// can still read the status and Vault's own messages.
func TestExplainWrapsTheClientError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		is   error // nil: returned as it is
	}{
		{"sealed", &api.ResponseError{StatusCode: 503, Errors: []string{"Vault is sealed"}}, vault.ErrSealed},
		{"unavailable", &api.ResponseError{StatusCode: 503, Errors: []string{"standby"}}, vault.ErrUnreachable},
		{"forbidden", &api.ResponseError{StatusCode: 403, Errors: []string{"permission denied"}}, vault.ErrDenied},
		{"bad request: permission denied", &api.ResponseError{StatusCode: 400, Errors: []string{"permission denied"}}, vault.ErrDenied},
		{"not found", &api.ResponseError{StatusCode: 404}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := vault.Explain("http://127.0.0.1:8200", tc.err)
			var re *api.ResponseError
			if !errors.As(got, &re) || re != tc.err {
				t.Errorf("errors.As(%v, *api.ResponseError) does not find the client's error", got)
			}
			if tc.is == nil {
				if got != tc.err {
					t.Errorf("Explain changed an error it has nothing to add to: %v", got)
				}
				return
			}
			if !errors.Is(got, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", got, tc.is)
			}
		})
	}

	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	got := vault.Explain("http://127.0.0.1:1", refused)
	var oe *net.OpError
	if !errors.Is(got, vault.ErrUnreachable) || !errors.As(got, &oe) || oe != refused {
		t.Errorf("unreachable: %v does not wrap both ErrUnreachable and the *net.OpError", got)
	}
	if vault.Explain("x", nil) != nil {
		t.Error("Explain(nil) is not nil")
	}
}
