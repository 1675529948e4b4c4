package githubapp

import (
	"encoding/json"
	"fmt"
)

// The webhook payloads pushvault reads, as its own types: each declares
// only the fields a handler uses, so a field GitHub adds or types in a way
// a client library does not expect (repository.custom_properties, whose
// multi-select values are arrays, broke go-github v60's event types and
// with them every delivery of such a repository) never fails a delivery.
// Add a field here when a handler starts reading it.

// Account is a user, bot or organisation as payloads name them (sender,
// pusher's account, repository owner, merged_by).
type Account struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	// Type is "User", "Bot" or "Organization".
	Type string `json:"type"`
}

// Repository is a payload's repository object.
type Repository struct {
	ID            int64   `json:"id"`
	Name          string  `json:"name"`
	FullName      string  `json:"full_name"`
	Owner         Account `json:"owner"`
	CloneURL      string  `json:"clone_url"`
	DefaultBranch string  `json:"default_branch"`
}

// InstallationRef is a payload's installation (nil when GitHub sent none:
// repository webhooks, some pushes that delete a ref).
type InstallationRef struct {
	ID int64 `json:"id"`
}

// AppRef is the GitHub App a check run or check suite belongs to.
type AppRef struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
}

// PushPayload is a push event.
type PushPayload struct {
	Ref     string `json:"ref"`
	Before  string `json:"before"`
	After   string `json:"after"`
	Created bool   `json:"created"`
	Deleted bool   `json:"deleted"`
	Forced  bool   `json:"forced"`
	// Pusher is the git identity that pushed (name and email as git
	// knows them, not necessarily a GitHub login).
	Pusher struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"pusher"`
	// HeadCommit is the commit the ref now names; for an annotated tag,
	// the tagged commit (After is the tag object). Null for a deletion
	// and for a tag of a tree or a blob.
	HeadCommit *struct {
		ID string `json:"id"`
	} `json:"head_commit"`
	Sender       Account          `json:"sender"`
	Repository   Repository       `json:"repository"`
	Installation *InstallationRef `json:"installation"`
}

// CheckRunPayload is a check_run event.
type CheckRunPayload struct {
	Action   string `json:"action"`
	CheckRun struct {
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		HeadSHA string `json:"head_sha"`
		HTMLURL string `json:"html_url"`
		App     AppRef `json:"app"`
		// CheckSuite.HeadBranch is null when the head is on no branch.
		CheckSuite struct {
			HeadBranch string `json:"head_branch"`
		} `json:"check_suite"`
	} `json:"check_run"`
	// RequestedAction is set for action requested_action: the button's
	// identifier.
	RequestedAction *struct {
		Identifier string `json:"identifier"`
	} `json:"requested_action"`
	Sender       Account          `json:"sender"`
	Repository   Repository       `json:"repository"`
	Installation *InstallationRef `json:"installation"`
}

// CheckSuitePayload is a check_suite event.
type CheckSuitePayload struct {
	Action     string `json:"action"`
	CheckSuite struct {
		ID      int64  `json:"id"`
		HeadSHA string `json:"head_sha"`
		// HeadBranch is null when the head is on no branch.
		HeadBranch string `json:"head_branch"`
		// Before is the branch's head before the push that made the
		// suite (null or zeros for a new branch).
		Before string `json:"before"`
		// UpdatedAt is when GitHub last updated the suite: what tells a
		// second "Re-run all checks" from a replay of the first.
		UpdatedAt string `json:"updated_at"`
		App       AppRef `json:"app"`
	} `json:"check_suite"`
	Sender       Account          `json:"sender"`
	Repository   Repository       `json:"repository"`
	Installation *InstallationRef `json:"installation"`
}

// PullRequestPayload is a pull_request event.
type PullRequestPayload struct {
	Action      string `json:"action"`
	PullRequest struct {
		Number         int    `json:"number"`
		HTMLURL        string `json:"html_url"`
		Merged         bool   `json:"merged"`
		MergeCommitSHA string `json:"merge_commit_sha"`
		// MergedBy is null until the pull request is merged.
		MergedBy *Account `json:"merged_by"`
		Head     struct {
			Ref string `json:"ref"`
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
	Sender       Account          `json:"sender"`
	Repository   Repository       `json:"repository"`
	Installation *InstallationRef `json:"installation"`
}

// InstallationPayload is an installation or installation_repositories
// event.
type InstallationPayload struct {
	Action       string `json:"action"`
	Installation struct {
		ID      int64 `json:"id"`
		Account struct {
			Login string `json:"login"`
		} `json:"account"`
	} `json:"installation"`
	// Repositories lists an installation's repositories (created,
	// deleted; GHES and GitHub AE leave it out of deleted).
	Repositories        []RepoRef `json:"repositories"`
	RepositoriesAdded   []RepoRef `json:"repositories_added"`
	RepositoriesRemoved []RepoRef `json:"repositories_removed"`
	Sender              struct {
		Login string `json:"login"`
	} `json:"sender"`
}

// RepoRef is a repository in an installation event's lists.
type RepoRef struct {
	FullName string `json:"full_name"`
}

// Decode decodes the event's payload into v (one of the payload types
// above). Its error names the event; a body that is not JSON, or a field
// of v that GitHub sent with another type, is the only way to fail.
func (ev Event) Decode(v any) error {
	if err := json.Unmarshal(ev.Payload, v); err != nil {
		return fmt.Errorf("%s payload: %w", ev.Event, err)
	}
	return nil
}

// IssueCommentPayload is an issue_comment event.
type IssueCommentPayload struct {
	Action string `json:"action"`
	Issue  struct {
		Number int    `json:"number"`
		Body   string `json:"body"`
		// PullRequest is set when the issue is a pull request.
		PullRequest *struct{} `json:"pull_request"`
	} `json:"issue"`
	Comment struct {
		ID      int64   `json:"id"`
		Body    string  `json:"body"`
		HTMLURL string  `json:"html_url"`
		User    Account `json:"user"`
	} `json:"comment"`
	Sender       Account          `json:"sender"`
	Repository   Repository       `json:"repository"`
	Installation *InstallationRef `json:"installation"`
}
