package githubtest

import (
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Issue is an issue as the stand-in holds it.
type Issue struct {
	ID        int64
	Number    int
	Repo      string
	Title     string
	Body      string
	State     string
	Labels    []string
	User      string
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  time.Time
}

type issue = Issue

// Comment is a commit comment (Kind "commit") or an issue or pull request
// comment (Kind "issue").
type Comment struct {
	ID        int64
	Kind      string
	Repo      string
	CommitSHA string // commit comments
	Path      string // commit comments, optional
	Line      int    // commit comments, optional
	Issue     int    // issue comments: the issue or pull request number
	Body      string
	User      string
	CreatedAt time.Time
}

// Label is a repository label.
type Label struct {
	ID          int64
	Name        string
	Color       string
	Description string
}

// Issues returns copies of every issue, oldest first.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, len(s.issues))
	for i, is := range s.issues {
		out[i] = *is
		out[i].Labels = slices.Clone(is.Labels)
	}
	return out
}

// Comments returns copies of every comment, oldest first.
func (s *Server) Comments() []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Comment, len(s.comments))
	for i, c := range s.comments {
		out[i] = *c
	}
	return out
}

// Labels returns the labels of owner/repo.
func (s *Server) Labels(owner, repo string) []Label {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.labels[owner+"/"+repo])
}

func (s *Server) commentCount(rs *repoState, sha string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.comments {
		if c.Repo == rs.full() && c.Kind == "commit" && c.CommitSHA == sha {
			n++
		}
	}
	return n
}

func (s *Server) createCommitComment(c *call) (int, any, error) {
	var req struct {
		Body     string `json:"body"`
		Path     string `json:"path"`
		Line     int    `json:"line"`
		Position int    `json:"position"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	sha, err := s.git(c.repo, nil, "rev-parse", "--verify", "--quiet", c.params["commit_sha"]+"^{commit}")
	if err != nil {
		return 0, nil, notFound()
	}
	if req.Body == "" {
		return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "CommitComment", "field": "body", "code": "missing_field"})
	}
	if err := tooLong("CommitComment", nil, &req.Body); err != nil {
		return 0, nil, err
	}
	line := req.Line
	if line == 0 {
		line = req.Position
	}
	cm := &Comment{ID: s.id(), Kind: "commit", Repo: c.repo.full(), CommitSHA: sha, Path: req.Path, Line: line,
		Body: req.Body, User: s.botLogin(), CreatedAt: s.now()}
	s.mu.Lock()
	s.comments = append(s.comments, cm)
	s.mu.Unlock()
	return 201, s.commitCommentObject(c.repo, cm), nil
}

func (s *Server) commitCommentObject(rs *repoState, cm *Comment) obj {
	var path, line, pos any
	if cm.Path != "" {
		path = cm.Path
	}
	if cm.Line > 0 {
		line, pos = cm.Line, cm.Line
	}
	id := strconv.FormatInt(cm.ID, 10)
	return obj{"url": s.apiURL(rs, "comments/"+id), "html_url": s.htmlURL(rs, "commit/"+cm.CommitSHA+"#commitcomment-"+id),
		"id": cm.ID, "node_id": nodeID("CommitComment", cm.ID), "user": s.user(cm.User, "Bot"),
		"position": pos, "line": line, "path": path, "commit_id": cm.CommitSHA, "body": cm.Body,
		"author_association": "NONE", "created_at": ts(cm.CreatedAt), "updated_at": ts(cm.CreatedAt)}
}

func (s *Server) listCommitComments(c *call) (int, any, error) {
	sha, err := s.git(c.repo, nil, "rev-parse", "--verify", "--quiet", c.params["commit_sha"]+"^{commit}")
	if err != nil {
		return 0, nil, notFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []obj{}
	for _, cm := range s.comments {
		if cm.Repo == c.repo.full() && cm.Kind == "commit" && cm.CommitSHA == sha {
			out = append(out, s.commitCommentObject(c.repo, cm))
		}
	}
	return 200, out, nil
}

func (s *Server) createIssue(c *call) (int, any, error) {
	var req struct {
		Title  any      `json:"title"`
		Body   string   `json:"body"`
		Labels []string `json:"labels"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	title := ""
	switch t := req.Title.(type) {
	case string:
		title = t
	case float64:
		title = strconv.FormatFloat(t, 'f', -1, 64)
	}
	if title == "" {
		return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "Issue", "field": "title", "code": "missing_field"})
	}
	if err := tooLong("Issue", &title, &req.Body); err != nil {
		return 0, nil, err
	}
	now := s.now()
	is := &Issue{ID: s.id(), Number: s.nextNumber(c.repo), Repo: c.repo.full(), Title: title, Body: req.Body,
		State: "open", User: s.botLogin(), CreatedAt: now, UpdatedAt: now}
	s.mu.Lock()
	for _, l := range req.Labels {
		s.ensureLabel(c.repo.full(), l)
		is.Labels = append(is.Labels, l)
	}
	s.issues = append(s.issues, is)
	o := s.issueObject(c.repo, is)
	s.mu.Unlock()
	return 201, o, nil
}

