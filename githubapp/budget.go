package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Reserve is the part of an installation's GitHub request budget that
// background work (the history backfill) leaves to pushes: a share of the
// limit ("20%") or a number of requests ("1000"). The zero Reserve keeps
// nothing back.
type Reserve struct {
	Percent  int
	Requests int
}

// ParseReserve reads a reserve as the server's configuration spells it:
// "N%" (0 to 100) or a number of requests.
func ParseReserve(s string) (Reserve, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 100 {
			return Reserve{}, fmt.Errorf("%q is not a percentage from 0%% to 100%%", s)
		}
		return Reserve{Percent: n}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Reserve{}, fmt.Errorf("%q is neither a percentage (20%%) nor a number of requests", s)
	}
	return Reserve{Requests: n}, nil
}

// Of is the reserve out of a limit of limit requests.
func (r Reserve) Of(limit int) int {
	if r.Percent > 0 {
		return limit * r.Percent / 100
	}
	return r.Requests
}

// IsZero reports whether the reserve keeps nothing back.
func (r Reserve) IsZero() bool { return r.Percent == 0 && r.Requests == 0 }

// ErrNoRateLimit is a GitHub that limits no requests (GHES with rate
// limiting off): there is no budget to keep a reserve of.
var ErrNoRateLimit = errors.New("GitHub's rate limiting is not enabled")

// Rate is one of GitHub's request budgets as GET /rate_limit states it.
type Rate struct {
	Limit, Remaining int
	Reset            time.Time
}

// CoreRate asks GitHub for the core budget of gh's credentials (GET
// /rate_limit, which GitHub does not count against it). For an
// installation's token it is the installation's budget, shared by every
// token of it — the same count on every replica.
//
// GitHub Enterprise Server with rate limiting turned off answers 404
// ("Rate limiting is not enabled."): that is ErrNoRateLimit.
func CoreRate(ctx context.Context, gh *github.Client) (Rate, error) {
	rl, resp, err := gh.RateLimit.Get(ctx)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return Rate{}, ErrNoRateLimit
	}
	if err != nil {
		return Rate{}, fmt.Errorf("GitHub rate limit: %w", err)
	}
	if rl.Core == nil {
		return Rate{}, fmt.Errorf("GitHub rate limit: no core budget in the answer")
	}
	return Rate{Limit: rl.Core.Limit, Remaining: rl.Core.Remaining, Reset: rl.Core.Reset.Time}, nil
}
