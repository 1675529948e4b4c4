package handler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/app/ledger"
	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/secretstore"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/gitcli"
	"github.com/pushvault/pushvault/internal/phase"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

// installations gives a GitHub client and its transport (whose token git
// uses) for an installation, and a client as the App itself;
// *githubapp.Clients is one.
type installations interface {
	Installation(id int64) (*github.Client, error)
	RepoTransport(s githubapp.RepoScope) (*ghinstallation.Transport, error)
	App() *github.Client
}

// Push handles push events end to end: fetch what it added, scan it,
// vault every distinct secret, commit the rewrites to a fix branch, open the
// fix pull request, complete the check run and comment on the offending
// commits, recording each step in the evidence ledger. Every side effect is
// keyed so that a retried or redelivered push repeats none of them.
type Push struct {
	metrics PushObserver // nil: not counted
	// revoker revokes leaked GitHub tokens (one limiter for the process:
	// GitHub allows 60 revocation requests an hour); each job revokes
	// through revoker.ForInstallation (authenticated on GHES).
	revoker *githubapp.Revoker
	appID   int64 // the GitHub App's id: check runs of other apps are not ours
	// webURL is github.web_url: repositories are fetched from and fixes
	// pushed to it (githubapp.CloneURL), whatever a payload says.
	webURL string
	// policy is the server's say over repositories' settings.
	policy  policy.Server
	github  installations
	claims  *queue.Claims
	vault   *vault.Session
	store   secretstore.Store
	ledger  *ledger.Recorder
	mirrors *mirrors
	// inlineAllow is the server's inline_allow: what an inline allow
	// comment in a push does.
	inlineAllow policy.InlineAllow
	// actionPermission is the role the check run's "False positive" and
	// "Approve rotation" buttons need (github.action_permission).
	actionPermission githubapp.Role
	bot              appBot
	// limits bound each scan (scan_limits).
	limits scanner.Limits
	// gate is held while a push is handled: backfills' scans step aside.
	gate pushGate
}

// secretStore is where leaks are pushed: the server's store, else Vault's KV.
func (pp *Push) secretStore() secretstore.Store {
	if pp.store != nil {
		return pp.store
	}
	return pp.vault.Store
}

// PushObserver counts what pushes find and do (serve's metrics).
type PushObserver interface {
	ObserveScan(d time.Duration, bytes int64)
	Finding(detector string)
	Remediation(outcome string)
	phase.Observer
}

// PushDeps are what the push handler is built from; every field is
// required except Metrics and APIURL (no GitHub token revocation without it).
type PushDeps struct {
	GitHub installations
	Claims *queue.Claims
	Vault  *vault.Session
	// Store is where leaks are pushed; nil: Vault's KV v2 (Vault.Store).
	Store   secretstore.Store
	Ledger  *ledger.Recorder
	Metrics PushObserver
	// AppID is the GitHub App's id: check runs of other apps are not ours.
	AppID int64
	// WebURL is github.web_url (https://github.com/ or https://HOST/):
	// where git fetches and pushes, with the installation's token.
	WebURL string
	// APIURL is GitHub's REST API, where leaked GitHub tokens are revoked:
	// unauthenticated on github.com, with the installation's token on GHES
	// (an API URL https://HOST/api/v3/).
	APIURL string
	// Policy is what the server decides of every repository's settings:
	// the keys a repository may set, and the rotation section.
	Policy policy.Server
	// MirrorDir holds one bare git mirror per repository.
	MirrorDir string
	// InlineAllow is the server's inline_allow (zero: the default, record).
	InlineAllow policy.InlineAllow
	// ActionPermission is the role "False positive" and "Approve
	// rotation" need (zero: githubapp.DefaultActionPermission).
	ActionPermission githubapp.Role
	// ScanLimits bound each push's scan (zero: none); a push over them is
	// scanned up to them and its check run concludes neutral.
	ScanLimits scanner.Limits
	// RevokeBudget is GitHub's revocation budget shared by every replica
	// (queue.Queue.RevokeBudget): a push that meets it spent is deferred
	// in the queue. Nil: a budget of this process's own, waited on.
	RevokeBudget githubapp.RevokeBudget
}

// Pushed is the part of a push webhook the pipeline needs. For a tag, After
// is the commit the tag points at (see pushedHead), not an annotated tag's
// own object.
type Pushed struct {
	DeliveryID     string
	InstallationID int64
	Owner, Repo    string
	// RepoID is GitHub's id of the repository (0 in records written
	// before it was kept: tokens are then scoped by name).
	RepoID        int64
	DefaultBranch string
	Ref           string
	Before, After string
	Created       bool
	Deleted       bool
	Pusher        string
	// RescanFor is what asked for this scan again ("" for a push): a
	// check run's button or re-run, or a check suite's re-run, named by
	// what the request means rather than by its delivery (rerunRequest).
	// Such a scan gets a check run of its own, one per request: a replay
	// of the same request under a fresh delivery id gets the same run.
	RescanFor string
	// ApprovedBy names who approved the rotations the settings hold for
	// approval (the check run's "Approve rotation" button).
	ApprovedBy string
	// Sender and SenderType are the webhook's sender: for a push by the
	// App itself, its bot ("<slug>[bot]", type "Bot").
	Sender, SenderType string
}

