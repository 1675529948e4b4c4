package evidence

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Export writes the ledger to w in format "jsonl" (the records exactly as
// stored, one per line: the file an auditor can verify independently) or
// "md" (a Markdown table for people, one row per record with every field
// but fingerprint, prev_hash and signature, ending with the record count and the
// head hash). Export does not verify; run Verify for that. It fails on a
// ledger it can't read, including one whose last record is incomplete, and
// in "md" on a record it can't parse.
func (l *Ledger) Export(ctx context.Context, w io.Writer, format string) error {
	if format != "jsonl" && format != "md" {
		return fmt.Errorf("evidence export: unknown format %q (want jsonl or md)", format)
	}
	lines, err := l.b.Read(ctx)
	if err != nil {
		return fmt.Errorf("evidence export: %w", err)
	}
	bw := bufio.NewWriter(w)
	if format == "jsonl" {
		for _, line := range lines {
			bw.Write(line)
			bw.WriteByte('\n')
		}
	} else if err := writeMarkdown(bw, lines); err != nil {
		return fmt.Errorf("evidence export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("evidence export: %w", err)
	}
	return nil
}

func writeMarkdown(w *bufio.Writer, lines [][]byte) error {
	w.WriteString("# pushvault evidence ledger\n\n")
	if len(lines) == 0 {
		w.WriteString("The ledger is empty.\n")
		return nil
	}
	w.WriteString("| seq | time (UTC) | repository | finding | transition | actor | vault path@version | rotation | links | detail |\n")
	w.WriteString("| ---: | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, line := range lines {
		r, err := decode(line)
		if err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
		vault := r.VaultPath
		if vault != "" && r.VaultVersion > 0 {
			vault += "@" + strconv.Itoa(r.VaultVersion)
		}
		cells := []string{
			strconv.FormatUint(r.Seq, 10),
			mdCell(r.Time.UTC().Format(time.RFC3339)),
			mdCell(r.Repository),
			mdCell(r.FindingID),
			mdCell(r.Transition),
			mdCell(r.Actor),
			mdCell(vault),
			mdCell(r.Rotation),
			mdLinks(r.Links),
			mdDetail(r.Detail),
		}
		w.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	fmt.Fprintf(w, "\n%d records. Head (hash of record %d): `%s`.\n\n", len(lines), len(lines), Hash(lines[len(lines)-1]))
	w.WriteString("Keep the head hash apart from the ledger: records removed from the end of a hash chain can only be noticed against it.\n\n")
	w.WriteString("`pushvault evidence verify` checks every hash and signature.\n")
	return nil
}

// mdCell makes s safe inside a table cell: one line, no column breaks, no
// markup.
func mdCell(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\r', '\n', '\t':
			b.WriteByte(' ')
		case '\\', '|', '`', '*', '[', ']', '<', '>':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdDetail renders detail as key=value pairs sorted by key.
func mdDetail(detail map[string]string) string {
	keys := make([]string, 0, len(detail))
	for k := range detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, mdCell(k+"="+detail[k]))
	}
	return strings.Join(out, "; ")
}

// mdLinks renders links as [name](url), sorted by name; a value that isn't a
// plain http(s) URL is shown as text.
func mdLinks(links map[string]string) string {
	names := make([]string, 0, len(links))
	for k := range links {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]string, 0, len(names))
	for _, k := range names {
		v := links[k]
		u, err := url.Parse(v)
		if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
			!strings.ContainsAny(v, " \t\r\n()<>|`\\[]") {
			out = append(out, "["+mdCell(k)+"]("+v+")")
		} else {
			out = append(out, mdCell(k)+": "+mdCell(v))
		}
	}
	return strings.Join(out, ", ")
}
