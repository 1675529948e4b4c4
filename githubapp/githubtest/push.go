package githubtest

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// commitInfo is one commit as git reports it.
type commitInfo struct {
	sha, tree, message                           string
	authorName, authorEmail, commName, commEmail string
	authorDate, commDate                         time.Time
	parents                                      []string
}

func (s *Server) commitInfo(rs *repoState, sha string) (*commitInfo, error) {
	out, err := s.git(rs, nil, "show", "-s", "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B", sha+"^{commit}")
	if err != nil {
		return nil, err
	}
	f := strings.SplitN(out, "\x00", 10)
	if len(f) != 10 {
		return nil, fmt.Errorf("git show %s: unexpected output", sha)
	}
	ad, _ := time.Parse(time.RFC3339, f[5])
	cd, _ := time.Parse(time.RFC3339, f[8])
	return &commitInfo{sha: f[0], tree: f[1], parents: strings.Fields(f[2]),
		authorName: f[3], authorEmail: f[4], authorDate: ad,
		commName: f[6], commEmail: f[7], commDate: cd, message: strings.TrimRight(f[9], "\n")}, nil
}

// fileChanges lists what a commit did to its first parent (the empty tree
// for a root commit): git's own rename detection, where a rename counts as
// the old path removed and the new one added, as GitHub reports it.
func (s *Server) fileChanges(rs *repoState, c *commitInfo) (added, removed, modified []string, err error) {
	args := []string{"diff-tree", "--no-commit-id", "-r", "--name-status", "-M"}
	if len(c.parents) == 0 {
		args = append(args, "--root", c.sha)
	} else {
		args = append(args, c.parents[0], c.sha)
	}
	out, err := s.git(rs, nil, args...)
	if err != nil {
		return nil, nil, nil, err
	}
	added, removed, modified = []string{}, []string{}, []string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "\t")
		if len(f) < 2 {
			continue
		}
		switch f[0][0] {
		case 'A', 'C':
			added = append(added, f[len(f)-1])
		case 'D':
			removed = append(removed, f[1])
		case 'R':
			removed = append(removed, f[1])
			added = append(added, f[2])
		default:
			modified = append(modified, f[1])
		}
	}
	return added, removed, modified, nil
}

func (s *Server) pushCommit(rs *repoState, c *commitInfo, distinct bool) (obj, error) {
	added, removed, modified, err := s.fileChanges(rs, c)
	if err != nil {
		return nil, err
	}
	return obj{
		"id": c.sha, "tree_id": c.tree, "distinct": distinct, "message": c.message,
		"timestamp": c.commDate.Format(time.RFC3339),
		"url":       s.URL + "/" + rs.full() + "/commit/" + c.sha,
		"author":    obj{"name": c.authorName, "email": c.authorEmail},
		"committer": obj{"name": c.commName, "email": c.commEmail},
		"added":     added, "removed": removed, "modified": modified,
	}, nil
}

// pushEvents builds one push payload per ref the push changed, from what
// git did: before/after, created/deleted, forced by ancestry, the commits
// it brought with their files.
func (s *Server) pushEvents(rs *repoState, in *Installation, before, after map[string]string) ([]obj, error) {
	var changed []string
	for ref, sha := range after {
		if before[ref] != sha {
			changed = append(changed, ref)
		}
	}
	for ref := range before {
		if _, ok := after[ref]; !ok {
			changed = append(changed, ref)
		}
	}
	sort.Strings(changed)
	by := s.pushedBy(rs, in)
	if len(changed) == 0 || by.inst == nil {
		return nil, nil
	}
	rs.mu.Lock()
	rs.pushed = s.now()
	rs.mu.Unlock()
	// What the repository held before: commits reachable from these are
	// not distinct.
	var known []string
	for _, sha := range before {
		known = append(known, sha)
	}
	var events []obj
	for _, ref := range changed {
		e, err := s.pushEvent(rs, by, ref, before[ref], after[ref], known, after)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		events = append(events, e)
	}
	return events, nil
}

// pusher is who made a push, as its webhook names them, and the App's
// installation the webhook is for.
type pusher struct {
	pusher, sender obj
	inst           *Installation
}

