package contract

import "net/http"

// Served lists the REST operations the stand-in serves, as "METHOD /path"
// with GitHub's path templates. Load derives its subset from this list the
// first time it runs in a process: change it before that (the stand-in edits
// this list, not a copy). A template naming no operation of GitHub's
// description makes Load fail.
var Served = []string{
	// Apps and repositories.
	"GET /app",
	"GET /app/installations/{installation_id}",
	"POST /app/installations/{installation_id}/access_tokens",
	"GET /repos/{owner}/{repo}/installation",
	"GET /orgs/{org}/installation",
	"POST /app-manifests/{code}/conversions",
	"GET /repos/{owner}/{repo}",
	"GET /repos/{owner}/{repo}/collaborators/{username}/permission",
	"GET /rate_limit",
	"GET /user",

	// Check runs.
	"POST /repos/{owner}/{repo}/check-runs",
	"GET /repos/{owner}/{repo}/check-runs/{check_run_id}",
	"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
	"GET /repos/{owner}/{repo}/commits/{ref}/check-runs",

	// Git database.
	"POST /repos/{owner}/{repo}/git/blobs",
	"GET /repos/{owner}/{repo}/git/blobs/{file_sha}",
	"POST /repos/{owner}/{repo}/git/trees",
	"GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
	"POST /repos/{owner}/{repo}/git/commits",
	"GET /repos/{owner}/{repo}/git/commits/{commit_sha}",
	"POST /repos/{owner}/{repo}/git/refs",
	"GET /repos/{owner}/{repo}/git/ref/{ref}",
	"PATCH /repos/{owner}/{repo}/git/refs/{ref}",
	"DELETE /repos/{owner}/{repo}/git/refs/{ref}",

	// Contents and commits.
	"GET /repos/{owner}/{repo}/contents/{path}",
	"PUT /repos/{owner}/{repo}/contents/{path}",
	"GET /repos/{owner}/{repo}/commits/{ref}",

	// Pull requests.
	"POST /repos/{owner}/{repo}/pulls",
	"GET /repos/{owner}/{repo}/pulls",
	"GET /repos/{owner}/{repo}/pulls/{pull_number}",
	"PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
	"PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/files",

	// Commit comments.
	"POST /repos/{owner}/{repo}/commits/{commit_sha}/comments",
	"GET /repos/{owner}/{repo}/commits/{commit_sha}/comments",

	// Issues and labels.
	"POST /repos/{owner}/{repo}/issues",
	"GET /repos/{owner}/{repo}/issues",
	"GET /repos/{owner}/{repo}/issues/{issue_number}",
	"PATCH /repos/{owner}/{repo}/issues/{issue_number}",
	"POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
	"GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
	"POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
	"GET /repos/{owner}/{repo}/labels",
	"POST /repos/{owner}/{repo}/labels",

	// Credentials.
	"POST /credentials/revoke",
}

// WebhookEvents lists the webhook deliveries the stand-in emits, as
// "event" for events without an action and "event.action" otherwise, in the
// X-GitHub-Event spelling. LoadWebhooks derives its subset from this list the
// first time it runs in a process.
var WebhookEvents = []string{
	"ping",
	"push",
	"pull_request.opened",
	"pull_request.closed",
	"pull_request.synchronize",
	"check_run.created",
	"check_run.completed",
	"check_run.rerequested",
	"check_run.requested_action",
	"check_suite.rerequested",
	"issue_comment.created",
	"installation.created",
	"installation.deleted",
	"installation_repositories.added",
	"installation_repositories.removed",
}

// SlashParams are the path parameters whose values may contain slashes
// (branch and tag names, file paths): each may span several path segments.
// Every other parameter matches exactly one segment, so an unserved path
// such as /repos/o/r/branches is not taken for GET /repos/{owner}/{repo}.
var SlashParams = map[string]bool{"ref": true, "path": true, "branch": true}

// StatusExceptions lists, by operation id, error statuses GitHub returns for
// an operation without documenting them there. Such a response is validated
// against GitHub's basic-error schema (message, documentation_url) instead
// of failing as undocumented. Every entry must say why, with the operation
// and the behaviour of github.com it reflects; the list starts empty, and
// nothing goes in it to make a stand-in bug pass. Change it before
// validation starts; it is read, never written, by validation.
var StatusExceptions = map[string][]int{
	// GitHub's "Rate limits for the REST API": exceeding a secondary limit
	// answers 403 or 429, on any endpoint; creating content (check runs)
	// counts toward the content-creation limit. The description documents
	// neither status for these operations.
	"repos/get":     {http.StatusTooManyRequests},
	"checks/create": {http.StatusForbidden, http.StatusTooManyRequests},
	// POST /credentials/revoke: github.com answers any authenticated
	// request 403 (the operation's own description says so, in prose).
	// GitHub Enterprise Server documents the endpoint as authenticated
	// ("limited to 60 authenticated requests per hour", docs for GHES
	// 3.19), answering 401 without a token; none of the pinned GHES
	// descriptions (ghes-3.17 to ghes-3.19 in @octokit/openapi 23.0.2)
	// has the path, so a request under GHES's /api/v3 prefix is held to
	// this (github.com's) operation's request and response schemas, as
	// every /api/v3 request is (Find).
	"credentials/revoke": {http.StatusUnauthorized, http.StatusForbidden},
}
