package scanner

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"unicode"
)

// HoldsCredential reports whether text — a name pushvault derived, not a
// file — holds anything a secret could be: a match of any built-in
// detector (TruffleHog's, without verification, and VaultToken), or a
// word that looks generated (see generatedWord). Names go into vault paths,
// annotations, PRs and the ledger, so when in doubt the answer is yes.
func HoldsCredential(ctx context.Context, text string) bool {
	if text == "" {
		return false
	}
	data := []byte(text)
	c := &chunk{commit: &commitInfo{}, path: "(name)", data: data, starts: lineStarts(data), lines: []int{1}}
	eng := newEngine([]extraDetector{VaultToken{}}, false, slog.New(slog.DiscardHandler))
	if len(eng.detect(ctx, c)) > 0 {
		return true
	}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if generatedWord(w) {
			return true
		}
	}
	return false
}

// generatedWord says whether one word of a name looks like generated data
// rather than a word a person wrote. Too long for a word; or, from ten
// characters at an entropy of 3 bits per character, either digits
// scattered among letters ("a8f9d0c2e1b7": a word's digits come in one
// run, as in "sha256" or "x509certificate") or the character class
// changing at most steps ("xRdqqvrtov4LGyvK": camel case changes about
// once a word, as in "OAuth2ClientSecret").
func generatedWord(w string) bool {
	if len(w) >= 32 {
		return true
	}
	if len(w) < 10 || entropy(w) < 3 {
		return false
	}
	class := func(r rune) int {
		switch {
		case unicode.IsDigit(r):
			return 0
		case unicode.IsUpper(r):
			return 1
		}
		return 2
	}
	var digits, digitRuns, changes int
	rs := []rune(w)
	for i, r := range rs {
		if class(r) == 0 {
			digits++
			if i == 0 || class(rs[i-1]) != 0 {
				digitRuns++
			}
		}
		if i > 0 && class(r) != class(rs[i-1]) {
			changes++
		}
	}
	return digits >= 3 && digitRuns >= 2 || float64(changes)/float64(len(rs)-1) >= 0.4
}

// entropy is w's Shannon entropy in bits per character.
func entropy(w string) float64 {
	counts := map[rune]int{}
	for _, r := range w {
		counts[r]++
	}
	var h float64
	n := float64(len([]rune(w)))
	for _, c := range counts {
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}
