package githubtest

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PullRequest is a pull request as the stand-in holds it.
type PullRequest struct {
	ID             int64
	Number         int
	Repo           string // "owner/name"
	Title, Body    string
	Head, Base     string // branch names
	State          string // open or closed
	Merged         bool
	MergeCommitSHA string
	// HeadSHA is the head's commit when the PR was merged or closed (an
	// open PR follows its branch).
	HeadSHA   string
	User      string
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  time.Time
	MergedAt  time.Time
}

type pullRequest = PullRequest

// PullRequests returns copies of every pull request, oldest first.
func (s *Server) PullRequests() []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PullRequest, len(s.pulls))
	for i, p := range s.pulls {
		out[i] = *p
	}
	return out
}

// nextNumber is the repository's next issue/PR number (shared, as on GitHub).
func (s *Server) nextNumber(rs *repoState) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 1
	for _, p := range s.pulls {
		if p.Repo == rs.full() && p.Number >= n {
			n = p.Number + 1
		}
	}
	for _, i := range s.issues {
		if i.Repo == rs.full() && i.Number >= n {
			n = i.Number + 1
		}
	}
	return n
}

func (s *Server) createPull(c *call) (int, any, error) {
	var req struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if err := tooLong("Issue", &req.Title, &req.Body); err != nil {
		return 0, nil, err
	}
	head := req.Head
	if o, b, ok := strings.Cut(head, ":"); ok {
		if o != c.repo.owner {
			return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "PullRequest", "field": "head", "code": "invalid"})
		}
		head = b
	}
	headSHA, ok := s.resolveRef(c.repo, "refs/heads/"+head)
	if !ok {
		return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "PullRequest", "field": "head", "code": "invalid"})
	}
	baseSHA, ok := s.resolveRef(c.repo, "refs/heads/"+req.Base)
	if !ok {
		return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "PullRequest", "field": "base", "code": "invalid"})
	}
	if anc, err := s.isAncestor(c.repo, headSHA, baseSHA); err != nil {
		return 0, nil, err
	} else if anc {
		return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "PullRequest", "code": "custom", "message": "No commits between " + req.Base + " and " + head})
	}
	n := s.nextNumber(c.repo)
	now := s.now()
	pr := &PullRequest{ID: s.id(), Number: n, Repo: c.repo.full(), Title: req.Title, Body: req.Body,
		Head: head, Base: req.Base, State: "open", User: s.botLogin(), CreatedAt: now, UpdatedAt: now}
	s.mu.Lock()
	for _, p := range s.pulls {
		if p.Repo == pr.Repo && p.State == "open" && p.Head == head && p.Base == req.Base {
			s.mu.Unlock()
			return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for " + c.repo.owner + ":" + head + "."})
		}
	}
	s.pulls = append(s.pulls, pr)
	snap := *pr
	s.mu.Unlock()
	s.pullOpened(&snap)
	o, err := s.pullObject(c.repo, pr)
	if err != nil {
		return 0, nil, err
	}
	s.deliver("pull_request", s.pullEvent(c.repo, c.inst, "opened", o))
	return 201, o, nil
}

func (s *Server) pullEvent(rs *repoState, in *Installation, action string, pr obj) obj {
	e := obj{"action": action, "number": pr["number"], "pull_request": pr,
		"repository": s.repoObject(rs), "sender": s.bot(), "organization": s.orgObject(rs.owner)}
	if in != nil {
		e["installation"] = obj{"id": in.ID, "node_id": nodeID("Installation", in.ID)}
	}
	return e
}

func (s *Server) pullParam(c *call) (*PullRequest, error) {
	n, err := strconv.Atoi(c.params["pull_number"])
	if err != nil {
		return nil, notFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pulls {
		if p.Repo == c.repo.full() && p.Number == n {
			return p, nil
		}
	}
	return nil, notFound()
}

// pullSnapshot copies pr under the lock.
func (s *Server) pullSnapshot(pr *PullRequest) PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *pr
}

