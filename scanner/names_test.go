package scanner

import (
	"context"
	"testing"

	"github.com/pushvault/pushvault/internal/secrettest"
)

func TestHoldsCredential(t *testing.T) {
	g := secrettest.New(61)
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"stripe_api_key", false},
		{"aws_secret_access_key", false},
		{"oauth2_client_secret", false},
		{"sha256_base64encoded_value", false},
		{"DATABASE_URL", false},
		{"v_" + g.GitHub(), true},             // a detector's match
		{"tokens_" + g.Stripe() + "_x", true}, // inside a longer name
		{"k_a8f9d0c2e1b7", true},              // hex-looking word
		{"x" + g.PostgresPassword(), true},    // random letters and digits
		{"name_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
	} {
		if got := HoldsCredential(context.Background(), tc.name); got != tc.want {
			t.Errorf("HoldsCredential(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestGeneratedWord(t *testing.T) {
	for _, w := range []string{"OAuth2ClientSecret", "x509certificate", "base64encoded", "password", "databasePasswordValue", "DATABASE", "sha256"} {
		if generatedWord(w) {
			t.Errorf("generatedWord(%q) = true for a word a person wrote", w)
		}
	}
	// Random values of every shape the generator makes are caught in
	// (nearly) every draw.
	g := secrettest.New(62)
	missed := 0
	for range 200 {
		if !generatedWord(g.PostgresPassword()) {
			missed++
		}
	}
	if missed > 10 {
		t.Errorf("%d of 200 random 20-character values not seen as generated", missed)
	}
}
