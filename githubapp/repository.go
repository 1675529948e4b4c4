package githubapp

import (
	"fmt"
	"regexp"
	"strings"
)

// GitHub's names: an account (user or organisation) login is letters,
// digits and hyphens (Enterprise Managed Users add "_shortcode"); a
// repository name is letters, digits, '.', '-' and '_', at most 100
// characters, and never "." or "..". Nothing else: no '/', '%' or space
// that could make a URL built from them name another path or host.
var (
	accountName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$`)
	repositoryName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// ValidateRepository checks an owner and repository name, taken from a
// payload, against the characters GitHub allows, before they are put in a
// URL or a path. The error quotes them (they are not secret).
func ValidateRepository(owner, repo string) error {
	if !accountName.MatchString(owner) {
		return fmt.Errorf("repository owner %q is not a GitHub account name", owner)
	}
	if !repositoryName.MatchString(repo) || repo == "." || repo == ".." {
		return fmt.Errorf("repository name %q is not a GitHub repository name", repo)
	}
	return nil
}

// CloneURL is the repository's git URL on the GitHub at webURL
// (github.web_url: https://github.com/ or https://HOST/): built from the
// configuration, never taken from a payload, so that git sends the
// installation token only to that host. owner and repo must have passed
// ValidateRepository.
func CloneURL(webURL, owner, repo string) string {
	return strings.TrimSuffix(webURL, "/") + "/" + owner + "/" + repo + ".git"
}
