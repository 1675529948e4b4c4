package githubtest

import (
	"net/url"
	"strings"
)

type authKind int

const (
	authNone  authKind = iota // anyone (manifest conversion)
	authAny                   // anyone, but credentials sent must be live (rate limit: how a token is checked)
	authJWT                   // the App's JWT
	authToken                 // an installation token covering the repository in the path
	// authRevoke is POST /credentials/revoke: on github.com (the root path)
	// an authenticated request is refused with 403; GitHub Enterprise
	// Server (the /api/v3 prefix) documents the endpoint as authenticated,
	// so there a live token is required (401 without).
	authRevoke
)

type handler func(c *call) (int, any, error)

// route is one served operation: its operationId in GitHub's description
// and its path template, where {ref} and {path} may span slashes.
type route struct {
	method string
	tmpl   []string
	op     string
	auth   authKind
	h      handler
}

func (s *Server) buildRoutes() []route {
	r := func(method, path, op string, auth authKind, h handler) route {
		return route{method: method, tmpl: strings.Split(strings.Trim(path, "/"), "/"), op: op, auth: auth, h: h}
	}
	const repo = "/repos/{owner}/{repo}"
	return []route{
		r("GET", "/app", "apps/get-authenticated", authJWT, s.getApp),
		r("GET", "/app/installations/{installation_id}", "apps/get-installation", authJWT, s.getInstallation),
		r("POST", "/app/installations/{installation_id}/access_tokens", "apps/create-installation-access-token", authJWT, s.createToken),
		r("GET", repo+"/installation", "apps/get-repo-installation", authJWT, s.getRepoInstallation),
		r("GET", "/orgs/{org}/installation", "apps/get-org-installation", authJWT, s.getOrgInstallation),
		r("POST", "/app-manifests/{code}/conversions", "apps/create-from-manifest", authNone, s.convertManifest),
		r("GET", "/rate_limit", "rate-limit/get", authAny, s.getRateLimit),
		r("GET", "/user", "users/get-authenticated", authAny, s.getAuthenticatedUser),
		r("POST", "/credentials/revoke", "credentials/revoke", authRevoke, s.revokeCredentials),
		r("GET", repo, "repos/get", authToken, s.getRepo),
		r("GET", repo+"/collaborators/{username}/permission", "repos/get-collaborator-permission-level", authToken, s.getCollaboratorPermission),

		r("POST", repo+"/check-runs", "checks/create", authToken, s.createCheckRun),
		r("GET", repo+"/check-runs/{check_run_id}", "checks/get", authToken, s.getCheckRun),
		r("PATCH", repo+"/check-runs/{check_run_id}", "checks/update", authToken, s.updateCheckRun),
		r("GET", repo+"/commits/{ref}/check-runs", "checks/list-for-ref", authToken, s.listCheckRuns),

		r("POST", repo+"/git/blobs", "git/create-blob", authToken, s.createBlob),
		r("GET", repo+"/git/blobs/{file_sha}", "git/get-blob", authToken, s.getBlob),
		r("POST", repo+"/git/trees", "git/create-tree", authToken, s.createTree),
		r("GET", repo+"/git/trees/{tree_sha}", "git/get-tree", authToken, s.getTree),
		r("POST", repo+"/git/commits", "git/create-commit", authToken, s.createCommit),
		r("GET", repo+"/git/commits/{commit_sha}", "git/get-commit", authToken, s.getGitCommit),
		r("POST", repo+"/git/refs", "git/create-ref", authToken, s.createRef),
		r("GET", repo+"/git/ref/{ref}", "git/get-ref", authToken, s.getRef),
		r("PATCH", repo+"/git/refs/{ref}", "git/update-ref", authToken, s.updateRef),
		r("DELETE", repo+"/git/refs/{ref}", "git/delete-ref", authToken, s.deleteRef),
		r("GET", repo+"/contents/{path}", "repos/get-content", authToken, s.getContent),
		r("PUT", repo+"/contents/{path}", "repos/create-or-update-file-contents", authToken, s.putContent),
		r("GET", repo+"/commits/{ref}", "repos/get-commit", authToken, s.getCommit),

		r("POST", repo+"/pulls", "pulls/create", authToken, s.createPull),
		r("GET", repo+"/pulls", "pulls/list", authToken, s.listPulls),
		r("GET", repo+"/pulls/{pull_number}", "pulls/get", authToken, s.getPull),
		r("PATCH", repo+"/pulls/{pull_number}", "pulls/update", authToken, s.updatePull),
		r("PUT", repo+"/pulls/{pull_number}/merge", "pulls/merge", authToken, s.mergePull),
		r("GET", repo+"/pulls/{pull_number}/files", "pulls/list-files", authToken, s.listPullFiles),

		r("POST", repo+"/commits/{commit_sha}/comments", "repos/create-commit-comment", authToken, s.createCommitComment),
		r("GET", repo+"/commits/{commit_sha}/comments", "repos/list-comments-for-commit", authToken, s.listCommitComments),
		r("POST", repo+"/issues", "issues/create", authToken, s.createIssue),
		r("GET", repo+"/issues", "issues/list-for-repo", authToken, s.listIssues),
		r("GET", repo+"/issues/{issue_number}", "issues/get", authToken, s.getIssue),
		r("PATCH", repo+"/issues/{issue_number}", "issues/update", authToken, s.updateIssue),
		r("POST", repo+"/issues/{issue_number}/comments", "issues/create-comment", authToken, s.createIssueComment),
		r("GET", repo+"/issues/{issue_number}/comments", "issues/list-comments", authToken, s.listIssueComments),
		r("POST", repo+"/issues/{issue_number}/labels", "issues/add-labels", authToken, s.addLabels),
		r("GET", repo+"/labels", "issues/list-labels-for-repo", authToken, s.listLabels),
		r("POST", repo+"/labels", "issues/create-label", authToken, s.createLabel),
	}
}

