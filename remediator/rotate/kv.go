package rotate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"

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
)

// kvSecret is the state of one KV v2 secret: its current version and
// custom_metadata.
type kvSecret struct {
	current int
	md      map[string]string
}

func (r *Runner) readSecret(ctx context.Context, t Target) (kvSecret, error) {
	meta, err := r.c.KVv2(t.Mount).GetMetadata(ctx, t.Path)
	if err != nil {
		return kvSecret{}, fmt.Errorf("vault read metadata %s/metadata/%s: %w", t.Mount, t.Path, err)
	}
	s := kvSecret{current: meta.CurrentVersion, md: map[string]string{}}
	for k, v := range meta.CustomMetadata {
		if str, ok := v.(string); ok {
			s.md[k] = str
		}
	}
	return s, nil
}

// setMetadata merges kv into the secret's custom_metadata with
// vault.WriteMetadata ("" removes a key) and keeps s up to date.
func (r *Runner) setMetadata(ctx context.Context, t Target, s *kvSecret, kv map[string]string) error {
	md, err := vault.WriteMetadata(ctx, r.c, t.Mount, t.Path, s.md, kv)
	if err != nil {
		return err
	}
	s.md = md
	return nil
}

// readVersion reads one version's data; nil when it was deleted or destroyed.
func (r *Runner) readVersion(ctx context.Context, t Target, v int) (Data, error) {
	sec, err := r.c.KVv2(t.Mount).GetVersion(ctx, t.Path, v)
	if errors.Is(err, api.ErrSecretNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault read %s/data/%s version %d: %w", t.Mount, t.Path, v, err)
	}
	d := Data{}
	for k, val := range sec.Data {
		if s, ok := val.(string); ok {
			d[k] = s
		}
	}
	return d, nil
}

// writeNext writes data as the version after cas, with check-and-set: a
// concurrent writer makes it fail rather than add a second version.
func (r *Runner) writeNext(ctx context.Context, t Target, cas int, d Data) (int, error) {
	m := make(map[string]any, len(d))
	for k, v := range d {
		m[k] = v
	}
	sec, err := r.c.KVv2(t.Mount).Put(ctx, t.Path, m, api.WithCheckAndSet(cas))
	if err != nil {
		return 0, fmt.Errorf("vault write %s/data/%s (check-and-set %d): %w", t.Mount, t.Path, cas, err)
	}
	return sec.VersionMetadata.Version, nil
}

func (r *Runner) destroy(ctx context.Context, t Target, v int) error {
	if err := r.c.KVv2(t.Mount).Destroy(ctx, t.Path, []int{v}); err != nil {
		return fmt.Errorf("vault destroy %s/destroy/%s version %d: %w", t.Mount, t.Path, v, err)
	}
	return nil
}

// oneLine folds whitespace runs (Vault's multi-line errors) into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
