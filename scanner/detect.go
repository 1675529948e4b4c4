package scanner

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/trufflesecurity/trufflehog/v3/pkg/decoders"
	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors"
	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors/mongodb"
	"github.com/trufflesecurity/trufflehog/v3/pkg/engine/ahocorasick"
	"github.com/trufflesecurity/trufflehog/v3/pkg/engine/defaults"
	"github.com/trufflesecurity/trufflehog/v3/pkg/sources"
)

// hit is one secret one detector found in one chunk, before aggregation.
type hit struct {
	detector    string
	description string
	value       string            // the identifying raw value (Raw)
	full        string            // Raw, or RawV2 for multi-part credentials
	parts       map[string]string // named parts of multi-part credentials
	verified    Verified
	commit      *commitInfo
	path        string
	line        int
	inline      bool // the line carries an inline allow marker
}

// extraDetector is a detector that runs outside TruffleHog's keyword core:
// pushvault's own detectors and custom regexes from repository settings.
type extraDetector interface {
	detectors.Detector
	Name() string
}

// engine runs detectors on chunks. It is safe for concurrent use.
type engine struct {
	core   *ahocorasick.Core
	extra  []extraDetector
	verify bool
	log    *slog.Logger
	// generic runs the generic detector (Generic) on each chunk's plain
	// text, bound to the chunk's file format.
	generic bool
	// dropped counts the results not reported, by reason.
	dropped dropCounter
}

var (
	defaultDetectorsOnce sync.Once
	defaultDetectorList  []detectors.Detector
	defaultCore          *ahocorasick.Core
)

// defaultEngineCore builds TruffleHog's default detectors and their keyword
// trie once per process: building it costs tens of milliseconds.
func defaultEngineCore() (*ahocorasick.Core, []detectors.Detector) {
	defaultDetectorsOnce.Do(func() {
		defaultDetectorList = defaults.DefaultDetectors()
		for i, d := range defaultDetectorList {
			if m, ok := d.(*mongodb.Scanner); ok {
				defaultDetectorList[i] = mongoDB{*m}
			}
		}
		defaultCore = ahocorasick.NewAhoCorasickCore(defaultDetectorList)
	})
	return defaultCore, defaultDetectorList
}

// KnownDetector reports whether name is a built-in detector's name
// (TruffleHog's detector types, VaultToken and Generic),
// case-insensitively.
func KnownDetector(name string) bool {
	if strings.EqualFold(name, VaultToken{}.Name()) || strings.EqualFold(name, GenericName) {
		return true
	}
	_, list := defaultEngineCore()
	for _, d := range list {
		if strings.EqualFold(d.Type().String(), name) {
			return true
		}
	}
	return false
}

func newEngine(extra []extraDetector, verify bool, log *slog.Logger) *engine {
	core, _ := defaultEngineCore()
	return &engine{core: core, extra: extra, verify: verify, log: log}
}

// decoded is a view of a chunk's data as one decoder turned it. Views other
// than the plain one hold only the lines the decoder changed; lines maps
// each of their lines to the chunk's line index.
type decoded struct {
	name  string
	data  []byte
	lines []int // nil for the plain view
}

// detect returns the hits in one chunk.
func (e *engine) detect(ctx context.Context, c *chunk) []hit {
	var hits []hit
	for _, d := range decodings(c) {
		for _, m := range e.core.FindDetectorMatches(d.data) {
			for _, span := range m.Matches() {
				hits = append(hits, e.run(ctx, m.Detector, span, c, d)...)
			}
		}
		lower := bytes.ToLower(d.data)
		for _, x := range e.extra {
			if len(x.Keywords()) == 0 || containsAny(lower, x.Keywords()) {
				hits = append(hits, e.run(ctx, x, d.data, c, d)...)
			}
		}
		// Generic reads assignments as written: not in decoded views, not in
		// fixtures, examples and docs.
		if e.generic && d.lines == nil && !genericSkipsPath(c.path) {
			hits = append(hits, e.run(ctx, Generic{}.inFile(c.path), d.data, c, d)...)
		}
	}
	return hits
}

