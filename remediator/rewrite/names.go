package rewrite

import (
	"strings"
	"unicode"
)

// Normalize turns an identifier into lower snake case: "stripeApiKey",
// "STRIPE_API_KEY", "stripe-api-key" and "Stripe.ApiKey" all become
// "stripe_api_key". Characters other than letters and digits separate
// words; the result has no leading digit and at most 64 characters.
func Normalize(s string) string {
	var b strings.Builder
	prevLower := false
	sep := false
	for _, r := range s {
		switch {
		case unicode.IsUpper(r) && r < unicode.MaxASCII:
			if prevLower && b.Len() > 0 {
				sep = true
			}
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			sep = false
			b.WriteRune(unicode.ToLower(r))
			prevLower = false
		case (unicode.IsLower(r) || unicode.IsDigit(r)) && r < unicode.MaxASCII:
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			sep = false
			b.WriteRune(r)
			prevLower = true
		default:
			sep = true
			prevLower = false
		}
	}
	out := b.String()
	if out != "" && out[0] >= '0' && out[0] <= '9' {
		out = "v_" + out
	}
	if len(out) > 64 {
		out = strings.TrimRight(out[:64], "_")
	}
	return out
}

// EnvName is the environment variable name for a normalised identifier:
// "stripe_api_key" -> "STRIPE_API_KEY".
func EnvName(normalized string) string { return strings.ToUpper(normalized) }
