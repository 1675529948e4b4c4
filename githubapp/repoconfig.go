package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// Settings is a settings file as found on GitHub.
type Settings struct {
	Data   []byte // nil when neither the repository nor the organisation has one
	Source string // "owner/repo@sha:.github/pushvault.yml", for messages
}

// LoadSettings reads the settings file at path at ref (a commit or a
// branch name) in owner/repo, falling back to the default branch of the
// owner's ".github" repository; an empty ref skips the repository. Neither
// existing is not an error: Data is nil and server defaults apply.
func LoadSettings(ctx context.Context, gh *github.Client, owner, repo, ref, path string) (Settings, error) {
	if ref != "" {
		data, err := fileAt(ctx, gh, owner, repo, ref, path)
		if err == nil {
			return Settings{Data: data, Source: fmt.Sprintf("%s/%s@%s:%s", owner, repo, short(ref), path)}, nil
		}
		if !errors.Is(err, errNotFound) {
			return Settings{}, err
		}
	}
	if repo == ".github" {
		return Settings{}, nil
	}
	data, err := fileAt(ctx, gh, owner, ".github", "", path)
	if err == nil {
		return Settings{Data: data, Source: fmt.Sprintf("%s/.github:%s", owner, path)}, nil
	}
	if errors.Is(err, errNotFound) {
		return Settings{}, nil
	}
	return Settings{}, err
}

var errNotFound = errors.New("not found")

func fileAt(ctx context.Context, gh *github.Client, owner, repo, ref, path string) ([]byte, error) {
	var opts *github.RepositoryContentGetOptions
	if ref != "" {
		opts = &github.RepositoryContentGetOptions{Ref: ref}
	}
	f, _, resp, err := gh.Repositories.GetContents(ctx, owner, repo, path, opts)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read %s from %s/%s: %w", path, owner, repo, err)
	}
	if f == nil {
		return nil, fmt.Errorf("read %s from %s/%s: it is a directory", path, owner, repo)
	}
	s, err := f.GetContent()
	if err != nil {
		return nil, fmt.Errorf("read %s from %s/%s: %w", path, owner, repo, err)
	}
	return []byte(s), nil
}