// decodings returns the views of a chunk to scan: the data itself, then,
// for each of TruffleHog's Base64 and escaped-unicode decoders, the lines it
// changed, decoded. Decoding line by line loses nothing (neither decoder
// crosses a line break) and keeps the second keyword pass to the few lines
// that need it, where TruffleHog runs it over a whole second copy of every
// chunk. The escaped-unicode decoder, the costliest step of TruffleHog's
// pipeline, runs only on lines holding its trigger bytes.
func decodings(c *chunk) []decoded {
	out := []decoded{{name: "plain", data: c.data}}
	var b64, esc decoded
	b64.name, esc.name = "base64", "escaped_unicode"
	for i := range c.starts {
		line := c.lineText(i)
		if hasBase64Run(line, 20) {
			if dc := (&decoders.Base64{}).FromChunk(&sources.Chunk{Data: line}); dc != nil && !bytes.Equal(dc.Chunk.Data, line) {
				b64.add(dc.Chunk.Data, i)
			}
		}
		if bytes.Contains(line, []byte(`\u`)) || bytes.Contains(line, []byte(`\U`)) || bytes.Contains(line, []byte("U+")) {
			if dc := (&decoders.EscapedUnicode{}).FromChunk(&sources.Chunk{Data: line}); dc != nil {
				esc.add(dc.Chunk.Data, i)
			}
		}
	}
	for _, d := range []decoded{b64, esc} {
		if len(d.lines) > 0 {
			out = append(out, d)
		}
	}
	return out
}

func (d *decoded) add(line []byte, idx int) {
	// A decoded line may itself hold line breaks: each maps to idx.
	for _, part := range bytes.Split(line, []byte{'\n'}) {
		d.data = append(d.data, part...)
		d.data = append(d.data, '\n')
		d.lines = append(d.lines, idx)
	}
}

// hasBase64Run reports whether line holds at least n consecutive base64
// characters, the Base64 decoder's minimum.
func hasBase64Run(line []byte, n int) bool {
	run := 0
	for _, c := range line {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_' || c == '=' {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func containsAny(lowerData []byte, keywords []string) bool {
	for _, k := range keywords {
		if bytes.Contains(lowerData, []byte(strings.ToLower(k))) {
			return true
		}
	}
	return false
}

// run calls one detector on one span, isolating a panic inside it so one bad
// detector can't take the process (and its queue) down.
func (e *engine) run(ctx context.Context, det detectors.Detector, span []byte, c *chunk, d decoded) (hits []hit) {
	defer func() {
		if r := recover(); r != nil {
			e.log.ErrorContext(ctx, "detector panicked; chunk skipped for this detector",
				slog.String("detector", det.Type().String()),
				slog.String("commit", c.commit.sha), slog.String("path", c.path),
				slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(debug.Stack())))
			hits = nil
		}
	}()
	results, err := det.FromData(ctx, e.verify, span)
	if err != nil {
		// Detector errors can quote the data they choked on: log the type only.
		e.log.WarnContext(ctx, "detector failed", slog.String("detector", det.Type().String()),
			slog.String("error_type", fmt.Sprintf("%T", err)))
		return nil
	}
	kept, falsePositives := filterResults(det, results)
	for range falsePositives {
		e.drop(ctx, DropKnownFalsePositive, detectorName(detectors.Result{DetectorType: det.Type()}, det), c, 0)
	}
	for _, res := range kept {
		if len(res.Raw) == 0 {
			continue // nothing to report, locate or vault
		}
		name := detectorName(res, det)
		if why := resultDropReason(name, res); why != "" {
			e.drop(ctx, why, name, c, 0)
			continue
		}
		hits = append(hits, e.locate(ctx, res, det, c, d)...)
	}
	return hits
}

// detectorName is the name a result is reported under.
func detectorName(res detectors.Result, det detectors.Detector) string {
	if x, ok := det.(extraDetector); ok {
		return x.Name()
	}
	if res.DetectorName != "" {
		return res.DetectorName
	}
	return res.DetectorType.String()
}

// drop counts a result not reported and logs why, without its value.
func (e *engine) drop(ctx context.Context, why DropReason, detector string, c *chunk, line int) {
	e.dropped.add(why)
	level := slog.LevelDebug
	if why == DropUnlocated {
		// Not a judgement on the value: pushvault failed to place it.
		level = slog.LevelWarn
	}
	e.log.Log(ctx, level, "detector result dropped", slog.String("reason", string(why)),
		slog.String("detector", detector), slog.String("commit", c.commit.sha), slog.String("path", c.path), slog.Int("line", line))
}

