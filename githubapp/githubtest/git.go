package githubtest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// repoState is one hosted repository: a bare repository on disk.
type repoState struct {
	id            int64
	owner, name   string
	dir           string
	defaultBranch string
	created       time.Time

	// push serialises everything that moves refs, so a push's before and
	// after snapshots see only that push.
	push sync.Mutex

	mu     sync.Mutex
	pushed time.Time
}

func (rs *repoState) full() string { return rs.owner + "/" + rs.name }

func (rs *repoState) pushedAt() time.Time {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.pushed
}

const zeroSHA = "0000000000000000000000000000000000000000"

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// CreateRepo creates the bare repository owner/name with default branch
// main. With files (path -> content) it gets an initial commit on main
// holding them; with none it is empty. It sends no webhook.
func (s *Server) CreateRepo(owner, name string, files map[string]string) error {
	if !nameRE.MatchString(owner) || !nameRE.MatchString(name) || strings.HasSuffix(name, ".git") {
		return fmt.Errorf("create repo %q/%q: invalid name", owner, name)
	}
	full := owner + "/" + name
	rs := &repoState{id: s.id(), owner: owner, name: name, defaultBranch: "main",
		dir: filepath.Join(s.root, owner, name+".git"), created: s.now()}
	rs.pushed = rs.created
	s.mu.Lock()
	if _, ok := s.repos[full]; ok {
		s.mu.Unlock()
		return fmt.Errorf("create repo %s: already exists", full)
	}
	s.repos[full] = rs
	s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(rs.dir), 0o755); err != nil {
		return err
	}
	if _, err := s.git(nil, nil, "init", "-q", "--bare", "-b", "main", rs.dir); err != nil {
		return fmt.Errorf("create repo %s: %w", full, err)
	}
	if _, err := s.git(rs, nil, "config", "http.receivepack", "true"); err != nil {
		return err
	}
	// GitHub serves any object it holds by its full id, reachable or not
	// (a commit force-pushed over stays fetchable until garbage
	// collection: see Prune); git's own default refuses unadvertised wants.
	if _, err := s.git(rs, nil, "config", "uploadpack.allowAnySHA1InWant", "true"); err != nil {
		return err
	}
	if len(files) == 0 {
		return nil
	}
	change := map[string]*string{}
	for p, c := range files {
		change[p] = &c
	}
	sha, err := s.commitFiles(rs, "", change, "Initial commit", s.now())
	if err != nil {
		return fmt.Errorf("create repo %s: %w", full, err)
	}
	_, err = s.git(rs, nil, "update-ref", "refs/heads/main", sha, "")
	return err
}

// CloneURL is the repository's smart-HTTP URL; git authenticates with
// basic auth x-access-token:<installation token>.
func (s *Server) CloneURL(owner, repo string) string {
	return s.URL + "/" + owner + "/" + repo + ".git"
}

// AuthCloneURL is CloneURL with the token in it, as GitHub Actions and
// Apps write it.
func (s *Server) AuthCloneURL(owner, repo, token string) string {
	return strings.Replace(s.CloneURL(owner, repo), "://", "://x-access-token:"+token+"@", 1)
}

// RepoDir is the bare repository's directory, for tests that look at it
// with git directly.
func (s *Server) RepoDir(owner, repo string) (string, error) {
	rs := s.repo(owner + "/" + repo)
	if rs == nil {
		return "", fmt.Errorf("repo %s/%s: %w", owner, repo, ErrNotFound)
	}
	return rs.dir, nil
}

// Prune collects owner/repo's garbage as GitHub eventually does: objects
// no ref reaches (commits force-pushed over) are deleted, so they can no
// longer be fetched or looked up by id.
func (s *Server) Prune(owner, repo string) error {
	rs := s.repo(owner + "/" + repo)
	if rs == nil {
		return fmt.Errorf("prune %s/%s: %w", owner, repo, ErrNotFound)
	}
	rs.push.Lock()
	defer rs.push.Unlock()
	if _, err := s.git(rs, nil, "reflog", "expire", "--expire-unreachable=now", "--all"); err != nil {
		return fmt.Errorf("prune %s: %w", rs.full(), err)
	}
	if _, err := s.git(rs, nil, "gc", "--quiet", "--prune=now"); err != nil {
		return fmt.Errorf("prune %s: %w", rs.full(), err)
	}
	return nil
}

func (s *Server) repo(full string) *repoState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[full]
}

func gitEnv(extra ...string) []string {
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GIT_") {
			env = append(env, e)
		}
	}
	env = append(env, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	return append(env, extra...)
}

// git runs git in rs's bare repository and returns its trimmed stdout.
func (s *Server) git(rs *repoState, stdin []byte, args ...string) (string, error) {
	return s.gitEnv(rs, nil, stdin, args...)
}

