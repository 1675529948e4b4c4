package evidence_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/evidence/evidencetest"
)

var _ evidence.Signer = (*evidencetest.Signer)(nil)

var t0 = time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)

// lifecycle is one finding's records as a caller would pass them, with
// fixed times: detected, vaulted, rotated, fix_proposed, closed, and a
// second finding whose rotation is manual.
func lifecycle() []evidence.Record {
	const fp = "hmac-vault:v1:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	base := func(min int, transition, actor string) evidence.Record {
		return evidence.Record{
			Time:        t0.Add(time.Duration(min) * time.Minute),
			FindingID:   "pv_01JNQ4Z8K2",
			Fingerprint: fp,
			Repository:  "acme/shop",
			Transition:  transition,
			Actor:       actor,
		}
	}
	detected := base(0, evidence.Detected, "pushvault")
	detected.Detail = map[string]string{"commit": "a984ea0", "path": "config/.env", "line": "2", "detector": "Stripe"}
	detected.Links = map[string]string{"check_run": "https://github.com/acme/shop/runs/42"}
	vaulted := base(1, evidence.Vaulted, "pushvault")
	vaulted.VaultPath, vaulted.VaultVersion = "secret/data/pushvault/acme/shop/stripe_api_key", 1
	rotated := base(2, evidence.Rotated, "pushvault")
	rotated.VaultPath, rotated.VaultVersion = "secret/data/pushvault/acme/shop/stripe_api_key", 2
	rotated.Rotation = "revoked; old key rejected by the provider"
	fix := base(3, evidence.FixProposed, "pushvault")
	fix.Links = map[string]string{"pr": "https://github.com/acme/shop/pull/7"}
	closed := base(60, evidence.Closed, "github:octocat")
	closed.Detail = map[string]string{"reason": "fix merged", "note": "café ☕"}
	closed.Links = map[string]string{"pr": "https://github.com/acme/shop/pull/7"}
	manual := evidence.Record{
		Time: t0.Add(5 * time.Minute), FindingID: "pv_01JNQ50000", Repository: "acme/shop",
		Fingerprint: "hmac-vault:v1:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		Transition:  evidence.RotationManual, Actor: "pushvault",
		VaultPath: "secret/data/pushvault/acme/shop/db_password", VaultVersion: 1,
		Rotation: "manual: no rotator for this provider",
		Links:    map[string]string{"issue": "https://github.com/acme/shop/issues/8", "runbook": "see wiki page DB-rotation"},
	}
	return []evidence.Record{detected, vaulted, rotated, fix, manual, closed}
}

// newLedger appends records to a fresh file ledger and returns it, its path
// and the file's bytes.
func newLedger(t *testing.T, s evidence.Signer, records []evidence.Record) (*evidence.Ledger, string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "evidence", "ledger.jsonl")
	l := evidence.New(evidence.NewFile(path), s)
	for _, r := range records {
		if _, err := l.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return l, path, data
}