func (s *Server) pullObject(rs *repoState, prp *PullRequest) (obj, error) {
	pr := s.pullSnapshot(prp)
	headSHA := pr.HeadSHA
	if pr.State == "open" || headSHA == "" {
		if sha, ok := s.resolveRef(rs, "refs/heads/"+pr.Head); ok {
			headSHA = sha
		}
	}
	baseSHA, _ := s.resolveRef(rs, "refs/heads/"+pr.Base)
	if headSHA == "" {
		headSHA = baseSHA
	}
	commits, adds, dels, files := 0, 0, 0, 0
	if mb, err := s.git(rs, nil, "merge-base", baseSHA, headSHA); err == nil {
		if out, err := s.git(rs, nil, "rev-list", "--count", mb+".."+headSHA); err == nil {
			commits, _ = strconv.Atoi(out)
		}
		if fs, a, d, err := s.diffEntries(rs, mb, headSHA); err == nil {
			files, adds, dels = len(fs), a, d
		}
	}
	num := strconv.Itoa(pr.Number)
	api := s.apiURL(rs, "pulls/"+num)
	html := s.htmlURL(rs, "pull/"+num)
	issue := s.apiURL(rs, "issues/"+num)
	link := func(h string) obj { return obj{"href": h} }
	var mergedBy any
	if pr.Merged {
		mergedBy = s.bot()
	}
	owner := s.user(rs.owner, "Organization")
	side := func(branch, sha string) obj {
		return obj{"label": rs.owner + ":" + branch, "ref": branch, "sha": sha, "user": owner, "repo": s.repoObject(rs)}
	}
	s.mu.Lock()
	ncomments := 0
	for _, cm := range s.comments {
		if cm.Repo == rs.full() && cm.Kind == "issue" && cm.Issue == pr.Number {
			ncomments++
		}
	}
	s.mu.Unlock()
	var mergeable any = true
	if pr.State == "closed" {
		mergeable = nil
	}
	return obj{
		"url": api, "id": pr.ID, "node_id": nodeID("PullRequest", pr.ID), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issue,
		"commits_url": api + "/commits", "review_comments_url": api + "/comments",
		"review_comment_url": s.apiURL(rs, "pulls/comments{/number}"), "comments_url": issue + "/comments",
		"statuses_url": s.apiURL(rs, "statuses/"+headSHA),
		"number":       pr.Number, "state": pr.State, "locked": false, "title": pr.Title,
		"user": s.user(pr.User, "Bot"), "body": nullable(pr.Body), "labels": []obj{}, "milestone": nil,
		"active_lock_reason": nil, "created_at": ts(pr.CreatedAt), "updated_at": ts(pr.UpdatedAt),
		"closed_at": nullTime(pr.ClosedAt), "merged_at": nullTime(pr.MergedAt),
		"merge_commit_sha": nullable(pr.MergeCommitSHA), "assignee": nil, "assignees": []obj{},
		"requested_reviewers": []obj{}, "requested_teams": []obj{},
		"head": side(pr.Head, headSHA), "base": side(pr.Base, baseSHA),
		"_links": obj{"self": link(api), "html": link(html), "issue": link(issue), "comments": link(issue + "/comments"),
			"review_comments": link(api + "/comments"), "review_comment": link(s.apiURL(rs, "pulls/comments{/number}")),
			"commits": link(api + "/commits"), "statuses": link(s.apiURL(rs, "statuses/"+headSHA))},
		"author_association": "NONE", "auto_merge": nil, "draft": false,
		"merged": pr.Merged, "mergeable": mergeable, "rebaseable": false, "mergeable_state": "clean",
		"merged_by": mergedBy, "comments": ncomments, "review_comments": 0, "maintainer_can_modify": false,
		"commits": commits, "additions": adds, "deletions": dels, "changed_files": files,
	}, nil
}

