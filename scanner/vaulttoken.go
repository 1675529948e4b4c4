package scanner

import (
	"context"
	"regexp"

	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors"
	"github.com/trufflesecurity/trufflehog/v3/pkg/pb/detectorspb"
)

// VaultToken detects HashiCorp Vault tokens in their current forms:
// service (hvs.), batch (hvb.) and recovery (hvr.) tokens. TruffleHog has no
// detector for them. Verification is never attempted: asking a Vault whether
// a leaked token works is the rotator's job, against the organisation's own
// Vault.
type VaultToken struct{}

var _ extraDetector = VaultToken{}

// Vault's token bodies are base62 with '_' and '-' in some versions;
// service tokens are ~90 characters, batch tokens longer. 24 is well below
// every real token and well above accidental "hvs.x" strings.
var vaultTokenPat = regexp.MustCompile(`\b(hv[sbr]\.[A-Za-z0-9_-]{24,})`)

// Name implements extraDetector.
func (VaultToken) Name() string { return "VaultToken" }

// Keywords implements detectors.Detector.
func (VaultToken) Keywords() []string { return []string{"hvs.", "hvb.", "hvr."} }

// Type implements detectors.Detector.
func (VaultToken) Type() detectorspb.DetectorType { return detectorspb.DetectorType_CustomRegex }

// Description implements detectors.Detector.
func (VaultToken) Description() string {
	return "HashiCorp Vault token (service hvs., batch hvb. or recovery hvr.): grants whatever its policies allow in that Vault."
}

// FromData implements detectors.Detector.
func (VaultToken) FromData(_ context.Context, _ bool, data []byte) ([]detectors.Result, error) {
	var out []detectors.Result
	seen := map[string]bool{}
	for _, m := range vaultTokenPat.FindAllSubmatch(data, -1) {
		tok := string(m[1])
		if seen[tok] {
			continue
		}
		seen[tok] = true
		if !looksRandom(tok[4:]) {
			continue
		}
		out = append(out, detectors.Result{DetectorType: detectorspb.DetectorType_CustomRegex, DetectorName: "VaultToken", Raw: []byte(tok)})
	}
	return out, nil
}

// looksRandom rejects placeholders such as hvs.XXXXXXXXXXXXXXXXXXXXXXXXXXXX
// or hvs.your_token_goes_here_please: a token body mixes cases and digits.
func looksRandom(s string) bool {
	var upper, lower, digit bool
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}

// IsFalsePositive implements detectors.CustomFalsePositiveChecker. A
// Vault token is random after its prefix, so some real tokens spell a word
// of TruffleHog's English word list, which the default check drops: only
// the known placeholder terms apply here.
func (VaultToken) IsFalsePositive(r detectors.Result) (bool, string) {
	return detectors.IsKnownFalsePositive(string(r.Raw), detectors.DefaultFalsePositives, false)
}