func TestLedgerAppendFillsTheChain(t *testing.T) {
	s := &evidencetest.Signer{}
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	clock := t0.In(time.FixedZone("CET", 3600)).Add(42 * time.Second)
	l := evidence.New(evidence.NewFile(path), s, evidence.WithClock(func() time.Time { return clock }))
	ctx := context.Background()

	in := lifecycle()[:3]
	in[0].Time = time.Time{}                                                   // stamped by the clock
	in[1].Seq, in[1].PrevHash, in[1].Signature = 99, "sha256:caller", "caller" // overwritten
	var got []evidence.Record
	for _, r := range in {
		out, err := l.Append(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, out)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), data)
	}
	for i, r := range got {
		if r.Seq != uint64(i+1) {
			t.Errorf("record %d: Seq = %d", i+1, r.Seq)
		}
		wantPrev := ""
		if i > 0 {
			wantPrev = evidence.Hash([]byte(lines[i-1]))
		}
		if r.PrevHash != wantPrev {
			t.Errorf("record %d: PrevHash = %q, want %q", i+1, r.PrevHash, wantPrev)
		}
		if r.Time.Location() != time.UTC {
			t.Errorf("record %d: Time %v is not UTC", i+1, r.Time)
		}
		unsigned, err := r.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.Verify(ctx, unsigned, r.Signature); !ok {
			t.Errorf("record %d: signature %q is not the signer's signature of Canonical()", i+1, r.Signature)
		}
		if !strings.Contains(string(unsigned), `"signature":""`) {
			t.Errorf("record %d: Canonical() = %s, want an empty signature field", i+1, unsigned)
		}
	}
	if want := clock.UTC(); !got[0].Time.Equal(want) || got[0].Time.Location() != time.UTC {
		t.Errorf("zero Time stamped %v, want %v", got[0].Time, want)
	}
	// What Append returns is what was stored.
	want := fmt.Sprintf(`{"seq":2,"time":"2026-03-02T09:16:00Z","finding_id":"pv_01JNQ4Z8K2","fingerprint":"%s","repository":"acme/shop","transition":"vaulted","actor":"pushvault","vault_path":"secret/data/pushvault/acme/shop/stripe_api_key","vault_version":1,"prev_hash":"%s","signature":"%s"}`,
		in[1].Fingerprint, got[1].PrevHash, got[1].Signature)
	if diff := cmp.Diff(want, lines[1]); diff != "" {
		t.Errorf("stored line 2 (-want +got):\n%s", diff)
	}
	if s.SignCalls() != 3 {
		t.Errorf("SignCalls = %d, want 3", s.SignCalls())
	}

	rep, err := l.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(evidence.Report{Records: 3, Head: evidence.Hash([]byte(lines[2]))}, rep); diff != "" {
		t.Errorf("Report (-want +got):\n%s", diff)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("ledger file mode %v, want 0600", info.Mode().Perm())
	}
}

func TestLedgerAppendRejects(t *testing.T) {
	ok := lifecycle()[0]
	tests := []struct {
		name   string
		mutate func(*evidence.Record)
		signer *evidencetest.Signer
		want   []string
	}{
		{"unknown transition", func(r *evidence.Record) { r.Transition = "leaked" }, nil,
			[]string{`transition "leaked" is not one of detected, vaulted, rotation_started, rotated, exposed_verified_dead, exposed_destroyed, rotation_failed, rotation_pending, rotation_manual, marked_rotated, fix_proposed, closed`}},
		{"every missing field at once", func(r *evidence.Record) { r.FindingID, r.Actor, r.Transition = "", "", "" }, nil,
			[]string{"finding_id is empty", "actor is empty", `transition ""`}},
		{"negative vault version", func(r *evidence.Record) { r.VaultVersion = -1 }, nil, []string{"vault_version -1"}},
		{"sign error", nil, &evidencetest.Signer{SignError: errors.New("transit unavailable")},
			[]string{"sign record 1: transit unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			if tt.mutate != nil {
				tt.mutate(&r)
			}
			s := tt.signer
			if s == nil {
				s = &evidencetest.Signer{}
			}
			path := filepath.Join(t.TempDir(), "ledger.jsonl")
			_, err := evidence.New(evidence.NewFile(path), s).Append(context.Background(), r)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
			if data, _ := os.ReadFile(path); len(data) != 0 {
				t.Errorf("something was stored: %q", data)
			}
		})
	}
}

func TestLedgerAppendRefusesADamagedTail(t *testing.T) {
	_, path, data := newLedger(t, &evidencetest.Signer{}, lifecycle()[:2])
	tests := []struct {
		name string
		file string
		is   error
		want string
	}{
		{"torn last line", string(data[:len(data)-7]), evidence.ErrIncomplete, ""},
		{"unparseable last line", string(data) + "{\"seq\":\n", nil, "last stored record: not a valid record"},
		{"non-canonical last line", strings.TrimSuffix(string(data), "}\n") + " }\n", nil, "last stored record: not in canonical form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := evidence.New(evidence.NewFile(path), &evidencetest.Signer{}).Append(context.Background(), lifecycle()[2])
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
			if after, _ := os.ReadFile(path); string(after) != tt.file {
				t.Errorf("the file changed")
			}
		})
	}
}