func (s *Server) gitEnv(rs *repoState, env []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Env = gitEnv(env...)
	if rs != nil {
		cmd.Env = append(cmd.Env, "GIT_DIR="+rs.dir)
		if _, err := os.Stat(rs.dir); err == nil {
			cmd.Dir = rs.dir
		}
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// Only the subcommand: arguments may carry commit messages.
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// botIdentity is the committer of what the App creates through the API.
func (s *Server) botIdentity(when time.Time) []string {
	d := fmt.Sprintf("%d +0000", when.Unix())
	// GitHub writes "slug[bot]" into the address; brackets are not valid
	// in an address's local part by the webhook schema's email format.
	name, email := s.botLogin(), fmt.Sprintf("%d+%s-bot@users.noreply.stand-in.test", accountID(s.botLogin()), s.app.Slug)
	return []string{"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + email, "GIT_AUTHOR_DATE=" + d,
		"GIT_COMMITTER_NAME=" + name, "GIT_COMMITTER_EMAIL=" + email, "GIT_COMMITTER_DATE=" + d}
}

// commitFiles writes a commit on top of parent ("" for a root commit)
// changing files: a nil content deletes the path. It moves no ref.
func (s *Server) commitFiles(rs *repoState, parent string, change map[string]*string, msg string, when time.Time) (string, error) {
	idx, err := os.CreateTemp("", "standin-index-")
	if err != nil {
		return "", err
	}
	idx.Close()
	os.Remove(idx.Name())
	defer os.Remove(idx.Name())
	env := []string{"GIT_INDEX_FILE=" + idx.Name()}
	if parent != "" {
		if _, err := s.gitEnv(rs, env, nil, "read-tree", parent); err != nil {
			return "", err
		}
	}
	paths := make([]string, 0, len(change))
	for p := range change {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if change[p] == nil {
			if _, err := s.gitEnv(rs, env, nil, "update-index", "--force-remove", "--", p); err != nil {
				return "", err
			}
			continue
		}
		blob, err := s.git(rs, []byte(*change[p]), "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		if _, err := s.gitEnv(rs, env, nil, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+p); err != nil {
			return "", err
		}
	}
	tree, err := s.gitEnv(rs, env, nil, "write-tree")
	if err != nil {
		return "", err
	}
	args := []string{"commit-tree", tree, "-m", msg}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	return s.gitEnv(rs, s.botIdentity(when), nil, args...)
}

// refs returns refname -> object id.
func (s *Server) refs(rs *repoState) (map[string]string, error) {
	out, err := s.git(rs, nil, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if sha, ref, ok := strings.Cut(l, " "); ok {
			m[ref] = sha
		}
	}
	return m, nil
}

var gitPathRE = regexp.MustCompile(`^/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)\.git(/.*)$`)

func isGitPath(p string) bool { return gitPathRE.MatchString(p) }

// serveGit serves git smart HTTP through git http-backend after checking
// basic auth against installation tokens, and turns every push that
// lands into push webhooks.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	m := gitPathRE.FindStringSubmatch(r.URL.Path)
	rs := s.repo(m[1] + "/" + m[2])
	_, pass, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	in, err := s.tokenInstallation(pass)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
		return
	}
	if rs == nil || !in.covers(rs.full()) {
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	}
	level := "read"
	if strings.HasSuffix(r.URL.Path, "/git-receive-pack") || r.URL.Query().Get("service") == "git-receive-pack" {
		level = "write"
	}
	if !s.tokenAllows(pass, "contents", level) {
		http.Error(w, "Permission to "+rs.full()+".git denied to "+s.app.Slug+"[bot].", http.StatusForbidden)
		return
	}
	h := &cgi.Handler{
		Path: gitExec(),
		Args: []string{"http-backend"},
		Dir:  s.root,
		Env: append(gitEnv(), "GIT_PROJECT_ROOT="+s.root, "GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=x-access-token"),
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
		h.ServeHTTP(w, r)
		return
	}
	rs.push.Lock()
	before, err := s.refs(rs)
	if err != nil {
		rs.push.Unlock()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.ServeHTTP(w, r)
	after, err := s.refs(rs)
	var events []obj
	if err == nil {
		events, err = s.pushEvents(rs, in, before, after)
	}
	rs.push.Unlock()
	if err != nil {
		s.log.Error("push webhook", "repo", rs.full(), "error", err.Error())
		s.violation(fmt.Errorf("push to %s: building the push webhook: %w", rs.full(), err))
		return
	}
	// Delivered before the receive-pack response ends, so a test sees the
	// webhooks once its git push has returned.
	s.deliverPush(rs, in, events)
}

var (
	gitExecOnce sync.Once
	gitExecPath string
)

func gitExec() string {
	gitExecOnce.Do(func() {
		p, err := exec.LookPath("git")
		if err != nil {
			p = "git"
		}
		gitExecPath = p
	})
	return gitExecPath
}

// isAncestor reports whether a is an ancestor of b (git decides).
func (s *Server) isAncestor(rs *repoState, a, b string) (bool, error) {
	cmd := exec.Command("git", "merge-base", "--is-ancestor", a, b)
	cmd.Env = append(gitEnv(), "GIT_DIR="+rs.dir)
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return false, nil
	default:
		return false, fmt.Errorf("git merge-base --is-ancestor: %w", err)
	}
}

// deliverPush sends the push webhooks, then pull_request synchronize for
// every open pull request whose head branch moved, as GitHub does.
func (s *Server) deliverPush(rs *repoState, in *Installation, events []obj) {
	in = s.hookInstallation(rs, in)
	for _, e := range events {
		s.deliver("push", e)
	}
	for _, e := range events {
		if e["deleted"] == true {
			continue
		}
		branch, ok := strings.CutPrefix(e["ref"].(string), "refs/heads/")
		if !ok {
			continue
		}
		s.mu.Lock()
		var open []*PullRequest
		for _, p := range s.pulls {
			if p.Repo == rs.full() && p.State == "open" && p.Head == branch {
				open = append(open, p)
			}
		}
		s.mu.Unlock()
		for _, p := range open {
			o, err := s.pullObject(rs, p)
			if err != nil {
				s.log.Error("pull_request synchronize", "repo", rs.full(), "error", err.Error())
				continue
			}
			ev := s.pullEvent(rs, in, "synchronize", o)
			ev["before"], ev["after"] = e["before"], e["after"]
			s.deliver("pull_request", ev)
		}
	}
}
