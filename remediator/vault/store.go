package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/store"
)

// Store keeps secrets in a KV v2 engine, one secret per distinct leaked
// value per repository, at the configured path template.
//
// Writes are idempotent by fingerprint: the metadata entry is created
// first with the fingerprint in custom_metadata, then version 1 with
// check-and-set 0. A rerun, a retry after a crash between the two steps, or
// a second process finds the fingerprint and writes nothing more. A name
// already taken by a different secret gets a short fingerprint suffix.
//
// Store is safe for concurrent use.
type Store struct {
	c        *api.Client
	mount    string
	template string
	addr     string
}

// NewStore returns a store on the client's KV v2 mount.
func NewStore(c *api.Client, mount, pathTemplate string) *Store {
	if mount == "" {
		mount = DefaultMount
	}
	if pathTemplate == "" {
		pathTemplate = DefaultPathTemplate
	}
	return &Store{c: c, mount: strings.Trim(mount, "/"), template: pathTemplate, addr: c.Address()}
}

// Mount is the KV v2 mount the store writes to.
func (s *Store) Mount() string { return s.mount }

// Name names the store for people: Vault.
func (s *Store) Name() string { return "Vault" }

// Ref is the reference a fix writes for key of the secret at path: in the
// bank-vaults form (vault:MOUNT/data/PATH#KEY) or vals's, as the style says.
func (s *Store) Ref(path, key string) rewrite.Ref {
	return rewrite.Ref{Mount: s.mount, Path: path, Key: key}
}

// Source, Item and Stored are the types every store shares (package store).
type (
	Source = store.Source
	Item   = store.Item
	Stored = store.Stored
)

// Put stores item unless it is already stored, and returns where it is.
func (s *Store) Put(ctx context.Context, item Item) (Stored, error) {
	if item.Fingerprint == "" {
		return Stored{}, errors.New("vault put: secret has no fingerprint")
	}
	if len(item.Data) == 0 {
		return Stored{}, errors.New("vault put: secret has no data")
	}
	name := item.Name
	for attempt := 0; attempt < 3; attempt++ {
		path := s.path(item.Owner, item.Repo, name)
		st, taken, err := s.putAt(ctx, path, item)
		if err != nil {
			return Stored{}, err
		}
		if !taken {
			return st, nil
		}
		// Another secret holds this name: make ours unique.
		name = item.Name + "_" + item.Fingerprint.Short()
		if attempt == 1 {
			name = item.Name + "_" + strings.ReplaceAll(string(item.Fingerprint), ":", "")[len(item.Fingerprint)-20:]
		}
	}
	return Stored{}, fmt.Errorf("vault put: no free name for %s under %s", item.Name, s.path(item.Owner, item.Repo, ""))
}

// putAt stores item at path; taken reports that path belongs to another secret.
func (s *Store) putAt(ctx context.Context, path string, item Item) (Stored, bool, error) {
	kv := s.c.KVv2(s.mount)
	meta, err := kv.GetMetadata(ctx, path)
	switch {
	case errors.Is(err, api.ErrSecretNotFound):
		meta = nil
	case err != nil:
		return Stored{}, false, fmt.Errorf("vault read metadata %s/metadata/%s: %w", s.mount, path, Explain(s.addr, err))
	}
	if meta != nil {
		fp := metaString(meta, metaFingerprint)
		if fp != "" && fp != string(item.Fingerprint) {
			return Stored{}, true, nil
		}
		if fp == "" && meta.CurrentVersion > 0 {
			return Stored{}, true, nil // written by something else
		}
		if meta.CurrentVersion > 0 {
			v := exposedVersion(meta)
			return Stored{Path: path, Version: v}, false, nil
		}
		// Metadata written, data not yet (a crash in between): finish.
	} else {
		if _, err := WriteMetadata(ctx, s.c, s.mount, path, nil, customMetadata(item)); err != nil {
			return Stored{}, false, err
		}
	}
	data := map[string]any{}
	for k, v := range item.Data {
		data[k] = v.Reveal()
	}
	sec, err := kv.Put(ctx, path, data, api.WithCheckAndSet(0))
	if err != nil {
		if isCASMismatch(err) {
			// Someone wrote version 1 between our read and write: look again.
			return s.putAt(ctx, path, item)
		}
		return Stored{}, false, fmt.Errorf("vault write %s/data/%s: %w", s.mount, path, Explain(s.addr, err))
	}
	return Stored{Path: path, Version: sec.VersionMetadata.Version, Created: true}, false, nil
}

