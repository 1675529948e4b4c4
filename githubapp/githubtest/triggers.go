package githubtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TriggerCheckRun sends a check_run webhook for check run id: action
// "rerequested", or "requested_action" with the action's identifier, as
// when a person (octocat) clicks on GitHub.
func (s *Server) TriggerCheckRun(id int64, action, identifier string) (Delivery, error) {
	return s.TriggerCheckRunAs(id, action, identifier, "octocat")
}

// TriggerCheckRunAs is TriggerCheckRun as the user login clicks: the
// webhook's sender (what their role is, SetRole decides).
func (s *Server) TriggerCheckRunAs(id int64, action, identifier, login string) (Delivery, error) {
	s.mu.Lock()
	var cr *CheckRun
	for _, c := range s.checkRuns {
		if c.ID == id {
			cr = c
		}
	}
	s.mu.Unlock()
	if cr == nil {
		return Delivery{}, fmt.Errorf("check run %d: %w", id, ErrNotFound)
	}
	rs := s.repo(cr.Repo)
	s.mu.Lock()
	snap := *cr
	s.mu.Unlock()
	e := s.checkRunEvent(rs, &snap, action, s.user(login, "User"))
	if action == "requested_action" {
		e["requested_action"] = obj{"identifier": identifier}
	}
	return *s.deliver("check_run", e), nil
}

// TriggerInstallation sends an installation webhook (action "created" or
// "deleted") for installation id.
func (s *Server) TriggerInstallation(id int64, action string) (Delivery, error) {
	s.mu.Lock()
	in, ok := s.installs[id]
	var repos []obj
	if ok {
		for _, rs := range s.repos {
			if in.covers(rs.full()) {
				repos = append(repos, obj{"id": rs.id, "node_id": nodeID("Repository", rs.id), "name": rs.name,
					"full_name": rs.full(), "private": true})
			}
		}
	}
	s.mu.Unlock()
	if !ok {
		return Delivery{}, fmt.Errorf("installation %d: %w", id, ErrNotFound)
	}
	if repos == nil {
		repos = []obj{}
	}
	e := obj{"action": action, "installation": s.installationObject(in), "repositories": repos,
		"sender": s.user("octocat", "User")}
	return *s.deliver("installation", e), nil
}

// TriggerRepositoriesAdded sends an installation_repositories webhook
// (action "added") for installation id, listing repos (names without the
// owner), which must exist and which the installation must cover (an
// installation on every repository of its account covers a repository
// created after it).
func (s *Server) TriggerRepositoriesAdded(id int64, repos ...string) (Delivery, error) {
	s.mu.Lock()
	in, ok := s.installs[id]
	var added []obj
	var missing []string
	if ok {
		for _, name := range repos {
			full := in.Account + "/" + name
			rs := s.repos[full]
			if rs == nil || !in.covers(full) {
				missing = append(missing, full)
				continue
			}
			added = append(added, obj{"id": rs.id, "node_id": nodeID("Repository", rs.id), "name": rs.name,
				"full_name": rs.full(), "private": true})
		}
	}
	s.mu.Unlock()
	if !ok {
		return Delivery{}, fmt.Errorf("installation %d: %w", id, ErrNotFound)
	}
	if len(missing) > 0 {
		return Delivery{}, fmt.Errorf("installation %d does not cover %v: %w", id, missing, ErrNotFound)
	}
	sel := "all"
	if in.Repos != nil {
		sel = "selected"
	}
	e := obj{"action": "added", "installation": s.installationObject(in), "repositories_added": added,
		"repositories_removed": []obj{}, "repository_selection": sel, "requester": nil,
		"sender": s.user("octocat", "User")}
	return *s.deliver("installation_repositories", e), nil
}

// checkRunEvent is a check_run webhook payload for cr (a copy the caller
// owns).
func (s *Server) checkRunEvent(rs *repoState, cr *CheckRun, action string, sender obj) obj {
	o := s.checkRunObject(rs, cr)
	s.mu.Lock()
	in := s.installationFor(rs.full())
	s.mu.Unlock()
	// the webhook description types these as strings: GitHub sends "" for unset
	o["details_url"], o["external_id"] = cr.DetailsURL, cr.ExternalID
	o["check_suite"] = obj{"id": suiteID(cr), "head_sha": cr.HeadSHA, "head_branch": s.headBranch(rs, cr.HeadSHA), "status": "completed",
		"conclusion": o["conclusion"], "url": s.apiURL(rs, fmt.Sprintf("check-suites/%d", suiteID(cr))),
		"before": nil, "after": nil, "pull_requests": []obj{}, "app": s.appObject(),
		"created_at": ts(cr.StartedAt), "updated_at": ts(s.now())}
	return s.checkEvent(rs, in, obj{"action": action, "check_run": o, "sender": sender})
}

// suiteID is the id of the App's check suite cr belongs to: the stand-in
// keeps no suites, one per check run stands for the App's suite on a head.
func suiteID(cr *CheckRun) int64 { return cr.ID + 500000 }

// headBranch is what GitHub names as a check suite's head branch: the
// branch sha was pushed to (here: a branch whose tip it is, the default
// branch first), else null.
func (s *Server) headBranch(rs *repoState, sha string) any {
	refs, err := s.refs(rs)
	if err != nil {
		return nil
	}
	if refs["refs/heads/main"] == sha {
		return "main"
	}
	for ref, tip := range refs {
		if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok && tip == sha {
			return b
		}
	}
	return nil
}

