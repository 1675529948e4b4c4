package rotate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pushvault/pushvault/internal/pause"
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
//
// GitHub answers a revocation 202 and revokes in the background, so
// CheckDead asks again, with exponential backoff, for up to its bound
// (WithDeadWait) before it says the token still works.
type GitHub struct {
	revoker TokenRevoker
	checker TokenChecker
	// deadWait bounds how long CheckDead waits for the revocation.
	deadWait time.Duration

	mu        sync.Mutex
	submitted map[[32]byte]bool // tokens Batch already revoked
}

// DefaultDeadWait is how long CheckDead waits, by default, for GitHub to
// finish a revocation it accepted before it says the token still works.
const DefaultDeadWait = 30 * time.Second

// firstDeadPoll is CheckDead's first pause between two asks; each next
// pause doubles, within the bound.
const firstDeadPoll = 250 * time.Millisecond

// GitHubOption configures a GitHub rotator.
type GitHubOption func(*GitHub)

// WithDeadWait bounds how long CheckDead keeps asking whether a revoked
// token still works (default DefaultDeadWait; 0 asks once).
func WithDeadWait(d time.Duration) GitHubOption {
	return func(g *GitHub) { g.deadWait = max(d, 0) }
}

// NewGitHub returns the rotator.
func NewGitHub(r TokenRevoker, c TokenChecker, opts ...GitHubOption) *GitHub {
	g := &GitHub{revoker: r, checker: c, deadWait: DefaultDeadWait}
	for _, o := range opts {
		o(g)
	}
	return g
}

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
// accepts it again; but a resumed attempt (t.resumed: this rotator's
// earlier attempt started and its process died before recording the
// outcome) that finds the token dead takes it that the earlier attempt's
// revocation went through, and sends none again: otherwise the check
// before revoking would call the token foreign and leave a revoked token
// to a person, and every crash would spend another of the 60 revocations
// an hour.
func (g *GitHub) Rotate(ctx context.Context, t Target) (Change, error) {
	tok := t.Exposed.Reveal("value")
	g.mu.Lock()
	done := g.submitted[sha256.Sum256([]byte(tok))]
	g.mu.Unlock()
	if !done {
		err := g.issuedHere(ctx, tok)
		if errors.Is(err, errNotIssuedHere) && t.resumed {
			return revoked(), nil
		}
		if err != nil {
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
	return revoked(), nil
}

// revoked is the change a revocation makes: a marker version, no value.
func revoked() Change {
	return Change{
		Data:   Data{"state": "revoked", "revoked_by": "pushvault", "note": "the exposed GitHub token was revoked; create a new token and store it here"},
		Detail: map[string]string{"revocation": "POST /credentials/revoke"},
	}
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

// CheckDead implements Rotator. GitHub revokes in the background after
// its 202, so a token that still works is asked about again after 250 ms,
// then after twice as long each time, until the bound (WithDeadWait) has
// passed: then it is an error wrapping ErrStillWorks (the rotation fails
// and is retried). It returns ctx's error when ctx ends first.
func (g *GitHub) CheckDead(ctx context.Context, t Target) error {
	tok := t.Exposed.Reveal("value")
	deadline := time.Now().Add(g.deadWait)
	for wait := firstDeadPoll; ; wait *= 2 {
		works, err := g.checker.TokenWorks(ctx, tok)
		switch {
		case err != nil:
			return fmt.Errorf("asking GitHub whether the token works: %w", err)
		case !works:
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%w: GitHub still accepts the exposed token %s after accepting its revocation", ErrStillWorks, g.deadWait)
		}
		if err := pause.For(ctx, min(wait, left)); err != nil {
			return fmt.Errorf("waiting for GitHub to revoke the token: %w", err)
		}
	}
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
