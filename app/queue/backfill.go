package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/githubapp"
)

// History backfill: the scan of every covered repository's whole history
// when the App is installed (or a repository added, or a person asks). It
// has a stream and a consumer of its own, worked by workers of its own
// (backfill.concurrency), so that no push ever waits behind a backfill in
// the webhook stream; and a bucket of its own that says where each
// repository's backfill stands (`pushvault backfill status`, /metrics).
const (
	BackfillStream   = "PUSHVAULT_BACKFILL" // queued backfill jobs, work-queue retention
	BackfillSubject  = "pushvault.backfill" // + "." + owner + "." + repo
	BackfillConsumer = "pushvault-backfill" // the durable pull consumer backfill workers share
	BackfillBucket   = "pushvault_backfill" // KV: each repository's backfill state
	BackfillEvent    = "backfill"           // the event name backfill jobs are processed under
	backfillKeyStart = "repo/"              // BackfillBucket keys: repo/<owner>/<repo>
	historyKeyStart  = "history/"           // and history/<owner>/<repo>: the "Exposed in history" issue's items
	backfillIDPrefix = "backfill/"          // message ids: backfill/<request>/<owner>/<repo>
)

// BackfillJob asks for one repository's history to be backfilled. It holds
// names and ids only.
type BackfillJob struct {
	// Installation is the App's installation on the repository (0: asked
	// of GitHub when the job runs).
	Installation int64  `json:"installation_id,omitempty"`
	Owner        string `json:"owner"`
	Repo         string `json:"repo"`
	// RepoID is GitHub's id of the repository (0: learnt when it runs).
	RepoID int64 `json:"repo_id,omitempty"`
	// Request names what asked: "delivery:<X-GitHub-Delivery>" for an
	// installation webhook, "cli:<id>" for `pushvault backfill`. A
	// repository is backfilled once per request: a redelivery, a restart
	// or a second replica finds the request done.
	Request string `json:"request"`
	// RequestedBy is who or what asked ("github:octocat", "cli").
	RequestedBy string `json:"requested_by,omitempty"`
}

// Repository is owner/repo.
func (j BackfillJob) Repository() string { return j.Owner + "/" + j.Repo }

// Event is the job as the workers' Processor receives it.
func (j BackfillJob) Event() (githubapp.Event, error) {
	payload, err := json.Marshal(j)
	if err != nil {
		return githubapp.Event{}, err
	}
	return githubapp.Event{DeliveryID: j.messageID(), Event: BackfillEvent, InstallationID: j.Installation,
		Repo: j.Repository(), Payload: payload}, nil
}

func (j BackfillJob) messageID() string { return backfillIDPrefix + j.Request + "/" + j.Repository() }

// Backfill states.
const (
	BackfillQueued   = "queued"
	BackfillScanning = "scanning"
	BackfillDone     = "done"
	BackfillFailed   = "failed"
)

// BackfillStates lists the states in the order a backfill goes through them.
var BackfillStates = []string{BackfillQueued, BackfillScanning, BackfillDone, BackfillFailed}

