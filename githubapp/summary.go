package githubapp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pushvault/pushvault/scanner"
)

// MaxSummary is GitHub's limit on a check run's output.summary, in
// characters; what does not fit goes to the run's output.text (Text).
const MaxSummary = 65535

// noteRoom is the room a summary leaves for the notes later put above it
// (Checks.Note: a false positive, closed findings).
const noteRoom = 2048

// Title is the check run's one-line title.
func Title(o *Outcome) string {
	title := foundTitle(o)
	if o.Truncated != nil && o.Failure == "" {
		title += fmt.Sprintf("; %s not scanned (over the scan limits)", plural(o.Truncated.NotScanned(o.Scanned), "commit"))
	}
	return title
}

// foundTitle is the title for what was found (or why nothing could be).
func foundTitle(o *Outcome) string {
	n := len(o.Secrets)
	switch {
	case o.Failure != "":
		return "Remediation failed"
	case o.Gone:
		return "Not scanned: the pushed commit is no longer on GitHub"
	case n == 0 && len(o.InlineAllowed) > 0:
		return fmt.Sprintf("No secrets found; %s on record", plural(len(o.InlineAllowed), "inline allow"))
	case n == 0:
		return "No secrets found"
	case n == 1:
		return "1 secret moved to " + o.store()
	default:
		return fmt.Sprintf("%d secrets moved to %s", n, o.store())
	}
}

// Summary is the check run's summary: what was scanned, a table of the
// secrets (redacted previews only), where the fix is, and the inline
// allows on record. What does not fit GitHub's limit continues in Text.
func Summary(o *Outcome) string {
	summary, _ := report(o)
	return summary
}

// Text is the check run's output.text: what of the report does not fit in
// the summary ("" when it all fits).
func Text(o *Outcome) string {
	_, text := report(o)
	return text
}

// report lays the check run's report out on its summary and text. Past
// both, it says where the rest is: every secret is an annotation of the
// run (and in the fix pull request), every inline allow in the ledger.
// What was not scanned and the settings close whichever is last.
func report(o *Outcome) (summary, text string) {
	tail := summaryTail(o)
	pages := paginate(MaxSummary-noteRoom-decoration-len(tail), reportSections(o)...)
	if len(pages) == 1 {
		return pages[0] + tail, ""
	}
	summary = pages[0] + fmt.Sprintf("\n_GitHub limits a check run's summary to %d characters: the report continues in its details below._\n", MaxSummary)
	text = pages[1]
	if len(pages) > 2 {
		text += "\n_More than a check run holds: the secrets not listed are each an annotation of this run (one per place)" +
			fixPRClause(o) + ", and the inline allows not listed are all in the evidence ledger._\n"
	}
	return summary, text + tail
}

func fixPRClause(o *Outcome) string {
	if o.PR == nil {
		return ""
	}
	return fmt.Sprintf(" and in fix pull request #%d", o.PR.Number)
}

// reportSections are the report's parts before its tail.
func reportSections(o *Outcome) []section {
	var b strings.Builder
	fmt.Fprintf(&b, "pushvault scanned %s pushed to %s (head `%s`).\n\n", plural(o.Scanned, "commit"), o.Ref(), short(o.HeadSHA))
	if o.Failure != "" {
		fmt.Fprintf(&b, "**Remediation failed:** %s\n\n", o.Failure)
	}
	if o.Gone {
		b.WriteString(goneAdvice(o))
	}
	if o.Truncated != nil {
		b.WriteString(truncatedAdvice(o))
	}
	if len(o.Secrets) == 0 && o.Failure == "" && !o.Gone {
		b.WriteString("No secrets found.\n")
	}
	if len(o.Secrets) > 0 {
		if o.PR != nil {
			fmt.Fprintf(&b, "The values are in %s and fix pull request #%d replaces them with %s: %s\n\n", o.store(), o.PR.Number, references(o.store()), o.PR.URL)
		}
		if o.Tag != "" {
			b.WriteString(tagAdvice(o.Tag, o.store()))
		}
		if o.Orphaned {
			b.WriteString(orphanAdvice(o.store()))
		}
	}
	secrets := section{head: "| Secret | Detector | Where | " + cell(o.store()) + " | Rotation |\n| --- | --- | --- | --- | --- |\n", rows: summaryRows(o)}
	return []section{text(b.String()), secrets, leftToYou(o), inlineAllowed(o)}
}

