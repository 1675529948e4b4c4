package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The ledger's stream in JetStream.
const (
	StreamName    = "PUSHVAULT_EVIDENCE"
	StreamSubject = "pushvault.evidence"
)

// JetStream is a Backend over a NATS JetStream stream: one message per
// record, in stream order. The stream refuses deletes and purges
// (DenyDelete, DenyPurge) and has no limits, so records are never removed
// by the server; removing the whole stream takes an administrator's
// stream-delete permission, and Verify would see an empty or shorter
// ledger (compare Report.Head with a copy kept elsewhere). Appends are
// optimistic: the record is built on the last stored one and published
// with that message's sequence as the expected last sequence; when another
// process appended in between, the server refuses it and Append builds it
// again on the new last record. Safe for concurrent use, across processes
// sharing one NATS server or cluster.
type JetStream struct {
	js jetstream.JetStream

	mu     sync.Mutex
	handle jetstream.Stream // the stream, once looked up: appends reuse it
}

var _ Backend = (*JetStream)(nil)

// CreateJetStream creates (or updates) the ledger's stream with replicas
// copies and returns the backend.
func CreateJetStream(ctx context.Context, js jetstream.JetStream, replicas int) (*JetStream, error) {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "pushvault evidence ledger: append-only, hash-chained, signed records",
		Subjects:    []string{StreamSubject},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		MaxMsgs:     -1,
		MaxBytes:    -1,
		MaxAge:      0,
		DenyDelete:  true,
		DenyPurge:   true,
		Discard:     jetstream.DiscardNew,
	})
	if err != nil {
		return nil, fmt.Errorf("evidence stream %s: %w", StreamName, err)
	}
	return &JetStream{js: js}, nil
}

// OpenJetStream returns the backend over an existing stream, creating
// nothing (for reading: verify, export). A missing stream reads as a
// missing ledger (an error wrapping fs.ErrNotExist).
func OpenJetStream(js jetstream.JetStream) *JetStream { return &JetStream{js: js} }

// stream looks the stream up, once: a request with requestTimeout of its
// own (one sent while the cluster elects a leader can go unanswered, and
// held a push worker for its whole delivery in TestAppClusterBurst).
// Every later call reuses the handle, which names the stream and asks
// whichever server leads it.
func (j *JetStream) stream(ctx context.Context) (jetstream.Stream, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.handle != nil {
		return j.handle, nil
	}
	sctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	s, err := j.js.Stream(sctx, StreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("evidence stream %s: %w (%w)", StreamName, fs.ErrNotExist, err)
	}
	if err != nil {
		return nil, fmt.Errorf("evidence stream %s: %w", StreamName, err)
	}
	j.handle = s
	return s, nil
}

// Append implements Backend. Each record is published expecting the one
// before it as the stream's last message: a record another process
// appended in between makes the rest conflict, and they are built again
// on that record (those already published stay: each was chained to the
// one before it).
func (j *JetStream) Append(ctx context.Context, next func(last []byte, stored int) ([][]byte, error)) (int, error) {
	s, err := j.stream(ctx)
	if err != nil {
		return 0, err
	}
	stored := 0
	for {
		var last []byte
		var lastSeq uint64
		gctx, gcancel := context.WithTimeout(ctx, requestTimeout)
		m, err := s.GetLastMsgForSubject(gctx, StreamSubject)
		gcancel()
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
		case err != nil:
			return stored, fmt.Errorf("evidence append: read the last record: %w", err)
		default:
			last, lastSeq = m.Data, m.Sequence
		}
		lines, err := next(last, stored)
		if err != nil {
			return stored, err
		}
		for _, line := range lines {
			if len(line) == 0 || bytes.IndexByte(line, '\n') >= 0 {
				return stored, errors.New("evidence append: a record must be non-empty and hold no newline")
			}
		}
		conflicted := false
		for _, line := range lines {
			pctx, pcancel := context.WithTimeout(ctx, requestTimeout)
			ack, err := j.js.Publish(pctx, StreamSubject, line, jetstream.WithExpectStream(StreamName), jetstream.WithExpectLastSequence(lastSeq))
			pcancel()
			if conflict(err) {
				conflicted = true // someone appended first: build the rest on their record
				break
			}
			if err != nil {
				return stored, fmt.Errorf("evidence append: %w", err)
			}
			stored++
			lastSeq = ack.Sequence
		}
		if !conflicted {
			return stored, nil
		}
	}
}

func conflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// readRetry is how long Read keeps asking a cluster that answers nobody
// (a node restarted, a leader being elected) before it gives up.
const readRetry = 30 * time.Second

// Read implements Backend: every message of the stream, oldest first. A
// request that no server answered, or that timed out, is a cluster in
// the middle of an election: the whole read is tried again, with a pause,
// for up to readRetry.
func (j *JetStream) Read(ctx context.Context) ([][]byte, error) {
	return retryRead(ctx, j.read)
}

// retryRead calls read until it succeeds, fails other than transiently, or
// has failed for readRetry, pausing between calls.
func retryRead(ctx context.Context, read func(context.Context) ([][]byte, error)) ([][]byte, error) {
	deadline := time.Now().Add(readRetry)
	for {
		out, err := read(ctx)
		if err == nil || !transient(err) || time.Now().After(deadline) {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// transient: an error a cluster gives while a node or a leader is away.
func transient(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

func (j *JetStream) read(ctx context.Context) ([][]byte, error) {
	s, err := j.stream(ctx)
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, requestTimeout)
	info, err := s.Info(ictx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("evidence read: %w", err)
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	return j.consume(ctx, s, 1, info.State.LastSeq)
}

// rangeByMessage is the longest run ReadRange reads message by message.
const rangeByMessage = 32

var _ rangeReader = (*JetStream)(nil)

// ReadRange returns records after+1 to through by stream sequence: the
// stream holds only records and refuses deletes, so record n is message
// n (AppendUnseen checks each record's seq). A short run is read message
// by message, a longer one through an ordered consumer. A cluster in the
// middle of an election is asked again, as Read does.
func (j *JetStream) ReadRange(ctx context.Context, after, through uint64) ([][]byte, error) {
	if through <= after {
		return nil, nil
	}
	return retryRead(ctx, func(ctx context.Context) ([][]byte, error) { return j.readRange(ctx, after, through) })
}

func (j *JetStream) readRange(ctx context.Context, after, through uint64) ([][]byte, error) {
	s, err := j.stream(ctx)
	if err != nil {
		return nil, err
	}
	if through-after > rangeByMessage {
		return j.consume(ctx, s, after+1, through)
	}
	out := make([][]byte, 0, through-after)
	for seq := after + 1; seq <= through; seq++ {
		gctx, cancel := context.WithTimeout(ctx, requestTimeout)
		m, err := s.GetMsg(gctx, seq)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("evidence read: record %d: %w", seq, err)
		}
		out = append(out, m.Data)
	}
	return out, nil
}

// consume reads messages first to last of s through an ordered consumer.
func (j *JetStream) consume(ctx context.Context, s jetstream.Stream, first, last uint64) ([][]byte, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{StreamSubject}}
	if first > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, first
	}
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	c, err := s.OrderedConsumer(cctx, cfg)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("evidence read: %w", err)
	}
	var out [][]byte
	for {
		batch, err := c.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("evidence read: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("evidence read: %w", err)
			}
			out = append(out, m.Data())
			if md.Sequence.Stream >= last {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("evidence read: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("evidence read: the stream stopped at record %d of %d", first+uint64(len(out))-1, last)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// requestTimeout bounds one request of an append: one sent while the
// stream's leader is being elected can go unanswered, and would otherwise
// hold the append for as long as its caller's context.
const requestTimeout = 10 * time.Second
