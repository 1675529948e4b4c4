package handler

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/pause"
)

// BackfillObserver records backfill events (metrics).
type BackfillObserver interface {
	// BackfillBudgetWait records a wait of d for the installation's GitHub
	// budget to come back over backfill.github_reserve.
	BackfillBudgetWait(d time.Duration)
	// BackfillYield records a wait of d of a backfill's history scan for
	// the pushes the process was handling (pushGate).
	BackfillYield(d time.Duration)
}

// maxBudgetWait bounds one wait between two looks at the budget: a
// budget that comes back early (GitHub's window reset) is seen soon.
const maxBudgetWait = time.Minute

// awaitBudget returns once the installation's GitHub budget (gh's GET
// /rate_limit: GitHub's own count, shared by every replica and every
// token of the installation) is at or over the reserve kept for pushes,
// waiting in place meanwhile, up to maxBudgetWait between looks. The
// backfill worker waits, never a push worker; the queue's in-progress
// acknowledgements keep the job's ack deadline moving; ctx (the backfill's
// delivery timeout, a shutdown) ends the wait with its error. step names
// what waits, for the log.
func (b *Backfill) awaitBudget(ctx context.Context, log *slog.Logger, gh *github.Client, step string) error {
	if b.reserve.IsZero() {
		return nil
	}
	waited := time.Duration(0)
	for {
		rate, err := githubapp.CoreRate(ctx, gh)
		if errors.Is(err, githubapp.ErrNoRateLimit) {
			return nil // nothing to keep a reserve of
		}
		if err != nil {
			return err
		}
		reserve := b.reserve.Of(rate.Limit)
		if rate.Remaining >= reserve {
			if waited > 0 {
				log.Info("GitHub budget back over the backfill's reserve: resuming", slog.String("step", step),
					slog.Int("remaining", rate.Remaining), slog.Int("reserve", reserve), slog.Duration("waited", waited))
			}
			return nil
		}
		d := min(max(time.Until(rate.Reset)+time.Second, time.Second), maxBudgetWait)
		log.Info("backfill waiting: GitHub budget under the reserve kept for pushes", slog.String("step", step),
			slog.Int("remaining", rate.Remaining), slog.Int("limit", rate.Limit), slog.Int("reserve", reserve),
			slog.Time("reset", rate.Reset), slog.Duration("retry_in", d))
		if b.metrics != nil {
			b.metrics.BackfillBudgetWait(d)
		}
		if err := pause.For(ctx, d); err != nil {
			return err
		}
		waited += d
	}
}
