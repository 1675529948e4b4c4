package evidence_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/evidence/evidencetest"
)

// startNATS runs a JetStream server with file storage and returns its URL.
func startNATS(t *testing.T) string {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}

// connectJS opens a new connection (another process, as far as the
// server can tell).
func connectJS(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func jetStreamLedger(t *testing.T, js jetstream.JetStream, s evidence.Signer) *evidence.Ledger {
	t.Helper()
	b, err := evidence.CreateJetStream(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return evidence.New(b, s)
}

func TestJetStreamLedger(t *testing.T) {
	ctx := context.Background()
	url := startNATS(t)
	s := &evidencetest.Signer{}
	l := jetStreamLedger(t, connectJS(t, url), s)
	var appended []evidence.Record
	for _, r := range lifecycle() {
		out, err := l.Append(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		appended = append(appended, out)
	}
	rep, err := l.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != len(appended) {
		t.Errorf("%d records, want %d", rep.Records, len(appended))
	}
	// The same records as the file backend stores, byte for byte.
	_, _, fileData := newLedger(t, s, lifecycle())
	var sb strings.Builder
	if err := l.Export(ctx, &sb, "jsonl"); err != nil {
		t.Fatal(err)
	}
	if sb.String() != string(fileData) {
		t.Errorf("JetStream export differs from the file ledger:\n%s\nvs\n%s", sb.String(), fileData)
	}

	// The server refuses to delete or purge.
	st, err := connectJS(t, url).Stream(ctx, evidence.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, 2); err == nil {
		t.Error("deleting record 2 succeeded")
	}
	if err := st.SecureDeleteMsg(ctx, 2); err == nil {
		t.Error("erasing record 2 succeeded")
	}
	if err := st.Purge(ctx); err == nil {
		t.Error("purging the ledger succeeded")
	}
	if rep, err := l.Verify(ctx); err != nil || rep.Records != len(appended) {
		t.Errorf("after the refused deletes: %+v, %v", rep, err)
	}
	// Re-creating the stream (every replica does at start-up) keeps it.
	if _, err := evidence.CreateJetStream(ctx, connectJS(t, url), 1); err != nil {
		t.Fatal(err)
	}
	if rep, err := l.Verify(ctx); err != nil || rep.Records != len(appended) {
		t.Errorf("after CreateJetStream again: %+v, %v", rep, err)
	}
}

// TestJetStreamLedgerConcurrentAppends: appenders on separate connections
// race; the expected-last-sequence check keeps one chain.
func TestJetStreamLedgerConcurrentAppends(t *testing.T) {
	url := startNATS(t)
	s := &evidencetest.Signer{}
	ledgers := []*evidence.Ledger{jetStreamLedger(t, connectJS(t, url), s), jetStreamLedger(t, connectJS(t, url), s), jetStreamLedger(t, connectJS(t, url), s)}
	const workers, each = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r := lifecycle()[0]
				r.FindingID = fmt.Sprintf("pv_w%d_%d", w, i)
				if _, err := ledgers[w%len(ledgers)].Append(context.Background(), r); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rep, err := ledgers[0].Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != workers*each {
		t.Errorf("%d records, want %d", rep.Records, workers*each)
	}
	recs, err := ledgers[1].Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.FindingID] {
			t.Errorf("%s stored twice", r.FindingID)
		}
		seen[r.FindingID] = true
	}
}

func TestJetStreamLedgerMissingStream(t *testing.T) {
	ctx := context.Background()
	l := evidence.New(evidence.OpenJetStream(connectJS(t, startNATS(t))), &evidencetest.Signer{})
	if _, err := l.Verify(ctx); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify: err = %v, want fs.ErrNotExist", err)
	}
	if recs, err := l.Records(ctx); err != nil || len(recs) != 0 {
		t.Errorf("Records: %v, %v; want none", recs, err)
	}
	if _, err := l.Append(ctx, lifecycle()[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Append without the stream: err = %v, want fs.ErrNotExist", err)
	}
}