// match finds the route for method and escaped path. Literal segments win
// over parameters; {ref} and {path} take as many segments as the rest of
// the template leaves.
func (s *Server) match(method, escaped string) (*route, map[string]string) {
	if rest, ok := cutEnterprise(escaped); ok {
		escaped = rest
	}
	segs := strings.Split(strings.Trim(escaped, "/"), "/")
	var best *route
	var bestParams map[string]string
	bestLit := -1
	for i := range s.routes {
		rt := &s.routes[i]
		if rt.method != method {
			continue
		}
		params, lit, ok := matchTemplate(rt.tmpl, segs)
		if ok && lit > bestLit {
			best, bestParams, bestLit = rt, params, lit
		}
	}
	return best, bestParams
}

func matchTemplate(tmpl, segs []string) (map[string]string, int, bool) {
	params := map[string]string{}
	lit := 0
	i, j := 0, 0
	for i < len(tmpl) {
		t := tmpl[i]
		if j >= len(segs) {
			return nil, 0, false
		}
		if !strings.HasPrefix(t, "{") {
			if t != segs[j] {
				return nil, 0, false
			}
			lit++
			i++
			j++
			continue
		}
		name := strings.Trim(t, "{}")
		n := 1
		if name == "ref" || name == "path" {
			n = len(segs) - j - (len(tmpl) - i - 1)
			if n < 1 {
				return nil, 0, false
			}
		}
		parts := make([]string, n)
		for k := range n {
			v, err := url.PathUnescape(segs[j+k])
			if err != nil || v == "" {
				return nil, 0, false
			}
			parts[k] = v
		}
		params[name] = strings.Join(parts, "/")
		i++
		j += n
	}
	return params, lit, j == len(segs)
}

// cutEnterprise strips GitHub Enterprise Server's API prefix /api/v3
// (go-github's WithEnterpriseURLs clients use it) from an escaped path; ok
// says the path had it.
func cutEnterprise(escaped string) (string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/api/v3/")
	return "/" + rest, ok
}
