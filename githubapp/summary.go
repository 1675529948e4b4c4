package githubapp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pushvault/pushvault/scanner"
)

// MaxSummary is GitHub's limit on a check run's output.summary, in
// characters; longer summaries are cut at a row boundary with a note.
const MaxSummary = 65535

// Title is the check run's one-line title.
func Title(o *Outcome) string {
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
		return "1 secret moved to Vault"
	default:
		return fmt.Sprintf("%d secrets moved to Vault", n)
	}
}

// Summary is the check run's summary: what was scanned, a table of the
// secrets (redacted previews only), and where the fix is.
func Summary(o *Outcome) string {
	var b strings.Builder
	tail := summaryTail(o)
	fmt.Fprintf(&b, "pushvault scanned %s pushed to %s (head `%s`).\n\n", plural(o.Scanned, "commit"), o.Ref(), short(o.HeadSHA))
	if o.Failure != "" {
		fmt.Fprintf(&b, "**Remediation failed:** %s\n\n", o.Failure)
	}
	if o.Gone {
		b.WriteString(goneAdvice(o))
	}
	if len(o.Secrets) == 0 && o.Failure == "" && !o.Gone {
		b.WriteString("No secrets found.\n")
	}
	if len(o.Secrets) > 0 {
		if o.PR != nil {
			fmt.Fprintf(&b, "The values are in Vault and fix pull request #%d replaces them with vault references: %s\n\n", o.PR.Number, o.PR.URL)
		}
		if o.Tag != "" {
			b.WriteString(tagAdvice(o.Tag))
		}
		if o.Orphaned {
			b.WriteString(orphanAdvice)
		}
		b.WriteString("| Secret | Detector | Where | Vault | Rotation |\n| --- | --- | --- | --- | --- |\n")
		rows := summaryRows(o)
		head := b.Len()
		for i, row := range rows {
			if head+len(row)+len(tail)+200 > MaxSummary {
				fmt.Fprintf(&b, "\n%d more secrets are not listed here (GitHub's summary limit); see the annotations and the fix pull request.\n", len(rows)-i)
				break
			}
			b.WriteString(row)
			head += len(row)
		}
	}
	writeInlineAllowed(&b, o, len(tail))
	b.WriteString(tail)
	return b.String()
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

// writeInlineAllowed lists the places an inline allow comment let through,
// with who pushed them, within what is left of GitHub's summary limit.
func writeInlineAllowed(b *strings.Builder, o *Outcome, reserve int) {
	if len(o.InlineAllowed) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Let through by inline allow comments\n\n%s marked `pushvault:allow` (or `trufflehog:ignore`) in the push by %s %s honoured and recorded in the evidence ledger (the server's `inline_allow: record`).\n\n",
		plural(len(o.InlineAllowed), "line"), cell(orDash(o.Pusher)), were(len(o.InlineAllowed)))
	b.WriteString("| Where | Detector | Finding |\n| --- | --- | --- |\n")
	for i, a := range o.InlineAllowed {
		row := fmt.Sprintf("| `%s:%d` (%s) | %s | %s |\n", cell(a.Location.Path), a.Location.Line, short(a.Location.Commit), cell(a.Detector), cell(a.FindingID))
		if b.Len()+len(row)+reserve+400 > MaxSummary {
			fmt.Fprintf(b, "\n%d more are not listed here (GitHub's summary limit); the evidence ledger has them all.\n", len(o.InlineAllowed)-i)
			return
		}
		b.WriteString(row)
	}
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
func tagAdvice(tag string) string {
	return fmt.Sprintf("The tag holds these secrets and no pull request can change a tag, so there is none: the values are in Vault, "+
		"and rotation (below) is what makes the exposed ones useless. To take them out of the tag, delete it "+
		"(`git push origin :refs/tags/%s`), replace each value in the tagged files with its vault reference, commit, "+
		"and tag that commit again; re-create any release made from the tag.\n\n", inline(tag))
}

// orphanAdvice says why a push force-pushed over still has its secrets
// vaulted and rotated, and why it gets no fix pull request.
const orphanAdvice = "The push was force-pushed over before pushvault scanned it: its commits are on no branch, but GitHub still serves them " +
	"to anyone who knows their id (until it collects garbage), so the values were exposed and still are. They are in Vault, and rotation " +
	"(below) is what makes the exposed ones useless. There is no fix pull request: it would bring these commits back onto the branch. " +
	"To have GitHub delete them, follow GitHub's guide to removing sensitive data (it involves GitHub Support).\n\n"

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
			where = fmt.Sprintf("`%s:%d` (%s)", cell(l.Path), l.Line, short(l.Commit))
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
// consume each reference.
func PRBody(o *Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pushvault found %s in the push to `%s` (head `%s`), moved %s to Vault, and replaces the hard-coded values with vault references.\n\n",
		plural(len(o.Secrets), "secret"), o.Branch, short(o.HeadSHA), pronoun(len(o.Secrets)))
	b.WriteString("| What | Where | Vault path | Version | Rotation | Use it |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, s := range o.Secrets {
		var where []string
		for _, l := range s.Locations {
			where = append(where, fmt.Sprintf("`%s:%d` (%s)", cell(l.Path), l.Line, short(l.Commit)))
		}
		use := fmt.Sprintf("`%s`", cell(s.Reference))
		if len(s.EnvNames) > 0 {
			names := slices.Clone(s.EnvNames)
			for i := range names {
				names[i] = "`" + cell(names[i]) + "`"
			}
			use += " via " + strings.Join(names, ", ")
		}
		fmt.Fprintf(&b, "| %s `%s` | %s | `%s` | %d | %s | %s |\n", cell(s.Detector), cell(s.Redacted), strings.Join(where, "<br>"),
			cell(s.VaultPath), s.VaultVersion, cell(orDash(s.Rotation)), use)
	}
	var manual []string
	for _, s := range o.Secrets {
		for _, m := range s.Manual {
			manual = append(manual, fmt.Sprintf("- %s `%s`: %s", s.Detector, s.Redacted, m))
		}
	}
	if len(manual) > 0 {
		b.WriteString("\n### Left to you\n\n")
		b.WriteString(strings.Join(manual, "\n"))
		b.WriteString("\n")
	}
	b.WriteString("\n### Consuming the references\n\n")
	b.WriteString("Source files now read the values from the environment; `vault.env` at the repository root maps each variable to its vault reference. " +
		"Run the application under `pushvault exec --env-file vault.env -- CMD` (or bank-vaults `vault-env`) to resolve them at start-up. " +
		"Configuration files hold the reference itself.\n")
	b.WriteString("\nThe exposed values stay in the repository's history: rotation (above) is what makes them useless.\n")
	return b.String()
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
	tooLarge := false
	for i, f := range files {
		if i == maxUnscannedRows {
			fmt.Fprintf(b, "\n%d more not listed.\n", len(files)-i)
			break
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", cell(lastRunes(f.Path, 200)), short(f.Commit), strings.ReplaceAll(string(f.Reason), "_", " "), scanner.FormatSize(f.Bytes))
		tooLarge = tooLarge || f.Reason == scanner.SkipTooLarge
	}
	if !tooLarge {
		return
	}
	base, where := "BASE", ", BASE being the commit the branch started from"
	if o.Base != "" {
		base, where = short(o.Base), ""
		if name, ok := strings.CutPrefix(o.Base, "refs/heads/"); ok {
			base = inline("origin/" + name)
		}
	}
	fmt.Fprintf(b, "\nFiles over `scan.max_file_size` were not searched for secrets. To scan them, in a clone that has `%s`, "+
		"write `scan: {max_file_size: 1GiB}` to a file and run `pushvault scan --range %s..%s --config FILE`%s.\n", short(o.HeadSHA), base, short(o.HeadSHA), where)
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
