package evidence_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/golden"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/evidence/evidencetest"
)

func TestLedgerExport(t *testing.T) {
	ctx := context.Background()
	l, _, data := newLedger(t, &evidencetest.Signer{}, lifecycle())

	var md bytes.Buffer
	if err := l.Export(ctx, &md, "md"); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "evidence/export.md", md.String())

	var jsonl bytes.Buffer
	if err := l.Export(ctx, &jsonl, "jsonl"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(jsonl.Bytes(), data) {
		t.Errorf("jsonl export differs from the stored file:\n%s\nwant:\n%s", jsonl.Bytes(), data)
	}

	if err := l.Export(ctx, &bytes.Buffer{}, "csv"); err == nil || !strings.Contains(err.Error(), `unknown format "csv" (want jsonl or md)`) {
		t.Errorf("csv: err = %v", err)
	}
}

func TestLedgerExportEscapesMarkdown(t *testing.T) {
	r := lifecycle()[0]
	r.Actor = "alice | bob\nnext line"
	r.Rotation = "see `docs` <b>now</b> [x](y)"
	r.Links = map[string]string{"pr": "https://example.com/a|b", "ok": "https://example.com/pull/1", "note": "not a url"}
	l, _, _ := newLedger(t, &evidencetest.Signer{}, []evidence.Record{r})
	var md bytes.Buffer
	if err := l.Export(context.Background(), &md, "md"); err != nil {
		t.Fatal(err)
	}
	row := strings.Split(md.String(), "\n")[4]
	for _, want := range []string{
		`alice \| bob next line`,
		"see \\`docs\\` \\<b\\>now\\</b\\> \\[x\\](y)",
		"note: not a url, [ok](https://example.com/pull/1), pr: https://example.com/a\\|b",
	} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q\nwant it to contain %q", row, want)
		}
	}
	if got := strings.Count(row, " | "); got != 9 {
		t.Errorf("row has %d column breaks, want 9: %q", got, row)
	}
}

func TestLedgerExportRefusesAnIncompleteLedger(t *testing.T) {
	_, _, data := newLedger(t, &evidencetest.Signer{}, lifecycle()[:2])
	path := t.TempDir() + "/torn.jsonl"
	if err := writeFile(path, data[:len(data)-3]); err != nil {
		t.Fatal(err)
	}
	err := evidence.New(evidence.NewFile(path), &evidencetest.Signer{}).Export(context.Background(), &bytes.Buffer{}, "jsonl")
	if !errors.Is(err, evidence.ErrIncomplete) {
		t.Errorf("err = %v, want ErrIncomplete", err)
	}

	empty := t.TempDir() + "/empty.jsonl"
	if err := writeFile(empty, nil); err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := evidence.New(evidence.NewFile(empty), &evidencetest.Signer{}).Export(context.Background(), &md, "md"); err != nil {
		t.Fatal(err)
	}
	if want := "# pushvault evidence ledger\n\nThe ledger is empty.\n"; md.String() != want {
		t.Errorf("empty export = %q, want %q", md.String(), want)
	}
}