// pushedBy is who pushed with in's token: the App's bot for an
// installation token, the user for a user's token (tokenInstallation gives
// those an Installation without an id). The webhook goes to the App's
// installation on rs; none (nil inst) when the App is not installed there.
func (s *Server) pushedBy(rs *repoState, in *Installation) pusher {
	if in.ID != 0 {
		return pusher{pusher: obj{"name": s.botLogin(), "email": nil}, sender: s.bot(), inst: in}
	}
	login := in.Account
	return pusher{
		pusher: obj{"name": login, "email": fmt.Sprintf("%d+%s@users.noreply.stand-in.test", accountID(login), login)},
		sender: s.user(login, "User"),
		inst:   s.hookInstallation(rs, in),
	}
}

// hookInstallation is the installation whose App gets rs's webhooks for
// what in's token did: in itself, or for a user's token the App's
// installation covering rs (nil when there is none).
func (s *Server) hookInstallation(rs *repoState, in *Installation) *Installation {
	if in.ID != 0 {
		return in
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.installationFor(rs.full())
}

func (s *Server) pushEvent(rs *repoState, by pusher, ref, old, nw string, known []string, after map[string]string) (obj, error) {
	created, deleted := old == "", nw == ""
	if created {
		old = zeroSHA
	}
	if deleted {
		nw = zeroSHA
	}
	forced := false
	if !created && !deleted {
		anc, err := s.isAncestor(rs, old, nw)
		if err != nil {
			return nil, err
		}
		forced = !anc
	}
	isTag := strings.HasPrefix(ref, "refs/tags/")
	commits := []obj{}
	var head obj
	var baseRef any
	if !deleted {
		// distinct: not reachable from any ref before this push
		args := append([]string{"rev-list", nw + "^{commit}", "--not"}, known...)
		out, err := s.git(rs, nil, args...)
		if err != nil {
			return nil, err
		}
		distinct := map[string]bool{}
		for _, sha := range strings.Fields(out) {
			distinct[sha] = true
		}
		var list []string
		switch {
		case isTag:
			// a tag push lists no commits, only its head commit
		case created:
			// a new branch: the commits no other branch had
			var others []string
			for r, sha := range after {
				if r != ref && strings.HasPrefix(r, "refs/heads/") {
					others = append(others, sha)
				}
			}
			out, err := s.git(rs, nil, append([]string{"rev-list", "--reverse", nw, "--not"}, others...)...)
			if err != nil {
				return nil, err
			}
			list = strings.Fields(out)
		default:
			out, err := s.git(rs, nil, "rev-list", "--reverse", old+".."+nw)
			if err != nil {
				return nil, err
			}
			list = strings.Fields(out)
		}
		if len(list) > 20 { // GitHub's payload holds at most 20 commits
			list = list[len(list)-20:]
		}
		for _, sha := range list {
			ci, err := s.commitInfo(rs, sha)
			if err != nil {
				return nil, err
			}
			pc, err := s.pushCommit(rs, ci, distinct[sha])
			if err != nil {
				return nil, err
			}
			commits = append(commits, pc)
		}
		ci, err := s.commitInfo(rs, nw)
		if err != nil {
			return nil, err
		}
		head, err = s.pushCommit(rs, ci, distinct[ci.sha])
		if err != nil {
			return nil, err
		}
		if isTag {
			for r, sha := range after {
				if strings.HasPrefix(r, "refs/heads/") && sha == ci.sha {
					baseRef = r
					break
				}
			}
		}
	}
	compare := s.URL + "/" + rs.full() + "/compare/"
	switch {
	case created:
		compare += strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/")
	default:
		compare += old[:12] + "..." + nw[:12]
	}
	e := obj{
		"ref": ref, "before": old, "after": nw,
		"created": created, "deleted": deleted, "forced": forced,
		"base_ref": baseRef, "compare": compare, "commits": commits, "head_commit": head,
		"repository":   s.repoObject(rs),
		"pusher":       by.pusher,
		"sender":       by.sender,
		"installation": obj{"id": by.inst.ID, "node_id": nodeID("Installation", by.inst.ID)},
		"organization": s.orgObject(rs.owner),
	}
	return e, nil
}

func (s *Server) orgObject(login string) obj {
	id := accountID(login)
	u := s.URL + "/orgs/" + login
	return obj{"login": login, "id": id, "node_id": nodeID("Organization", id), "url": u,
		"repos_url": u + "/repos", "events_url": u + "/events", "hooks_url": u + "/hooks",
		"issues_url": u + "/issues", "members_url": u + "/members{/member}",
		"public_members_url": u + "/public_members{/member}", "avatar_url": s.URL + "/avatars/" + login,
		"description": nil}
}
