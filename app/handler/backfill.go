package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/gitcli"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

// Backfill handles backfill jobs (queue.BackfillEvent), which backfill
// workers take from a stream of their own: it scans a repository's whole
// history — every branch and every tag, each commit once, in slices of
// backfill.slice_commits — under the repository's settings as they are on
// its default branch, and runs what it finds through the push's pipeline
// (remediator.Pipeline with the push's ports): each distinct secret
// vaulted and rotated under the same policy, one fix pull request for the
// secrets still at the default branch's head, and one "Exposed in
// history" issue for those only in history. A repository is backfilled
// once per request (queue.KeyBackfill): a redelivery, a restart or a
// second replica finds it done; a backfill cut short is scanned again,
// its side effects kept once by the push's own claims (a secret already
// vaulted or rotated, by a push or an earlier attempt, is not again).
type Backfill struct {
	push   *Push
	states *queue.Backfills
	// slice is backfill.slice_commits: a history longer than that is read
	// in slices of as many commits.
	slice int
	// reserve is backfill.github_reserve: the share of the installation's
	// GitHub budget a backfill leaves to pushes (awaitBudget).
	reserve githubapp.Reserve
	metrics BackfillObserver // nil: not counted
	// mirrors are the backfill's own mirrors (backfillMirrors), so a
	// push to a repository never waits on the lock a backfill of it holds
	// through its whole-history scan.
	mirrors *mirrors
}

// BackfillDeps are what the backfill handler is built from; all required.
type BackfillDeps struct {
	// Push is the push handler whose clients, mirrors, Vault, ledger and
	// policy the backfill uses: one pipeline.
	Push *Push
	// States is where each repository's backfill stands.
	States *queue.Backfills
	// SliceCommits is backfill.slice_commits (0: one slice).
	SliceCommits int
	// Reserve is backfill.github_reserve (zero: none kept back).
	Reserve githubapp.Reserve
	// Metrics may be nil.
	Metrics BackfillObserver
}

// NewBackfill returns the backfill handler.
func NewBackfill(d BackfillDeps) *Backfill {
	return &Backfill{push: d.Push, states: d.States, slice: d.SliceCommits, reserve: d.Reserve, metrics: d.Metrics,
		mirrors: newMirrors(backfillMirrors(d.Push.mirrors.dir))}
}

// backfillMirrors is where backfills keep their mirrors: beside the push
// mirrors (data_dir/git/OWNER/REPO.git) under a directory no GitHub owner
// can be named (owners never start with a dot). A backfill holds its
// mirror's lock from the fetch through the scan, the vaulting and the fix
// branch's push — minutes for a long history — and a push to the same
// repository meanwhile takes the push mirror's lock, not this one. The
// cost is a second copy of the repository's objects on disk.
func backfillMirrors(pushMirrors string) string { return filepath.Join(pushMirrors, ".backfill") }

var (
	_ Handler                 = (*Backfill)(nil)
	_ queue.DeadLetterHandler = (*Backfill)(nil)
)

// Handles implements Handler.
func (b *Backfill) Handles() []string { return []string{queue.BackfillEvent} }

// Handle implements Handler.
func (b *Backfill) Handle(ctx context.Context, ev githubapp.Event) error {
	var job queue.BackfillJob
	if err := json.Unmarshal(ev.Payload, &job); err != nil {
		return queue.Permanent(fmt.Errorf("backfill job: %w", err))
	}
	return b.Run(ctx, job)
}

// DeadLettered implements queue.DeadLetterHandler: the repository's
// backfill is marked failed with the reason.
func (b *Backfill) DeadLettered(ctx context.Context, ev githubapp.Event, reason string) error {
	var job queue.BackfillJob
	if err := json.Unmarshal(ev.Payload, &job); err != nil || job.Owner == "" || job.Repo == "" {
		return nil
	}
	return b.states.Update(ctx, job.Repository(), func(st *queue.BackfillState) bool {
		if st.Request != job.Request {
			return false // a later request owns the state
		}
		st.State, st.Error, st.FinishedAt = queue.BackfillFailed, reason, time.Now().UTC()
		return true
	})
}

