package remediator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/pushvault/pushvault/remediator/rewrite"
)

// envNames hands out the environment variables code edits read, one per
// reference: two secrets that would get one name (two GitHub tokens both
// read as GITHUB_TOKEN in different files) must not share a variable, or
// vault.env maps it to one of them and the other program silently runs
// with the wrong credential. Names vault.env already maps to another
// reference are taken too, so a later fix never repoints an earlier one.
type envNames struct {
	taken map[string]string // name -> the reference (Ref.Vault) it maps
}

// newEnvNames reads the names the repository's vault.env maps already. A
// vault.env that does not parse takes no names: its lines are kept as they
// are by MergeEnvFile.
func newEnvNames(ctx context.Context, read FileReader) (*envNames, error) {
	n := &envNames{taken: map[string]string{}}
	data, ok, err := read(ctx, "vault.env")
	if err != nil || !ok {
		return n, err
	}
	entries, err := rewrite.ParseEnvFile("vault.env", data)
	if err != nil {
		return n, nil
	}
	for _, e := range entries {
		n.taken[e.Name] = e.Value
	}
	return n, nil
}

// claim returns name when it is free or already maps ref, and otherwise
// name qualified by a short hash of ref: the same reference gets the same
// name on every run.
func (n *envNames) claim(name string, ref rewrite.Ref) string {
	want := ref.Vault()
	for _, cand := range []string{name, name + "_" + refSuffix(want)} {
		if cur, ok := n.taken[cand]; !ok || cur == want {
			n.taken[cand] = want
			return cand
		}
	}
	// The qualified name is taken by another reference as well (a hash
	// prefix collision): fall back on the whole hash.
	full := name + "_" + strings.ToUpper(hex.EncodeToString(hashOf(want)))
	n.taken[full] = want
	return full
}

// refSuffix is the first 8 hex digits, upper case, of ref's hash.
func refSuffix(ref string) string {
	return strings.ToUpper(hex.EncodeToString(hashOf(ref)[:4]))
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