// pushedFrom takes what the pipeline needs from a push webhook.
func pushedFrom(deliveryID string, ev *githubapp.PushPayload) Pushed {
	r := ev.Repository
	p := Pushed{
		DeliveryID:    deliveryID,
		Owner:         r.Owner.Login,
		Repo:          r.Name,
		RepoID:        r.ID,
		DefaultBranch: r.DefaultBranch,
		Ref:           ev.Ref,
		Before:        ev.Before,
		After:         pushedHead(ev),
		Created:       ev.Created,
		Deleted:       ev.Deleted,
		Pusher:        ev.Pusher.Name,
		Sender:        ev.Sender.Login,
		SenderType:    ev.Sender.Type,
	}
	if ev.Installation != nil {
		p.InstallationID = ev.Installation.ID
	}
	return p
}

// Run runs the pipeline for p. It returns nil for pushes it rightly
// ignores (see ignored), a *PermanentError for what retrying can't fix
// (after completing the check run with the reason), and other errors for
// the worker to retry.
func (pp *Push) Run(ctx context.Context, p Pushed) error {
	defer pp.gate.enter()()
	log := githubapp.Logger(ctx)
	// Owner and name come from the payload and go into the clone URL,
	// the mirror's path and API paths.
	if err := githubapp.ValidateRepository(p.Owner, p.Repo); err != nil {
		return queue.Permanent(err)
	}
	if pp.metrics != nil {
		ctx = phase.With(ctx, pp.metrics)
	}
	if why, err := pp.ignored(ctx, p); err != nil || why != "" {
		if why != "" {
			log.Info(why+": nothing to scan", "ref", p.Ref)
		}
		return err
	}
	branch, _ := strings.CutPrefix(p.Ref, "refs/heads/")
	gh, checks, runID, err := pp.startCheck(ctx, p)
	if err != nil {
		return err
	}
	// Remember what the run scans, for its Re-scan and Approve buttons.
	if _, err := queue.RecordJSON(ctx, pp.claims, queue.KeyRunPush(p.Owner, p.Repo, runID), p); err != nil {
		return err
	}
	o, err := pp.remediate(ctx, log, gh, p, branch)
	if err != nil {
		var perm *queue.PermanentError
		if !errors.As(err, &perm) {
			return err
		}
		o.Failure = perm.Error()
	}
	// What the run found and fixed is kept before the run completes: its
	// buttons show once it has, and a press handled before the findings
	// were kept would find none (and record one refusal for the run, not
	// one per finding).
	if len(o.Secrets) > 0 {
		if err := pp.rememberRun(ctx, p, runID, o); err != nil {
			return err
		}
	}
	if o.PR != nil {
		if err := pp.rememberFix(ctx, p, runID, o); err != nil {
			return err
		}
	}
	if cerr := pp.completeCheck(ctx, checks, p, runID, o); cerr != nil {
		return cerr
	}
	if o.PR != nil {
		// Best effort: a comment that fails is logged, not retried forever.
		if err := githubapp.NewComments(gh).CommitComments(ctx, o); err != nil {
			log.Warn("commit comments", "error", err)
		}
	}
	log.Info("push handled", "conclusion", o.Conclusion(), "secrets", len(o.Secrets))
	return err
}

// remediate fetches, scans, vaults and proposes the fix. It always returns
// an Outcome (possibly partial) for the check run.
func (pp *Push) remediate(ctx context.Context, log *slog.Logger, gh *github.Client, p Pushed, branch string) (*githubapp.Outcome, error) {
	o := outcomeOf(p)
	// Settings come from the default branch as it was before the push,
	// never from the pushed commits (trust model).
	end := phase.Start(ctx, phase.Settings)
	settings, err := policy.FromGitHub(ctx, gh, p.Owner, p.Repo, policy.Protected(p.DefaultBranch, branch, p.Before), pp.policy)
	end()
	if errors.Is(err, policy.ErrInvalid) {
		return o, &queue.PermanentError{Err: err}
	}
	if err != nil {
		return o, err
	}
	o.Settings = settings.Describe()
	m, err := pp.fetch(ctx, log, p)
	if err != nil {
		return o, err
	}
	if m == nil {
		o.Gone = true
		if p.Before != gitcli.ZeroID {
			o.Base = p.Before
		}
		return o, nil
	}
	defer m.unlock()
	o.Orphaned = m.orphaned
	res, inline, err := pp.scan(ctx, log, m.dir, p, branch, settings, o)
	if err != nil {
		return o, err
	}
	if err := pp.recordInlineAllowed(ctx, p, inline, o); err != nil {
		return o, err
	}
	if len(res.Findings) == 0 {
		return o, nil
	}
	run, err := remediator.NewPipeline(pp.secretStore(), pp.ledger).Run(ctx, pp.job(log, gh, p, branch, m, settings, res.Findings, o))
	pp.record(log, o, res.Findings, run, err)
	return o, err
}

