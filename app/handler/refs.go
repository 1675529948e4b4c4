package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/gitcli"
	"github.com/pushvault/pushvault/remediator"
)

// Which pushes are scanned. Every branch and every tag is, whoever pushed
// it and whatever it is called: a ref's name is the pusher's to choose and
// proves nothing. The one exception is pushvault's own fix, recognised by
// what only GitHub and pushvault vouch for: the App's bot as the sender
// and the exact commit pushvault remembered making for that branch.

const tagPrefix = "refs/tags/"

// tagOf is the tag a ref names (without refs/tags/), "" for any other ref.
func tagOf(ref string) string {
	if tag, ok := strings.CutPrefix(ref, tagPrefix); ok {
		return tag
	}
	return ""
}

// pushedHead is the commit a push makes its ref point at: after, but for a
// tag GitHub's head_commit, as an annotated tag's after is the tag object
// ("" for a tag of a tree or a blob: head_commit is null).
func pushedHead(ev *githubapp.PushPayload) string {
	if tagOf(ev.Ref) != "" && !ev.Deleted {
		if ev.HeadCommit == nil {
			return ""
		}
		return ev.HeadCommit.ID
	}
	return ev.After
}

// scannedRef says whether a push to ref is scanned at all: branches and tags.
func scannedRef(ref string) bool {
	return strings.HasPrefix(ref, "refs/heads/") || strings.HasPrefix(ref, tagPrefix)
}

// ignored says why p is not scanned ("" when it is): it deletes a ref, it
// is to neither a branch nor a tag, its tag names no commit (GitHub's
// head_commit is null for a tag of a tree or a blob) or only commits
// already on branches, or it is pushvault's own fix branch at the commit
// pushvault made. Anyone else's push to a pushvault/* branch (a person's,
// or the App's branch with a commit on top) is scanned like any branch.
func (pp *Push) ignored(ctx context.Context, p Pushed) (string, error) {
	if why := payloadIgnored(p); why != "" {
		return why, nil
	}
	branch, isBranch := strings.CutPrefix(p.Ref, "refs/heads/")
	switch {
	case !isBranch:
		return pp.tagIgnored(ctx, p)
	case !remediator.IsFixBranch(branch):
		return "", nil
	}
	own, err := pp.ownFix(ctx, p, branch)
	if err != nil || !own {
		return "", err
	}
	return ownFixIgnored, nil
}

const ownFixIgnored = "pushvault's own fix commit, pushed by the App"

// payloadIgnored is why p is not scanned that its payload alone says: it
// deletes a ref, it is to neither a branch nor a tag, or its tag names no
// commit. "" when the payload does not say.
func payloadIgnored(p Pushed) string {
	switch {
	case p.Deleted || p.After == gitcli.ZeroID:
		return "push deletes a ref"
	case !scannedRef(p.Ref):
		return "push is to neither a branch nor a tag"
	case p.After == "":
		return "the tag points at no commit"
	}
	return ""
}

// intakeLookup bounds the one state read Ignore makes, in the webhook's
// request.
const intakeLookup = 2 * time.Second

// Ignore implements IntakeFilter: a push whose payload says it is not
// scanned (ignored) is not queued, nor is the App's push of its own fix
// commit when that is known without asking GitHub (the bot's login already
// learnt) — the most common of them, one for every fix pull request. What
// Ignore cannot tell, or fails to read, is queued and decided by Run as
// before: it only ever spares the queue a delivery Run would ignore.
func (pp *Push) Ignore(ctx context.Context, ev githubapp.Event) string {
	var pe githubapp.PushPayload
	if ev.Decode(&pe) != nil {
		return "" // Handle dead-letters it, with the reason
	}
	p := pushedFrom(ev.DeliveryID, &pe)
	if p.InstallationID == 0 {
		return "push without an installation"
	}
	if why := payloadIgnored(p); why != "" {
		return why
	}
	branch, isBranch := strings.CutPrefix(p.Ref, "refs/heads/")
	bot := pp.bot.known()
	if !isBranch || !remediator.IsFixBranch(branch) || bot == "" || p.SenderType != "Bot" || p.Sender != bot {
		return ""
	}
	if githubapp.ValidateRepository(p.Owner, p.Repo) != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, intakeLookup)
	defer cancel()
	if _, made, err := pp.claims.Get(ctx, queue.KeyFixCommit(p.Owner, p.Repo, branch, p.After)); err != nil || !made {
		return ""
	}
	return ownFixIgnored
}

// tagIgnored says why tag push p is not scanned ("" when it is): all its
// commits are on branches already. Their branch pushes scan them and own
// their commit's check run; the tag's (success: nothing new) would race
// that run, which a push of a branch and its tag together makes common.
func (pp *Push) tagIgnored(ctx context.Context, p Pushed) (string, error) {
	m, err := pp.fetch(ctx, githubapp.Logger(ctx), p)
	switch {
	case err != nil:
		return "", err
	case m == nil:
		return "the tagged commit is gone from GitHub", nil
	}
	defer m.unlock()
	out, err := gitcli.Run(ctx, m.dir, nil, nil, "rev-list", "-n1", p.After, "--not", "--branches")
	if err != nil || out != "" {
		return "", err
	}
	return "every commit of the tag is on a branch, whose push scans it", nil
}

// ownFix says whether p is the App pushing the fix commit pushvault made
// for branch (rememberFixCommit).
func (pp *Push) ownFix(ctx context.Context, p Pushed, branch string) (bool, error) {
	if p.SenderType != "Bot" {
		return false, nil
	}
	bot, err := pp.bot.login(ctx, pp.github.App())
	if err != nil || p.Sender != bot {
		return false, err
	}
	_, made, err := pp.claims.Get(ctx, queue.KeyFixCommit(p.Owner, p.Repo, branch, p.After))
	return made, err
}

// rememberFixCommit records that pushvault made fc, before it is pushed, so
// that the push's own webhook finds it (ownFix).
func rememberFixCommit(ctx context.Context, claims *queue.Claims, owner, repo string, fc remediator.FixCommit) error {
	_, err := queue.RecordJSON(ctx, claims, queue.KeyFixCommit(owner, repo, fc.Branch, fc.Commit), fc.Commit)
	return err
}

// appBot is the App's own account ("<slug>[bot]", the sender of what the
// App pushes), learnt from GET /app on first use and kept. Safe for
// concurrent use.
type appBot struct {
	mu  sync.Mutex
	bot string
}

// known is the login once learnt, "" before.
func (a *appBot) known() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bot
}

func (a *appBot) login(ctx context.Context, gh *github.Client) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bot != "" {
		return a.bot, nil
	}
	app, _, err := gh.Apps.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("the App's own account (GET /app): %w", err)
	}
	if app.GetSlug() == "" {
		return "", errors.New("the App's own account (GET /app): no slug in the answer")
	}
	a.bot = app.GetSlug() + "[bot]"
	return a.bot, nil
}
