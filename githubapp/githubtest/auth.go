package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// App is the GitHub App the stand-in plays host to: what GitHub hands its
// owner after registration.
type App struct {
	ID            int64
	Slug          string
	Name          string
	ClientID      string
	ClientSecret  string
	WebhookSecret string
	PrivateKeyPEM []byte // PKCS#1 RSA private key, as GitHub issues it
}

// Installation is the App installed on an account, for some or all of its
// repositories.
type Installation struct {
	ID      int64
	Account string
	// Repos are the full names ("owner/name") it covers; nil means every
	// repository of the account.
	Repos []string
}

func (i *Installation) covers(full string) bool {
	if i.Repos == nil {
		owner, _, _ := strings.Cut(full, "/")
		return owner == i.Account
	}
	return slices.Contains(i.Repos, full)
}

type token struct {
	value   string
	user    string // a user's token (ghp_, github_pat_, gho_, ghu_, ghr_): no installation
	inst    int64
	repos   []string          // full names it is limited to; nil: the installation's
	perms   map[string]string // the permissions it was asked with; nil: the App's
	expires time.Time
}

// App returns the App's credentials.
func (s *Server) App() App {
	a := s.app
	a.PrivateKeyPEM = slices.Clone(a.PrivateKeyPEM)
	return a
}

// Install installs the App on owner, for the named repositories (names
// without the owner) or, with none, for all of owner's repositories. It
// returns the installation id. It sends no webhook (see TriggerInstallation).
func (s *Server) Install(owner string, repos ...string) int64 {
	id := s.id()
	in := &Installation{ID: id, Account: owner}
	for _, r := range repos {
		in.Repos = append(in.Repos, owner+"/"+r)
	}
	s.mu.Lock()
	s.installs[id] = in
	s.mu.Unlock()
	return id
}

// InstallationFor returns the id of the installation covering owner/repo.
func (s *Server) InstallationFor(owner, repo string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.installationFor(owner + "/" + repo)
	if in == nil {
		return 0, false
	}
	return in.ID, true
}

func (s *Server) installationFor(full string) *Installation {
	ids := make([]int64, 0, len(s.installs))
	for id := range s.installs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	for _, id := range ids {
		if s.installs[id].covers(full) {
			return s.installs[id]
		}
	}
	return nil
}

// Token mints an installation access token for installation id as
// POST /app/installations/{id}/access_tokens would, with its expiry.
func (s *Server) Token(installationID int64) (string, time.Time, error) {
	return s.mintToken(installationID, nil, nil)
}

func (s *Server) mintToken(installationID int64, repos []string, perms map[string]string) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.installs[installationID]; !ok {
		return "", time.Time{}, fmt.Errorf("installation %d: %w", installationID, ErrNotFound)
	}
	t := &token{value: "ghs_" + randAlnum(36), inst: installationID, repos: repos, perms: perms,
		expires: s.now().Add(s.tokenTTL).Truncate(time.Second)}
	s.tokens[t.value] = t
	return t.value, t.expires, nil
}

// UserTokenKinds are the prefixes of the user tokens GitHub revokes
// through POST /credentials/revoke.
var UserTokenKinds = []string{"ghp_", "github_pat_", "gho_", "ghu_", "ghr_"}

// UserToken mints a token of kind (one of UserTokenKinds) for user login,
// shaped like GitHub's: it authenticates REST and git as that user until it
// expires (the token TTL) or is revoked through POST /credentials/revoke.
func (s *Server) UserToken(login, kind string) (string, error) {
	var v string
	switch kind {
	case "ghp_", "gho_", "ghu_", "ghr_":
		v = kind + randAlnum(36)
	case "github_pat_":
		v = kind + randAlnum(22) + "_" + randAlnum(59)
	default:
		return "", fmt.Errorf("user token kind %q: want one of %v", kind, UserTokenKinds)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[v] = &token{value: v, user: login, expires: s.now().Add(s.tokenTTL).Truncate(time.Second)}
	return v, nil
}

// ErrNotFound is returned by methods given an unknown id or name.
var ErrNotFound = errors.New("not found")

// Revocation is one credential GitHub accepted (202) for revocation, and
// how it was asked for.
type Revocation struct {
	Credential string
	// Enterprise says the request came under GitHub Enterprise Server's
	// /api/v3 prefix (authenticated there); else github.com's root path
	// (unauthenticated there).
	Enterprise bool
	// InstallationID is the installation whose token authenticated the
	// request, 0 when none did (a user's token, or unauthenticated).
	InstallationID int64
}

// RevokedCredentials returns every value sent to POST /credentials/revoke
// and accepted, in order.
func (s *Server) RevokedCredentials() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.revocations))
	for i, r := range s.revocations {
		out[i] = r.Credential
	}
	return out
}