func (s *Server) getPull(c *call) (int, any, error) {
	pr, err := s.pullParam(c)
	if err != nil {
		return 0, nil, err
	}
	o, err := s.pullObject(c.repo, pr)
	return 200, o, err
}

func (s *Server) listPulls(c *call) (int, any, error) {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	s.mu.Lock()
	var list []*PullRequest
	for _, p := range s.pulls {
		if p.Repo != c.repo.full() || (state != "all" && p.State != state) {
			continue
		}
		if h := q.Get("head"); h != "" && h != c.repo.owner+":"+p.Head {
			continue
		}
		if b := q.Get("base"); b != "" && b != p.Base {
			continue
		}
		list = append(list, p)
	}
	s.mu.Unlock()
	slices.Reverse(list) // newest first
	out := []obj{}
	for _, p := range list {
		o, err := s.pullObject(c.repo, p)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, o)
	}
	return 200, out, nil
}

func (s *Server) updatePull(c *call) (int, any, error) {
	var req struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
		Base  *string `json:"base"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if err := tooLong("Issue", req.Title, req.Body); err != nil {
		return 0, nil, err
	}
	pr, err := s.pullParam(c)
	if err != nil {
		return 0, nil, err
	}
	if req.Base != nil {
		if _, ok := s.resolveRef(c.repo, "refs/heads/"+*req.Base); !ok {
			return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "PullRequest", "field": "base", "code": "invalid"})
		}
	}
	headSHA, _ := s.resolveRef(c.repo, "refs/heads/"+pr.Head)
	s.mu.Lock()
	if pr.Merged && req.State != nil {
		s.mu.Unlock()
		return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "PullRequest", "code": "custom", "message": "state cannot be changed. The pull request cannot be reopened or closed once merged."})
	}
	closing := req.State != nil && *req.State == "closed" && pr.State == "open"
	if req.Title != nil {
		pr.Title = *req.Title
	}
	if req.Body != nil {
		pr.Body = *req.Body
	}
	if req.Base != nil {
		pr.Base = *req.Base
	}
	if req.State != nil {
		pr.State = *req.State
		if pr.State == "open" {
			pr.ClosedAt = time.Time{}
		}
	}
	pr.UpdatedAt = s.now()
	if closing {
		pr.ClosedAt = pr.UpdatedAt
		pr.HeadSHA = headSHA
	}
	s.mu.Unlock()
	o, err := s.pullObject(c.repo, pr)
	if err != nil {
		return 0, nil, err
	}
	if closing {
		s.deliver("pull_request", s.pullEvent(c.repo, c.inst, "closed", o))
	}
	return 200, o, nil
}

// mergePull merges for real in the bare repository: git merge-tree
// computes the merged tree, commit-tree records the merge (or squash)
// commit, and the base branch moves to it (with its push webhook).
func (s *Server) mergePull(c *call) (int, any, error) {
	var req struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if len(c.body) > 0 {
		if err := c.decode(&req); err != nil {
			return 0, nil, err
		}
	}
	pr, err := s.pullParam(c)
	if err != nil {
		return 0, nil, err
	}
	snap := s.pullSnapshot(pr)
	if snap.State != "open" {
		return 0, nil, &apiError{status: 405, message: "Pull Request is not mergeable"}
	}
	switch req.MergeMethod {
	case "", "merge", "squash":
	default:
		// the stand-in's repositories, like many, allow merge and squash only
		return 0, nil, &apiError{status: 405, message: "Rebase merges are not allowed on this repository."}
	}
	var mergeSHA string
	err = s.moveRefs(c.repo, c.inst, func() error {
		headSHA, ok := s.resolveRef(c.repo, "refs/heads/"+snap.Head)
		if !ok {
			return &apiError{status: 405, message: "Pull Request is not mergeable"}
		}
		if req.SHA != "" && req.SHA != headSHA {
			return &apiError{status: 409, message: "Head branch was modified. Review and try the merge again."}
		}
		baseSHA, ok := s.resolveRef(c.repo, "refs/heads/"+snap.Base)
		if !ok {
			return &apiError{status: 405, message: "Pull Request is not mergeable"}
		}
		tree, err := s.git(c.repo, nil, "merge-tree", "--write-tree", "--no-messages", baseSHA, headSHA)
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 { // conflicts
			return &apiError{status: 405, message: "Pull Request is not mergeable"}
		}
		if err != nil {
			return err
		}
		tree = strings.SplitN(tree, "\n", 2)[0]
		title := req.CommitTitle
		if title == "" {
			title = fmt.Sprintf("Merge pull request #%d from %s/%s", snap.Number, c.repo.owner, snap.Head)
			if req.MergeMethod == "squash" {
				title = fmt.Sprintf("%s (#%d)", snap.Title, snap.Number)
			}
		}
		msg := title
		if req.CommitMessage != "" {
			msg += "\n\n" + req.CommitMessage
		} else if req.MergeMethod != "squash" {
			msg += "\n\n" + snap.Title
		}
		args := []string{"commit-tree", tree, "-m", msg, "-p", baseSHA}
		if req.MergeMethod != "squash" {
			args = append(args, "-p", headSHA)
		}
		sha, err := s.gitEnv(c.repo, s.botIdentity(s.now()), nil, args...)
		if err != nil {
			return err
		}
		if _, err := s.git(c.repo, nil, "update-ref", "refs/heads/"+snap.Base, sha, baseSHA); err != nil {
			return err
		}
		mergeSHA = sha
		s.mu.Lock()
		now := s.now()
		pr.State, pr.Merged, pr.MergeCommitSHA, pr.HeadSHA = "closed", true, sha, headSHA
		pr.MergedAt, pr.ClosedAt, pr.UpdatedAt = now, now, now
		s.mu.Unlock()
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	o, err := s.pullObject(c.repo, pr)
	if err != nil {
		return 0, nil, err
	}
	s.deliver("pull_request", s.pullEvent(c.repo, c.inst, "closed", o))
	return 200, obj{"sha": mergeSHA, "merged": true, "message": "Pull Request successfully merged"}, nil
}

func (s *Server) listPullFiles(c *call) (int, any, error) {
	pr, err := s.pullParam(c)
	if err != nil {
		return 0, nil, err
	}
	snap := s.pullSnapshot(pr)
	head := snap.HeadSHA
	if snap.State == "open" || head == "" {
		head, _ = s.resolveRef(c.repo, "refs/heads/"+snap.Head)
	}
	base, _ := s.resolveRef(c.repo, "refs/heads/"+snap.Base)
	if snap.Merged {
		base, _ = s.git(c.repo, nil, "rev-parse", snap.MergeCommitSHA+"^1")
	}
	mb, err := s.git(c.repo, nil, "merge-base", base, head)
	if err != nil {
		return 0, nil, err
	}
	files, _, _, err := s.diffEntries(c.repo, mb, head)
	return 200, files, err
}

// TriggerPullRequest sends a pull_request webhook with action (opened,
// closed, synchronize) for an existing pull request, as if a person had
// acted on GitHub.
func (s *Server) TriggerPullRequest(owner, repo string, number int, action string) (Delivery, error) {
	rs := s.repo(owner + "/" + repo)
	if rs == nil {
		return Delivery{}, fmt.Errorf("repo %s/%s: %w", owner, repo, ErrNotFound)
	}
	var pr *PullRequest
	s.mu.Lock()
	for _, p := range s.pulls {
		if p.Repo == rs.full() && p.Number == number {
			pr = p
		}
	}
	in := s.installationFor(rs.full())
	s.mu.Unlock()
	if pr == nil {
		return Delivery{}, fmt.Errorf("pull request %s#%d: %w", rs.full(), number, ErrNotFound)
	}
	o, err := s.pullObject(rs, pr)
	if err != nil {
		return Delivery{}, err
	}
	return *s.deliver("pull_request", s.pullEvent(rs, in, action, o)), nil
}
