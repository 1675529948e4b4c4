package githubtest

import (
	"fmt"
	"strings"
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

// checkRunEvent is a check_run webhook payload for cr (a copy the caller
// owns).
func (s *Server) checkRunEvent(rs *repoState, cr *CheckRun, action string, sender obj) obj {
	o := s.checkRunObject(rs, cr)
	s.mu.Lock()
	in := s.installationFor(rs.full())
	s.mu.Unlock()
	// the webhook description types these as strings: GitHub sends "" for unset
	o["details_url"], o["external_id"] = cr.DetailsURL, cr.ExternalID
	// As on GitHub, the suite names the branch its head was pushed to
	// (here: a branch whose tip it is, the default branch first), else null.
	var headBranch any
	if refs, err := s.refs(rs); err == nil {
		if refs["refs/heads/main"] == cr.HeadSHA {
			headBranch = "main"
		} else {
			for ref, sha := range refs {
				if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok && sha == cr.HeadSHA {
					headBranch = b
					break
				}
			}
		}
	}
	o["check_suite"] = obj{"id": cr.ID + 500000, "head_sha": cr.HeadSHA, "head_branch": headBranch, "status": "completed",
		"conclusion": o["conclusion"], "url": s.apiURL(rs, fmt.Sprintf("check-suites/%d", cr.ID+500000)),
		"before": nil, "after": nil, "pull_requests": []obj{}, "app": s.appObject(),
		"created_at": ts(cr.StartedAt), "updated_at": ts(s.now())}
	e := obj{"action": action, "check_run": o, "repository": s.repoObject(rs), "sender": sender,
		"organization": s.orgObject(rs.owner)}
	if in != nil {
		e["installation"] = obj{"id": in.ID, "node_id": nodeID("Installation", in.ID)}
	}
	return e
}