// BackfillState is where one repository's latest backfill stands. It holds
// counts, names and ids, never a secret.
type BackfillState struct {
	Repository   string `json:"repository"`
	Installation int64  `json:"installation_id,omitempty"`
	Request      string `json:"request"`
	// RequestedBy is who or what asked (BackfillJob.RequestedBy).
	RequestedBy string `json:"requested_by,omitempty"`
	State       string `json:"state"`
	// Scans counts the scans of this request that started: more than one
	// when a scan was cut short (a crash, a restart) and resumed.
	Scans int `json:"scans"`
	// Commits is how many commits the scan has read (so far, while
	// scanning); Total how many the history holds.
	Commits int `json:"commits"`
	Total   int `json:"total_commits,omitempty"`
	// Slices is how many slices the history is read in (backfill.slice_commits).
	Slices int `json:"slices,omitempty"`
	// Secrets found: at the default branch's head, and only in history.
	AtHead    int `json:"at_head"`
	InHistory int `json:"in_history"`
	// PR and Issue are the fix pull request and the "Exposed in history" issue.
	PR    int    `json:"pr,omitempty"`
	Issue int    `json:"issue,omitempty"`
	Error string `json:"error,omitempty"`

	QueuedAt   time.Time `json:"queued_at,omitzero"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Backfills is the backfill bucket. Safe for concurrent use.
type Backfills struct{ kv jetstream.KeyValue }

// OpenBackfills opens (creating it when missing) the backfill bucket.
func OpenBackfills(ctx context.Context, js jetstream.JetStream, replicas int) (*Backfills, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      BackfillBucket,
		Description: "pushvault: where each repository's history backfill stands",
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("backfill bucket %s: %w", BackfillBucket, err)
	}
	return &Backfills{kv: boundKV(kv)}, nil
}

// ExistingBackfills opens the backfill bucket a serve created, changing
// nothing of its configuration (a reader's: `pushvault backfill`).
func ExistingBackfills(ctx context.Context, js jetstream.JetStream) (*Backfills, error) {
	kv, err := js.KeyValue(ctx, BackfillBucket)
	if err != nil {
		return nil, fmt.Errorf("backfill bucket %s (has a pushvault serve with backfill run on this queue?): %w", BackfillBucket, err)
	}
	return &Backfills{kv: boundKV(kv)}, nil
}

func backfillKey(repo string) (string, error) { return kvKey(backfillKeyStart + repo) }

// Get returns repo's state; ok is false when it was never backfilled.
func (b *Backfills) Get(ctx context.Context, repo string) (st BackfillState, ok bool, err error) {
	k, err := backfillKey(repo)
	if err != nil {
		return st, false, err
	}
	e, err := b.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("backfill state %s: %w", repo, err)
	}
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return st, false, fmt.Errorf("backfill state %s: %w", repo, err)
	}
	return st, true, nil
}

// Update changes repo's state with fn, which sees the state as it is (zero
// when there is none) and returns whether to write it. Concurrent updates
// are serialised by the bucket's revision check.
func (b *Backfills) Update(ctx context.Context, repo string, fn func(st *BackfillState) bool) error {
	k, err := backfillKey(repo)
	if err != nil {
		return err
	}
	for {
		var st BackfillState
		var rev uint64
		e, err := b.kv.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("backfill state %s: %w", repo, err)
		default:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &st); err != nil {
				return fmt.Errorf("backfill state %s: %w", repo, err)
			}
		}
		if !fn(&st) {
			return nil
		}
		st.Repository = repo
		data, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = b.kv.Create(ctx, k, data)
		} else {
			_, err = b.kv.Update(ctx, k, data, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // changed meanwhile: look again
		}
		if err != nil {
			return fmt.Errorf("backfill state %s: %w", repo, err)
		}
		return nil
	}
}

// List returns every repository's state, sorted by repository.
func (b *Backfills) List(ctx context.Context) ([]BackfillState, error) {
	w, err := b.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("backfill bucket: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var out []BackfillState
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("backfill bucket: %w", ctx.Err())
		case e := <-w.Updates():
			if e == nil { // every current value has been sent
				sort.Slice(out, func(i, j int) bool { return out[i].Repository < out[j].Repository })
				return out, nil
			}
			if !strings.HasPrefix(e.Key(), backfillKeyStart) {
				continue // a history record
			}
			var st BackfillState
			if err := json.Unmarshal(e.Value(), &st); err != nil {
				return nil, fmt.Errorf("backfill state %s: %w", e.Key(), err)
			}
			out = append(out, st)
		}
	}
}

// BackfillCounts sums the states: repositories by state, and commits read.
type BackfillCounts struct {
	Repositories map[string]int
	Commits      int
}

// Counts sums List.
func (b *Backfills) Counts(ctx context.Context) (BackfillCounts, error) {
	list, err := b.List(ctx)
	if err != nil {
		return BackfillCounts{}, err
	}
	c := BackfillCounts{Repositories: map[string]int{}}
	for _, st := range list {
		c.Repositories[st.State]++
		c.Commits += st.Commits
	}
	return c, nil
}

// EnqueueBackfill queues job on the backfill stream (once per request and
// repository: the stream drops a second copy within queue.dedup_window) and
// marks the repository queued, unless this request already went further.
func EnqueueBackfill(ctx context.Context, js jetstream.JetStream, b *Backfills, job BackfillJob) error {
	if job.Request == "" || job.Owner == "" || job.Repo == "" {
		return errors.New("backfill job without a request or a repository")
	}
	ev, err := job.Event()
	if err != nil {
		return err
	}
	msg := nats.NewMsg(BackfillSubject + "." + subjectToken(job.Owner) + "." + subjectToken(job.Repo))
	msg.Header.Set(hdrEvent, ev.Event)
	msg.Header.Set(hdrDelivery, ev.DeliveryID)
	msg.Header.Set(hdrRepo, ev.Repo)
	if job.Installation != 0 {
		msg.Header.Set(hdrInstallation, strconv.FormatInt(job.Installation, 10))
	}
	msg.Data = ev.Payload
	ack, err := bounded(ctx, func(ctx context.Context) (*jetstream.PubAck, error) {
		return js.PublishMsg(ctx, msg, jetstream.WithMsgID(job.messageID()), jetstream.WithExpectStream(BackfillStream))
	})
	if err != nil {
		return fmt.Errorf("queue the backfill of %s: %w", job.Repository(), err)
	}
	if ack.Duplicate {
		return nil
	}
	return b.Update(ctx, job.Repository(), func(st *BackfillState) bool {
		if st.Request == job.Request && st.State != BackfillQueued {
			return false // the job ran before this copy was queued
		}
		*st = BackfillState{Installation: job.Installation, Request: job.Request, RequestedBy: job.RequestedBy, State: BackfillQueued, QueuedAt: time.Now().UTC()}
		return true
	})
}

// EnqueueBackfill queues job on q's backfill stream (see the function).
func (q *Queue) EnqueueBackfill(ctx context.Context, job BackfillJob) error {
	return EnqueueBackfill(ctx, q.js, q.backfills, job)
}

// Backfills is q's backfill bucket.
func (q *Queue) Backfills() *Backfills { return q.backfills }

// setUpBackfill creates or updates the backfill stream, its consumer and
// its bucket.
func (q *Queue) setUpBackfill(ctx context.Context, replicas int) error {
	if _, err := q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        BackfillStream,
		Description: "pushvault: repositories whose history is to be backfilled",
		Subjects:    []string{BackfillSubject + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Duplicates:  q.cfg.DedupWindow,
	}); err != nil {
		return fmt.Errorf("stream %s: %w", BackfillStream, err)
	}
	cons, err := q.js.CreateOrUpdateConsumer(ctx, BackfillStream, jetstream.ConsumerConfig{
		Durable:       BackfillConsumer,
		Description:   "pushvault serve backfill workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxDeliver:    q.cfg.MaxAttempts + 1 + MaxDeferrals,
		FilterSubject: BackfillSubject + ".>",
		Replicas:      replicas,
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", BackfillConsumer, err)
	}
	q.backfillCons = cons
	q.backfills, err = OpenBackfills(ctx, q.js, replicas)
	return err
}

// BackfillDepth is what the backfill stream holds: jobs waiting for a
// backfill worker and jobs being worked on.
func (q *Queue) BackfillDepth(ctx context.Context) (pending, inFlight uint64, err error) {
	ci, err := q.backfillCons.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("consumer %s: %w", BackfillConsumer, err)
	}
	return ci.NumPending, uint64(ci.NumAckPending), nil
}

// HistoryRecord is what the "Exposed in history" issue of a repository is
// rendered from, besides the ledger: the items its latest backfill found
// (redacted values, places, vault paths, steps: never a secret), the
// installation and the issue. The ledger says where each item stands now.
type HistoryRecord struct {
	Installation int64              `json:"installation_id"`
	Issue        int                `json:"issue,omitempty"`
	History      *githubapp.History `json:"history"`
}

func historyKey(repo string) (string, error) { return kvKey(historyKeyStart + repo) }

// PutHistory stores repo's history record (the latest backfill's wins).
func (b *Backfills) PutHistory(ctx context.Context, repo string, rec HistoryRecord) error {
	k, err := historyKey(repo)
	if err != nil {
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := b.kv.Put(ctx, k, data); err != nil {
		return fmt.Errorf("history record %s: %w", repo, err)
	}
	return nil
}

// History returns repo's history record; ok is false when no backfill
// listed anything in an issue for it.
func (b *Backfills) History(ctx context.Context, repo string) (rec HistoryRecord, ok bool, err error) {
	k, err := historyKey(repo)
	if err != nil {
		return rec, false, err
	}
	e, err := b.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("history record %s: %w", repo, err)
	}
	if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.History == nil {
		return rec, false, fmt.Errorf("history record %s: undecodable: %v", repo, err)
	}
	return rec, true, nil
}