// fetched is the repository's mirror, locked, with the push's objects.
type fetched struct {
	dir, token string
	unlock     func()
	// orphaned: no branch holds the pushed head any more (it was
	// force-pushed over); it was fetched by its id.
	orphaned bool
}

// fetch locks the repository's mirror and fetches the push into it. A
// pushed head no branch holds any more (force-pushed over before this
// worker ran, often to hide a leak) is fetched by its id: GitHub keeps it
// until it collects garbage, and anyone with the id can read it. fetch
// returns nil (and no error) only when GitHub no longer holds it.
func (pp *Push) fetch(ctx context.Context, log *slog.Logger, p Pushed) (*fetched, error) {
	defer phase.Start(ctx, phase.Fetch)()
	// git carries this token to the GitHub host: the one repository, its
	// contents (write: the fix branch is pushed with it).
	tr, err := pp.github.RepoTransport(githubapp.RepoScope{Installation: p.InstallationID, RepoID: p.RepoID, Repo: p.Repo, Contents: "write"})
	if err != nil {
		return nil, fmt.Errorf("installation token: %w", err)
	}
	token, err := tr.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("installation token: %w", err)
	}
	dir, unlock, err := pp.mirrors.lock(ctx, p.Owner, p.Repo)
	if err != nil {
		return nil, err
	}
	var objects []string
	if tagOf(p.Ref) != "" {
		objects = append(objects, p.After) // tags are not mirrored
	}
	if err := pp.mirrors.fetch(ctx, dir, pp.cloneURL(p), token, objects...); err != nil {
		unlock()
		return nil, err
	}
	m := &fetched{dir: dir, token: token, unlock: unlock}
	if !hasCommit(ctx, dir, p.After) {
		gone, err := pp.fetchOrphan(ctx, m, p)
		if err != nil || gone {
			unlock()
			if gone {
				log.Warn("pushed head force-pushed over and no longer on GitHub: nothing to scan")
			}
			return nil, err
		}
		log.Info("pushed head force-pushed over: fetched by its id")
	}
	if branch, ok := strings.CutPrefix(p.Ref, "refs/heads/"); ok {
		// Also when an earlier attempt fetched it before the force push.
		m.orphaned = !onBranch(ctx, dir, p.After, branch)
	}
	return m, nil
}

// cloneURL is p's repository on the configured GitHub.
func (pp *Push) cloneURL(p Pushed) string { return githubapp.CloneURL(pp.webURL, p.Owner, p.Repo) }

// present reports, for each object name (anything git's cat-file reads,
// such as id^{commit}), whether the mirror in dir holds it: one git
// process for them all.
func present(ctx context.Context, dir string, names []string) ([]bool, error) {
	if len(names) == 0 {
		return nil, nil
	}
	out, err := gitcli.Run(ctx, dir, nil, []byte(strings.Join(names, "\n")+"\n"), "cat-file", "--batch-check=%(objecttype)")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(out, "\n")
	if len(lines) != len(names) {
		return nil, fmt.Errorf("git cat-file: %d answers to %d names", len(lines), len(names))
	}
	has := make([]bool, len(names))
	for i, l := range lines {
		has[i] = !strings.HasSuffix(l, " missing") && !strings.HasSuffix(l, " ambiguous")
	}
	return has, nil
}

// hasCommit reports whether the mirror in dir holds commit sha.
func hasCommit(ctx context.Context, dir, sha string) bool {
	_, err := gitcli.Run(ctx, dir, nil, nil, "cat-file", "-e", sha+"^{commit}")
	return err == nil
}

// onBranch reports whether the mirror's branch holds commit sha (false
// when the branch is gone, or git cannot tell).
func onBranch(ctx context.Context, dir, sha, branch string) bool {
	_, err := gitcli.Run(ctx, dir, nil, nil, "merge-base", "--is-ancestor", sha, "refs/heads/"+branch)
	return err == nil
}

// fetchOrphan fetches p's head by its id into m. It reports gone when the
// fetch fails because GitHub no longer holds the commit (its API answers
// 404 for it); any other failure is an error, to retry.
func (pp *Push) fetchOrphan(ctx context.Context, m *fetched, p Pushed) (gone bool, err error) {
	ferr := pp.mirrors.fetch(ctx, m.dir, pp.cloneURL(p), m.token, p.After)
	if ferr == nil {
		return false, nil
	}
	gh, err := pp.github.Installation(p.InstallationID)
	if err != nil {
		return false, fmt.Errorf("installation client: %w", err)
	}
	held, err := githubapp.HasCommit(ctx, gh, p.Owner, p.Repo, p.After)
	if err != nil {
		return false, errors.Join(ferr, err)
	}
	if held {
		return false, ferr
	}
	return true, nil
}

