package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/githubapp"
)

// Processor does the work of one event. It is called at least once per
// delivery (more after failures, crashes or lost acknowledgements), so it
// must keep its side effects idempotent (Claims.Once). Its error decides what
// happens to the delivery: nil acknowledges it, a PermanentError sends it
// to the dead-letter stream at once, a githubapp.RetryLaterError is retried
// after the wait GitHub asks for (at least queue.backoff's), a Deferral is
// requeued after its wait without counting as an attempt, anything else is
// retried with backoff; after queue.max_attempts it is dead-lettered.
// ctx ends at queue.delivery_timeout: Process must give up when it does.
type Processor interface {
	Process(ctx context.Context, ev githubapp.Event) error
}

// PermanentError marks a failure that retrying cannot fix (a payload that
// makes no sense, a repository that is gone).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError (nil stays nil).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// WorkObserver counts what workers do (metrics).
type WorkObserver interface {
	// Processed counts one attempt: outcome is success, retry or dead_letter.
	Processed(event, outcome string, d time.Duration)
	// DeadLettered counts one delivery moved to the dead-letter stream.
	DeadLettered(event, reason string)
	// Redelivered counts one delivery taken that the queue had delivered
	// before: a retry, a deferral, or one whose worker (or replica) died
	// or stalled past queue.ack_wait.
	Redelivered(event string)
}

// Workers pull deliveries from the shared durable consumer and run them
// through a Processor.
type Workers struct {
	q        *Queue
	cons     jetstream.Consumer
	p        Processor
	log      *slog.Logger
	obs      WorkObserver
	count    int
	drain    time.Duration
	backoff  []time.Duration
	attempts int
	// timeout bounds each attempt (queue.delivery_timeout; 0: none).
	timeout time.Duration
}

// ErrDeliveryTimeout is the cause of an attempt's context ending at
// queue.delivery_timeout; the attempt's error wraps it.
var ErrDeliveryTimeout = errors.New("delivery timed out")

// NewWorkers returns count workers over q's consumer. obs may be nil.
// On shutdown, work in progress gets drain to finish before its context is
// cancelled.
func NewWorkers(q *Queue, p Processor, log *slog.Logger, obs WorkObserver, count int, drain time.Duration) *Workers {
	return &Workers{
		q: q, cons: q.cons, p: p, log: log, obs: obs, count: max(count, 1), drain: drain,
		backoff: q.cfg.Backoff, attempts: max(q.cfg.MaxAttempts, 1), timeout: q.cfg.DeliveryTimeout,
	}
}

// NewBackfillWorkers returns count workers over q's backfill consumer
// (BackfillStream), each attempt bounded by timeout (backfill's own
// delivery timeout: a large history takes longer than any push) instead of
// queue.delivery_timeout. They settle deliveries as NewWorkers' do: retry
// with backoff, dead letters in DeadLetterStream.
func NewBackfillWorkers(q *Queue, p Processor, log *slog.Logger, obs WorkObserver, count int, drain, timeout time.Duration) *Workers {
	w := NewWorkers(q, p, log, obs, count, drain)
	w.cons, w.timeout = q.backfillCons, timeout
	return w
}

// Run works until ctx is cancelled, then stops pulling, lets work in
// progress finish (up to the drain time) and returns. A delivery whose work
// is cut short is handed back (nak) for another worker or replica.
func (w *Workers) Run(ctx context.Context) {
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	go func() {
		<-ctx.Done()
		t := time.NewTimer(w.drain)
		defer t.Stop()
		select {
		case <-t.C:
			cancelWork()
		case <-workCtx.Done():
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < w.count; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				// One message per free worker: nothing waits in a client
				// buffer while its ack-wait runs.
				msg, err := w.cons.Next(jetstream.FetchContext(fctx))
				cancel()
				if err != nil {
					if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
						w.log.Warn("queue fetch failed", slog.Any("error", err))
						_ = sleepCtx(ctx, time.Second)
					}
					continue
				}
				w.handle(workCtx, msg)
			}
		}()
	}
	wg.Wait()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// handle runs one delivery and settles it: ack, nak with delay, or dead