// leftToYou lists the manual steps when no fix pull request does (a
// secret only in a commit's message gets no fix commit: the step says how
// to take it out of the history).
func leftToYou(o *Outcome) section {
	if o.PR != nil {
		return section{}
	}
	sec := section{head: "\n### Left to you\n\n"}
	for _, s := range o.Secrets {
		for _, m := range s.Manual {
			sec.rows = append(sec.rows, fmt.Sprintf("- %s `%s`: %s\n", cell(s.Detector), cell(s.Redacted), m))
		}
	}
	if len(sec.rows) == 0 {
		return section{}
	}
	return sec
}

// summaryTail is what the summary ends with, after the secrets: what was
// not scanned, and the settings that applied.
func summaryTail(o *Outcome) string {
	var b strings.Builder
	if len(o.Skipped) > 0 {
		b.WriteString("\nSkipped: ")
		b.WriteString(skippedText(o.Skipped))
		b.WriteString(".\n")
		writeUnscanned(&b, o)
	}
	if o.Settings != "" {
		fmt.Fprintf(&b, "\nSettings: %s.\n", o.Settings)
	}
	return b.String()
}

// inlineAllowed lists the places an inline allow comment let through, with
// who pushed them.
func inlineAllowed(o *Outcome) section {
	sec := section{head: fmt.Sprintf("\n### Let through by inline allow comments\n\n%s marked `pushvault:allow` (or `trufflehog:ignore`) in the push by %s %s honoured and recorded in the evidence ledger (the server's `inline_allow: record`).\n\n",
		plural(len(o.InlineAllowed), "line"), cell(orDash(o.Pusher)), were(len(o.InlineAllowed))) +
		"| Where | Detector | Finding |\n| --- | --- | --- |\n"}
	for _, a := range o.InlineAllowed {
		sec.rows = append(sec.rows, fmt.Sprintf("| %s | %s | %s |\n", whereCell(a.Location), cell(a.Detector), cell(a.FindingID)))
	}
	return sec
}