// lineOf is the 1-based line holding byte p of data (a newline belongs to
// the line it ends).
func lineOf(data []byte, p int) int { return 1 + bytes.Count(data[:p], []byte("\n")) }

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

// verifyCopy writes data to a fresh file and verifies it.
func verifyCopy(t *testing.T, s evidence.Signer, data []byte) (evidence.Report, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.jsonl")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return evidence.New(evidence.NewFile(path), s).Verify(context.Background())
}

// wantLine asserts that err is a *VerifyError naming line (and, when seq >
// 0, that seq) and returns it.
func wantLine(t *testing.T, what string, err error, line, seq int) *evidence.VerifyError {
	t.Helper()
	var ve *evidence.VerifyError
	if !errors.As(err, &ve) {
		t.Errorf("%s: err = %v, want a *VerifyError naming line %d", what, err, line)
		return nil
	}
	if ve.Line != line || (seq > 0 && ve.Seq != seq) {
		t.Errorf("%s: %v, want line %d (seq %d)", what, ve, line, seq)
	}
	return ve
}

// TestLedgerVerifyEveryByte changes every byte of every record in three ways
// (flip its lowest bit, insert a space before it, delete it) and checks that
// Verify names the record holding that byte.
func TestLedgerVerifyEveryByte(t *testing.T) {
	s := &evidencetest.Signer{}
	_, _, data := newLedger(t, s, lifecycle())
	if _, err := verifyCopy(t, s, data); err != nil {
		t.Fatalf("untouched ledger: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "copy.jsonl")
	l := evidence.New(evidence.NewFile(path), s)
	check := func(what string, mutated []byte, line int) {
		if err := os.WriteFile(path, mutated, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := l.Verify(context.Background())
		wantLine(t, what, err, line, 0)
	}
	// Every byte in the full tier; in the fast tier (-short) every 17th,
	// a spread sample across every record.
	step := 1
	if testing.Short() {
		step = 17
	}
	for p := 0; p < len(data); p += step {
		flipped := bytes.Clone(data)
		flipped[p] ^= 0x01
		check(fmt.Sprintf("flip byte %d (%q)", p, data[p]), flipped, lineOf(data, p))

		inserted := append(append(bytes.Clone(data[:p]), ' '), data[p:]...)
		check(fmt.Sprintf("space before byte %d (%q)", p, data[p]), inserted, lineOf(data, p))

		deleted := append(bytes.Clone(data[:p]), data[p+1:]...)
		check(fmt.Sprintf("delete byte %d (%q)", p, data[p]), deleted, lineOf(data, p))
	}
	check("space after the last newline", append(bytes.Clone(data), ' '), bytes.Count(data, []byte("\n"))+1)
	check("blank line at the end", append(bytes.Clone(data), '\n'), bytes.Count(data, []byte("\n"))+1)
}

// TestLedgerVerifyStructure covers whole-record changes with the fake signer.
func TestLedgerVerifyStructure(t *testing.T) {
	s := &evidencetest.Signer{}
	_, _, data := newLedger(t, s, lifecycle())
	forger := &evidencetest.Signer{Key: "someone else"}
	for _, tc := range structuralCases(t, data, forger) {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyCopy(t, s, tc.data)
			ve := wantLine(t, tc.name, err, tc.line, tc.seq)
			if ve != nil && !strings.Contains(ve.Error(), tc.reason) {
				t.Errorf("%v, want reason containing %q", ve, tc.reason)
			}
		})
	}
}

type structuralCase struct {
	name   string
	data   []byte
	line   int
	seq    int
	reason string
}

// structuralCases builds whole-record tamperings of a ledger; forger signs
// forged records with a key other than the ledger's.
func structuralCases(t *testing.T, data []byte, forger evidence.Signer) []structuralCase {
	t.Helper()
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty string after the final newline
	n := len(lines)
	join := func(ls ...[]byte) []byte { return bytes.Join(ls, nil) }
	without := func(k int) []byte { // k is 0-based
		return join(append(append([][]byte{}, lines[:k]...), lines[k+1:]...)...)
	}
	swapped := func(i, j int) []byte {
		ls := append([][]byte{}, lines...)
		ls[i], ls[j] = ls[j], ls[i]
		return join(ls...)
	}
	last := decodeLine(t, lines[n-1])
	forged := evidence.Record{
		Seq: last.Seq + 1, Time: last.Time.Add(time.Hour), FindingID: last.FindingID, Repository: last.Repository,
		Transition: evidence.Closed, Actor: "mallory", PrevHash: evidence.Hash(bytes.TrimSuffix(lines[n-1], []byte("\n"))),
	}
	unsigned, err := forged.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	forgedWith := func(sig string) []byte {
		r := forged
		r.Signature = sig
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return append(bytes.Clone(data), append(b, '\n')...)
	}
	otherSig, err := forger.Sign(context.Background(), unsigned)
	if err != nil {
		t.Fatal(err)
	}

	var cases []structuralCase
	for k := 0; k < n-1; k++ {
		reason := fmt.Sprintf("seq %d follows %d", k+2, k)
		if k == 0 {
			reason = "seq 2, want 1"
		}
		cases = append(cases, structuralCase{fmt.Sprintf("remove record %d", k+1), without(k), k + 1, 0, reason})
	}
	for i := 0; i < n-1; i++ {
		cases = append(cases, structuralCase{fmt.Sprintf("swap records %d and %d", i+1, i+2), swapped(i, i+1), i + 1, 0, "missing or reordered"})
	}
	cases = append(cases,
		structuralCase{"swap first and last", swapped(0, n-1), 1, 0, fmt.Sprintf("seq %d, want 1", n)},
		structuralCase{"duplicate record 2", join(append(append(append([][]byte{}, lines[:2]...), lines[1]), lines[2:]...)...), 3, 0, "seq 2 follows 2"},
		structuralCase{"truncate the last line", data[:len(data)-len(lines[n-1])/2], n, 0, "incomplete"},
		structuralCase{"remove the final newline", data[:len(data)-1], n, 0, "incomplete"},
		structuralCase{"blank line between records", join(lines[0], []byte("\n"), join(lines[1:]...)), 2, 0, "empty line"},
		structuralCase{"forged record, signature of another record", forgedWith(last.Signature), n + 1, n + 1, "signature does not verify"},
		structuralCase{"forged record, signed with another key", forgedWith(otherSig), n + 1, n + 1, "signature does not verify"},
		structuralCase{"forged record, no signature", forgedWith(""), n + 1, n + 1, "signature does not verify"},
	)
	return cases
}

func decodeLine(t *testing.T, line []byte) evidence.Record {
	t.Helper()
	var r evidence.Record
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLedgerVerifyEdges(t *testing.T) {
	ctx := context.Background()
	s := &evidencetest.Signer{}

	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.New(evidence.NewFile(empty), s).Verify(ctx)
	if err != nil || rep != (evidence.Report{}) {
		t.Errorf("empty ledger: %+v, %v; want an empty report", rep, err)
	}

	_, err = evidence.New(evidence.NewFile(filepath.Join(t.TempDir(), "none.jsonl")), s).Verify(ctx)
	var ve *evidence.VerifyError
	if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &ve) {
		t.Errorf("missing ledger: err = %v, want fs.ErrNotExist and no VerifyError", err)
	}

	_, path, _ := newLedger(t, s, lifecycle()[:2])
	down := errors.New("signer down")
	_, err = evidence.New(evidence.NewFile(path), &evidencetest.Signer{VerifyError: down}).Verify(ctx)
	if !errors.Is(err, down) || errors.As(err, &ve) {
		t.Errorf("signer error: err = %v, want it wrapped and no VerifyError", err)
	}

	// A record appended with a valid transition that is then rewritten (and
	// re-signed) to an invalid one is reported as such.
	bad := lifecycle()[0]
	bad.Seq, bad.Transition = 1, "leaked"
	unsigned, _ := bad.Canonical()
	bad.Signature, _ = s.Sign(ctx, unsigned)
	b, _ := json.Marshal(bad)
	_, err = verifyCopy(t, s, append(b, '\n'))
	wantLine(t, "invalid transition", err, 1, 1)

	if got := (&evidence.VerifyError{Seq: 3, Line: 3, Reason: "signature does not verify"}).Error(); got != "record 3 (line 3): signature does not verify" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&evidence.VerifyError{Line: 5, Reason: "seq 6 follows 4 (a record is missing or reordered)"}).Error(); got != "line 5: seq 6 follows 4 (a record is missing or reordered)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestLedgerConcurrentAppends(t *testing.T) {
	s := &evidencetest.Signer{}
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	// Two ledgers on one file: the in-process mutex of each and the file
	// lock between them.
	ledgers := []*evidence.Ledger{evidence.New(evidence.NewFile(path), s), evidence.New(evidence.NewFile(path), s)}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := ledgers[w%2]
			for i := 0; i < each; i++ {
				r := lifecycle()[0]
				r.FindingID = fmt.Sprintf("pv_w%d_%d", w, i)
				if _, err := l.Append(context.Background(), r); err != nil {
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
}

// TestLedgerAppendAcrossProcesses runs this test binary as several helper
// processes appending to one file at once.
func TestLedgerAppendAcrossProcesses(t *testing.T) {
	if path := os.Getenv("PUSHVAULT_EVIDENCE_HELPER_FILE"); path != "" {
		n, _ := strconv.Atoi(os.Getenv("PUSHVAULT_EVIDENCE_HELPER_N"))
		l := evidence.New(evidence.NewFile(path), &evidencetest.Signer{})
		for i := 0; i < n; i++ {
			r := lifecycle()[0]
			r.FindingID = fmt.Sprintf("pv_p%d_%d", os.Getpid(), i)
			if _, err := l.Append(context.Background(), r); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		return
	}
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	const procs, each = 4, 30
	runHelpers(t, "TestLedgerAppendAcrossProcesses", procs, "PUSHVAULT_EVIDENCE_HELPER_FILE="+path, "PUSHVAULT_EVIDENCE_HELPER_N="+strconv.Itoa(each))
	rep, err := evidence.New(evidence.NewFile(path), &evidencetest.Signer{}).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != procs*each {
		t.Errorf("%d records, want %d", rep.Records, procs*each)
	}
}

// runHelpers runs procs copies of this test binary at once, running only
// test with env added, and fails t for each that fails.
func runHelpers(t *testing.T, test string, procs int, env ...string) {
	t.Helper()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
		cmd.Env = append(os.Environ(), env...)
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper %d: %v\n%s", i, err, outs[i])
		}
	}
}

// newBatchLedger appends records to a fresh file ledger in batches of the
// given sizes (Ledger.AppendAll) and returns it, its path and the bytes.
func newBatchLedger(t *testing.T, s evidence.Signer, records []evidence.Record, sizes ...int) (*evidence.Ledger, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "evidence", "ledger.jsonl")
	l := evidence.New(evidence.NewFile(path), s)
	for _, n := range sizes {
		stored, err := l.AppendAll(context.Background(), records[:n])
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != n {
			t.Fatalf("AppendAll stored %d of %d", len(stored), n)
		}
		records = records[n:]
	}
	if len(records) > 0 {
		t.Fatalf("%d records left over", len(records))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return l, data
}

// TestLedgerAppendAll: records appended together are signed in one request
// per batch, the first chained to the stored record before it as Append
// chains, the rest to the record before them without its signature; the
// ledger verifies, and every byte changed, and every record removed,
// swapped, duplicated or forged, fails on its line as in a ledger of
// single appends.
func TestLedgerAppendAll(t *testing.T) {
	s := &evidencetest.Signer{}
	_, data := newBatchLedger(t, s, lifecycle(), 1, 3, 2) // detected | vaulted rotated fix | manual closed
	if n := s.SignCalls(); n != 3 {
		t.Errorf("%d sign requests for 3 batches, want 3", n)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	var recs []evidence.Record
	for _, l := range lines {
		recs = append(recs, decodeLine(t, l))
	}
	for i, r := range recs {
		want := ""
		switch i {
		case 0:
		case 1, 4: // the first of a batch
			want = evidence.Hash(lines[i-1])
		default:
			var err error
			if want, err = evidence.UnsignedHash(recs[i-1]); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(want, "sha256-unsigned:") {
				t.Fatalf("UnsignedHash = %q", want)
			}
		}
		if r.Seq != uint64(i+1) || r.PrevHash != want {
			t.Errorf("record %d: seq %d, prev_hash %q; want seq %d, prev_hash %q", i+1, r.Seq, r.PrevHash, i+1, want)
		}
	}
	if rep, err := verifyCopy(t, s, data); err != nil || rep.Records != len(recs) || rep.Head != evidence.Hash(lines[len(lines)-1]) {
		t.Fatalf("untouched ledger: %+v, %v", rep, err)
	}

	path := filepath.Join(t.TempDir(), "copy.jsonl")
	l := evidence.New(evidence.NewFile(path), s)
	check := func(what string, mutated []byte, line int) {
		if err := os.WriteFile(path, mutated, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := l.Verify(context.Background())
		wantLine(t, what, err, line, 0)
	}
	step := 1
	if testing.Short() {
		step = 17
	}
	for p := 0; p < len(data); p += step {
		flipped := bytes.Clone(data)
		flipped[p] ^= 0x01
		check(fmt.Sprintf("flip byte %d (%q)", p, data[p]), flipped, lineOf(data, p))
		deleted := append(bytes.Clone(data[:p]), data[p+1:]...)
		check(fmt.Sprintf("delete byte %d (%q)", p, data[p]), deleted, lineOf(data, p))
	}

	forger := &evidencetest.Signer{Key: "someone else"}
	for _, tc := range structuralCases(t, data, forger) {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyCopy(t, s, tc.data)
			ve := wantLine(t, tc.name, err, tc.line, tc.seq)
			if ve != nil && !strings.Contains(ve.Error(), tc.reason) {
				t.Errorf("%v, want reason containing %q", ve, tc.reason)
			}
		})
	}

	// A record inserted inside a batch, chained to the one before it in
	// either form and signed by another key, breaks the chain where it
	// stands.
	forged := recs[2]
	forged.Seq, forged.Actor, forged.Signature = 4, "mallory", ""
	var err error
	if forged.PrevHash, err = evidence.UnsignedHash(recs[2]); err != nil {
		t.Fatal(err)
	}
	unsigned, err := forged.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if forged.Signature, err = forger.Sign(context.Background(), unsigned); err != nil {
		t.Fatal(err)
	}
	fb, err := json.Marshal(forged)
	if err != nil {
		t.Fatal(err)
	}
	inserted := bytes.Join(append(append(append([][]byte{}, lines[:3]...), fb), lines[3:]...), []byte("\n"))
	_, err = verifyCopy(t, s, append(inserted, '\n'))
	wantLine(t, "record forged inside a batch", err, 4, 4)
}

// TestLedgerAppendAllRejects: one invalid record stores none of the batch.
func TestLedgerAppendAllRejects(t *testing.T) {
	s := &evidencetest.Signer{}
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	l := evidence.New(evidence.NewFile(path), s)
	recs := lifecycle()
	recs[1].Actor = ""
	if _, err := l.AppendAll(context.Background(), recs); err == nil || !strings.Contains(err.Error(), "record 2 of 6") {
		t.Fatalf("err = %v, want record 2 named", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ledger written: %v", err)
	}
	if s.SignCalls() != 0 {
		t.Errorf("%d sign requests, want none", s.SignCalls())
	}
}