// ensureLabel creates name in repo if missing; the caller holds s.mu.
func (s *Server) ensureLabel(repo, name string) Label {
	for _, l := range s.labels[repo] {
		if l.Name == name {
			return l
		}
	}
	s.nextID++
	l := Label{ID: s.nextID, Name: name, Color: "ededed"}
	s.labels[repo] = append(s.labels[repo], l)
	return l
}

func (s *Server) labelObject(rs *repoState, l Label) obj {
	return obj{"id": l.ID, "node_id": nodeID("Label", l.ID), "url": s.apiURL(rs, "labels/"+url.PathEscape(l.Name)),
		"name": l.Name, "color": l.Color, "description": nullable(l.Description), "default": false}
}

// issueObject renders is; the caller holds s.mu.
func (s *Server) issueObject(rs *repoState, is *Issue) obj {
	num := strconv.Itoa(is.Number)
	api := s.apiURL(rs, "issues/"+num)
	labels := []obj{}
	for _, name := range is.Labels {
		labels = append(labels, s.labelObject(rs, s.ensureLabel(rs.full(), name)))
	}
	n := 0
	for _, c := range s.comments {
		if c.Repo == rs.full() && c.Kind == "issue" && c.Issue == is.Number {
			n++
		}
	}
	return obj{"id": is.ID, "node_id": nodeID("Issue", is.ID), "url": api, "repository_url": s.apiURL(rs, "")[:len(s.apiURL(rs, ""))-1],
		"labels_url": api + "/labels{/name}", "comments_url": api + "/comments", "events_url": api + "/events",
		"html_url": s.htmlURL(rs, "issues/"+num), "number": is.Number, "state": is.State, "title": is.Title,
		"body": nullable(is.Body), "user": s.user(is.User, "Bot"), "labels": labels, "assignee": nil,
		"assignees": []obj{}, "milestone": nil, "locked": false, "active_lock_reason": nil, "comments": n,
		"closed_at": nullTime(is.ClosedAt), "created_at": ts(is.CreatedAt), "updated_at": ts(is.UpdatedAt),
		"author_association": "NONE"}
}

