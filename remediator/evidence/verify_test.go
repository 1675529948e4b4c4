package evidence_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/vault"
)

// transitSigner starts a Vault dev server and returns signers on the ledger
// key and on another ed25519 key of the same engine (a forger with transit
// access, but not to the ledger's key).
func transitSigner(t *testing.T) (evidence.TransitSigner, evidence.TransitSigner, *vaulttest.Server) {
	t.Helper()
	srv := vaulttest.Start(t)
	tr := vault.NewTransit(srv.Client(t), "")
	ctx := context.Background()
	if err := tr.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	s, other := evidence.TransitSigner{T: tr}, evidence.TransitSigner{T: tr, Key: "someone-else"}
	for _, x := range []evidence.TransitSigner{s, other, s} { // twice: Ensure is idempotent
		if err := x.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return s, other, srv
}

// replaceIn returns data with the width bytes at offset off from the first
// occurrence of anchor in line n (1-based) replaced by repl (width 0 is an
// insertion).
func replaceIn(t *testing.T, data []byte, n int, anchor string, off int, width int, repl string) []byte {
	t.Helper()
	lines := bytes.SplitAfter(data, []byte("\n"))
	i := bytes.Index(lines[n-1], []byte(anchor))
	if i < 0 {
		t.Fatalf("no %q in line %d", anchor, n)
	}
	p := i + off
	line := lines[n-1]
	if string(line[p:p+width]) == repl {
		t.Fatalf("replacement %q at %q+%d in line %d changes nothing", repl, anchor, off, n)
	}
	lines[n-1] = append(append(bytes.Clone(line[:p]), repl...), line[p+width:]...)
	return bytes.Join(lines, nil)
}

// other returns a different character of the same class as c, so that a
// change keeps the JSON well formed and reaches the check it aims at.
func other(c byte) string {
	switch {
	case c >= '0' && c <= '8', c >= 'a' && c <= 'e', c >= 'A' && c <= 'Y':
		return string(c + 1)
	case c == '9':
		return "0"
	default:
		return "a"
	}
}

func TestLedgerVerifyWithVaultTransit(t *testing.T) {
	s, forger, srv := transitSigner(t)
	ctx := context.Background()
	l, path, data := newLedger(t, s, lifecycle())
	rep, err := l.Verify(ctx)
	if err != nil {
		t.Fatalf("untouched ledger: %v", err)
	}
	if rep.Records != len(lifecycle()) || !strings.HasPrefix(rep.Head, "sha256:") {
		t.Errorf("Report = %+v", rep)
	}
	if !bytes.Contains(data, []byte(`"signature":"vault:v1:`)) {
		t.Fatalf("records are not signed by Vault transit:\n%s", data)
	}
	n := bytes.Count(data, []byte("\n"))

	// One change at a time, inside each record.
	type mutation struct {
		name   string
		anchor string
		off    int    // from the start of anchor
		width  int    // bytes replaced
		repl   string // "" means other(the byte)
		escape bool   // repl is the byte as a JSON \u escape (same value, other bytes)
		reason string
	}
	mutations := []mutation{
		{name: "signature base64 digit", anchor: `"signature":"vault:v1:`, off: 40, width: 1, reason: "signature does not verify"},
		{name: "signature digit before the padding", anchor: `=="}`, off: -1, width: 1, reason: "signature does not verify"},
		{name: "signature key version", anchor: `"signature":"vault:v`, off: 20, width: 1, repl: "2", reason: "signature does not verify"},
		{name: "signature prefix", anchor: `"signature":"vault:`, off: 13, width: 1, repl: "V", reason: "signature does not verify"},
		{name: "prev_hash hex digit", anchor: `"prev_hash":"sha256:`, off: 30, width: 1, reason: "prev_hash does not match"},
		{name: "finding_id value", anchor: `"finding_id":"pv_`, off: 17, width: 1, reason: "signature does not verify"},
		{name: "actor value", anchor: `"actor":"`, off: 9, width: 1, reason: "signature does not verify"},
		{name: "time digit", anchor: `"time":"2026-03-02T`, off: 19, width: 1, reason: "signature does not verify"},
		{name: "seq digit", anchor: `{"seq":`, off: 7, width: 1, reason: "missing or reordered"},
		{name: "whitespace after a colon", anchor: `"actor":`, off: 8, repl: " ", reason: "canonical"},
		{name: "whitespace at the end of the line", anchor: "}\n", off: 1, repl: " ", reason: "canonical"},
		{name: "CRLF line ending", anchor: "}\n", off: 1, width: 1, repl: "\r\n", reason: "canonical"},
		{name: "key spelled in capitals", anchor: `"actor":`, off: 1, width: 1, repl: "A", reason: "canonical"},
		{name: "character spelled as a \\u escape", anchor: `"transition":"`, off: 14, width: 1, escape: true, reason: "canonical"},
		{name: "invalid escape", anchor: `"transition":"`, off: 14, width: 1, repl: `\u00`, reason: "not a valid record"},
	}
	for line := 1; line <= n; line++ {
		for _, m := range mutations {
			name := fmt.Sprintf("record %d/%s", line, m.name)
			t.Run(name, func(t *testing.T) {
				lines := bytes.SplitAfter(data, []byte("\n"))
				i := bytes.Index(lines[line-1], []byte(m.anchor))
				if i < 0 {
					t.Skipf("no %q in line %d (prev_hash is empty on line 1)", m.anchor, line)
				}
				c := lines[line-1][i+m.off]
				repl := m.repl
				switch {
				case m.escape:
					repl = fmt.Sprintf(`\u%04x`, c)
				case repl == "":
					repl = other(c)
				}
				mutated := replaceIn(t, data, line, m.anchor, m.off, m.width, repl)
				_, err := verifyCopy(t, s, mutated)
				ve := wantLine(t, name, err, line, 0)
				if ve != nil && !strings.Contains(ve.Reason, m.reason) {
					t.Errorf("%v, want reason containing %q", ve, m.reason)
				}
			})
		}
	}

	// Whole records removed, swapped, truncated, forged.
	random := make([]byte, 64)
	rand.Read(random)
	cases := structuralCases(t, data, forger)
	last := decodeLine(t, bytes.SplitAfter(data, []byte("\n"))[n-1])
	forgedRandom := strings.Replace(string(data), last.Signature, "vault:v1:"+base64.StdEncoding.EncodeToString(random), 1)
	cases = append(cases, structuralCase{"last record's signature replaced by random bytes", []byte(forgedRandom), n, n, "signature does not verify"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyCopy(t, s, tc.data)
			ve := wantLine(t, tc.name, err, tc.line, tc.seq)
			if ve != nil && !strings.Contains(ve.Error(), tc.reason) {
				t.Errorf("%v, want reason containing %q", ve, tc.reason)
			}
		})
	}

	// Removing the last record leaves a shorter valid chain: only the head
	// kept elsewhere shows it.
	t.Run("remove the last record", func(t *testing.T) {
		lines := bytes.SplitAfter(data, []byte("\n"))
		got, err := verifyCopy(t, s, bytes.Join(lines[:n-1], nil))
		if err != nil {
			t.Fatal(err)
		}
		if got.Records != n-1 || got.Head == rep.Head {
			t.Errorf("Report = %+v; want %d records and a head other than %s", got, n-1, rep.Head)
		}
	})

	// After a rotation of the signing key, old records verify and new ones
	// are signed with the new version.
	t.Run("key rotation", func(t *testing.T) {
		if _, err := srv.Client(t).Logical().WriteWithContext(ctx, "transit/keys/"+evidence.DefaultKey+"/rotate", nil); err != nil {
			t.Fatal(err)
		}
		r, err := l.Append(ctx, lifecycle()[0])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Signature, "vault:v2:") {
			t.Errorf("signature after rotation = %q, want vault:v2:...", r.Signature)
		}
		if rep, err := l.Verify(ctx); err != nil || rep.Records != n+1 {
			t.Errorf("Verify after rotation: %+v, %v", rep, err)
		}
		if after, _ := os.ReadFile(path); !bytes.HasPrefix(after, data) {
			t.Errorf("appending changed earlier records")
		}
	})
}
