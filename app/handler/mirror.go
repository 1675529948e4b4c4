package handler

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/pushvault/pushvault/internal/gitcli"
)

// mirrors keeps one bare mirror per repository under a directory, fetched
// over git's smart HTTP with an installation token. The token travels in an
// Authorization header set through git's environment (never the URL or the
// command line), so it shows in no process list, remote config or error.
type mirrors struct {
	dir   string
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func newMirrors(dir string) *mirrors { return &mirrors{dir: dir, locks: map[string]*sync.Mutex{}} }

// authEnv makes git send token as GitHub expects (basic auth,
// x-access-token), and give up on a transfer slower than 1 KiB/s for a
// minute: a GitHub that stops sending fails the fetch (retried with the
// delivery) long before queue.delivery_timeout.
func authEnv(token string) []string {
	cred := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	return []string{"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: Basic " + cred,
		"GIT_HTTP_LOW_SPEED_LIMIT=1024", "GIT_HTTP_LOW_SPEED_TIME=60"}
}

// lock serialises work on one mirror: within this process with a mutex,
// across processes sharing the directory with flock.
func (m *mirrors) lock(ctx context.Context, owner, repo string) (string, func(), error) {
	key := owner + "/" + repo
	m.mu.Lock()
	l := m.locks[key]
	if l == nil {
		l = &sync.Mutex{}
		m.locks[key] = l
	}
	m.mu.Unlock()
	l.Lock()
	dir := filepath.Join(m.dir, owner, repo+".git")
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		l.Unlock()
		return "", nil, fmt.Errorf("git mirror: %w", err)
	}
	fh, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		l.Unlock()
		return "", nil, fmt.Errorf("git mirror: %w", err)
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX); err != nil {
		fh.Close()
		l.Unlock()
		return "", nil, fmt.Errorf("git mirror lock: %w", err)
	}
	return dir, func() { fh.Close(); l.Unlock() }, nil
}

// fetch brings the mirror of cloneURL up to date with every branch (only
// the objects it lacks travel), and fetches objects (commit ids) besides
// without naming them in any ref: tags are not mirrored, so that what a
// new ref adds is measured against branches only. Callers hold the lock.
func (m *mirrors) fetch(ctx context.Context, dir, cloneURL, token string, objects ...string) error {
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		if _, err := gitcli.Run(ctx, filepath.Dir(dir), nil, nil, "init", "--quiet", "--bare", dir); err != nil {
			return fmt.Errorf("git mirror: %w", err)
		}
	}
	args := append([]string{"fetch", "--quiet", "--prune", "--no-tags", cloneURL, "+refs/heads/*:refs/heads/*"}, objects...)
	_, err := gitcli.Run(ctx, dir, authEnv(token), nil, args...)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", withoutUserinfo(cloneURL), err)
	}
	return nil
}

// fetchHistory is fetch for a history backfill: every branch, and the
// objects the tags name. Into a mirror that does not exist yet it clones,
// tags included, and then drops the tag refs (the objects stay): a clone
// checks the connectivity of what it received while indexing it, where a
// fetch walks every object again afterwards, which for a history of tens
// of thousands of commits is a fifth of the transfer's time. What the
// clone did not bring (a tag made after the listing) is fetched.
func (m *mirrors) fetchHistory(ctx context.Context, dir, cloneURL, token string, objects ...string) error {
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		return m.fetch(ctx, dir, cloneURL, token, objects...)
	}
	if err := os.RemoveAll(dir); err != nil { // the remains of an init that did not finish
		return fmt.Errorf("git mirror: %w", err)
	}
	if _, err := gitcli.Run(ctx, filepath.Dir(dir), authEnv(token), nil, "clone", "--quiet", "--bare", cloneURL, dir); err != nil {
		return fmt.Errorf("clone %s: %w", withoutUserinfo(cloneURL), err)
	}
	tags, err := gitcli.Run(ctx, dir, nil, nil, "for-each-ref", "--format=delete %(refname)", "refs/tags/")
	if err != nil {
		return fmt.Errorf("git mirror: %w", err)
	}
	if tags != "" {
		if _, err := gitcli.Run(ctx, dir, nil, []byte(tags+"\n"), "update-ref", "--stdin"); err != nil {
			return fmt.Errorf("git mirror: dropping the cloned tags: %w", err)
		}
	}
	has, err := present(ctx, dir, objects)
	if err != nil {
		return fmt.Errorf("git mirror: %w", err)
	}
	var missing []string
	for i, id := range objects {
		if !has[i] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return m.fetch(ctx, dir, cloneURL, token, missing...)
}

// push sends commit to branch on cloneURL. With replace (a commit id) the
// branch is expected at replace and moved to commit even if that is not a
// fast-forward; git refuses if it has moved since (--force-with-lease).
func (m *mirrors) push(ctx context.Context, dir, cloneURL, token, commit, branch, replace string) error {
	args := []string{"push", "--quiet"}
	if replace != "" {
		args = append(args, "--force-with-lease=refs/heads/"+branch+":"+replace)
	}
	_, err := gitcli.Run(ctx, dir, authEnv(token), nil, append(args, cloneURL, commit+":refs/heads/"+branch)...)
	if err != nil {
		return fmt.Errorf("push %s to %s: %w", branch, withoutUserinfo(cloneURL), err)
	}
	return nil
}

// withoutUserinfo drops any user information from a URL for messages.
func withoutUserinfo(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
			return u[:i+3] + rest[at+1:]
		}
	}
	return u
}
