package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/pushvault/pushvault/app/ledger"
	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// Installation handles installation and installation_repositories
// events: each repository the app starts or stops watching is recorded in
// the evidence ledger (repository_added, repository_removed), once per
// delivery and repository whatever the redeliveries, crashes and replicas.
// An uninstall removes every repository the ledger says the installation
// covers, listed in the payload or not (GHES and GitHub AE send
// `installation` `deleted` without a repository list). Other actions
// (suspend, unsuspend, new_permissions_accepted) are logged.
//
// Each repository added (installation created, repositories added) is
// queued for a history backfill (Backfill), once per delivery and
// repository: its job goes to the backfill stream, never ahead of pushes.
type Installation struct {
	Claims *queue.Claims
	Ledger *evidence.Ledger
	// Backfill queues history backfills; nil: none (backfill.on_install off).
	Backfill BackfillQueue
}

// BackfillQueue queues history backfills; *queue.Queue is one.
type BackfillQueue interface {
	EnqueueBackfill(ctx context.Context, job queue.BackfillJob) error
}

// Handles implements Handler.
func (r *Installation) Handles() []string {
	return []string{"installation", "installation_repositories"}
}

// Handle implements Handler.
func (r *Installation) Handle(ctx context.Context, ev githubapp.Event) error {
	log := githubapp.Logger(ctx)
	var p githubapp.InstallationPayload
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return queue.Permanent(fmt.Errorf("%s payload: %w", ev.Event, err))
	}
	if p.Installation.ID == 0 {
		return queue.Permanent(fmt.Errorf("%s payload has no installation id", ev.Event))
	}
	var added, removed []githubapp.RepoRef
	switch {
	case ev.Event == "installation" && p.Action == "created":
		added = p.Repositories
	case ev.Event == "installation" && p.Action == "deleted":
		recs, err := r.Ledger.Records(ctx)
		if err != nil {
			return fmt.Errorf("evidence ledger: %w", err)
		}
		removed = union(p.Repositories, covered(recs, p.Installation.ID))
	case ev.Event == "installation_repositories":
		added, removed = p.RepositoriesAdded, p.RepositoriesRemoved
	default:
		log.Info("installation event noted", slog.String("account", p.Installation.Account.Login))
		return nil
	}
	actor := "github:" + p.Sender.Login
	if p.Sender.Login == "" {
		actor = "github"
	}
	for _, set := range []struct {
		repos      []githubapp.RepoRef
		transition string
	}{{added, evidence.RepositoryAdded}, {removed, evidence.RepositoryRemoved}} {
		for _, repo := range set.repos {
			if repo.FullName == "" {
				return queue.Permanent(fmt.Errorf("%s payload lists a repository without full_name", ev.Event))
			}
			seq, err := r.record(ctx, ev, p, repo.FullName, set.transition, actor)
			if err != nil {
				return err
			}
			log.Info("repository coverage recorded", slog.String("repo", repo.FullName),
				slog.String("transition", set.transition), slog.Uint64("ledger_seq", seq))
			if set.transition == evidence.RepositoryAdded && r.Backfill != nil {
				if err := r.queueBackfill(ctx, ev, p, repo.FullName, actor); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// queueBackfill queues the history backfill of repo (owner/name), once per
// delivery: the stream drops a second copy of the same request.
func (r *Installation) queueBackfill(ctx context.Context, ev githubapp.Event, p githubapp.InstallationPayload, repo, actor string) error {
	owner, name, _ := strings.Cut(repo, "/")
	if err := githubapp.ValidateRepository(owner, name); err != nil {
		return queue.Permanent(fmt.Errorf("%s payload: %w", ev.Event, err))
	}
	job := queue.BackfillJob{Installation: p.Installation.ID, Owner: owner, Repo: name,
		Request: "delivery:" + ev.DeliveryID, RequestedBy: actor}
	if err := r.Backfill.EnqueueBackfill(ctx, job); err != nil {
		return err
	}
	githubapp.Logger(ctx).Info("repository queued for history backfill", slog.String("repo", repo), slog.String("request", job.Request))
	return nil
}

// covered is what the ledger says installation id covers (ledger.Covered).
func covered(recs []evidence.Record, id int64) []githubapp.RepoRef {
	var out []githubapp.RepoRef
	for _, name := range ledger.Covered(recs, id) {
		out = append(out, githubapp.RepoRef{FullName: name})
	}
	return out
}

// union is a followed by the repositories of b that a does not name.
func union(a, b []githubapp.RepoRef) []githubapp.RepoRef {
	out := slices.Clone(a)
	for _, r := range b {
		if !slices.Contains(a, r) {
			out = append(out, r)
		}
	}
	return out
}

// record appends one coverage record, once per (delivery, transition,
// repository), and returns its ledger sequence number.
func (r *Installation) record(ctx context.Context, ev githubapp.Event, p githubapp.InstallationPayload, repo, transition, actor string) (uint64, error) {
	subject := evidence.CoverageSubject(p.Installation.ID, repo)
	key := queue.KeyDeliveryRecord(ev.DeliveryID, transition, repo)
	return queue.OnceJSON(ctx, r.Claims, key, func(ctx context.Context, a queue.Attempt) (uint64, error) {
		if a.Resumed {
			// The earlier attempt may have appended before it died.
			recs, err := r.Ledger.Records(ctx)
			if err != nil {
				return 0, fmt.Errorf("evidence ledger: %w", err)
			}
			for _, rec := range recs {
				if rec.FindingID == subject && rec.Transition == transition && rec.Detail["delivery_id"] == ev.DeliveryID {
					return rec.Seq, nil
				}
			}
		}
		rec, err := r.Ledger.Append(ctx, evidence.Record{
			FindingID:  subject,
			Repository: repo,
			Transition: transition,
			Actor:      actor,
			Detail: map[string]string{
				"delivery_id": ev.DeliveryID, "event": ev.Event, "action": p.Action,
				"installation_id": strconv.FormatInt(p.Installation.ID, 10), "account": p.Installation.Account.Login,
			},
		})
		if err != nil {
			return 0, fmt.Errorf("evidence ledger: %w", err)
		}
		return rec.Seq, nil
	})
}

// Ping acknowledges GitHub's ping (sent when the webhook is set up).
type Ping struct{}

// Handles implements Handler.
func (Ping) Handles() []string { return []string{"ping"} }

// Handle implements Handler.
func (Ping) Handle(ctx context.Context, ev githubapp.Event) error {
	var p struct {
		Zen    string `json:"zen"`
		HookID int64  `json:"hook_id"`
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return queue.Permanent(fmt.Errorf("ping payload: %w", err))
	}
	githubapp.Logger(ctx).Info("ping from GitHub", slog.Int64("hook_id", p.HookID), slog.String("zen", p.Zen))
	return nil
}