func were(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// tagAdvice says what is left to people when a tag holds secrets. No pull
// request can change a tag, and one onto another branch would fix files
// that branch may not have; what contains the leak is the vault and the
// rotation, so the advice is how to re-cut the tag without the values.
func tagAdvice(tag, store string) string {
	ref := strings.TrimSuffix(references(store), "s")
	return fmt.Sprintf("The tag holds these secrets and no pull request can change a tag, so there is none: the values are in %s, "+
		"and rotation (below) is what makes the exposed ones useless. To take them out of the tag, delete it "+
		"(`git push origin :refs/tags/%s`), replace each value in the tagged files with its %s, commit, "+
		"and tag that commit again; re-create any release made from the tag.\n\n", store, inline(tag), ref)
}

// orphanAdvice says why a push force-pushed over still has its secrets
// vaulted and rotated, and why it gets no fix pull request.
func orphanAdvice(store string) string {
	return "The push was force-pushed over before pushvault scanned it: its commits are on no branch, but GitHub still serves them " +
		"to anyone who knows their id (until it collects garbage), so the values were exposed and still are. They are in " + store + ", and rotation " +
		"(below) is what makes the exposed ones useless. There is no fix pull request: it would bring these commits back onto the branch. " +
		"To have GitHub delete them, follow GitHub's guide to removing sensitive data (it involves GitHub Support).\n\n"
}

// goneAdvice says why a push could not be scanned, and how to scan it
// where it still exists.
func goneAdvice(o *Outcome) string {
	rng := short(o.HeadSHA)
	if o.Base != "" {
		rng = short(o.Base) + ".." + rng
	}
	return fmt.Sprintf("The push was force-pushed over before pushvault scanned it, and GitHub no longer holds commit `%s`, so nothing was scanned. "+
		"While it was on GitHub, whatever it held was exposed: scan it where it still exists (the pusher's clone) with `pushvault scan --range %s` "+
		"and rotate whatever that finds.\n", short(o.HeadSHA), rng)
}

func summaryRows(o *Outcome) []string {
	var rows []string
	for _, s := range o.Secrets {
		where := "—"
		if len(s.Locations) > 0 {
			l := s.Locations[0]
			where = whereCell(l)
			if n := len(s.Locations) - 1; n > 0 {
				where += fmt.Sprintf(" and %d more", n)
			}
		}
		vaulted := "not vaulted"
		if s.VaultPath != "" {
			vaulted = fmt.Sprintf("`%s` v%d", s.VaultPath, s.VaultVersion)
		}
		rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s | %s |\n", cell(s.Redacted), cell(s.Detector), where, vaulted, cell(orDash(s.Rotation))))
	}
	return rows
}

// PRBody is the fix pull request's body: the evidence table and how to
// consume each reference. What does not fit GitHub's body limit continues
// in comments, returned in order (none when it all fits).
func PRBody(o *Outcome) (body string, comments []string) {
	what := "the push to"
	if o.Backfill {
		what = "the history backfill of"
	}
	store := o.store()
	intro := fmt.Sprintf("pushvault found %s in %s `%s` (head `%s`), moved %s to %s, and replaces the hard-coded values with %s.\n\n",
		plural(len(o.Secrets), "secret"), what, o.Branch, short(o.HeadSHA), pronoun(len(o.Secrets)), store, references(store))
	table := section{head: "| What | Where | " + cell(store) + " path | Version | Rotation | Use it |\n| --- | --- | --- | --- | --- | --- |\n"}
	manual := section{head: "\n### Left to you\n\n"}
	for _, s := range o.Secrets {
		table.rows = append(table.rows, prRow(s))
		for _, m := range s.Manual {
			manual.rows = append(manual.rows, fmt.Sprintf("- %s `%s`: %s\n", s.Detector, s.Redacted, m))
		}
	}
	// bank-vaults resolves Vault's references only.
	also := ""
	if store == vaultStore {
		also = " (or bank-vaults `vault-env`)"
	}
	return continued("fix-pr", "a pull request description", text(intro), table, manual, text("\n### Consuming the references\n\n"+
		"Source files now read the values from the environment; `vault.env` at the repository root maps each variable to its "+strings.TrimSuffix(references(store), "s")+". "+
		"Run the application under `pushvault exec --env-file vault.env -- CMD`"+also+" to resolve them at start-up. "+
		"Configuration files hold the reference itself.\n"+
		"\nThe exposed values stay in the repository's history: rotation (above) is what makes them useless.\n"))
}

// prRow is s's row in the fix pull request's evidence table.
func prRow(s SecretOutcome) string {
	var where []string
	for _, l := range s.Locations {
		where = append(where, whereCell(l))
	}
	use := fmt.Sprintf("`%s`", cell(s.Reference))
	if len(s.EnvNames) > 0 {
		names := slices.Clone(s.EnvNames)
		for i := range names {
			names[i] = "`" + cell(names[i]) + "`"
		}
		use += " via " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("| %s `%s` | %s | `%s` | %d | %s | %s |\n", cell(s.Detector), cell(s.Redacted), strings.Join(where, "<br>"),
		cell(s.VaultPath), s.VaultVersion, cell(orDash(s.Rotation)), use)
}

// whereCell is a location for a table cell: "`path:line` (sha7)", or the
// message it is in ("commit message of sha7").
func whereCell(l scanner.Location) string {
	if l.InMessage() {
		return cell(l.Where())
	}
	return fmt.Sprintf("`%s:%d` (%s)", cell(l.Path), l.Line, short(l.Commit))
}

// whereLine is a location in running text: "`path:line` in sha7", or the
// message it is in.
func whereLine(l scanner.Location) string {
	if l.InMessage() {
		return "the " + inline(l.Where())
	}
	return fmt.Sprintf("`%s:%d` in %s", inline(l.Path), l.Line, short(l.Commit))
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// inline makes s safe inside an inline code span outside tables.
func inline(s string) string {
	s = strings.ReplaceAll(s, "`", "'")
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// maxUnscannedRows bounds the table of files not scanned.
const maxUnscannedRows = 20

// writeUnscanned lists the files the scan skipped, those too large first,
// and says how to scan those: a secret in them went unseen.
func writeUnscanned(b *strings.Builder, o *Outcome) {
	files := slices.Clone(o.Unscanned)
	slices.SortStableFunc(files, func(x, y scanner.SkippedFile) int {
		return cmpBool(x.Reason != scanner.SkipTooLarge, y.Reason != scanner.SkipTooLarge)
	})
	if len(files) == 0 {
		return
	}
	b.WriteString("\n| Not scanned | Commit | Why | Adds |\n| --- | --- | --- | --- |\n")
	tooLarge, unreadable := false, false
	for i, f := range files {
		if i == maxUnscannedRows {
			fmt.Fprintf(b, "\n%d more not listed.\n", len(files)-i)
			break
		}
		why := strings.ReplaceAll(string(f.Reason), "_", " ")
		if f.Object != "" {
			why += fmt.Sprintf(" (object `%s`)", f.Object)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", unscannedCell(f), short(f.Commit), why, scanner.FormatSize(f.Bytes))
		tooLarge = tooLarge || f.Reason == scanner.SkipTooLarge
		unreadable = unreadable || f.Reason == scanner.SkipUnreadable
	}
	if !tooLarge && !unreadable {
		return
	}
	base, where := scanBase(o)
	if tooLarge {
		fmt.Fprintf(b, "\nFiles over `scan.max_file_size` were not searched for secrets. To scan them, in a clone that has `%s`, "+
			"write `scan: {max_file_size: 1GiB}` to a file and run `pushvault scan --range %s..%s --config FILE`%s.\n", short(o.HeadSHA), base, short(o.HeadSHA), where)
	}
	if unreadable {
		fmt.Fprintf(b, "\nFiles git could not read in pushvault's copy of the repository were not searched for secrets (the rest of the push was). "+
			"To scan them, in a full clone that has `%s` (`git cat-file -e OBJECT` succeeds for each object above), run `pushvault scan --range %s..%s`%s.\n", short(o.HeadSHA), base, short(o.HeadSHA), where)
	}
}

// scanBase is the start of the range a local `pushvault scan --range`
// reads for the push (its base, a default branch as origin/NAME), and
// what to say when the push has none: BASE, to be filled in.
func scanBase(o *Outcome) (base, where string) {
	if o.Base == "" {
		return "BASE", ", BASE being the commit the branch started from"
	}
	if name, ok := strings.CutPrefix(o.Base, "refs/heads/"); ok {
		return inline("origin/" + name), ""
	}
	return short(o.Base), ""
}

// truncatedAdvice says what of a push over the server's scan limits was
// not scanned, and the command that scans all of it where no limit
// applies (a local scan).
func truncatedAdvice(o *Outcome) string {
	t := o.Truncated
	over := fmt.Sprintf(", more than this server's `scan_limits.max_commits` (%d)", t.Limits.MaxCommits)
	if t.By == "bytes" {
		over = fmt.Sprintf(" with more than this server's `scan_limits.max_bytes` (%s) of changes", scanner.FormatSize(t.Limits.MaxBytes))
	}
	cmd := "pushvault scan --all"
	if o.Base != "" {
		base, _ := scanBase(o)
		cmd = fmt.Sprintf("pushvault scan --range %s..%s", base, short(o.HeadSHA))
	}
	return fmt.Sprintf("**Not all of the push was scanned:** it adds %s%s. pushvault scanned the newest %s (%s, down to `%s`) "+
		"and handled what they hold; the %s older than `%s` were not scanned, and a secret in them went unseen. "+
		"To scan the whole push, in a clone that has `%s`, run `%s` (a local scan has no limits).\n\n",
		plural(t.Commits, "commit"), over, plural(o.Scanned, "commit"), scanner.FormatSize(t.Bytes), short(t.Oldest),
		plural(t.NotScanned(o.Scanned), "commit"), short(t.Oldest), short(o.HeadSHA), cmd)
}

// unscannedCell names a skipped file in the table: its path, or the whole
// commit when git could not show the commit at all.
func unscannedCell(f scanner.SkippedFile) string {
	if f.Path == "" {
		return f.Where()
	}
	return "`" + cell(lastRunes(f.Path, 200)) + "`"
}

// lastRunes shortens s to its last n runes, marking the cut with "…".
func lastRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n:])
}

func cmpBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}

func skippedText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}