// scan scans what the push added, applies the server's inline_allow, and
// notes what it read in o. It returns the findings inline allow comments
// let through that are to be recorded (inline_allow: record).
func (pp *Push) scan(ctx context.Context, log *slog.Logger, dir string, p Pushed, branch string, settings *policy.Settings, o *githubapp.Outcome) (*scanner.Result, []*scanner.Finding, error) {
	sc := scanner.New(scanner.WithSettings(settings.Scan), scanner.WithLogger(log), scanner.WithLimits(pp.limits),
		scanner.WithFingerprinter(pp.vault.Transit.Fingerprinter(vault.FingerprintKey)))
	started := time.Now()
	end := phase.Start(ctx, phase.Scan)
	target := pushTarget(ctx, dir, p, branch)
	res, err := sc.Scan(ctx, dir, target)
	end()
	if err != nil {
		return nil, nil, fmt.Errorf("scan: %w", err)
	}
	inline := pp.inlineAllow.Apply(res)
	if pp.metrics != nil {
		pp.metrics.ObserveScan(time.Since(started), res.Stats.Bytes)
		for _, f := range res.Findings {
			pp.metrics.Finding(f.Detector)
		}
	}
	o.Scanned = res.Stats.Commits
	o.Unscanned, o.Base = res.Skipped, target.From()
	if res.Truncated != nil {
		o.Truncated = &githubapp.Truncated{Truncation: *res.Truncated, Bytes: res.Stats.Bytes, Limits: pp.limits}
		log.Warn("push over the scan limits: scanned the newest commits only", "by", res.Truncated.By,
			"commits", res.Truncated.Commits, "scanned", res.Stats.Commits)
	}
	if len(res.Stats.Reasons) > 0 {
		o.Skipped = map[string]int{}
		for r, n := range res.Stats.Reasons {
			o.Skipped[string(r)] = n
		}
	}
	return res, inline, nil
}

// recordInlineAllowed records each location an inline allow comment let
// through in the ledger, with the pusher as actor, and lists it in the
// check run. Once per location: a redelivery or a re-scan adds nothing.
func (pp *Push) recordInlineAllowed(ctx context.Context, p Pushed, findings []*scanner.Finding, o *githubapp.Outcome) error {
	o.Pusher = p.Pusher
	for _, f := range findings {
		for _, r := range remediator.InlineAllowedRecords(p.Owner+"/"+p.Repo, f, "github:"+p.Pusher) {
			if err := pp.ledger.Append(ctx, r); err != nil {
				return err
			}
		}
		for _, l := range f.Locations {
			o.InlineAllowed = append(o.InlineAllowed, githubapp.InlineAllowed{FindingID: f.ID, Detector: f.Detector, Location: l})
		}
	}
	return nil
}

// job is the push's remediation with the App's ports: files read from the
// mirror at the pushed head, rotation under the server's (or the
// repository's) settings with GitHub token revocation, the fix branch
// pushed from the mirror, the pull request and rotation issues proposed.
func (pp *Push) job(log *slog.Logger, gh *github.Client, p Pushed, branch string, m *fetched, settings *policy.Settings, findings []*scanner.Finding, o *githubapp.Outcome) remediator.Job {
	actor := "pushvault (push by " + p.Pusher + ")"
	if p.ApprovedBy != "" {
		actor = "pushvault (rotation approved by " + p.ApprovedBy + ")"
	}
	ropts := append([]rotate.Option{rotate.WithLogger(log)}, secretstore.RunnerOptions(pp.secretStore())...)
	if pp.revoker != nil {
		rev := pp.revoker.ForInstallation(gh)
		ropts = append(ropts, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(rev, rev)))
	}
	j := remediator.Job{
		Owner: p.Owner, Repo: p.Repo, Findings: findings, Style: settings.Style, Actor: actor,
		Read:     gitcli.NewFiles(m.dir, p.After).Expect(filePaths(findings)...).Read,
		Rotator:  rotate.NewRunner(pp.vault.Client, settings.Rotation, remediator.RotationRecorder(pp.ledger, actor), ropts...),
		Approved: p.ApprovedBy != "",
		Propose:  &pullRequestProposal{pp: pp, log: log, gh: gh, o: o, base: branch, findings: findings},
	}
	// A tag gets no fix commit: no pull request can change a tag (the
	// check run says what to do instead).
	// Nor does a head force-pushed over: a pull request from a fix on top
	// of it would bring its commits back onto the branch.
	if tagOf(p.Ref) == "" && !m.orphaned {
		j.Fix = mirrorFix{commit: gitcli.Branch{Dir: m.dir, Parent: p.After, Branch: remediator.FixBranch(p.After)},
			mirrors: pp.mirrors, cloneURL: pp.cloneURL(p), token: m.token, claims: pp.claims, owner: p.Owner, repo: p.Repo}
	}
	return j
}

