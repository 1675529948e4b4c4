package githubapp

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// GitHub's limits on what the App writes, in characters; past them GitHub
// answers 422 and writes nothing. The App measures bytes, never fewer than
// characters. A check run's summary (MaxSummary) and text (MaxText) have
// their own, as do its annotations (MaxAnnotations per request).
const (
	MaxBody  = 65536 // a pull request's, issue's or comment's body
	MaxTitle = 256   // a pull request's or issue's title
	MaxText  = 65535 // a check run's output.text
)

// decoration is the room a page keeps for what is added around it once
// the pages are counted: markers, "part 2 of 3", the pointer to the next.
const decoration = 512

// section is one part of a long body: rows (table rows, list items,
// paragraphs) that may continue on the next page, and a head (a heading,
// a table's header) written before its first row on every page it is on.
type section struct {
	head string
	rows []string
}

// text is a section of one paragraph.
func text(s string) section { return section{rows: []string{s}} }

// paginate lays secs out on pages of at most limit bytes, in order and
// with nothing left out: a row goes whole onto one page where it fits on
// one, and only a row longer than a page is cut (between runes) across
// pages.
func paginate(limit int, secs ...section) []string {
	var pages []string
	var b strings.Builder
	next := func() {
		pages = append(pages, b.String())
		b.Reset()
	}
	for _, sec := range secs {
		headOn := false // sec's head is on the current page
		for _, row := range sec.rows {
			for row != "" {
				need := len(row)
				if !headOn {
					need += len(sec.head)
				}
				if b.Len() > 0 && b.Len()+need > limit {
					next()
					headOn = false
				}
				if !headOn {
					b.WriteString(sec.head)
					headOn = true
				}
				cut := len(row)
				if b.Len()+cut > limit {
					cut = runeStart(row, max(limit-b.Len(), 1))
				}
				b.WriteString(row[:cut])
				if row = row[cut:]; row != "" {
					next()
					headOn = false
				}
			}
		}
	}
	if b.Len() > 0 || len(pages) == 0 {
		next()
	}
	return pages
}

// runeStart is the largest cut at most n into s that splits no rune, and
// at least one rune.
func runeStart(s string, n int) int {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	if n == 0 {
		_, size := utf8.DecodeRuneInString(s)
		return size
	}
	return n
}

// fitTitle shortens title to GitHub's title limit, marking the cut.
func fitTitle(title string) string {
	if len(title) <= MaxTitle {
		return title
	}
	return title[:runeStart(title, MaxTitle-len("…"))] + "…"
}

// partMarker marks part n (from 2) of a body continued in comments, so that
// a retry posts only the parts not yet posted.
func partMarker(thread string, n int) string {
	return fmt.Sprintf("<!-- pushvault:%s:part:%d -->", thread, n)
}

// continued lays secs out as a body and the comments continuing it, each
// within MaxBody: the body says that GitHub limits what (its kind, "an
// issue") and how many comments follow, each comment which part of the
// whole it is (and carries partMarker(thread, n)).
func continued(thread, what string, secs ...section) (body string, comments []string) {
	pages := paginate(MaxBody-decoration, secs...)
	if len(pages) == 1 {
		return pages[0], nil
	}
	body = pages[0] + fmt.Sprintf("\n\n---\n_GitHub limits %s to %d characters: the rest continues in the %s below._\n",
		what, MaxBody, plural(len(pages)-1, "comment"))
	for i, p := range pages[1:] {
		comments = append(comments, fmt.Sprintf("%s\n_Continued (part %d of %d)_\n\n%s", partMarker(thread, i+2), i+2, len(pages), p))
	}
	return body, comments
}

// postMissing posts each body that no existing body already carries
// (found by its marker): what makes posting a body's continuation
// repeatable. list returns the bodies already there.
func postMissing(ctx context.Context, bodies []string, marker func(i int) string,
	list func(context.Context) ([]string, error), create func(context.Context, string) error) error {
	if len(bodies) == 0 {
		return nil
	}
	existing, err := list(ctx)
	if err != nil {
		return err
	}
	posted := strings.Join(existing, "\n")
	for i, body := range bodies {
		if strings.Contains(posted, marker(i)) {
			continue
		}
		if err := create(ctx, body); err != nil {
			return err
		}
	}
	return nil
}
