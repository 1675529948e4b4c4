package rewrite

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Secrets held base64-encoded. The scanner decodes base64 before it
// detects, so the secret it reports may be in a file only encoded: a
// Kubernetes Secret's data, a Docker config's auths.*.auth. The YAML format
// edits a Kubernetes Secret's data values decoded and encodes the result
// again; every other encoded place gets a manual step that says how the
// value is written there.

// base64Token is a run of the standard alphabet long enough to hold a
// credential, with its padding.
var base64Token = regexp.MustCompile(`[A-Za-z0-9+/]{12,}={0,2}`)

// EncodedLine returns the 1-based line of the first base64 token in
// content whose decoding holds literal, and false when there is none. It
// is how a secret the scanner found by decoding is placed in its file.
func EncodedLine(content []byte, literal string) (int, bool) {
	if literal == "" {
		return 0, false
	}
	for _, loc := range base64Token.FindAllIndex(content, -1) {
		if dec, ok := decodeBase64Text(string(content[loc[0]:loc[1]])); ok && strings.Contains(dec, literal) {
			return newLineIndex(content).line(loc[0]), true
		}
	}
	return 0, false
}

// decodeBase64Text decodes s (standard alphabet, padded or not) when it is
// the encoding of printable UTF-8 text; a binary value (a keystore) is no
// text a reference could be written into.
func decodeBase64Text(s string) (string, bool) {
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil || len(b) == 0 || !utf8.Valid(b) || !configPrintable(string(b)) {
		return "", false
	}
	return string(b), true
}

// encodedStep is the manual step for a secret held base64-encoded: decode,
// put the reference in, encode again. Only the bank-vaults form resolves
// there (its secrets webhook decodes a Secret's data and reads
// vault:...), so the step always names that form.
func encodedStep(what string, r Replacement, part bool) string {
	ref := r.Ref.Vault()
	if part {
		return fmt.Sprintf("%s is base64-encoded: decode it, replace the secret (only that part) with %s, and encode it again", what, r.Ref.Inline())
	}
	return fmt.Sprintf("%s is base64-encoded: set it to the base64 encoding of %s (echo -n '%s' | base64)", what, ref, ref)
}