// filePaths are the paths of the files the findings were found in, each
// once: what the remediation reads at the head (where a path from history
// is no longer there, that costs nothing).
func filePaths(findings []*scanner.Finding) []string {
	seen := map[string]bool{}
	var paths []string
	for _, fd := range findings {
		for _, l := range fd.Locations {
			if !l.InMessage() && l.Path != "" && !seen[l.Path] {
				seen[l.Path] = true
				paths = append(paths, l.Path)
			}
		}
	}
	return paths
}

// record puts the pipeline's result in the outcome and the metrics.
func (pp *Push) record(log *slog.Logger, o *githubapp.Outcome, findings []*scanner.Finding, run *remediator.Result, err error) {
	o.Secrets = outcomeSecrets(findings, run.Plan, run.Rotations)
	for _, r := range run.Rotations {
		if r.State == rotate.StatePending || r.Held != "" {
			// A held deletion is approved with the same button.
			o.PendingRotations = true
		}
	}
	if err == nil || errors.Is(err, remediator.ErrRotationFailed) {
		pp.countRemediations(run.Plan, run.Rotations)
	}
	if errors.Is(err, remediator.ErrRotationFailed) {
		// The vaulted values and the fix stand; a failed rotation is
		// retried with the push (the runner resumes where it stopped).
		log.Warn("rotation failed; the push will be retried", "error", err)
	}
}

// mirrorFix writes the fix commit in the App's mirror, remembers it as
// pushvault's own, and pushes its branch to GitHub (only when the commit is
// new: a retry pushes nothing).
type mirrorFix struct {
	commit          gitcli.Branch
	mirrors         *mirrors
	cloneURL, token string
	claims          *queue.Claims
	owner, repo     string
}

// WriteFix commits the fix on the pushed head and pushes its branch.
// The branch may be on GitHub already with another fix of the same head:
// a history backfill finds every secret at the default branch's head,
// where the push's fix replaced only those the push added. When the
// branch's commit is pushvault's own fix (rememberFixCommit) it is
// replaced, with a lease on that commit, so the fix pull request from it
// proposes the fix of everything found; a branch someone has committed
// to is left as it is, and its commit is the fix proposed.
func (m mirrorFix) WriteFix(ctx context.Context, files map[string][]byte, message string) (remediator.FixCommit, error) {
	ref := "refs/heads/" + m.commit.Branch
	fc, err := m.commit.WriteFix(ctx, files, message)
	if err != nil || !fc.Changed {
		return fc, err
	}
	// The mirror's branches are GitHub's, as fetched under the lock: what
	// the branch was before the write is GitHub's branch.
	prev := fc.Previous
	if prev != "" {
		_, own, err := m.claims.Get(ctx, queue.KeyFixCommit(m.owner, m.repo, fc.Branch, prev))
		if err != nil {
			return fc, err
		}
		if !own {
			if _, err := gitcli.Run(ctx, m.commit.Dir, nil, nil, "update-ref", ref, prev); err != nil {
				return fc, err
			}
			return remediator.FixCommit{Branch: fc.Branch, Commit: prev}, nil
		}
	}
	if err := rememberFixCommit(ctx, m.claims, m.owner, m.repo, fc); err != nil {
		return fc, err
	}
	return fc, m.mirrors.push(ctx, m.commit.Dir, m.cloneURL, m.token, fc.Commit, fc.Branch, prev)
}

// pullRequestProposal is the App's Proposer: an issue per secret only a
// person can rotate, then the fix pull request onto the pushed branch.
type pullRequestProposal struct {
	pp       *Push
	log      *slog.Logger
	gh       *github.Client
	o        *githubapp.Outcome
	base     string
	findings []*scanner.Finding
}

func (pr *pullRequestProposal) Propose(ctx context.Context, r *remediator.Result) error {
	pr.o.Secrets = outcomeSecrets(pr.findings, r.Plan, r.Rotations)
	pr.pp.openRotationIssues(ctx, pr.log, pr.gh, pr.o, r.Rotations)
	if r.Commit.Branch == "" {
		return nil // no file could be rewritten: nothing to propose
	}
	opened, err := githubapp.NewPullRequests(pr.gh).Open(ctx, pr.o, r.Commit.Branch, pr.base)
	if err != nil {
		return err
	}
	pr.o.PR = opened
	return nil
}

