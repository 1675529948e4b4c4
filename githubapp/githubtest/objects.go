package githubtest

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"time"
)

// obj is a JSON object as GitHub sends it.
type obj = map[string]any

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func nodeID(kind string, id int64) string {
	return base64.RawStdEncoding.EncodeToString(fmt.Appendf(nil, "0%s%d", kind, id))
}

// accountID is a stable id for a login, so the same user looks the same
// in every payload.
func accountID(login string) int64 {
	h := fnv.New32a()
	h.Write([]byte(login))
	return int64(h.Sum32()%1_000_000) + 1
}

// user is a simple-user. Type "Bot" for the App's bot account.
func (s *Server) user(login, typ string) obj {
	id := accountID(login)
	u := s.URL + "/users/" + login
	return obj{
		"login": login, "id": id, "node_id": nodeID("User", id),
		"avatar_url": s.URL + "/avatars/" + login, "gravatar_id": "",
		"url": u, "html_url": s.URL + "/" + login,
		"followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
		"gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
		"subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs",
		"repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "type": typ, "site_admin": false,
	}
}

// botLogin is the App's bot account, the author of what the App creates.
func (s *Server) botLogin() string { return s.app.Slug + "[bot]" }

func (s *Server) bot() obj { return s.user(s.botLogin(), "Bot") }

// repoObject is a repository in the union of the shapes GitHub uses
// (full-repository, repository, and the webhooks' repository).
func (s *Server) repoObject(rs *repoState) obj {
	full := rs.owner + "/" + rs.name
	api := s.URL + "/repos/" + full
	return obj{
		"id": rs.id, "node_id": nodeID("Repository", rs.id), "name": rs.name, "full_name": full,
		"private": true, "owner": s.user(rs.owner, "Organization"), "html_url": s.URL + "/" + full,
		"description": nil, "fork": false, "url": api,
		"archive_url": api + "/{archive_format}{/ref}", "assignees_url": api + "/assignees{/user}",
		"blobs_url": api + "/git/blobs{/sha}", "branches_url": api + "/branches{/branch}",
		"collaborators_url": api + "/collaborators{/collaborator}", "comments_url": api + "/comments{/number}",
		"commits_url": api + "/commits{/sha}", "compare_url": api + "/compare/{base}...{head}",
		"contents_url": api + "/contents/{+path}", "contributors_url": api + "/contributors",
		"deployments_url": api + "/deployments", "downloads_url": api + "/downloads",
		"events_url": api + "/events", "forks_url": api + "/forks",
		"git_commits_url": api + "/git/commits{/sha}", "git_refs_url": api + "/git/refs{/sha}",
		"git_tags_url": api + "/git/tags{/sha}", "hooks_url": api + "/hooks",
		"issue_comment_url": api + "/issues/comments{/number}", "issue_events_url": api + "/issues/events{/number}",
		"issues_url": api + "/issues{/number}", "keys_url": api + "/keys{/key_id}",
		"labels_url": api + "/labels{/name}", "languages_url": api + "/languages",
		"merges_url": api + "/merges", "milestones_url": api + "/milestones{/number}",
		"notifications_url": api + "/notifications{?since,all,participating}",
		"pulls_url":         api + "/pulls{/number}", "releases_url": api + "/releases{/id}",
		"stargazers_url": api + "/stargazers", "statuses_url": api + "/statuses/{sha}",
		"subscribers_url": api + "/subscribers", "subscription_url": api + "/subscription",
		"tags_url": api + "/tags", "teams_url": api + "/teams", "trees_url": api + "/git/trees{/sha}",
		"clone_url": s.CloneURL(rs.owner, rs.name), "git_url": "git://stand-in/" + full + ".git",
		"ssh_url": "git@stand-in:" + full + ".git", "svn_url": s.URL + "/" + full,
		"mirror_url": nil, "homepage": nil, "language": nil,
		"default_branch": rs.defaultBranch, "visibility": "private", "topics": []string{},
		"forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers": 0, "watchers_count": 0,
		"open_issues": 0, "open_issues_count": 0, "size": 0, "network_count": 0, "subscribers_count": 0,
		"has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false,
		"has_downloads": false, "has_discussions": false, "archived": false, "disabled": false,
		"is_template": false, "allow_forking": false, "web_commit_signoff_required": false,
		"license":    nil,
		"created_at": ts(rs.created), "updated_at": ts(rs.created), "pushed_at": ts(rs.pushedAt()),
	}
}

var appPermissions = obj{"checks": "write", "contents": "write", "issues": "write", "metadata": "read", "pull_requests": "write"}

var appEvents = []string{"check_run", "pull_request", "push"}

func (s *Server) appObject() obj {
	return obj{
		"id": s.app.ID, "slug": s.app.Slug, "node_id": nodeID("Integration", s.app.ID),
		"client_id": s.app.ClientID, "owner": s.user("pushvault", "Organization"),
		"name": s.app.Name, "description": "Moves pushed secrets into Vault",
		"external_url": s.URL + "/pushvault", "html_url": s.URL + "/apps/" + s.app.Slug,
		"created_at": ts(procStart), "updated_at": ts(procStart),
		"permissions": appPermissions, "events": appEvents,
	}
}

func (s *Server) installationObject(in *Installation) obj {
	sel := "all"
	if in.Repos != nil {
		sel = "selected"
	}
	api := s.URL + "/app/installations/" + fmt.Sprint(in.ID)
	acct := s.user(in.Account, "Organization")
	return obj{
		"id": in.ID, "app_id": s.app.ID, "app_slug": s.app.Slug, "client_id": s.app.ClientID,
		"target_id": acct["id"], "target_type": "Organization", "account": acct,
		"single_file_name": nil, "repository_selection": sel,
		"access_tokens_url": api + "/access_tokens", "repositories_url": s.URL + "/installation/repositories",
		"html_url": s.URL + "/organizations/" + in.Account + "/settings/installations/" + fmt.Sprint(in.ID),
		"events":   appEvents, "permissions": appPermissions,
		"created_at": ts(procStart), "updated_at": ts(procStart),
		"suspended_by": nil, "suspended_at": nil,
	}
}