// letter.
func (w *Workers) handle(ctx context.Context, msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		w.log.Error("queue message without metadata", slog.Any("error", err))
		_ = msg.Term()
		return
	}
	ev, err := eventOf(msg)
	if md.NumDelivered > 1 && w.obs != nil {
		w.obs.Redelivered(ev.Event)
	}
	deferred := w.deferrals(ctx, ev, md)
	// Deferrals were deliveries too, but no attempts.
	attempt := int(md.NumDelivered) - deferred
	log := w.log.With(ev.LogAttrs()...).With(slog.Int("attempt", attempt), slog.Uint64("stream_seq", md.Sequence.Stream))
	if err != nil {
		w.deadLetter(ctx, log, msg, ev, attempt, "undecodable", err.Error())
		return
	}
	if attempt > w.attempts {
		// The previous (last) attempt never settled: its worker died or
		// stalled past the ack wait.
		w.deadLetter(ctx, log, msg, ev, attempt, "unfinished", fmt.Sprintf("attempt %d of %d did not finish (worker stopped or stalled)", attempt-1, w.attempts))
		return
	}
	start := time.Now()
	err = w.attempt(githubapp.WithLogger(ctx, log), msg, ev)
	d := time.Since(start)
	var perm *PermanentError
	var limited *githubapp.RetryLaterError
	var later Deferral
	switch {
	case err == nil:
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		w.mark(actx, log, ev, DeliveryDone)
		aerr := msg.DoubleAck(actx)
		cancel()
		if aerr != nil {
			// The work is done and remembered (Claims.Once); a redelivery
			// finds its results.
			log.Warn("ack failed; the delivery will come back and find its work done", slog.Any("error", aerr))
		}
		w.observe(ev.Event, "success", d)
		log.Info("event processed", slog.Duration("took", d))
	case errors.As(err, &perm):
		w.observe(ev.Event, "dead_letter", d)
		w.deadLetter(ctx, log, msg, ev, attempt, "permanent", err.Error())
	case ctx.Err() != nil:
		// Shutting down: hand it back at once.
		_ = msg.Nak()
		w.observe(ev.Event, "retry", d)
		log.Warn("event handed back: shutting down", slog.Any("error", err))
	case errors.As(err, &later) && w.deferral(ctx, log, ev, deferred):
		// Not a failure: the work may not start yet. Wait in the stream.
		_ = msg.NakWithDelay(later.Defer())
		w.observe(ev.Event, "retry", d)
		log.Info("event deferred; will retry", slog.String("reason", err.Error()), slog.Duration("retry_in", later.Defer()))
	case attempt >= w.attempts:
		w.observe(ev.Event, "dead_letter", d)
		w.deadLetter(ctx, log, msg, ev, attempt, "retries_exhausted", fmt.Sprintf("failed %d times, last: %v", attempt, err))
	default:
		delay, what := w.delay(attempt), "event failed; will retry"
		if errors.As(err, &limited) {
			// GitHub's rate limit: wait as long as GitHub asks, in the
			// stream, not in this worker.
			delay, what = max(limited.Delay(attempt), delay), "event rate limited by GitHub; will retry"
		}
		_ = msg.NakWithDelay(delay)
		w.observe(ev.Event, "retry", d)
		log.Warn(what, slog.Any("error", err), slog.Duration("retry_in", delay))
	}
}

// deferrals is how many of the message's deliveries were deferrals (0 on
// the first delivery, which needs no look-up, and when unknown: the
// deliveries then count as attempts).
func (w *Workers) deferrals(ctx context.Context, ev githubapp.Event, md *jetstream.MsgMetadata) int {
	if md.NumDelivered < 2 || ev.DeliveryID == "" {
		return 0
	}
	n, err := w.q.deferrals(ctx, ev.DeliveryID)
	if err != nil {
		w.log.Warn("reading a delivery's deferrals failed; they count as attempts", slog.String("delivery_id", ev.DeliveryID), slog.Any("error", err))
	}
	return min(n, int(md.NumDelivered)-1)
}

// deferral records one more deferral of ev's delivery and reports whether
// it is one: false once the delivery had MaxDeferrals, or when it cannot
// be recorded (the attempt then counts, as any failure).
func (w *Workers) deferral(ctx context.Context, log *slog.Logger, ev githubapp.Event, deferred int) bool {
	if ev.DeliveryID == "" || deferred >= MaxDeferrals {
		return false
	}
	if err := w.q.setDeferrals(ctx, ev.DeliveryID, deferred+1); err != nil {
		log.Warn("recording a deferral failed; the attempt counts", slog.Any("error", err))
		return false
	}
	return true
}

// delay is the backoff before attempt+1.
func (w *Workers) delay(attempt int) time.Duration {
	if len(w.backoff) == 0 {
		return 0
	}
	return w.backoff[min(attempt-1, len(w.backoff)-1)]
}

