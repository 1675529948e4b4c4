package store

import (
	"strconv"
	"time"

	"github.com/pushvault/pushvault/scanner"
)

// Source is where a secret was found, recorded in the store's metadata.
type Source struct {
	Repository string // owner/repo
	Commit     string
	Path       string
	Line       int
	Detector   string
	DetectedAt time.Time
}

// Item is one secret to store.
type Item struct {
	Owner, Repo string
	// Name is the identifier the code used, normalised; the detector type
	// when the code gave none.
	Name        string
	Fingerprint scanner.Fingerprint
	// Data holds the named keys: "value" for single values; named parts
	// for multi-part credentials ("access_key_id", "secret_access_key").
	Data   map[string]scanner.Secret
	Source Source
}

// Stored is where an item is.
type Stored struct {
	// Path names the secret in its store: the KV v2 path under the mount
	// without data/ (pushvault/acme/shop/stripe_api_key), or the AWS
	// Secrets Manager secret name.
	Path    string
	Version int  // the version holding the exposed value
	Created bool // false when it was already there
}

// Secret is where a stored secret stands: its current version and metadata.
type Secret struct {
	Current  int
	Metadata map[string]string
}

// Keys of the metadata every store keeps beside a secret. The rotation
// (remediator/rotate) adds keys of its own.
const (
	MetaState          = "state"
	MetaExposedVersion = "exposed_version"
	MetaFingerprint    = "fingerprint"
)

// StateVaulted is the state of a secret a store has just written: the
// ledger's evidence.Vaulted, repeated here because evidence imports the
// stores (the Vault store's tests check that the two agree).
const StateVaulted = "vaulted"

// Metadata is what a new secret's metadata says about it: fingerprint,
// source, detector, when, state. Never the value. Each store makes the
// values fit its limits.
func Metadata(item Item) map[string]string {
	src := item.Source
	when := src.DetectedAt
	if when.IsZero() {
		when = time.Now()
	}
	return map[string]string{
		MetaFingerprint:    string(item.Fingerprint),
		"source_repo":      src.Repository,
		"source_commit":    src.Commit,
		"source_path":      src.Path,
		"source_line":      strconv.Itoa(src.Line),
		"detector":         src.Detector,
		"detected_at":      when.UTC().Format(time.RFC3339),
		MetaState:          StateVaulted,
		MetaExposedVersion: "1",
		"managed_by":       "pushvault",
	}
}

// ExposedVersion is the version that holds the exposed value according to
// md: recorded once a rotation moves on, else 1.
func ExposedVersion(md map[string]string) int {
	if v, err := strconv.Atoi(md[MetaExposedVersion]); err == nil && v > 0 {
		return v
	}
	return 1
}
