package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/pushvault/pushvault/scanner"
)

// WriteText writes one line per finding, then a summary line:
//
//	src/config.py:12: Stripe sk_l**** (commit 1a2b3c4, Ann <ann@x>) pv_… [+2 more places]
func WriteText(w io.Writer, res *scanner.Result) error {
	var b strings.Builder
	for _, f := range res.Findings {
		first := f.First()
		fmt.Fprintf(&b, "%s: %s %s (commit %s, %s, verified: %s) %s",
			first.Where(), f.Detector, f.Redacted, short(first.Commit), first.Author, f.Verified, f.ID)
		if n := len(f.Locations) - 1; n > 0 {
			fmt.Fprintf(&b, " [+%d more place%s]", n, plural(n))
		}
		if f.ReportOnly {
			b.WriteString(" (report only: not vaulted or fixed)")
		}
		b.WriteByte('\n')
	}
	st := res.Stats
	fmt.Fprintf(&b, "%d finding%s; scanned %d commit%s, %d file%s, %s",
		len(res.Findings), plural(len(res.Findings)), st.Commits, plural(st.Commits), st.Files, plural(st.Files), scanner.FormatSize(st.Bytes))
	if st.Skipped > 0 {
		var parts []string
		for _, r := range []scanner.SkipReason{scanner.SkipBinary, scanner.SkipLFS, scanner.SkipTooLarge, scanner.SkipUnreadable} {
			if n := st.Reasons[r]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(r), "_", " ")))
			}
		}
		fmt.Fprintf(&b, "; skipped %d file%s (%s)", st.Skipped, plural(st.Skipped), strings.Join(parts, ", "))
	}
	if len(st.Dropped) > 0 {
		n, parts := 0, []string{}
		for _, r := range slices.Sorted(maps.Keys(st.Dropped)) {
			n += st.Dropped[r]
			parts = append(parts, fmt.Sprintf("%d %s", st.Dropped[r], strings.ReplaceAll(string(r), "_", " ")))
		}
		fmt.Fprintf(&b, "; dropped %d detector result%s (%s)", n, plural(n), strings.Join(parts, ", "))
	}
	b.WriteByte('\n')
	for _, f := range Unreadable(res) {
		fmt.Fprintf(&b, "not scanned, git cannot read it: %s in commit %s (object %s)\n", f.Where(), short(f.Commit), orNone(f.Object))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Unreadable are the files the scan skipped because git could not read
// them: each report names them, as a secret in them went unseen.
func Unreadable(res *scanner.Result) []scanner.SkippedFile {
	var out []scanner.SkippedFile
	for _, f := range res.Skipped {
		if f.Reason == scanner.SkipUnreadable {
			out = append(out, f)
		}
	}
	return out
}

func orNone(id string) string {
	if id == "" {
		return "unknown"
	}
	return id
}