// backfillSummary is what a finished backfill remembers (queue.KeyBackfill).
type backfillSummary struct {
	Commits   int `json:"commits"`
	Slices    int `json:"slices"`
	AtHead    int `json:"at_head"`
	InHistory int `json:"in_history"`
	PR        int `json:"pr,omitempty"`
	Issue     int `json:"issue,omitempty"`
}

// Run backfills job's repository once per request. It returns nil when
// the repository is done (now or before), a *queue.PermanentError for what
// retrying cannot fix (the repository gone, its settings invalid), and
// other errors for the worker to retry.
func (b *Backfill) Run(ctx context.Context, job queue.BackfillJob) error {
	if err := githubapp.ValidateRepository(job.Owner, job.Repo); err != nil {
		return queue.Permanent(err)
	}
	if job.Request == "" {
		return queue.Permanent(errors.New("backfill job without a request"))
	}
	// The worker's logger names the repository already (the job's Repo).
	log := githubapp.Logger(ctx).With(slog.String("request", job.Request))
	key := queue.KeyBackfill(job.Owner, job.Repo, job.Request)
	if prev, done, err := b.push.claims.Get(ctx, key); err != nil {
		return err
	} else if done {
		// Finished before (a redelivery, a restart after the work and
		// before the acknowledgement): say so, and scan nothing.
		var sum backfillSummary
		if err := json.Unmarshal(prev, &sum); err != nil {
			return fmt.Errorf("backfill record %s: %w", key, err)
		}
		log.Info("repository already backfilled for this request: not scanned again")
		return b.done(ctx, job, sum)
	}
	started := time.Now()
	sum, err := queue.OnceJSON(ctx, b.push.claims, key, func(ctx context.Context, a queue.Attempt) (backfillSummary, error) {
		return b.backfill(ctx, log, job, a)
	})
	if err != nil {
		var perm *queue.PermanentError
		state := queue.BackfillScanning // retried
		if errors.As(err, &perm) {
			state = queue.BackfillFailed
		}
		if serr := b.setState(ctx, job, func(st *queue.BackfillState) {
			st.State, st.Error = state, err.Error()
			if state == queue.BackfillFailed {
				st.FinishedAt = time.Now().UTC()
			}
		}); serr != nil {
			log.Warn("recording the backfill's state failed", slog.Any("error", serr))
		}
		return err
	}
	if err := b.done(ctx, job, sum); err != nil {
		return err
	}
	log.Info("repository backfilled", slog.Int("commits", sum.Commits), slog.Int("slices", sum.Slices),
		slog.Int("secrets_at_head", sum.AtHead), slog.Int("secrets_in_history", sum.InHistory),
		slog.Any("pr", optional(sum.PR)), slog.Any("issue", optional(sum.Issue)), slog.Duration("took", time.Since(started)))
	return nil
}

// optional is n for a log line, or "none" for 0 (no pull request or
// issue: 0 is no number GitHub gives).
func optional(n int) any {
	if n == 0 {
		return "none"
	}
	return n
}

// done marks job's repository backfilled with what sum says.
func (b *Backfill) done(ctx context.Context, job queue.BackfillJob, sum backfillSummary) error {
	return b.setState(ctx, job, func(st *queue.BackfillState) {
		if st.State == queue.BackfillDone {
			return
		}
		st.State, st.Error, st.FinishedAt = queue.BackfillDone, "", time.Now().UTC()
		st.Commits, st.Slices, st.AtHead, st.InHistory, st.PR, st.Issue = sum.Commits, sum.Slices, sum.AtHead, sum.InHistory, sum.PR, sum.Issue
	})
}