// attempt runs one attempt under queue.delivery_timeout. An attempt cut
// short by it fails with an error wrapping ErrDeliveryTimeout, so it is
// retried (or dead-lettered) as any failure; work that finished in time
// despite the deadline stands.
func (w *Workers) attempt(ctx context.Context, msg jetstream.Msg, ev githubapp.Event) error {
	if w.timeout <= 0 {
		return w.process(ctx, msg, ev)
	}
	actx, cancel := context.WithTimeoutCause(ctx, w.timeout, ErrDeliveryTimeout)
	defer cancel()
	err := w.process(actx, msg, ev)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), ErrDeliveryTimeout) {
		return fmt.Errorf("%w after queue.delivery_timeout (%v): %w", ErrDeliveryTimeout, w.timeout, err)
	}
	return err
}

// process runs the processor with in-progress acknowledgements every third
// of the ack wait, and turns a panic into an error.
func (w *Workers) process(ctx context.Context, msg jetstream.Msg, ev githubapp.Event) (err error) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(w.q.cfg.AckWait/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	defer func() {
		close(stop)
		<-done
		if r := recover(); r != nil {
			githubapp.Logger(ctx).Error("processor panicked", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("processor panicked: %v", r)
		}
	}()
	return w.p.Process(ctx, ev)
}

func (w *Workers) observe(event, outcome string, d time.Duration) {
	if w.obs != nil {
		w.obs.Processed(event, outcome, d)
	}
}

// deadLetter copies the delivery into the dead-letter stream with the
// reason, then terminates it in the work queue. The copy's message id makes
// a repeat (a crash between the two steps) store one dead letter.
// kind is one of undecodable, unfinished, permanent, retries_exhausted.
func (w *Workers) deadLetter(ctx context.Context, log *slog.Logger, msg jetstream.Msg, ev githubapp.Event, attempt int, kind, detail string) {
	reason := kind + ": " + detail
	md, _ := msg.Metadata()
	var seq uint64
	if md != nil {
		seq = md.Sequence.Stream
	}
	dl := nats.NewMsg(DeadLetterSubj + "." + subjectToken(ev.Event))
	for k, v := range msg.Headers() {
		if !strings.HasPrefix(k, "Nats-") { // publish expectations, message id
			dl.Header[k] = v
		}
	}
	dl.Header.Set(hdrDeadReason, reason)
	dl.Header.Set(hdrDeadAttempts, strconv.Itoa(attempt))
	dl.Header.Set(hdrDeadSeq, strconv.FormatUint(seq, 10))
	dl.Header.Set(hdrDeadAt, time.Now().UTC().Format(time.RFC3339Nano))
	dl.Data = msg.Data()
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := w.q.js.PublishMsg(pctx, dl, jetstream.WithMsgID("dead:"+strconv.FormatUint(seq, 10)+":"+ev.DeliveryID)); err != nil {
		// Not stored: leave the delivery to come back and try again.
		log.Error("dead-letter publish failed; the delivery stays queued", slog.Any("error", err), slog.String("reason", reason))
		_ = msg.NakWithDelay(w.delay(attempt))
		return
	}
	w.mark(pctx, log, ev, DeliveryDead)
	if err := msg.TermWithReason(truncate(reason, 200)); err != nil {
		log.Warn("terminating a dead-lettered delivery failed", slog.Any("error", err))
	}
	if w.obs != nil {
		w.obs.DeadLettered(ev.Event, kind)
	}
	log.Error("event dead-lettered", slog.String("reason", reason), slog.String("dead_letter_stream", DeadLetterStream))
	if dl, ok := w.p.(DeadLetterHandler); ok {
		// Tell the people waiting on the work (a check run that would
		// otherwise stay "in progress"). Best effort: the dead letter is
		// already stored, and can be replayed.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := dl.DeadLettered(githubapp.WithLogger(hctx, log), ev, reason); err != nil {
			log.Warn("reporting the dead letter failed", slog.Any("error", err))
		}
	}
}

// mark records what became of ev's delivery before its message is
// settled, for a redelivery to find (Enqueue). Best effort: without the
// record, a redelivery of a delivery that finished runs it again, and
// Claims keep its side effects from happening twice.
func (w *Workers) mark(ctx context.Context, log *slog.Logger, ev githubapp.Event, state string) {
	if ev.DeliveryID == "" {
		return
	}
	if err := w.q.markDelivery(ctx, ev.DeliveryID, state); err != nil {
		log.Warn("recording the delivery's state failed", slog.String("state", state), slog.Any("error", err))
	}
}

// DeadLetterHandler is implemented by processors (and handlers) that report
// a delivery given up on, e.g. by completing its check run as failed.
type DeadLetterHandler interface {
	DeadLettered(ctx context.Context, ev githubapp.Event, reason string) error
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
