package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/remediator/evidence"
)

// LedgerWatchConsumer is the durable consumer of the evidence stream that
// tells what changed to the processes keeping GitHub texts in step with
// the ledger (the "Exposed in history" issues). Replicas share it: each
// record is seen by one of them.
const LedgerWatchConsumer = "pushvault-ledger-watch"

// ledgerWatchBatch bounds the records taken at once; the repositories they
// name are acted on once each per batch.
const ledgerWatchBatch = 100

// ledgerWatchAttempts bounds the tries of one batch. A batch given up is
// logged; the next change of the same repository renders it whole again
// (the watch's reaction is a state, not a delta).
const ledgerWatchAttempts = 5

// WatchLedger calls changed with each repository whose secrets' state a
// new ledger record may have moved (evidence.StateChanging), once per
// batch of records, until ctx ends. Records appended before the consumer
// first existed are not seen. A failed call is tried again after a
// backoff, ledgerWatchAttempts times at most.
func (q *Queue) WatchLedger(ctx context.Context, log *slog.Logger, changed func(ctx context.Context, repo string) error) error {
	cons, err := q.js.CreateOrUpdateConsumer(ctx, evidence.StreamName, jetstream.ConsumerConfig{
		Durable:       LedgerWatchConsumer,
		Description:   "pushvault serve: keeps the history issues in step with the evidence ledger",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       2 * time.Minute,
		DeliverPolicy: jetstream.DeliverNewPolicy,
		MaxDeliver:    ledgerWatchAttempts,
		MaxAckPending: ledgerWatchBatch,
		FilterSubject: evidence.StreamSubject,
		Replicas:      max(q.cfg.Replicas, 1),
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", LedgerWatchConsumer, err)
	}
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		batch, err := cons.Fetch(ledgerWatchBatch, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if ctx.Err() == nil {
				log.Warn("ledger watch: fetch failed", slog.Any("error", err))
				_ = sleepCtx(ctx, time.Second)
			}
			continue
		}
		var msgs []jetstream.Msg
		var repos []string
		seen := map[string]bool{}
		for m := range batch.Messages() {
			msgs = append(msgs, m)
			var r struct {
				Repository string `json:"repository"`
				Transition string `json:"transition"`
			}
			if json.Unmarshal(m.Data(), &r) == nil && r.Repository != "" && evidence.StateChanging(r.Transition) && !seen[r.Repository] {
				seen[r.Repository] = true
				repos = append(repos, r.Repository)
			}
		}
		cancel()
		var failed error
		for _, repo := range repos {
			if err := changed(ctx, repo); err != nil {
				failed = errors.Join(failed, fmt.Errorf("%s: %w", repo, err))
			}
		}
		for _, m := range msgs {
			if failed == nil {
				_ = m.Ack()
				continue
			}
			md, err := m.Metadata()
			if err == nil && md.NumDelivered >= ledgerWatchAttempts {
				log.Error("ledger watch: giving up on a record; the repository's next change renders it again",
					slog.Uint64("stream_seq", md.Sequence.Stream), slog.Any("error", failed))
				_ = m.Term()
				continue
			}
			_ = m.NakWithDelay(10 * time.Second)
		}
		if failed != nil && ctx.Err() == nil {
			log.Warn("ledger watch: will retry", slog.Any("error", failed))
		}
	}
	return nil
}
