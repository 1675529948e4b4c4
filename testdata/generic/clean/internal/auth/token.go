package auth

import (
	"net/http"
	"os"
)

const (
	tokenHeader  = "Authorization"
	apiKeyPrefix = "pv_live_"
	csrfField    = "csrf_token"
)

// Token is what the token endpoint returns.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

func clientSecret() string {
	secret := os.Getenv("OAUTH_CLIENT_SECRET")
	return secret
}

func csrf(r *http.Request) string {
	csrfToken := r.FormValue(csrfField)
	return csrfToken
}

var passwordHashCost = 12
