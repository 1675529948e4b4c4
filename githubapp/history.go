package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// HistoryLabel marks a repository's "Exposed in history" issue.
const HistoryLabel = "pushvault: exposed in history"

// historyMarker identifies the one "Exposed in history" issue of a repository.
const historyMarker = "<!-- pushvault:history -->"

// History is what a backfill found only in a repository's history: secrets
// no longer in the default branch's head, still in every clone. It holds
// redacted values only.
type History struct {
	Owner, Repo string
	// DefaultBranch and Commits say what was scanned: every branch and
	// tag, Commits commits.
	DefaultBranch string
	Commits       int
	Items         []HistoryItem
}

// HistoryItem is one secret found only in history.
type HistoryItem struct {
	Secret SecretOutcome
	// Refs are the branches and tags that hold the commit that introduced
	// it (its first location), as "branch `x`" or "tag `v1`".
	Refs []string
	// Steps and Guide are what a person must do when pushvault cannot
	// rotate it (none when it did).
	Steps []string
	Guide string
	// AtHead: still in the default branch's head, where pushvault could
	// not rewrite it (no fix pull request): Secret.Manual says what to do.
	AtHead bool
	// Closed says nothing is left to do: rotated (the exposed value proven
	// dead or revoked), marked rotated by a person, or closed in the ledger.
	Closed bool
	// ClosedAs says how the ledger closed it (a false positive, an
	// accepted risk, a merged fix, with who); "" when it is not closed
	// there.
	ClosedAs string `json:",omitempty"`
}

// Open reports whether some item is still open.
func (h *History) Open() bool {
	for _, it := range h.Items {
		if !it.Closed {
			return true
		}
	}
	return false
}

// atHead is how many items are still at the default branch's head.
func (h *History) atHead() int {
	n := 0
	for _, it := range h.Items {
		if it.AtHead {
			n++
		}
	}
	return n
}

// maxHistoryLocations is how many places of one secret the issue lists;
// the evidence ledger and `pushvault report` have them all.
const maxHistoryLocations = 5

// HistoryBody is the body of the "Exposed in history" issue: each secret
// with its redacted value, where it was introduced, where it is vaulted,
// its rotation state and what is left to do. It fits GitHub's body limit:
// past it, the items that do not fit are counted, not listed.
func HistoryBody(h *History) string {
	var b strings.Builder
	b.WriteString(historyMarker + "\n")
	secrets := make([]SecretOutcome, len(h.Items))
	for i, it := range h.Items {
		secrets[i] = it.Secret
	}
	fmt.Fprintf(&b, "pushvault scanned the whole history of `%s/%s` (%s, every branch and tag) and found %s that %s no longer in `%s` but still in its history. "+
		"Deleting a secret from the files does not unexpose it: every clone and fork keeps the commits. pushvault moved each value into %s and rotated what it can; "+
		"what is left needs a person.\n\n",
		inline(h.Owner), inline(h.Repo), plural(h.Commits, "commit"), plural(len(h.Items)-h.atHead(), "secret"), areOrIs(len(h.Items)-h.atHead()), inline(h.DefaultBranch), storeOf(secrets))
	if n := h.atHead(); n > 0 {
		fmt.Fprintf(&b, "%s still in `%s` could not be rewritten (no fix pull request): %s listed below with what to do.\n\n",
			plural(n, "secret"), inline(h.DefaultBranch), map[bool]string{true: "it is", false: "they are"}[n == 1])
	}
	tail := "\nThis issue follows the evidence ledger: it is updated as each secret's state changes and closed once every item is closed " +
		"(rotated, marked rotated with `pushvault rotated`, or closed as a false positive or an accepted risk). " +
		"A maintainer or admin can comment `" + CommandRescanHistory + "` to scan the whole history again, or `" + CommandFalsePositive +
		" FINDING-ID REASON` / `" + CommandAcceptRisk + " FINDING-ID REASON` to close an item.\n"
	for i, it := range h.Items {
		item := historyItem(it)
		if b.Len()+len(item)+len(tail)+decoration > MaxBody {
			fmt.Fprintf(&b, "\n%s more not listed here (the evidence ledger has every one: `pushvault evidence export`).\n", plural(len(h.Items)-i, "secret"))
			break
		}
		b.WriteString(item)
	}
	b.WriteString(tail)
	return b.String()
}

