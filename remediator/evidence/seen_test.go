package evidence_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/evidence/evidencetest"
)

// byFinding identifies a record by its finding and transition, as
// app/ledger's Key does with more fields.
func byFinding(r evidence.Record) string { return r.FindingID + "\x00" + r.Transition }

// identities returns n records, each its own identity.
func identities(n int) []evidence.Record {
	out := make([]evidence.Record, n)
	for i := range out {
		r := lifecycle()[0]
		r.FindingID = fmt.Sprintf("pv_id%03d", i)
		out[i] = r
	}
	return out
}

// findings returns the ledger's finding ids, failing on one stored twice.
func findings(t *testing.T, l *evidence.Ledger) map[string]bool {
	t.Helper()
	recs, err := l.Records(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range recs {
		if got[r.FindingID] {
			t.Errorf("%s stored twice", r.FindingID)
		}
		got[r.FindingID] = true
	}
	return got
}

// TestLedgerAppendUnseen: a record already in the ledger, or given twice,
// is not appended again; a second index over the same ledger (another
// process) learns the records from the ledger; an index over a ledger
// replaced under it learns the new one.
func TestLedgerAppendUnseen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	s := &evidencetest.Signer{}
	l := evidence.New(evidence.NewFile(path), s)
	seen := evidence.NewSeen(byFinding)
	ids := identities(5)

	stored, err := l.AppendUnseen(ctx, []evidence.Record{ids[0], ids[1], ids[0]}, seen)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 || stored[0].FindingID != "pv_id000" || stored[1].FindingID != "pv_id001" || stored[1].Seq != 2 {
		t.Fatalf("stored %+v, want pv_id000 and pv_id001 as records 1 and 2", stored)
	}
	if stored, err = l.AppendUnseen(ctx, ids[:3], seen); err != nil || len(stored) != 1 || stored[0].FindingID != "pv_id002" {
		t.Fatalf("stored %+v (%v), want only pv_id002", stored, err)
	}
	if stored, err = l.AppendUnseen(ctx, ids[:3], seen); err != nil || len(stored) != 0 {
		t.Fatalf("stored %+v (%v), want nothing", stored, err)
	}

	// Another process's index, empty, and the first one behind it.
	other := evidence.New(evidence.NewFile(path), s)
	if stored, err = other.AppendUnseen(ctx, ids[:4], evidence.NewSeen(byFinding)); err != nil || len(stored) != 1 || stored[0].FindingID != "pv_id003" {
		t.Fatalf("second index stored %+v (%v), want only pv_id003", stored, err)
	}
	if stored, err = l.AppendUnseen(ctx, ids, seen); err != nil || len(stored) != 1 || stored[0].FindingID != "pv_id004" || stored[0].Seq != 5 {
		t.Fatalf("first index stored %+v (%v), want only pv_id004 as record 5", stored, err)
	}

	// The ledger replaced by a shorter one, then by one as long with other
	// records: what it holds now is what counts.
	for _, replace := range [][]evidence.Record{ids[4:5], {ids[0], ids[1], ids[2], lifecycle()[1], ids[4]}} {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, err := evidence.New(evidence.NewFile(path), s).AppendAll(ctx, replace); err != nil {
			t.Fatal(err)
		}
		if _, err := l.AppendUnseen(ctx, ids, seen); err != nil {
			t.Fatal(err)
		}
		got := findings(t, l)
		for _, r := range ids {
			if !got[r.FindingID] {
				t.Errorf("%s missing after the ledger was replaced", r.FindingID)
			}
		}
		if _, err := l.Verify(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLedgerAppendUnseenAcrossProcesses: processes appending the same
// identities to one file ledger at once, each with its own index, store
// each identity once.
func TestLedgerAppendUnseenAcrossProcesses(t *testing.T) {
	const procs, n = 4, 40
	if path := os.Getenv("PUSHVAULT_UNSEEN_HELPER_FILE"); path != "" {
		l := evidence.New(evidence.NewFile(path), &evidencetest.Signer{})
		seen := evidence.NewSeen(byFinding)
		ids := identities(n)
		rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		for len(ids) > 0 {
			k := min(len(ids), 1+rand.IntN(4))
			if _, err := l.AppendUnseen(context.Background(), ids[:k], seen); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			ids = ids[k:]
		}
		return
	}
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	runHelpers(t, "TestLedgerAppendUnseenAcrossProcesses", procs, "PUSHVAULT_UNSEEN_HELPER_FILE="+path)
	l := evidence.New(evidence.NewFile(path), &evidencetest.Signer{})
	rep, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != n || len(findings(t, l)) != n {
		t.Errorf("%d records, want %d: each identity once", rep.Records, n)
	}
}

// TestJetStreamLedgerAppendUnseen: three connections (replicas), each with
// its own index, appending the same identities at once in their own
// orders and batches, store each once, in one verified chain; one that
// joins late learns a run of records longer than it reads one by one.
func TestJetStreamLedgerAppendUnseen(t *testing.T) {
	const n = 60
	url := startNATS(t)
	s := &evidencetest.Signer{}
	ctx := context.Background()
	var ledgers []*evidence.Ledger
	for range 3 {
		ledgers = append(ledgers, jetStreamLedger(t, connectJS(t, url), s))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(ledgers))
	for i, l := range ledgers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := evidence.NewSeen(byFinding)
			for round := range 2 { // the second round stores nothing
				ids := identities(n)
				rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
				for len(ids) > 0 {
					k := min(len(ids), 1+rand.IntN(5))
					stored, err := l.AppendUnseen(ctx, ids[:k], seen)
					if err != nil {
						errs <- fmt.Errorf("ledger %d: %w", i, err)
						return
					}
					if round == 1 && len(stored) > 0 {
						errs <- fmt.Errorf("ledger %d stored %d records again", i, len(stored))
					}
					ids = ids[k:]
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rep, err := ledgers[0].Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != n || len(findings(t, ledgers[1])) != n {
		t.Errorf("%d records, want %d: each identity once", rep.Records, n)
	}

	late := jetStreamLedger(t, connectJS(t, url), s)
	more := append(identities(n), identities(n + 1)[n])
	stored, err := late.AppendUnseen(ctx, more, evidence.NewSeen(byFinding))
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].FindingID != fmt.Sprintf("pv_id%03d", n) || stored[0].Seq != n+1 {
		t.Errorf("late joiner stored %d records, want only pv_id%03d as record %d", len(stored), n, n+1)
	}
}

// plainBackend hides every method but Backend's: a backend that cannot
// read a run of records inside its append.
type plainBackend struct{ evidence.Backend }

// TestLedgerAppendUnseenPlainBackend: over a backend that can only read
// the whole ledger, an index behind the ledger gives the append up,
// learns the whole ledger and appends what it does not hold.
func TestLedgerAppendUnseenPlainBackend(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	s := &evidencetest.Signer{}
	a := evidence.New(plainBackend{evidence.NewFile(path)}, s)
	b := evidence.New(plainBackend{evidence.NewFile(path)}, s)
	seenA, seenB := evidence.NewSeen(byFinding), evidence.NewSeen(byFinding)
	ids := identities(6)
	if stored, err := a.AppendUnseen(ctx, ids[:3], seenA); err != nil || len(stored) != 3 {
		t.Fatalf("a stored %d (%v), want 3", len(stored), err)
	}
	if stored, err := b.AppendUnseen(ctx, ids[1:5], seenB); err != nil || len(stored) != 2 || stored[0].FindingID != "pv_id003" {
		t.Fatalf("b stored %d (%v), want pv_id003 and pv_id004", len(stored), err)
	}
	if stored, err := a.AppendUnseen(ctx, ids, seenA); err != nil || len(stored) != 1 || stored[0].FindingID != "pv_id005" || stored[0].Seq != 6 {
		t.Fatalf("a stored %d (%v), want only pv_id005 as record 6", len(stored), err)
	}
	if got := findings(t, a); len(got) != 6 {
		t.Errorf("%d findings, want 6", len(got))
	}
	if _, err := a.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}