// exposedVersion is the version that holds the exposed value: recorded in
// custom_metadata once a rotation moves on, else 1.
func exposedVersion(meta *api.KVMetadata) int {
	return store.ExposedVersion(map[string]string{metaExposedVersion: metaString(meta, metaExposedVersion)})
}

// metaString reads one custom_metadata value (the API decodes them as any).
func metaString(meta *api.KVMetadata, key string) string {
	s, _ := meta.CustomMetadata[key].(string)
	return s
}

func isCASMismatch(err error) bool {
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == 400 {
		for _, e := range re.Errors {
			if strings.Contains(e, "check-and-set") {
				return true
			}
		}
	}
	return false
}

// customMetadata is what a new secret's custom_metadata says about it
// (store.Metadata). WriteMetadata makes the values (a path from the push,
// say) fit Vault.
func customMetadata(item Item) map[string]string { return store.Metadata(item) }

// SetMetadata merges keys into a stored secret's custom_metadata (state,
// links) with WriteMetadata: keys not given are kept, a value that is
// empty (once made fit for Vault) removes its key.
func (s *Store) SetMetadata(ctx context.Context, path string, kv map[string]string) error {
	meta, err := s.c.KVv2(s.mount).GetMetadata(ctx, path)
	if err != nil {
		return fmt.Errorf("vault read metadata %s/metadata/%s: %w", s.mount, path, Explain(s.addr, err))
	}
	md := map[string]string{}
	for k := range meta.CustomMetadata {
		md[k] = metaString(meta, k)
	}
	_, err = WriteMetadata(ctx, s.c, s.mount, path, md, kv)
	return err
}

// path fills the template. Owner, repo and name are made path-safe.
func (s *Store) path(owner, repo, name string) string {
	return store.Name(s.template, owner, repo, name)
}

// Secret reads where the secret at path stands: its current version and
// custom_metadata.
func (s *Store) Secret(ctx context.Context, path string) (store.Secret, error) {
	meta, err := s.c.KVv2(s.mount).GetMetadata(ctx, path)
	if err != nil {
		return store.Secret{}, fmt.Errorf("vault read metadata %s/metadata/%s: %w", s.mount, path, err)
	}
	sec := store.Secret{Current: meta.CurrentVersion, Metadata: map[string]string{}}
	for k, v := range meta.CustomMetadata {
		if str, ok := v.(string); ok {
			sec.Metadata[k] = str
		}
	}
	return sec, nil
}

// UpdateMetadata sets the custom_metadata of the secret at path to current
// with changes merged in ("" removes a key) and returns what it wrote; see
// WriteMetadata.
func (s *Store) UpdateMetadata(ctx context.Context, path string, current, changes map[string]string) (map[string]string, error) {
	return WriteMetadata(ctx, s.c, s.mount, path, current, changes)
}

// Version reads version v of the secret at path; nil when it was deleted or
// destroyed.
func (s *Store) Version(ctx context.Context, path string, v int) (map[string]string, error) {
	sec, err := s.c.KVv2(s.mount).GetVersion(ctx, path, v)
	if errors.Is(err, api.ErrSecretNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault read %s/data/%s version %d: %w", s.mount, path, v, err)
	}
	d := map[string]string{}
	for k, val := range sec.Data {
		if str, ok := val.(string); ok {
			d[k] = str
		}
	}
	return d, nil
}

// WriteNext writes data as the version after cas, with check-and-set: a
// concurrent writer makes it fail rather than add a second version.
func (s *Store) WriteNext(ctx context.Context, path string, cas int, data map[string]string) (int, error) {
	m := make(map[string]any, len(data))
	for k, v := range data {
		m[k] = v
	}
	sec, err := s.c.KVv2(s.mount).Put(ctx, path, m, api.WithCheckAndSet(cas))
	if err != nil {
		return 0, fmt.Errorf("vault write %s/data/%s (check-and-set %d): %w", s.mount, path, cas, err)
	}
	return sec.VersionMetadata.Version, nil
}

// Destroy destroys version v of the secret at path: its value is gone for
// good.
func (s *Store) Destroy(ctx context.Context, path string, v int) error {
	if err := s.c.KVv2(s.mount).Destroy(ctx, path, []int{v}); err != nil {
		return fmt.Errorf("vault destroy %s/destroy/%s version %d: %w", s.mount, path, v, err)
	}
	return nil
}