func historyItem(it HistoryItem) string {
	s := it.Secret
	var b strings.Builder
	box := " "
	if it.Closed {
		box = "x"
	}
	fmt.Fprintf(&b, "- [%s] **%s** `%s` (finding `%s`)\n", box, cell(s.Detector), cell(s.Redacted), inline(s.FindingID))
	for i, l := range s.Locations {
		if i == maxHistoryLocations {
			fmt.Fprintf(&b, "  - and %s more\n", plural(len(s.Locations)-i, "place"))
			break
		}
		what := "also in"
		if i == 0 {
			what = "introduced in"
		}
		fmt.Fprintf(&b, "  - %s %s", what, whereLine(l))
		if i == 0 && len(it.Refs) > 0 {
			fmt.Fprintf(&b, ", on %s", strings.Join(it.Refs, ", "))
		}
		b.WriteString("\n")
	}
	if s.VaultPath != "" {
		fmt.Fprintf(&b, "  - vaulted at `%s` (version %d)\n", inline(s.VaultPath), s.VaultVersion)
	}
	if it.AtHead {
		b.WriteString("  - still at the head of the default branch: pushvault could not rewrite it, so no fix pull request replaces it\n")
	}
	fmt.Fprintf(&b, "  - rotation: %s\n", inline(s.Rotation))
	for i, step := range it.Steps {
		fmt.Fprintf(&b, "  - step %d: %s\n", i+1, step)
	}
	for _, m := range s.Manual {
		fmt.Fprintf(&b, "  - to do: %s\n", m)
	}
	if it.Guide != "" {
		fmt.Fprintf(&b, "  - provider guide: %s\n", it.Guide)
	}
	if it.ClosedAs != "" {
		fmt.Fprintf(&b, "  - closed: %s\n", inline(it.ClosedAs))
	}
	if !it.Closed && len(it.Steps) > 0 {
		fmt.Fprintf(&b, "  - once rotated, record it: `pushvault rotated %s --actor YOUR-NAME`\n", inline(s.FindingID))
	}
	return b.String()
}

func areOrIs(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// HistoryIssue opens, updates and closes "Exposed in history" issues.
type HistoryIssue struct{ gh *github.Client }

// NewHistoryIssue returns a HistoryIssue writing through gh.
func NewHistoryIssue(gh *github.Client) *HistoryIssue { return &HistoryIssue{gh: gh} }

// Find returns the repository's "Exposed in history" issue (open or
// closed); nil when there is none.
func (hi *HistoryIssue) Find(ctx context.Context, owner, repo string) (*PRLink, error) {
	opts := &github.IssueListByRepoOptions{State: "all", Labels: []string{HistoryLabel}, ListOptions: github.ListOptions{PerPage: 100}}
	for {
		existing, resp, err := hi.gh.Issues.ListByRepo(ctx, owner, repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list issues: %w", err)
		}
		for _, iss := range existing {
			if strings.HasPrefix(iss.GetBody(), historyMarker) {
				return &PRLink{Number: iss.GetNumber(), URL: iss.GetHTMLURL()}, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// Open opens h's issue (closed at once when no item is open). Callers
// make it once per repository (the claim store) and look with Find first
// when an earlier attempt may have opened it.
func (hi *HistoryIssue) Open(ctx context.Context, h *History) (*PRLink, error) {
	iss, _, err := hi.gh.Issues.Create(ctx, h.Owner, h.Repo, &github.IssueRequest{
		Title:  github.String(fitTitle(fmt.Sprintf("Exposed in history: %s in %s/%s", plural(len(h.Items), "secret"), h.Owner, h.Repo))),
		Body:   github.String(HistoryBody(h)),
		Labels: &[]string{HistoryLabel},
	})
	if err != nil {
		return nil, fmt.Errorf("open the history issue: %w", err)
	}
	link := &PRLink{Number: iss.GetNumber(), URL: iss.GetHTMLURL()}
	if !h.Open() {
		return link, hi.Update(ctx, h, link.Number)
	}
	return link, nil
}

// Update writes h into issue number when its body or state differ: the
// body as HistoryBody, the state closed when every item is closed, open
// again when one is not. An issue that is gone (deleted, transferred) is
// ErrIssueGone.
func (hi *HistoryIssue) Update(ctx context.Context, h *History, number int) error {
	iss, resp, err := hi.gh.Issues.Get(ctx, h.Owner, h.Repo, number)
	if resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone) {
		return ErrIssueGone
	}
	if err != nil {
		return fmt.Errorf("history issue #%d: %w", number, err)
	}
	body, state := HistoryBody(h), "open"
	if !h.Open() {
		state = "closed"
	}
	if iss.GetBody() == body && iss.GetState() == state {
		return nil
	}
	req := &github.IssueRequest{Body: github.String(body), State: github.String(state)}
	if _, _, err := hi.gh.Issues.Edit(ctx, h.Owner, h.Repo, number, req); err != nil {
		return fmt.Errorf("update the history issue #%d: %w", number, err)
	}
	return nil
}

// ErrIssueGone is an issue GitHub no longer serves.
var ErrIssueGone = errors.New("issue gone")

// HistoryRefs names the refs of a location for the issue: "branch `x`",
// "tag `v1`".
func HistoryRefs(branches, tags []string) []string {
	var out []string
	for _, b := range branches {
		out = append(out, "branch `"+inline(b)+"`")
	}
	for _, t := range tags {
		out = append(out, "tag `"+inline(t)+"`")
	}
	return out
}