// setState changes job's repository state, unless a later request owns it.
func (b *Backfill) setState(ctx context.Context, job queue.BackfillJob, fn func(st *queue.BackfillState)) error {
	return b.states.Update(ctx, job.Repository(), func(st *queue.BackfillState) bool {
		if st.Request != "" && st.Request != job.Request && st.State != queue.BackfillDone && st.State != queue.BackfillFailed {
			return false
		}
		if st.Request != job.Request {
			*st = queue.BackfillState{Request: job.Request, RequestedBy: job.RequestedBy, QueuedAt: time.Now().UTC()}
		}
		st.Installation = job.Installation
		fn(st)
		return true
	})
}

// backfill scans the repository and contains what it finds.
func (b *Backfill) backfill(ctx context.Context, log *slog.Logger, job queue.BackfillJob, a queue.Attempt) (backfillSummary, error) {
	var sum backfillSummary
	if err := b.setState(ctx, job, func(st *queue.BackfillState) {
		st.State, st.Scans, st.StartedAt, st.Commits, st.Error = queue.BackfillScanning, st.Scans+1, time.Now().UTC(), 0, ""
	}); err != nil {
		return sum, err
	}
	if a.Resumed {
		log.Info("resuming a backfill whose process stopped before it finished: scanning again")
	}
	pp := b.push
	if job.Installation == 0 {
		inst, _, err := pp.github.App().Apps.FindRepositoryInstallation(ctx, job.Owner, job.Repo)
		if err != nil {
			return sum, fmt.Errorf("the App's installation on %s: %w", job.Repository(), err)
		}
		job.Installation = inst.GetID()
	}
	gh, err := pp.github.Installation(job.Installation)
	if err != nil {
		return sum, fmt.Errorf("installation client: %w", err)
	}
	if err := b.awaitBudget(ctx, log, gh, "repository"); err != nil {
		return sum, err
	}
	repo, resp, err := gh.Repositories.Get(ctx, job.Owner, job.Repo)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return sum, queue.Permanent(fmt.Errorf("repository %s is gone or no longer covered by installation %d", job.Repository(), job.Installation))
	}
	if err != nil {
		return sum, fmt.Errorf("repository %s: %w", job.Repository(), err)
	}
	p := Pushed{DeliveryID: job.Request, InstallationID: job.Installation, Owner: job.Owner, Repo: job.Repo,
		RepoID: repo.GetID(), DefaultBranch: repo.GetDefaultBranch(), Pusher: "history backfill"}
	fetchStart := time.Now()
	m, err := b.fetchAll(ctx, p)
	if err != nil {
		return sum, err
	}
	defer m.unlock()
	log.Info("repository fetched for history backfill", slog.Int("branches", len(m.branches)), slog.Int("tags", len(m.tags)),
		slog.Duration("took", time.Since(fetchStart)))
	if len(m.revs) == 0 {
		log.Info("repository is empty: nothing to backfill")
		return sum, nil
	}
	// Settings as the default branch holds them now: what the repository
	// already decided, never what a commit in its history says.
	settings, err := policy.FromGitHub(ctx, gh, p.Owner, p.Repo, m.head, pp.policy)
	if errors.Is(err, policy.ErrInvalid) {
		return sum, &queue.PermanentError{Err: err}
	}
	if err != nil {
		return sum, err
	}
	res, err := b.scan(ctx, log, job, m, settings)
	if err != nil {
		return sum, err
	}
	sum.Commits, sum.Slices = res.Stats.Commits, m.slices
	if len(res.Findings) == 0 {
		return sum, nil
	}
	// Containing it writes to GitHub (a pull request, issues, comments).
	if err := b.awaitBudget(ctx, log, gh, "containment"); err != nil {
		return sum, err
	}
	p.After, p.Ref = m.head, "refs/heads/"+p.DefaultBranch
	o := outcomeOf(p)
	o.Backfill, o.Scanned, o.Settings = true, res.Stats.Commits, settings.Describe()
	prop := &historyProposal{b: b, log: log, gh: gh, m: m, p: p, o: o, findings: res.Findings}
	j := pp.job(log, gh, p, p.DefaultBranch, &m.fetched, settings, res.Findings, o)
	j.Actor = "pushvault (history backfill)"
	j.Propose = prop
	run, err := remediator.NewPipeline(pp.vault.Store, pp.ledger).Run(ctx, j)
	pp.record(log, o, res.Findings, run, err)
	if err != nil {
		return sum, err
	}
	sum.AtHead, sum.InHistory, sum.PR, sum.Issue = prop.atHead, prop.inHistory, prop.pr, prop.issue
	return sum, nil
}

