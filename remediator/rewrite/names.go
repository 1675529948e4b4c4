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

// genericWords say what kind of credential a value is, or where it is
// used, never whose it is: a name made of them alone ("api_key",
// "secretKey", "ACCESS_TOKEN") is shared by every integration that has one.
var genericWords = map[string]bool{
	"api": true, "apikey": true, "key": true, "keys": true, "secret": true, "secrets": true,
	"token": true, "tokens": true, "access": true, "auth": true, "oauth": true, "bearer": true,
	"authorization": true, "client": true, "private": true, "public": true, "pass": true,
	"passwd": true, "password": true, "pwd": true, "pw": true, "credential": true,
	"credentials": true, "cred": true, "creds": true, "id": true, "value": true, "live": true,
	"prod": true, "production": true, "test": true, "default": true, "my": true, "the": true,
	"sk": true, "pk": true, "rk": true, "signing": true, "session": true, "app": true,
	"webhook": true, "url": true, "uri": true, "dsn": true, "conn": true, "connection": true,
	"string": true, "config": true, "env": true, "generic": true,
}

// GenericWord reports whether w, a word of a normalised name, says
// nothing about whose credential it names; a version ("v2") or a number
// neither.
func GenericWord(w string) bool {
	if genericWords[w] {
		return true
	}
	w = strings.TrimPrefix(w, "v")
	return w == "" || strings.Trim(w, "0123456789") == ""
}

// Qualify prefixes a normalised name made only of generic words
// ("api_key") with service, a normalised service name ("stripe"), giving
// "stripe_api_key": two integrations whose code both says apiKey then get
// two names, in every language alike. A name with any other word
// ("billing_key", "stripe_key") is kept, and so is every name when service
// is "".
func Qualify(name, service string) string {
	if name == "" || service == "" {
		return name
	}
	for _, w := range strings.Split(name, "_") {
		if !GenericWord(w) {
			return name
		}
	}
	return Normalize(service + "_" + name)
}
