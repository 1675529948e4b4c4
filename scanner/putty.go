package scanner

import (
	"bytes"
	"context"
	"regexp"
	"strconv"

	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors"
	"github.com/trufflesecurity/trufflehog/v3/pkg/pb/detectorspb"
)

// privateKeyName is the detector name private keys are reported under,
// whatever their file format: TruffleHog's for PEM and OpenSSH keys.
const privateKeyName = "PrivateKey"

// PuTTYKey detects PuTTY private keys (.ppk, formats 2 and 3), which
// TruffleHog has no detector for: their body is bare base64 that keyword
// and entropy detectors (Box) report piecemeal instead. The key is
// reported whole, as a PrivateKey, from its header to its Private-MAC,
// when its Private-Lines count matches the body.
type PuTTYKey struct{}

var (
	_ extraDetector                        = PuTTYKey{}
	_ detectors.CustomFalsePositiveChecker = PuTTYKey{}
)

var puttyKeyPat = regexp.MustCompile(`PuTTY-User-Key-File-[23]: [^\r\n]+(?:\r?\n[^\r\n]*)*?\r?\nPrivate-Lines: *(\d+)((?:\r?\n[A-Za-z0-9+/=]+)+)\r?\nPrivate-MAC: *[0-9a-fA-F]+`)

// Name implements extraDetector.
func (PuTTYKey) Name() string { return privateKeyName }

// Keywords implements detectors.Detector.
func (PuTTYKey) Keywords() []string { return []string{"PuTTY-User-Key-File-"} }

// Type implements detectors.Detector.
func (PuTTYKey) Type() detectorspb.DetectorType { return detectorspb.DetectorType_PrivateKey }

// Description implements detectors.Detector.
func (PuTTYKey) Description() string {
	return "PuTTY private key (.ppk): logs in wherever its public key is authorised."
}

// FromData implements detectors.Detector.
func (PuTTYKey) FromData(_ context.Context, _ bool, data []byte) ([]detectors.Result, error) {
	var out []detectors.Result
	for _, m := range puttyKeyPat.FindAllSubmatch(data, -1) {
		n, err := strconv.Atoi(string(m[1]))
		if err != nil || n != len(bytes.Fields(m[2])) {
			continue
		}
		out = append(out, detectors.Result{DetectorType: detectorspb.DetectorType_PrivateKey, DetectorName: privateKeyName, Raw: bytes.Clone(m[0])})
	}
	return out, nil
}

// IsFalsePositive implements detectors.CustomFalsePositiveChecker: a
// key's header holds English words ("Encryption: none", its comment),
// which TruffleHog's default check takes for a placeholder.
func (PuTTYKey) IsFalsePositive(detectors.Result) (bool, string) { return false, "" }

// puttyHeader starts a PuTTY key; puttyField is one of its header lines.
var (
	puttyHeader = []byte("PuTTY-User-Key-File-")
	puttyField  = regexp.MustCompile(`^(?:[A-Za-z0-9-]+: .*|[A-Za-z0-9+/=]+)\r?$`)
)

// inPuTTYKey reports whether line idx of c is part of a PuTTY key: lines
// of its fields and base64 body lead back to its header.
func inPuTTYKey(c *chunk, idx int) bool {
	if !bytes.Contains(c.data, puttyHeader) {
		return false
	}
	for back := idx; back >= 0 && idx-back < 256; back-- {
		l := c.lineText(back)
		if bytes.HasPrefix(l, puttyHeader) {
			return true
		}
		if !puttyField.Match(l) {
			return false
		}
	}
	return false
}