// history is a repository's mirror, locked, with every branch and tag.
type history struct {
	fetched
	head string // the default branch's head
	// revs are the branch heads and tags scanned; tags maps each tag's
	// name to its commit, for saying where a secret is.
	revs     []string
	branches map[string]string
	tags     map[string]string
	slices   int
}

// fetchAll locks the repository's mirror and brings every branch into it,
// and every tag's objects without naming them in any ref (the mirror holds
// branches only: see mirrors.fetch), through git with the installation
// token — not the contents API.
func (b *Backfill) fetchAll(ctx context.Context, p Pushed) (*history, error) {
	pp := b.push
	tr, err := pp.github.RepoTransport(githubapp.RepoScope{Installation: p.InstallationID, RepoID: p.RepoID, Repo: p.Repo, Contents: "write"})
	if err != nil {
		return nil, fmt.Errorf("installation token: %w", err)
	}
	token, err := tr.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("installation token: %w", err)
	}
	url := pp.cloneURL(p)
	dir, unlock, err := b.mirrors.lock(ctx, p.Owner, p.Repo)
	if err != nil {
		return nil, err
	}
	remote, err := gitcli.Run(ctx, filepath.Dir(dir), authEnv(token), nil, "ls-remote", "--tags", url)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("list tags of %s: %w", withoutUserinfo(url), err)
	}
	objects, tags := remoteTags(remote)
	h := &history{fetched: fetched{dir: dir, token: token, unlock: unlock}, tags: tags, branches: map[string]string{}}
	if err := b.mirrors.fetchHistory(ctx, dir, url, token, objects...); err != nil {
		unlock()
		return nil, err
	}
	out, err := gitcli.Run(ctx, dir, nil, nil, "for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/heads/")
	if err != nil {
		unlock()
		return nil, err
	}
	for _, line := range strings.Split(out, "\n") {
		if sha, name, ok := strings.Cut(line, " "); ok {
			h.branches[name] = sha
			h.revs = append(h.revs, sha)
		}
	}
	h.head = h.branches[p.DefaultBranch]
	peeled := make([]string, len(objects))
	for i, id := range objects {
		peeled[i] = id + "^{commit}"
	}
	has, err := present(ctx, dir, peeled)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("git mirror: %w", err)
	}
	for i, id := range objects {
		if has[i] {
			h.revs = append(h.revs, id)
		}
	}
	if h.head == "" && len(h.revs) > 0 {
		unlock()
		return nil, fmt.Errorf("default branch %s is not in %s", p.DefaultBranch, withoutUserinfo(url))
	}
	return h, nil
}

// remoteTags reads `git ls-remote --tags`: the objects the tags name (an
// annotated tag's own object, whose message is scanned too) and each tag's
// commit (peeled).
func remoteTags(out string) (objects []string, commits map[string]string) {
	commits = map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		sha, ref, ok := strings.Cut(line, "\t")
		name, isTag := strings.CutPrefix(ref, tagPrefix)
		if !ok || !isTag {
			continue
		}
		if peeled, ok := strings.CutSuffix(name, "^{}"); ok {
			commits[peeled] = sha
			continue
		}
		objects = append(objects, sha)
		if _, ok := commits[name]; !ok {
			commits[name] = sha
		}
	}
	return objects, commits
}

