package githubapp

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// HasCommit reports whether GitHub still holds commit sha of owner/repo,
// on a branch or not: a commit force-pushed over stays readable (and
// fetchable by its id) until GitHub collects garbage. Only GitHub's 404
// means it is gone; any other failure is an error.
func HasCommit(ctx context.Context, gh *github.Client, owner, repo, sha string) (bool, error) {
	_, resp, err := gh.Git.GetCommit(ctx, owner, repo, sha)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up commit %s of %s/%s: %w", short(sha), owner, repo, err)
	}
	return true, nil
}
