package rotate

import (
	"context"
	"strconv"
	"strings"

	"github.com/pushvault/pushvault/remediator/store"
	"github.com/pushvault/pushvault/remediator/vault"
)

// Keys of the custom_metadata a rotation keeps on the vault secret. With the
// keys the store writes (fingerprint, source, exposed_version, state) they
// tell the secret's story.
const (
	mdState          = vault.MetaState
	mdAttempts       = "rotation_attempts"
	mdRotator        = "rotator"
	mdRotatedVersion = "rotated_version"
	mdSourceRotated  = "source_rotated"
	mdDeadCheck      = "exposed_verified_dead" // a metadata key ("true" or why not checkable), named like the transition
	mdDestroyed      = "exposed_version_destroyed"
	mdRotatedAt      = "rotated_at"
	mdRotatedBy      = "rotated_by"
	mdError          = "rotation_error"
	mdRefs           = "rotation_refs"
	mdGuide          = "rotation_guide"
	mdHeld           = "rotation_held" // the destructive step waiting for approval (Change.Held)
	mdNote           = "rotation_note" // what the rotator wrote down before changing the source (Target.note)
)

// Store is the secret store a rotation keeps its state in: the secret the
// exposed value was vaulted in, its versions and metadata. *vault.Store
// (KV v2) and *awssm.Store (AWS Secrets Manager) implement it.
type Store interface {
	// Secret reads the secret's current version and metadata.
	Secret(ctx context.Context, path string) (store.Secret, error)
	// UpdateMetadata writes current with changes merged in ("" removes a
	// key) and returns what it wrote.
	UpdateMetadata(ctx context.Context, path string, current, changes map[string]string) (map[string]string, error)
	// Version reads one version's data; nil when it was destroyed.
	Version(ctx context.Context, path string, v int) (map[string]string, error)
	// WriteNext writes data as the version after cas, the current one; it
	// fails rather than add a second version when another writer moved on.
	WriteNext(ctx context.Context, path string, cas int, data map[string]string) (int, error)
	// Destroy makes version v's value unreadable (KV v2: destroyed; AWS:
	// its staging labels removed).
	Destroy(ctx context.Context, path string, v int) error
}

var _ Store = (*vault.Store)(nil)

// kvSecret is the state of one stored secret: its current version and
// metadata.
type kvSecret struct {
	current int
	md      map[string]string
}

// storeOf is the store t's secret is in: the runner's (WithStore), else the
// KV v2 mount t names on the runner's Vault.
func (r *Runner) storeOf(t Target) Store {
	if r.store != nil {
		return r.store
	}
	return vault.NewStore(r.c, t.Mount, "")
}

func (r *Runner) readSecret(ctx context.Context, t Target) (kvSecret, error) {
	sec, err := r.storeOf(t).Secret(ctx, t.Path)
	if err != nil {
		return kvSecret{}, err
	}
	return kvSecret{current: sec.Current, md: sec.Metadata}, nil
}

// setMetadata merges kv into the secret's metadata ("" removes a key) and
// keeps s up to date.
func (r *Runner) setMetadata(ctx context.Context, t Target, s *kvSecret, kv map[string]string) error {
	md, err := r.storeOf(t).UpdateMetadata(ctx, t.Path, s.md, kv)
	if err != nil {
		return err
	}
	s.md = md
	return nil
}

// readVersion reads one version's data; nil when it was deleted or destroyed.
func (r *Runner) readVersion(ctx context.Context, t Target, v int) (Data, error) {
	d, err := r.storeOf(t).Version(ctx, t.Path, v)
	if d == nil || err != nil {
		return nil, err
	}
	return Data(d), nil
}

// writeNext writes data as the version after cas: a concurrent writer makes
// it fail rather than add a second version.
func (r *Runner) writeNext(ctx context.Context, t Target, cas int, d Data) (int, error) {
	return r.storeOf(t).WriteNext(ctx, t.Path, cas, d)
}

func (r *Runner) destroy(ctx context.Context, t Target, v int) error {
	return r.storeOf(t).Destroy(ctx, t.Path, v)
}

// oneLine folds whitespace runs (Vault's multi-line errors) into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