// Revocations returns every revocation accepted, in order.
func (s *Server) Revocations() []Revocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.revocations)
}

// tokenInstallation returns the installation of a live token value.
func (s *Server) tokenInstallation(v string) (*Installation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[v]
	if !ok || !s.now().Before(t.expires) {
		return nil, errBadCredentials
	}
	if t.user != "" {
		// a user's token opens that user's repositories
		return &Installation{Account: t.user}, nil
	}
	in, ok := s.installs[t.inst]
	if !ok {
		return nil, errBadCredentials
	}
	if t.repos != nil {
		// a token asked for some repositories opens only those
		return &Installation{ID: in.ID, Account: in.Account, Repos: t.repos}, nil
	}
	return in, nil
}

var errBadCredentials = unauthorized("Bad credentials")

// tokenAllows reports whether token v was granted permission at level
// ("read" or "write"); a token asked without permissions has the App's.
func (s *Server) tokenAllows(v, permission, level string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[v]
	if !ok || t.perms == nil {
		return ok
	}
	got := t.perms[permission]
	return got == "write" || (got == "read" && level == "read")
}

// verifyJWT checks an App JWT the way GitHub does: RS256 under the App's
// key, iss the App id, iat and exp present, exp in the future and no more
// than 10 minutes ahead.
func (s *Server) verifyJWT(raw string) error {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.now),
		jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithLeeway(time.Minute))
	var claims jwt.RegisteredClaims
	_, err := p.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &s.key.PublicKey, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	case err != nil:
		return unauthorized("A JSON web token could not be decoded")
	}
	if claims.Issuer != strconv.FormatInt(s.app.ID, 10) {
		return unauthorized("'Issuer' claim ('iss') must be an Integer")
	}
	if claims.ExpiresAt.Sub(s.now()) > 10*time.Minute+time.Minute {
		return unauthorized("'Expiration time' claim ('exp') is too far in the future")
	}
	return nil
}

func (s *Server) authorize(c *call, rt *route) (int, any, error) {
	cred := credential(c.r)
	switch rt.auth {
	case authJWT:
		if cred == "" {
			return 0, nil, unauthorized("A JSON web token could not be decoded")
		}
		if err := s.verifyJWT(cred); err != nil {
			return 0, nil, err
		}
	case authAny:
		if cred == "" {
			break
		}
		if _, err := s.tokenInstallation(cred); err != nil && s.verifyJWT(cred) != nil {
			return 0, nil, errBadCredentials
		}
	case authRevoke:
		_, enterprise := cutEnterprise(c.r.URL.EscapedPath())
		switch {
		case enterprise && cred == "":
			return 0, nil, unauthorized("Requires authentication")
		case enterprise:
			in, err := s.tokenInstallation(cred)
			if err != nil {
				return 0, nil, err
			}
			c.inst = in
		case cred != "":
			// github.com: "Any authenticated requests will return a 403."
			return 0, nil, &apiError{status: http.StatusForbidden, message: "This endpoint does not accept authenticated requests"}
		}
	case authToken:
		if cred == "" {
			return 0, nil, unauthorized("Requires authentication")
		}
		in, err := s.tokenInstallation(cred)
		if err != nil {
			return 0, nil, err
		}
		c.inst = in
		full := c.params["owner"] + "/" + c.params["repo"]
		s.mu.Lock()
		rs := s.repos[full]
		s.mu.Unlock()
		if rs == nil || !in.covers(full) {
			return 0, nil, notFound()
		}
		c.repo = rs
	}
	return 0, nil, nil
}

func encodeKey(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randAlnum(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}