// outcomeSecrets describes every finding for GitHub: vaulted ones with
// their path, version and reference, the rest as found.
func outcomeSecrets(findings []*scanner.Finding, plan *remediator.Plan, rotations map[string]rotate.Result) []githubapp.SecretOutcome {
	byID := map[string]*remediator.Vaulted{}
	for _, v := range plan.Secrets {
		byID[v.Finding.ID] = v
	}
	var out []githubapp.SecretOutcome
	for _, f := range findings {
		s := githubapp.SecretOutcome{FindingID: f.ID, Fingerprint: string(f.Fingerprint), Detector: f.Detector, Redacted: f.Redacted, Locations: f.Locations, Rotation: "not attempted"}
		if v := byID[f.ID]; v != nil {
			s.VaultPath = v.APIPath()
			s.VaultVersion = v.Stored.Version
			s.Store = v.Store
			keys := make([]string, 0, len(v.Refs))
			for k := range v.Refs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var refs []string
			for _, k := range keys {
				refs = append(refs, v.Refs[k].Vault())
			}
			s.Reference = strings.Join(refs, ", ")
			seen := map[string]bool{}
			for _, e := range v.Edits {
				if e.EnvName != "" && !seen[e.EnvName] {
					seen[e.EnvName] = true
					s.EnvNames = append(s.EnvNames, e.EnvName)
				}
			}
			for _, m := range v.Manual {
				s.Manual = append(s.Manual, fmt.Sprintf("%s: %s", m.Where(), m.Step))
			}
			if r, ok := rotations[f.ID]; ok {
				s.Rotation = rotationWords(r)
				if r.State == rotate.StateRotated && (r.Rotator == rotate.NameGitHub || r.Rotator == rotate.NameVaultToken) {
					// A revocation leaves no value to use: the reference
					// resolves again once someone stores a new token.
					store := fmt.Sprintf("with `vault kv put %s value=-`", strings.Replace(s.VaultPath, "/data/", "/", 1))
					if v.Store != "" && v.Store != remediator.DefaultStoreName {
						store = fmt.Sprintf("as the next version of `%s` in %s", s.VaultPath, v.Store)
					}
					s.Manual = append(s.Manual, "the exposed token is revoked: create a new one and store it "+store+" for the reference to resolve")
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// Fail completes p's check run with conclusion failure and reason: what the
// worker calls when it gives up on a push (dead letter), so the developer
// sees why instead of a check that never ends. It is not the run's last
// word: it takes no completion claim, so a redelivery that runs the push
// again completes the run with what it finds; and it leaves alone a run
// already completed with a result.
func (pp *Push) Fail(ctx context.Context, p Pushed, reason string) error {
	_, checks, runID, err := pp.startCheck(ctx, p)
	if err != nil {
		return err
	}
	if _, done, err := pp.claims.Get(ctx, queue.KeyCheckRunComplete(p.Owner, p.Repo, runID)); err != nil || done {
		return err
	}
	o := outcomeOf(p)
	o.Failure = reason
	return checks.Complete(ctx, runID, o)
}

// outcomeOf is p's outcome before anything is found: the pushed branch or
// tag and its commit.
func outcomeOf(p Pushed) *githubapp.Outcome {
	branch, _ := strings.CutPrefix(p.Ref, "refs/heads/")
	return &githubapp.Outcome{Owner: p.Owner, Repo: p.Repo, Branch: branch, Tag: tagOf(p.Ref), HeadSHA: p.After}
}

// startCheck creates p's check run once: a redelivery, a retry or another
// replica gets the same run. It returns the installation's client and its
// check runs with the run's id.
func (pp *Push) startCheck(ctx context.Context, p Pushed) (*github.Client, *githubapp.Checks, int64, error) {
	defer phase.Start(ctx, phase.CheckRun)()
	gh, err := pp.github.Installation(p.InstallationID)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("installation client: %w", err)
	}
	checks := githubapp.NewChecks(gh)
	id, err := pp.checkRunOnce(ctx, checks, p)
	return gh, checks, id, err
}

// checkRunOnce creates p's check run once per head (per request for a
// re-run). The run's external id names what it is for, not the delivery
// that asked: an attempt that resumes a claim abandoned by a dead process
// finds the run that process created even when it runs a replay of the
// push under another delivery id.
func (pp *Push) checkRunOnce(ctx context.Context, checks *githubapp.Checks, p Pushed) (int64, error) {
	key := queue.KeyCheckRun(p.Owner, p.Repo, p.After, p.RescanFor)
	external := cmp.Or(p.RescanFor, "push")
	return queue.OnceJSON(ctx, pp.claims, key, func(ctx context.Context, a queue.Attempt) (int64, error) {
		if a.Resumed {
			// The attempt that died may have created it already.
			if id, ok, err := checks.Find(ctx, p.Owner, p.Repo, p.After, external); err != nil || ok {
				return id, err
			}
		}
		return checks.Start(ctx, p.Owner, p.Repo, p.After, external)
	})
}

// completeCheck writes the outcome to run id once (annotations append on
// GitHub, so a second write would double them).
func (pp *Push) completeCheck(ctx context.Context, checks *githubapp.Checks, p Pushed, id int64, o *githubapp.Outcome) error {
	defer phase.Start(ctx, phase.CheckRun)()
	key := queue.KeyCheckRunComplete(p.Owner, p.Repo, id)
	_, err := pp.claims.Once(ctx, key, func(ctx context.Context, a queue.Attempt) ([]byte, error) {
		if a.Resumed {
			if done, err := checks.Completed(ctx, p.Owner, p.Repo, id); err != nil || done {
				return nil, err
			}
		}
		return nil, checks.Complete(ctx, id, o)
	})
	return err
}

// rotationWords says a rotation's outcome in a few words for GitHub.
func rotationWords(r rotate.Result) string {
	switch r.State {
	case rotate.StateRotated:
		w := "rotated by " + r.Rotator
		if r.ExposedDead {
			w += "; exposed value proven dead"
		}
		if r.ExposedDestroyed {
			w += "; exposed version destroyed"
		}
		if r.Held != "" {
			w += "; " + r.Held
		}
		if r.HeldDone {
			w += "; the exposed credential deleted (approved)"
		}
		return w
	case rotate.StateManual:
		if r.Reason != "" {
			return "manual rotation needed: " + r.Reason
		}
		return "manual rotation needed"
	case rotate.StatePending:
		return "waits for approval: " + r.Reason
	case rotate.StateFailed:
		return "rotation failed (will retry): " + r.Reason
	case rotate.StateMarkedRotated:
		return "rotated by hand"
	}
	return string(r.State)
}

// openRotationIssues opens an issue with the provider's steps for each
// secret only a person can rotate, and points the outcome at it. Each issue
// is opened once (a claim per finding): only an attempt that resumes a
// claim abandoned by a dead process looks through the repository's issues
// for one it may have opened. Best effort: a failure is logged and the
// check run still says "manual".
func (pp *Push) openRotationIssues(ctx context.Context, log *slog.Logger, gh *github.Client, o *githubapp.Outcome, rotations map[string]rotate.Result) {
	issues := githubapp.NewIssues(gh)
	for i := range o.Secrets {
		r, ok := rotations[o.Secrets[i].FindingID]
		if !ok || r.State != rotate.StateManual {
			continue
		}
		rot := githubapp.Rotation{Secret: o.Secrets[i], Guide: r.Guide, Steps: r.Steps}
		link, err := pp.rotationIssueOnce(ctx, issues, o, rot)
		if err == nil {
			err = issues.ContinueRotation(ctx, o, rot, link.Number)
		}
		if err != nil {
			log.Warn("manual rotation issue", "finding", o.Secrets[i].FindingID, "error", err)
			continue
		}
		o.Secrets[i].Rotation = fmt.Sprintf("manual: see #%d", link.Number)
	}
}

// rotationIssueOnce opens rot's issue once per finding of the repository.
// Before the create request goes out it is noted (KeyRotationIssueSent):
// an attempt that finds the note, or resumes a dead process's claim, may
// be after a create GitHub carried out but whose answer was lost, and
// looks for the issue before opening one.
func (pp *Push) rotationIssueOnce(ctx context.Context, issues *githubapp.Issues, o *githubapp.Outcome, rot githubapp.Rotation) (githubapp.PRLink, error) {
	id := rot.Secret.FindingID
	return queue.OnceJSON(ctx, pp.claims, queue.KeyRotationIssue(o.Owner, o.Repo, id), func(ctx context.Context, a queue.Attempt) (githubapp.PRLink, error) {
		sentKey := queue.KeyRotationIssueSent(o.Owner, o.Repo, id)
		_, sent, err := pp.claims.Get(ctx, sentKey)
		if err != nil {
			return githubapp.PRLink{}, err
		}
		if a.Resumed || sent {
			if link, found, err := issues.FindRotation(ctx, o, id); err != nil || found {
				if err != nil {
					return githubapp.PRLink{}, err
				}
				return *link, nil
			}
		}
		if !sent {
			if _, err := pp.claims.Record(ctx, sentKey, nil); err != nil {
				return githubapp.PRLink{}, err
			}
		}
		link, err := issues.CreateRotation(ctx, o, rot)
		if err != nil {
			return githubapp.PRLink{}, err
		}
		return *link, nil
	})
}

// NewPush returns the push handler.
func NewPush(d PushDeps) *Push {
	var revoker *githubapp.Revoker
	if u, err := url.Parse(d.APIURL); err == nil && u.Host != "" {
		rc := github.NewClient(githubapp.NewHTTPClient(nil))
		rc.BaseURL = u
		var opts []githubapp.RevokerOption
		if d.RevokeBudget != nil {
			opts = append(opts, githubapp.WithBudget(d.RevokeBudget))
		}
		revoker = githubapp.NewRevoker(rc, opts...)
	}
	return &Push{
		revoker:          revoker,
		metrics:          d.Metrics,
		appID:            d.AppID,
		webURL:           d.WebURL,
		policy:           d.Policy,
		github:           d.GitHub,
		claims:           d.Claims,
		vault:            d.Vault,
		store:            d.Store,
		ledger:           d.Ledger,
		mirrors:          newMirrors(d.MirrorDir),
		inlineAllow:      cmp.Or(d.InlineAllow, policy.DefaultInlineAllow),
		actionPermission: cmp.Or(d.ActionPermission, githubapp.DefaultActionPermission),
		limits:           d.ScanLimits,
	}
}

var (
	_ Handler                 = (*Push)(nil)
	_ queue.DeadLetterHandler = (*Push)(nil)
)

// Handles implements Handler.
func (pp *Push) Handles() []string { return []string{"push"} }

// Handle implements Handler for push events.
func (pp *Push) Handle(ctx context.Context, ev githubapp.Event) error {
	var pe githubapp.PushPayload
	if err := ev.Decode(&pe); err != nil {
		return queue.Permanent(err)
	}
	p := pushedFrom(ev.DeliveryID, &pe)
	if p.InstallationID == 0 {
		// GitHub leaves it out of some ref deletions; without it there is
		// no token to act with, and a ref deletion needs no scan anyway.
		githubapp.Logger(ctx).Info("push without an installation: ignored", "ref", p.Ref, "deleted", p.Deleted)
		return nil
	}
	return pp.Run(ctx, p)
}

// DeadLettered implements DeadLetterHandler: the push's check run is
// completed as failed with the reason.
func (pp *Push) DeadLettered(ctx context.Context, ev githubapp.Event, reason string) error {
	var pe githubapp.PushPayload
	if err := ev.Decode(&pe); err != nil {
		return nil // nothing to report on: no check run was ever started
	}
	p := pushedFrom(ev.DeliveryID, &pe)
	if p.Deleted || !scannedRef(p.Ref) || p.After == "" || p.InstallationID == 0 || githubapp.ValidateRepository(p.Owner, p.Repo) != nil {
		return nil
	}
	return pp.Fail(ctx, p, "pushvault gave up on this push ("+reason+"); fix the cause and re-run the check")
}

// fixRecord is what pushvault remembers of a fix pull request, to close its
// findings when it is merged. It holds no secret value.
type fixRecord struct {
	HeadSHA    string       `json:"head_sha"`
	CheckRunID int64        `json:"check_run_id"`
	PR         int          `json:"pr"`
	Findings   []fixFinding `json:"findings"`
}

type fixFinding struct {
	ID           string `json:"id"`
	Fingerprint  string `json:"fingerprint"`
	Detector     string `json:"detector"`
	VaultPath    string `json:"vault_path,omitempty"`
	VaultVersion int    `json:"vault_version,omitempty"`
}

func (pp *Push) rememberFix(ctx context.Context, p Pushed, runID int64, o *githubapp.Outcome) error {
	rec := fixRecordOf(p, runID, o)
	_, err := queue.RecordJSON(ctx, pp.claims, queue.KeyFix(p.Owner, p.Repo, o.PR.Branch), rec)
	return err
}

// rememberRun keeps a check run's findings for its "False positive" button.
func (pp *Push) rememberRun(ctx context.Context, p Pushed, runID int64, o *githubapp.Outcome) error {
	rec := fixRecordOf(p, runID, o)
	key := queue.KeyRunFindings(p.Owner, p.Repo, runID)
	_, err := queue.RecordJSON(ctx, pp.claims, key, rec)
	return err
}

func fixRecordOf(p Pushed, runID int64, o *githubapp.Outcome) fixRecord {
	rec := fixRecord{HeadSHA: p.After, CheckRunID: runID}
	if o.PR != nil {
		rec.PR = o.PR.Number
	}
	for _, s := range o.Secrets {
		rec.Findings = append(rec.Findings, fixFinding{ID: s.FindingID, Fingerprint: s.Fingerprint, Detector: s.Detector, VaultPath: s.VaultPath, VaultVersion: s.VaultVersion})
	}
	return rec
}

// countRemediations counts each secret's outcome once per processing.
func (pp *Push) countRemediations(plan *remediator.Plan, rotations map[string]rotate.Result) {
	if pp.metrics == nil {
		return
	}
	for _, v := range plan.Secrets {
		pp.metrics.Remediation(evidence.Vaulted)
		if r, ok := rotations[v.Finding.ID]; ok {
			pp.metrics.Remediation(string(r.State))
		}
	}
}

// pushTarget is what a push added: for a tag, the commits no branch
// reaches (the mirror holds no tags); before..after for a branch update (a
// force push included: what is new since before); for a new branch, the
// commits not on the default branch; failing those, the commits no other
// ref reaches.
func pushTarget(ctx context.Context, dir string, p Pushed, branch string) scanner.Target {
	has := func(rev string) bool {
		_, err := gitcli.Run(ctx, dir, nil, nil, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
		return err == nil
	}
	switch {
	case tagOf(p.Ref) != "":
		return scanner.NewBranch(p.Ref, p.After)
	case !p.Created && p.Before != gitcli.ZeroID && has(p.Before):
		return scanner.Range(p.Before, p.After)
	case p.DefaultBranch != "" && branch != p.DefaultBranch && has("refs/heads/"+p.DefaultBranch):
		return scanner.Range("refs/heads/"+p.DefaultBranch, p.After)
	}
	return scanner.NewBranch(p.Ref, p.After)
}
