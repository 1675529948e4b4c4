package scanner

import (
	"context"
	"regexp"

	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors"
	"github.com/trufflesecurity/trufflehog/v3/pkg/pb/detectorspb"
)

// CustomDetector is a regex detector declared in repository settings. When
// the regex has a capture group, the first group is the secret; otherwise the
// whole match is.
type CustomDetector struct {
	name        string
	keywords    []string
	re          *regexp.Regexp
	description string
}

var _ extraDetector = (*CustomDetector)(nil)

// Name implements extraDetector.
func (d *CustomDetector) Name() string { return d.name }

// Keywords implements detectors.Detector. A detector declared without
// keywords runs on every chunk.
func (d *CustomDetector) Keywords() []string { return d.keywords }

// Type implements detectors.Detector.
func (d *CustomDetector) Type() detectorspb.DetectorType { return detectorspb.DetectorType_CustomRegex }

// Description implements detectors.Detector.
func (d *CustomDetector) Description() string { return d.description }

// FromData implements detectors.Detector.
func (d *CustomDetector) FromData(_ context.Context, _ bool, data []byte) ([]detectors.Result, error) {
	var out []detectors.Result
	seen := map[string]bool{}
	for _, m := range d.re.FindAllSubmatch(data, -1) {
		v := m[0]
		if len(m) > 1 && len(m[1]) > 0 {
			v = m[1]
		}
		if len(v) == 0 || seen[string(v)] {
			continue
		}
		seen[string(v)] = true
		out = append(out, detectors.Result{DetectorType: detectorspb.DetectorType_CustomRegex, DetectorName: d.name, Raw: append([]byte(nil), v...)})
	}
	return out, nil
}