func (s *Server) issueParam(c *call) (*Issue, error) {
	n, err := strconv.Atoi(c.params["issue_number"])
	if err != nil {
		return nil, notFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, is := range s.issues {
		if is.Repo == c.repo.full() && is.Number == n {
			return is, nil
		}
	}
	return nil, notFound()
}

func (s *Server) getIssue(c *call) (int, any, error) {
	is, err := s.issueParam(c)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return 200, s.issueObject(c.repo, is), nil
}

func (s *Server) listIssues(c *call) (int, any, error) {
	state := c.r.URL.Query().Get("state")
	if state == "" {
		state = "open"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []obj{}
	for i := len(s.issues) - 1; i >= 0; i-- {
		is := s.issues[i]
		if is.Repo == c.repo.full() && (state == "all" || is.State == state) {
			out = append(out, s.issueObject(c.repo, is))
		}
	}
	return 200, out, nil
}

func (s *Server) updateIssue(c *call) (int, any, error) {
	var req struct {
		Title  *string  `json:"title"`
		Body   *string  `json:"body"`
		State  *string  `json:"state"`
		Labels []string `json:"labels"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if err := tooLong("Issue", req.Title, req.Body); err != nil {
		return 0, nil, err
	}
	is, err := s.issueParam(c)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Title != nil {
		is.Title = *req.Title
	}
	if req.Body != nil {
		is.Body = *req.Body
	}
	if req.State != nil && *req.State != is.State {
		is.State = *req.State
		is.ClosedAt = time.Time{}
		if is.State == "closed" {
			is.ClosedAt = s.now()
		}
	}
	if req.Labels != nil {
		is.Labels = slices.Clone(req.Labels)
	}
	is.UpdatedAt = s.now()
	return 200, s.issueObject(c.repo, is), nil
}

// issueOrPull reports whether number is an issue or a pull request of rs.
func (s *Server) issueOrPull(rs *repoState, number int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, is := range s.issues {
		if is.Repo == rs.full() && is.Number == number {
			return true
		}
	}
	for _, p := range s.pulls {
		if p.Repo == rs.full() && p.Number == number {
			return true
		}
	}
	return false
}

func (s *Server) createIssueComment(c *call) (int, any, error) {
	var req struct {
		Body string `json:"body"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	n, err := strconv.Atoi(c.params["issue_number"])
	if err != nil || !s.issueOrPull(c.repo, n) {
		return 0, nil, notFound()
	}
	if req.Body == "" {
		return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "IssueComment", "field": "body", "code": "missing_field"})
	}
	if err := tooLong("IssueComment", nil, &req.Body); err != nil {
		return 0, nil, err
	}
	cm := &Comment{ID: s.id(), Kind: "issue", Repo: c.repo.full(), Issue: n, Body: req.Body, User: s.botLogin(), CreatedAt: s.now()}
	s.mu.Lock()
	s.comments = append(s.comments, cm)
	s.mu.Unlock()
	return 201, s.issueCommentObject(c.repo, cm), nil
}

func (s *Server) issueCommentObject(rs *repoState, cm *Comment) obj {
	id := strconv.FormatInt(cm.ID, 10)
	num := strconv.Itoa(cm.Issue)
	return obj{"id": cm.ID, "node_id": nodeID("IssueComment", cm.ID), "url": s.apiURL(rs, "issues/comments/"+id),
		"html_url": s.htmlURL(rs, "issues/"+num+"#issuecomment-"+id), "issue_url": s.apiURL(rs, "issues/"+num),
		"body": cm.Body, "user": s.user(cm.User, "Bot"), "author_association": "NONE",
		"created_at": ts(cm.CreatedAt), "updated_at": ts(cm.CreatedAt)}
}

func (s *Server) listIssueComments(c *call) (int, any, error) {
	n, err := strconv.Atoi(c.params["issue_number"])
	if err != nil || !s.issueOrPull(c.repo, n) {
		return 0, nil, notFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []obj{}
	for _, cm := range s.comments {
		if cm.Repo == c.repo.full() && cm.Kind == "issue" && cm.Issue == n {
			out = append(out, s.issueCommentObject(c.repo, cm))
		}
	}
	return 200, out, nil
}

func (s *Server) addLabels(c *call) (int, any, error) {
	var req struct {
		Labels []string `json:"labels"`
	}
	if err := c.decode(&req); err != nil {
		var plain []string // the body may also be a bare array of names
		if json2 := c.decode(&plain); json2 != nil {
			return 0, nil, err
		}
		req.Labels = plain
	}
	n, err := strconv.Atoi(c.params["issue_number"])
	if err != nil || !s.issueOrPull(c.repo, n) {
		return 0, nil, notFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var target *Issue
	for _, is := range s.issues {
		if is.Repo == c.repo.full() && is.Number == n {
			target = is
		}
	}
	out := []obj{}
	for _, name := range req.Labels {
		l := s.ensureLabel(c.repo.full(), name)
		if target != nil && !slices.Contains(target.Labels, name) {
			target.Labels = append(target.Labels, name)
		}
		out = append(out, s.labelObject(c.repo, l))
	}
	return 200, out, nil
}

func (s *Server) listLabels(c *call) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []obj{}
	for _, l := range s.labels[c.repo.full()] {
		out = append(out, s.labelObject(c.repo, l))
	}
	return 200, out, nil
}

func (s *Server) createLabel(c *call) (int, any, error) {
	var req struct {
		Name        string `json:"name"`
		Color       string `json:"color"`
		Description string `json:"description"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.labels[c.repo.full()] {
		if l.Name == req.Name {
			return 0, nil, validationFailed("Validation Failed", map[string]string{"resource": "Label", "field": "name", "code": "already_exists"})
		}
	}
	if req.Color == "" {
		req.Color = "ededed"
	}
	s.nextID++
	l := Label{ID: s.nextID, Name: req.Name, Color: req.Color, Description: req.Description}
	s.labels[c.repo.full()] = append(s.labels[c.repo.full()], l)
	return 201, s.labelObject(c.repo, l), nil
}
