package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/githubapp"
)

// What became of a delivery, kept in the state bucket (KeyDeliveryState).
// GitHub's "Redeliver" sends a delivery again under the same
// X-GitHub-Delivery, which the webhook stream's duplicate window would
// swallow; these records let Enqueue tell a delivery that finished (a
// redelivery repeats nothing) from one that was given up on (a
// redelivery runs it again).
const (
	DeliveryDone = "done" // processed and acknowledged
	DeliveryDead = "dead" // moved to the dead-letter stream
)

type deliveryRecord struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
}

// markDelivery records state for delivery id. Workers call it before they
// settle the message, so a message gone from the work queue always has a
// record (unless the record could not be written: see Enqueue).
func (q *Queue) markDelivery(ctx context.Context, id, state string) error {
	k, err := kvKey(KeyDeliveryState(id))
	if err != nil {
		return err
	}
	b, _ := json.Marshal(deliveryRecord{State: state, At: time.Now().UTC()})
	if _, err := q.claims.kv.Put(ctx, k, b); err != nil {
		return fmt.Errorf("state of delivery %s: %w", id, err)
	}
	return nil
}

// deliveryState returns delivery id's recorded state and the record's
// revision; "" and 0 when there is none (queued, in progress, or never seen).
func (q *Queue) deliveryState(ctx context.Context, id string) (string, uint64, error) {
	k, err := kvKey(KeyDeliveryState(id))
	if err != nil {
		return "", 0, err
	}
	e, err := q.claims.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("state of delivery %s: %w", id, err)
	}
	var rec deliveryRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return "", 0, fmt.Errorf("state of delivery %s: undecodable record: %w", id, err)
	}
	return rec.State, e.Revision(), nil
}

// Enqueue implements githubapp.Enqueuer. A new delivery is published with
// Nats-Msg-Id = its X-GitHub-Delivery. A delivery seen before (GitHub's
// "Redeliver", or its own retry) is:
//   - a duplicate when it finished, or when the work queue still holds it
//     (waiting or being worked on): nothing is stored;
//   - queued again when it was dead-lettered, or when the work queue no
//     longer holds it and it never finished (lost). The new message's id
//     names the record it answers (the dead record's revision), so two
//     redeliveries racing store one message; its work finds the side
//     effects an earlier attempt made in Claims and repeats none.
//
// On a clustered NATS a stream whose leader was lost answers nothing
// until its copies elect another (seconds); GitHub does not resend a
// delivery answered 503. So an attempt that meets no stream leader, no
// answer or JetStream temporarily unavailable is tried again every
// enqueueRetryWait for up to EnqueueRetryFor (or until ctx ends): the
// message id makes a repeat store it once.
func (q *Queue) Enqueue(ctx context.Context, ev githubapp.Event) (bool, error) {
	deadline := time.Now().Add(EnqueueRetryFor)
	for {
		dup, err := q.enqueue(ctx, ev)
		if err == nil || !Unavailable(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return dup, err
		}
		t := time.NewTimer(enqueueRetryWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return dup, err
		case <-t.C:
		}
	}
}

// EnqueueRetryFor bounds how long Enqueue keeps trying a queue that is
// electing a leader: within GitHub's 10 s for a delivery's answer, with
// an election takes 4 to 9 s (NATS's Raft election timeout).
const EnqueueRetryFor = 8 * time.Second

const enqueueRetryWait = 200 * time.Millisecond

// Unavailable reports whether err is JetStream not answering for now (no
// stream leader, no answer in time, the meta leader being elected) rather
// than refusing: worth trying again shortly.
func Unavailable(err error) bool {
	var api *jetstream.APIError
	switch {
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &api):
		return api.Code == 503
	}
	return false
}

func (q *Queue) enqueue(ctx context.Context, ev githubapp.Event) (bool, error) {
	state, rev, err := q.deliveryState(ctx, ev.DeliveryID)
	if err != nil || state == DeliveryDone {
		return err == nil, err
	}
	msgID := ev.DeliveryID
	if state == DeliveryDead {
		msgID = rerunID(ev.DeliveryID, rev)
	}
	ack, err := q.publish(ctx, ev, msgID)
	switch {
	case err != nil:
		return false, err
	case !ack.Duplicate || state == DeliveryDead:
		return ack.Duplicate, nil
	}
	if held, err := q.holds(ctx, ack.Sequence); err != nil || held {
		return true, err
	}
	// Gone from the work queue: it finished or died since the look above,
	// or was lost without a record.
	if state, rev, err = q.deliveryState(ctx, ev.DeliveryID); err != nil || state == DeliveryDone {
		return err == nil, err
	}
	ack, err = q.publish(ctx, ev, rerunID(ev.DeliveryID, rev))
	if err != nil {
		return false, err
	}
	return ack.Duplicate, nil
}

// rerunID is the message id of delivery's run again after the state
// record at revision rev (0: none).
func rerunID(delivery string, rev uint64) string {
	return delivery + "/rerun/" + strconv.FormatUint(rev, 10)
}

// holds reports whether the webhook stream still holds message seq: with
// work-queue retention, a message leaves the stream when it is
// acknowledged or terminated.
func (q *Queue) holds(ctx context.Context, seq uint64) (bool, error) {
	_, err := q.stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stream %s message %d: %w", WebhookStream, seq, err)
	}
	return true, nil
}
