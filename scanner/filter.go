package scanner

import (
	"bytes"
	"regexp"
	"strings"
	"sync"

	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors"
)

// DropReason says why a detector's result was not reported. Every result a
// detector returns is either reported or counted under one of these
// (Stats.Dropped), so nothing disappears silently.
type DropReason string

const (
	// DropPlaceholder: the value holds a run of eight identical characters
	// ("XXXXXXXX"), a documentation placeholder.
	DropPlaceholder DropReason = "placeholder"
	// DropNoCredential: a connection string without a password
	// (jdbc:postgresql://localhost/app).
	DropNoCredential DropReason = "no_credential"
	// DropPlaceholderPassword: a connection string whose password is empty,
	// masked, a template variable or a stock placeholder.
	DropPlaceholderPassword DropReason = "placeholder_password"
	// DropContentHash: the value is part of a content hash (a lockfile's
	// integrity sha512-…, a yarn resolved URL's #sha1), which keyword and
	// entropy detectors (Box, CircleCI) take for a key.
	DropContentHash DropReason = "content_hash"
	// DropSVGData: the value is part of an SVG attribute's data (path data,
	// an embedded image), which Box's keyword matches through "viewBox".
	DropSVGData DropReason = "svg_data"
	// DropPuTTYKeyBody: the value is a piece of a PuTTY private key's body,
	// reported whole as a PrivateKey instead.
	DropPuTTYKeyBody DropReason = "putty_key_body"
	// DropKnownFalsePositive: TruffleHog's own false-positive check (a
	// word of its word list in the value, for most detectors) refused it.
	DropKnownFalsePositive DropReason = "known_false_positive"
	// DropUnlocated: the value, as the detector returned it, and every
	// verbatim part of it were found nowhere in the text scanned.
	DropUnlocated DropReason = "unlocated"
)

// dropCounter counts dropped results by reason; safe for concurrent use.
type dropCounter struct {
	mu sync.Mutex
	n  map[DropReason]int
}

func (d *dropCounter) add(r DropReason) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == nil {
		d.n = map[DropReason]int{}
	}
	d.n[r]++
}

// counts returns a copy of the counts; nil when nothing was dropped.
func (d *dropCounter) counts() map[DropReason]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.n) == 0 {
		return nil
	}
	out := make(map[DropReason]int, len(d.n))
	for k, v := range d.n {
		out[k] = v
	}
	return out
}

// resultDropReason is the reason a result is no secret whatever its
// context, or "".
func resultDropReason(name string, res detectors.Result) DropReason {
	if placeholder(res.Raw) {
		return DropPlaceholder
	}
	if !IsConnection(name) {
		return ""
	}
	_, pw, ok := credential(name, string(res.Raw), string(res.RawV2))
	switch {
	case !ok:
		return DropNoCredential
	case placeholderPassword(pw):
		return DropPlaceholderPassword
	}
	return ""
}

var (
	// contentHash matches the hashes package lockfiles record: subresource
	// integrity (npm, yarn, pnpm, bun), a yarn v1 resolved URL's #sha1, and
	// npm's older "shasum".
	contentHash = regexp.MustCompile(`(?i)\bsha(?:1|224|256|384|512)-[A-Za-z0-9+/]+=*|\.t?gz#[0-9a-f]{40,}|"shasum"\s*:\s*"[0-9a-f]{40,}"`)
	// svgData matches the SVG attributes that hold data, not words: path
	// data, point lists, and (embedded images) data: hrefs.
	svgData = regexp.MustCompile(`\b(?:d|points|(?:xlink:)?href)\s*=\s*(?:"[^"]*"|'[^']*')`)
	svgLine = regexp.MustCompile(`(?i)<(?:svg|path|polygon|polyline|image|glyph)\b|\bviewBox\s*=`)
)

// contextDropReason is the reason the value found on line idx of c is part
// of something that is no secret, or "": the context rules, for detectors
// whose pattern is a keyword and a run of random-looking characters.
func contextDropReason(name string, c *chunk, idx int, value string) DropReason {
	line := c.lineText(idx)
	v := []byte(value)
	if within(contentHash, line, v) {
		return DropContentHash
	}
	if (strings.HasSuffix(strings.ToLower(c.path), ".svg") || svgLine.Match(line)) && within(svgData, line, v) {
		return DropSVGData
	}
	if name != privateKeyName && inPuTTYKey(c, idx) {
		return DropPuTTYKeyBody
	}
	return ""
}

// within reports whether v lies inside a match of re on line.
func within(re *regexp.Regexp, line, v []byte) bool {
	for _, m := range re.FindAllIndex(line, -1) {
		if bytes.Contains(line[m[0]:m[1]], v) {
			return true
		}
	}
	return false
}