// placeholder reports whether a value is a documentation placeholder
// rather than a credential: it holds a run of eight or more identical
// letters or digits ("XXXXXXXX", "00000000"), which a random credential
// practically never does (about 1 in 10^11 for a 24-character token).
//
// Keys and other encoded blobs are exempt: DER lengths and padding give them
// long runs ("AAAAAAAA" in every OpenSSH private key).
func placeholder(raw []byte) bool {
	if len(raw) > 256 || bytes.ContainsAny(raw, " \t\r\n") || bytes.Contains(raw, []byte("PRIVATE KEY")) {
		return false
	}
	run := 1
	for i := 1; i < len(raw); i++ {
		c := raw[i]
		isAlnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if isAlnum && c == raw[i-1] {
			run++
			if run >= 8 {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

// filterResults applies TruffleHog's own result cleaning and known
// false-positive filter, as its engine does by default, except that a value
// is not refused for spelling an English word in passing (see
// mostlyWords); it returns the results kept and how many the filter
// refused.
func filterResults(det detectors.Detector, results []detectors.Result) ([]detectors.Result, int) {
	if cleaner, ok := det.(detectors.CustomResultsCleaner); ok && cleaner.ShouldCleanResultsIrrespectiveOfConfiguration() {
		results = cleaner.CleanResults(results)
	}
	isFalsePositive := detectors.GetFalsePositiveCheck(det)
	kept := results[:0:0]
	for _, r := range results {
		if len(r.Raw) == 0 {
			continue // TruffleHog's engine skips these as invalid
		}
		if !r.Verified {
			if fp, reason := isFalsePositive(r); fp && (!strings.HasPrefix(reason, wordlistReason) || mostlyWords(string(r.Raw))) {
				continue
			}
		}
		kept = append(kept, r)
	}
	return kept, len(results) - len(kept)
}

// wordlistReason starts TruffleHog's reason for a value holding a word of
// its English word list.
const wordlistReason = "matches wordlist: "

// mostlyWords reports whether a value TruffleHog found a word of its
// English list in reads as words rather than a random string: it has no
// digit ("sk_live_ThisIsNotARealSecretKeyHere"), or the list's words make
// up a third of its letters. TruffleHog refuses any value holding one word
// of its list, and pushvault, offline, has no verification to overrule
// it: about one random Stripe key in 600 spells a word somewhere
// ("…x6y6Garden…") and was dropped, a live key unreported.
func mostlyWords(value string) bool {
	if !detectors.HasDigit(value) {
		return true
	}
	letters := 0
	for _, c := range value {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			letters++
		}
	}
	rest, covered := strings.ToLower(value), 0
	for range 32 { // each round takes one word out
		_, reason := detectors.IsKnownFalsePositive(rest, nil, true)
		word, ok := strings.CutPrefix(reason, wordlistReason)
		if !ok || word == "" {
			break
		}
		covered += len(word)
		rest = strings.Replace(rest, word, "_", 1)
	}
	return covered*3 >= letters
}

// locate maps a result to the lines of the chunk where its value occurs,
// dropping (counted) the occurrences a context rule says are no secret, and
// the result itself when it occurs nowhere.
func (e *engine) locate(ctx context.Context, res detectors.Result, det detectors.Detector, c *chunk, d decoded) []hit {
	name := detectorName(res, det)
	base := hit{
		detector:    name,
		description: det.Description(),
		value:       string(res.Raw),
		full:        string(res.Raw),
		verified:    VerifiedUnknown,
		commit:      c.commit,
		path:        c.path,
	}
	if len(res.RawV2) > 0 {
		base.full = string(res.RawV2)
		base.parts = splitParts(name, string(res.Raw), string(res.RawV2))
	}
	if e.verify {
		switch {
		case res.Verified:
			base.verified = VerifiedTrue
		case res.VerificationError() == nil:
			base.verified = VerifiedFalse
		}
	}
	primary := res.GetPrimarySecretValue()
	if primary == "" {
		primary = string(res.Raw)
	}
	idxs, anchor := lineIndexes(c, d, primary), primary
	if len(idxs) == 0 {
		idxs, anchor = locateVerbatim(c, d, name, res)
	}
	if len(idxs) == 0 {
		e.drop(ctx, DropUnlocated, name, c, 0)
		return nil
	}
	var hits []hit
	for _, idx := range idxs {
		if d.lines == nil {
			if why := contextDropReason(name, c, idx, anchor); why != "" {
				e.drop(ctx, why, name, c, c.lines[idx])
				continue
			}
		}
		h := base
		h.line = c.lines[idx]
		h.inline = allowedInline(c.lineText(idx))
		hits = append(hits, h)
	}
	return hits
}

// locateVerbatim locates a result by the first of its verbatim anchors
// found in the chunk, and returns the lines and that anchor.
func locateVerbatim(c *chunk, d decoded, name string, res detectors.Result) ([]int, string) {
	for _, a := range verbatimAnchors(name, res) {
		if idxs := lineIndexes(c, d, a); len(idxs) > 0 {
			return idxs, a
		}
	}
	return nil, ""
}

// verbatimAnchors are texts to locate a result by when its value is not in
// the text as the detector returned it: detectors of connection strings
// rebuild them (Postgres adds the default port to postgres://u:p@db/app,
// MongoDB re-encodes the query, LDAP joins URL, user and password with
// tabs), but copy the credential from the text. They are, strongest
// first: user:password@ and :password@ in each spelling of the two, a
// password property (password=…), then the password alone when it is long
// enough not to turn up by chance.
func verbatimAnchors(name string, res detectors.Result) []string {
	user, pw, ok := credential(name, string(res.Raw), string(res.RawV2))
	if !ok {
		// Any detector whose value is a URI with a password.
		if user, pw, ok = uriCredential(string(res.Raw)); !ok {
			return nil
		}
	}
	if pw == "" {
		return nil
	}
	var out []string
	pws := spellings(pw)
	if user != "" {
		for _, u := range spellings(user) {
			for _, p := range pws {
				out = append(out, u+":"+p+"@", u+"/"+p+"@")
			}
		}
	}
	for _, p := range pws {
		out = append(out, ":"+p+"@", "="+p)
	}
	for _, p := range pws {
		if len(p) >= minAnchor {
			out = append(out, p)
		}
	}
	return out
}

// minAnchor is the shortest password located on its own: long enough that
// it practically never occurs by chance on a line the detector did not
// take it from.
const minAnchor = 8

// lineIndexes finds every line of the chunk where value starts. For a
// decoded view the search runs in the view and maps back through its lines.
func lineIndexes(c *chunk, d decoded, value string) []int {
	needle := []byte(value)
	if d.lines != nil {
		var idx []int
		seen := map[int]bool{}
		starts := lineStarts(d.data)
		for off := 0; ; {
			i := bytes.Index(d.data[off:], needle)
			if i < 0 {
				break
			}
			l := d.lines[lineOf(starts, off+i)]
			if !seen[l] {
				seen[l] = true
				idx = append(idx, l)
			}
			off += i + len(needle)
		}
		return idx
	}
	var idx []int
	seen := map[int]bool{}
	for off := 0; ; {
		i := bytes.Index(c.data[off:], needle)
		if i < 0 {
			break
		}
		l := c.lineAt(off + i)
		if !seen[l] {
			seen[l] = true
			idx = append(idx, l)
		}
		off += i + len(needle)
	}
	if len(idx) > 0 {
		return idx
	}
	return normalizedLines(c, value)
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' && i+1 < len(data) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func lineOf(starts []int, off int) int {
	lo, hi := 0, len(starts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if starts[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// normalizedLines locates a value the detector normalised (a PEM key with
// its line breaks rewritten, say): it finds the longest whitespace-free
// piece of the value, then walks back to the line holding the first piece.
func normalizedLines(c *chunk, value string) []int {
	fields := strings.Fields(value)
	if len(fields) == 0 {
		return nil
	}
	longest := fields[0]
	for _, f := range fields {
		if len(f) > len(longest) {
			longest = f
		}
	}
	if len(longest) < 8 {
		return nil
	}
	i := bytes.Index(c.data, []byte(longest))
	if i < 0 {
		return nil
	}
	l := c.lineAt(i)
	for back := l; back >= 0 && l-back < 128; back-- {
		if bytes.Contains(c.lineText(back), []byte(fields[0])) {
			return []int{back}
		}
	}
	return []int{l}
}

// allowedInline reports whether a line carries an inline allow marker.
func allowedInline(line []byte) bool {
	return bytes.Contains(line, []byte("pushvault:allow")) || bytes.Contains(line, []byte("trufflehog:ignore"))
}

// splitParts names the parts of multi-part credentials the vault store
// writes as separate keys.
func splitParts(detector, raw, rawV2 string) map[string]string {
	switch detector {
	case "AWS", "AWSSessionKey":
		id, secret, ok := strings.Cut(rawV2, ":")
		if !ok || id != raw {
			return nil
		}
		return map[string]string{"access_key_id": id, "secret_access_key": secret}
	}
	return nil
}