// checkEvent completes a check_run or check_suite payload e with the
// repository, its organization and the installation in (nil: none).
func (s *Server) checkEvent(rs *repoState, in *Installation, e obj) obj {
	e["repository"], e["organization"] = s.repoObject(rs), s.orgObject(rs.owner)
	if in != nil {
		e["installation"] = obj{"id": in.ID, "node_id": nodeID("Installation", in.ID)}
	}
	return e
}

// TriggerCheckSuite sends a check_suite webhook with action "rerequested"
// for the App's check suite on head in owner/repo, as when the user login
// clicks "Re-run all checks" on GitHub. The suite is the one of the App's
// latest check run on head (ErrNotFound when it has none); like GitHub's,
// it carries the before and after of the push that brought head, when the
// stand-in delivered one, its head branch and its head commit.
func (s *Server) TriggerCheckSuite(owner, repo, head, login string) (Delivery, error) {
	full := owner + "/" + repo
	s.mu.Lock()
	var cr *CheckRun
	for _, c := range s.checkRuns {
		if c.Repo == full && c.HeadSHA == head {
			cr = c
		}
	}
	var snap CheckRun
	if cr != nil {
		snap = *cr
	}
	in := s.installationFor(full)
	s.mu.Unlock()
	if cr == nil {
		return Delivery{}, fmt.Errorf("check suite on %s in %s: %w", head, full, ErrNotFound)
	}
	rs := s.repo(full)
	c, err := s.commitInfo(rs, head)
	if err != nil {
		return Delivery{}, err
	}
	before, after := s.pushedRange(full, head)
	suite := obj{"id": suiteID(&snap), "node_id": nodeID("CheckSuite", suiteID(&snap)),
		"head_branch": s.headBranch(rs, head), "head_sha": head, "status": "completed", "conclusion": nullable(snap.Conclusion),
		"url": s.apiURL(rs, fmt.Sprintf("check-suites/%d", suiteID(&snap))), "before": before, "after": after,
		"pull_requests": []obj{}, "app": s.appObject(), "created_at": ts(snap.StartedAt), "updated_at": ts(s.now()),
		"latest_check_runs_count": 1, "check_runs_url": s.apiURL(rs, fmt.Sprintf("check-suites/%d/check-runs", suiteID(&snap))),
		"rerequestable": true, "runs_rerequestable": true,
		"head_commit": obj{"id": c.sha, "tree_id": c.tree, "message": c.message, "timestamp": c.commDate.Format(time.RFC3339),
			"author": obj{"name": c.authorName, "email": c.authorEmail}, "committer": obj{"name": c.commName, "email": c.commEmail}}}
	e := s.checkEvent(rs, in, obj{"action": "rerequested", "check_suite": suite, "sender": s.user(login, "User")})
	return *s.deliver("check_suite", e), nil
}

// pushedRange is the before and after of the latest push delivery of full
// whose after is head, as GitHub records them on the check suite the push
// created; nil and nil when the stand-in delivered no such push.
func (s *Server) pushedRange(full, head string) (before, after any) {
	for _, d := range slices.Backward(s.Deliveries()) {
		var p struct {
			Before, After string
			Repository    struct {
				FullName string `json:"full_name"`
			}
		}
		if d.Event == "push" && json.Unmarshal(d.Payload, &p) == nil && p.After == head && p.Repository.FullName == full {
			return p.Before, p.After
		}
	}
	return nil, nil
}

// TriggerIssueComment adds a comment by the user login to issue number
// of owner/repo and sends the issue_comment webhook (action "created")
// GitHub sends for it, as when a person comments on GitHub. It returns the
// delivery and the comment's id.
func (s *Server) TriggerIssueComment(owner, repo string, number int, login, body string) (Delivery, int64, error) {
	full := owner + "/" + repo
	rs := s.repo(full)
	if rs == nil {
		return Delivery{}, 0, fmt.Errorf("repository %s: %w", full, ErrNotFound)
	}
	id := s.id()
	s.mu.Lock()
	var is *Issue
	for _, i := range s.issues {
		if i.Repo == full && i.Number == number {
			is = i
		}
	}
	if is == nil {
		s.mu.Unlock()
		return Delivery{}, 0, fmt.Errorf("issue %s#%d: %w", full, number, ErrNotFound)
	}
	cm := &Comment{ID: id, Kind: "issue", Repo: full, Issue: number, Body: body, User: login, CreatedAt: s.now()}
	s.comments = append(s.comments, cm)
	issue := s.issueObject(rs, is)
	comment := s.issueCommentObject(rs, cm)
	in := s.installationFor(full)
	s.mu.Unlock()
	comment["user"] = s.user(login, "User")
	// The webhook's issue and comment carry their reactions, and the
	// comment the App that made it (none: a person).
	reactions := func(u string) obj {
		return obj{"url": u + "/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "confused": 0,
			"heart": 0, "hooray": 0, "eyes": 0, "rocket": 0}
	}
	issue["reactions"] = reactions(issue["url"].(string))
	comment["reactions"], comment["performed_via_github_app"] = reactions(comment["url"].(string)), nil
	e := s.checkEvent(rs, in, obj{"action": "created", "issue": issue, "comment": comment, "sender": s.user(login, "User")})
	return *s.deliver("issue_comment", e), cm.ID, nil
}
