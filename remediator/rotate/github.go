package rotate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// TokenRevoker revokes GitHub credentials through POST /credentials/revoke;
// githubapp.Revoker implements it (batched, rate limited).
type TokenRevoker interface {
	Revoke(ctx context.Context, credentials []string) error
}

// TokenChecker tells whether a GitHub token still authenticates;
// githubapp.Revoker implements it (GET /user with the token).
type TokenChecker interface {
	TokenWorks(ctx context.Context, token string) (bool, error)
}

// GitHub revokes leaked GitHub tokens of the kinds GitHub's credential
// revocation API accepts: ghp_, github_pat_, gho_, ghu_ and ghr_. There is no
// new value: the next KV version is a marker saying the token was revoked.
// Proof: the token no longer authenticates.
//
// These formats are the same on github.com and on every GHES, so a token
// says nothing of the instance that issued it, and a 401 from an instance
// that never issued it proves nothing. The revoker and the checker speak
// to one instance (the App's); a token is revoked and later proven dead
// there only if that instance accepted it before the revocation. Any other
// token (another instance's, or one already dead) is left to a person: it
// is not revoked, and its exposed version is not destroyed.
type GitHub struct {
	revoker TokenRevoker
	checker TokenChecker

	mu        sync.Mutex
	submitted map[[32]byte]bool // tokens Batch already revoked
}

// NewGitHub returns the rotator.
func NewGitHub(r TokenRevoker, c TokenChecker) *GitHub { return &GitHub{revoker: r, checker: c} }

var _ Rotator = (*GitHub)(nil)

// RevocablePrefixes are the token prefixes POST /credentials/revoke accepts.
var RevocablePrefixes = []string{"ghp_", "github_pat_", "gho_", "ghu_", "ghr_"}

// Revocable reports whether token is of a kind GitHub's API revokes.
func Revocable(token string) bool {
	for _, p := range RevocablePrefixes {
		if strings.HasPrefix(token, p) {
			return true
		}
	}
	return false
}

// Match implements Rotator.
func (g *GitHub) Match(_ context.Context, t Target) (bool, error) {
	return Revocable(t.Exposed.Reveal("value")), nil
}

// Rotate implements Rotator. Revoking a token twice is harmless: GitHub
// accepts it again.
func (g *GitHub) Rotate(ctx context.Context, t Target) (Change, error) {
	tok := t.Exposed.Reveal("value")
	g.mu.Lock()
	done := g.submitted[sha256.Sum256([]byte(tok))]
	g.mu.Unlock()
	if !done {
		if err := g.issuedHere(ctx, tok); err != nil {
			return Change{}, err
		}
		if err := g.revoker.Revoke(ctx, []string{tok}); err != nil {
			var none revocationUnavailable
			if errors.As(err, &none) {
				return Change{}, errNoRevocation
			}
			return Change{}, fmt.Errorf("github credentials revoke: %w", err)
		}
	}
	return Change{
		Data:   Data{"state": "revoked", "revoked_by": "pushvault", "note": "the exposed GitHub token was revoked; create a new token and store it here"},
		Detail: map[string]string{"revocation": "POST /credentials/revoke"},
	}, nil
}

// revocationUnavailable is a TokenRevoker's error saying the instance
// offers no revocation at all (githubapp.RevokeUnavailableError).
type revocationUnavailable interface {
	error
	RevocationUnavailable()
}

// errNoRevocation is the verdict on an instance without revocation.
var errNoRevocation = &ManualError{Reason: "this GitHub instance offers no credential revocation API " +
	"(GitHub Enterprise Server documents none up to 3.19): revoke the token by hand"}

// errNotIssuedHere is the verdict on a token this instance does not accept.
var errNotIssuedHere = &ManualError{Reason: "this GitHub instance does not accept the token: another GitHub instance " +
	"(github.com or an Enterprise Server) may have issued it, or it is dead already; it was not revoked here, " +
	"and a refusal here proves nothing, so revoke it where it was issued"}

// issuedHere returns nil when the instance accepts token (it is this
// instance's, and live), errNotIssuedHere when it does not, and the
// check's error when it could not ask.
func (g *GitHub) issuedHere(ctx context.Context, token string) error {
	works, err := g.checker.TokenWorks(ctx, token)
	switch {
	case err != nil:
		return fmt.Errorf("asking GitHub whether the token works before revoking it: %w", err)
	case !works:
		return errNotIssuedHere
	}
	return nil
}

// CheckDead implements Rotator.
func (g *GitHub) CheckDead(ctx context.Context, t Target) error {
	works, err := g.checker.TokenWorks(ctx, t.Exposed.Reveal("value"))
	switch {
	case err != nil:
		return fmt.Errorf("asking GitHub whether the token works: %w", err)
	case works:
		return fmt.Errorf("%w: GitHub still accepts the exposed token", ErrStillWorks)
	}
	return nil
}

// Batch revokes the tokens of targets in as few requests as GitHub allows
// (one per 1000), so that a push leaking several tokens spends one of the
// 60 revocation requests an hour, not one each; Rotate then sends nothing
// for them. Only tokens this instance accepts are sent (see GitHub). A
// failed batch is not an error here: each Rotate retries its own token.
func (g *GitHub) Batch(ctx context.Context, candidates []string) {
	if len(candidates) < 2 {
		return
	}
	var tokens []string
	for _, tok := range candidates {
		if g.issuedHere(ctx, tok) == nil {
			tokens = append(tokens, tok)
		}
	}
	if len(tokens) < 2 {
		return
	}
	if err := g.revoker.Revoke(ctx, tokens); err != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.submitted == nil {
		g.submitted = map[[32]byte]bool{}
	}
	for _, tok := range tokens {
		g.submitted[sha256.Sum256([]byte(tok))] = true
	}
}