// scan reads the whole history, in slices when it is longer than
// backfill.slice_commits, and applies the server's inline_allow.
func (b *Backfill) scan(ctx context.Context, log *slog.Logger, job queue.BackfillJob, m *history, settings *policy.Settings) (*scanner.Result, error) {
	pp := b.push
	target := scanner.Revisions(m.revs...)
	total, err := scanner.CountCommits(ctx, m.dir, target)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	m.slices = 1
	if b.slice > 0 && total > b.slice {
		m.slices = (total + b.slice - 1) / b.slice
		log.Info("repository over backfill.slice_commits: scanning its history in slices",
			slog.Int("commits", total), slog.Int("slice_commits", b.slice), slog.Int("slices", m.slices))
	}
	if err := b.setState(ctx, job, func(st *queue.BackfillState) { st.Total, st.Slices = total, m.slices }); err != nil {
		return nil, err
	}
	var yielded func(time.Duration)
	if b.metrics != nil {
		yielded = b.metrics.BackfillYield
	}
	sc := scanner.New(scanner.WithSettings(settings.Scan), scanner.WithLogger(log), scanner.WithPace(pp.gate.pace(yielded)),
		scanner.WithFingerprinter(pp.vault.Transit.Fingerprinter(vault.FingerprintKey)))
	started := time.Now()
	res, err := sc.ScanSlices(ctx, m.dir, target, b.slice, func(sp scanner.SliceProgress) {
		if sp.Slices > 1 {
			log.Info("backfill slice scanned", slog.Int("slice", sp.Slice), slog.Int("slices", sp.Slices),
				slog.Int("commits", sp.Commits), slog.Int("total_commits", sp.Total))
		}
		if err := b.setState(ctx, job, func(st *queue.BackfillState) { st.Commits = sp.Commits }); err != nil {
			log.Warn("recording backfill progress failed", slog.Any("error", err))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	log.Info("repository history scanned", slog.Int("commits", res.Stats.Commits), slog.Int("branches", len(m.branches)),
		slog.Int("tags", len(m.tags)), slog.Int("secrets", len(res.Findings)), slog.Duration("took", time.Since(started)))
	pp.inlineAllow.Apply(res)
	if pp.metrics != nil {
		pp.metrics.ObserveScan(time.Since(started), res.Stats.Bytes)
		for _, f := range res.Findings {
			pp.metrics.Finding(f.Detector)
		}
	}
	return res, nil
}

// historyProposal is the backfill's Proposer: the push's fix pull request
// (and manual-rotation issues) for the secrets still at the default
// branch's head, and one "Exposed in history" issue for the others.
type historyProposal struct {
	b        *Backfill
	log      *slog.Logger
	gh       *github.Client
	m        *history
	p        Pushed
	o        *githubapp.Outcome
	findings []*scanner.Finding

	atHead, inHistory, pr, issue int
}

func (hp *historyProposal) Propose(ctx context.Context, r *remediator.Result) error {
	pp := hp.b.push
	all := outcomeSecrets(hp.findings, r.Plan, r.Rotations)
	head := map[string]bool{}
	for _, v := range r.Plan.Secrets {
		if atHead(v) {
			head[v.Finding.ID] = true
		}
	}
	var headSecrets, past []githubapp.SecretOutcome
	var introduced []string
	for _, s := range all {
		if head[s.FindingID] {
			headSecrets = append(headSecrets, s)
			continue
		}
		if s.VaultPath == "" {
			continue // report-only: recorded in the ledger, not contained
		}
		past = append(past, s)
		if len(s.Locations) > 0 {
			introduced = append(introduced, s.Locations[0].Commit)
		}
	}
	holders := hp.m.holders(ctx, introduced)
	var items []githubapp.HistoryItem
	for _, s := range past {
		items = append(items, hp.item(s, r.Rotations[s.FindingID], holders))
	}
	hp.atHead, hp.inHistory = len(headSecrets), len(items)
	if len(headSecrets) > 0 && r.Commit.Branch == "" {
		// Nothing at the head could be rewritten (no fix commit, so no
		// pull request): the issue lists them with the manual steps.
		for _, s := range headSecrets {
			it := hp.item(s, r.Rotations[s.FindingID], nil)
			it.AtHead = true
			items = append(items, it)
		}
	}
	if len(headSecrets) > 0 {
		hp.o.Secrets = headSecrets
		pp.openRotationIssues(ctx, hp.log, hp.gh, hp.o, r.Rotations)
		if r.Commit.Branch != "" {
			// Update: the push's pull request from the same branch, if
			// open, describes the fix the branch now holds (mirrorFix).
			opened, err := githubapp.NewPullRequests(hp.gh).Update(ctx, hp.o, r.Commit.Branch, hp.p.DefaultBranch)
			if err != nil {
				return err
			}
			hp.o.PR, hp.pr = opened, opened.Number
			if err := pp.rememberFix(ctx, hp.p, 0, hp.o); err != nil {
				return err
			}
		}
	}
	if len(items) == 0 {
		return nil
	}
	h := &githubapp.History{Owner: hp.p.Owner, Repo: hp.p.Repo, DefaultBranch: hp.p.DefaultBranch, Commits: hp.o.Scanned, Items: items}
	repo := hp.p.Owner + "/" + hp.p.Repo
	rec := queue.HistoryRecord{Installation: hp.p.InstallationID, History: h}
	if err := hp.b.states.PutHistory(ctx, repo, rec); err != nil {
		return err
	}
	n, err := hp.b.historyIssue(ctx, hp.gh, h)
	if err != nil {
		return err
	}
	hp.issue, rec.Issue = n, n
	if err := hp.b.states.PutHistory(ctx, repo, rec); err != nil {
		return err
	}
	// The one writer renders it from the ledger (the rotations this run
	// recorded, and whatever people closed before).
	return hp.b.RefreshHistory(ctx, repo)
}

// atHead says whether the fix found v in the default branch's head: it
// rewrote it there, or left a step because it could not.
func atHead(v *remediator.Vaulted) bool {
	if len(v.Edits) > 0 {
		return true
	}
	for _, m := range v.Manual {
		if m.Path != "" {
			return true
		}
	}
	return false
}

// item is s as the history issue lists it, with the branches and tags
// holding the commit that introduced it (from holders).
func (hp *historyProposal) item(s githubapp.SecretOutcome, r rotate.Result, holders map[string]*refsHolding) githubapp.HistoryItem {
	it := githubapp.HistoryItem{Secret: s, Closed: r.State == rotate.StateRotated || r.State == rotate.StateMarkedRotated}
	if r.State == rotate.StateManual {
		it.Steps, it.Guide = r.Steps, r.Guide
	}
	if len(s.Locations) > 0 {
		if h := holders[s.Locations[0].Commit]; h != nil {
			it.Refs = githubapp.HistoryRefs(h.branches, h.tags)
		}
	}
	return it
}

// maxRefsChecked bounds the tags looked at for where a commit is: a
// repository with thousands of tags names the first ones.
const maxRefsChecked = 200

// refsHolding are the branches and tags whose history holds a commit.
type refsHolding struct{ branches, tags []string }

// holders finds, for each of commits, the branches and tags (the first
// maxRefsChecked, by name) whose history holds it, in one walk of every
// ref's history at once: `git rev-list --topo-order --parents` over the
// refs' commits, read as it streams, lists each commit after all of its
// children, so the set of refs reaching a commit is the union of its
// children's (and its own, for a ref's tip) by the time it is read; the
// set is then handed to its parents and dropped. What is kept is the
// walk's frontier, not the history. (One walk per ref took 2 s of the
// 20,000-commit bench history's 24 refs, one walk for all 0.2 s; a walk
// per commit and ref took minutes.) A ref whose object is no commit holds
// none of them; commits that are not object ids are not looked for.
func (m *history) holders(ctx context.Context, commits []string) map[string]*refsHolding {
	out := map[string]*refsHolding{}
	for _, c := range commits {
		if isHex(c) {
			out[c] = &refsHolding{}
		}
	}
	if len(out) == 0 {
		return out
	}
	type ref struct {
		name string
		tag  bool
		tip  string
	}
	var refs []ref
	for _, name := range sortedKeys(m.branches) {
		refs = append(refs, ref{name: name, tip: m.branches[name]})
	}
	for i, name := range sortedKeys(m.tags) {
		if i >= maxRefsChecked {
			break
		}
		refs = append(refs, ref{name: name, tag: true, tip: m.tags[name]})
	}
	// Each ref's commit (an annotated tag's object peeled), by one
	// `git cat-file --batch-check`.
	var in strings.Builder
	for _, r := range refs {
		in.WriteString(r.tip + "^{commit}\n")
	}
	peeled, err := gitcli.Run(ctx, m.dir, nil, []byte(in.String()), "cat-file", "--batch-check=%(objectname)")
	if err != nil {
		return out
	}
	tips := map[string]refSet{}
	var walk []string
	for i, line := range strings.Split(peeled, "\n") {
		if i >= len(refs) || !isHex(line) {
			continue // "<tip>^{commit} missing": no commit, holds nothing
		}
		if _, seen := tips[line]; !seen {
			walk = append(walk, line)
		}
		tips[line] = tips[line].with(i)
	}
	if len(walk) == 0 {
		return out
	}
	pending := map[string]refSet{}
	_ = gitcli.Lines(ctx, m.dir, func(line string) error {
		ids := strings.Fields(line)
		if len(ids) == 0 {
			return nil
		}
		c := ids[0]
		set := pending[c].union(tips[c])
		delete(pending, c)
		if h := out[c]; h != nil {
			set.each(func(i int) {
				if refs[i].tag {
					h.tags = append(h.tags, refs[i].name)
				} else {
					h.branches = append(h.branches, refs[i].name)
				}
			})
		}
		for _, parent := range ids[1:] {
			pending[parent] = pending[parent].union(set)
		}
		return nil
	}, append([]string{"rev-list", "--topo-order", "--parents"}, walk...)...)
	return out
}

// refSet is a set of ref indexes. A refSet is never changed once made
// (with and union return new ones), so one can be shared by the parents
// of a commit.
type refSet []uint64

func (s refSet) with(i int) refSet {
	n := slices.Clone(s)
	for len(n) <= i/64 {
		n = append(n, 0)
	}
	n[i/64] |= 1 << (i % 64)
	return n
}

func (s refSet) union(t refSet) refSet {
	switch {
	case len(t) == 0:
		return s
	case len(s) == 0:
		return t
	}
	n := slices.Clone(s)
	for len(n) < len(t) {
		n = append(n, 0)
	}
	for i, w := range t {
		n[i] |= w
	}
	return n
}

func (s refSet) each(fn func(i int)) {
	for w, bits := range s {
		for b := range 64 {
			if bits&(1<<b) != 0 {
				fn(w*64 + b)
			}
		}
	}
}

func isHex(s string) bool { return s != "" && strings.Trim(s, "0123456789abcdef") == "" }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// historyIssue opens the repository's "Exposed in history" issue once
// (queue.KeyHistoryIssue) and returns its number; RefreshHistory writes
// its body and state from then on.
func (b *Backfill) historyIssue(ctx context.Context, gh *github.Client, h *githubapp.History) (int, error) {
	hi := githubapp.NewHistoryIssue(gh)
	return queue.OnceJSON(ctx, b.push.claims, queue.KeyHistoryIssue(h.Owner, h.Repo), func(ctx context.Context, a queue.Attempt) (int, error) {
		if a.Resumed {
			// The attempt that died may have opened it.
			if link, err := hi.Find(ctx, h.Owner, h.Repo); err != nil || link != nil {
				if link != nil {
					return link.Number, nil
				}
				return 0, err
			}
		}
		link, err := hi.Open(ctx, h)
		if err != nil {
			return 0, err
		}
		return link.Number, nil
	})
}
