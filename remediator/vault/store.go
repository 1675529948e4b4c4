package vault

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/scanner"
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

// Source is where a secret was found, recorded in custom_metadata.
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
	Path    string // under the mount, without data/: pushvault/acme/shop/stripe_api_key
	Version int    // the version holding the exposed value
	Created bool   // false when it was already there
}

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
	if v, err := strconv.Atoi(metaString(meta, metaExposedVersion)); err == nil && v > 0 {
		return v
	}
	return 1
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

// customMetadata is what a new secret's custom_metadata says about it.
// WriteMetadata makes the values (a path from the push, say) fit Vault.
func customMetadata(item Item) map[string]string {
	src := item.Source
	when := src.DetectedAt
	if when.IsZero() {
		when = time.Now()
	}
	md := map[string]string{
		metaFingerprint:    string(item.Fingerprint),
		"source_repo":      src.Repository,
		"source_commit":    src.Commit,
		"source_path":      src.Path,
		"source_line":      strconv.Itoa(src.Line),
		"detector":         src.Detector,
		"detected_at":      when.UTC().Format(time.RFC3339),
		MetaState:          stateVaulted,
		metaExposedVersion: "1",
		"managed_by":       "pushvault",
	}
	return md
}

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
	r := strings.NewReplacer("{owner}", safe(owner), "{repo}", safe(repo), "{name}", safe(name))
	return strings.Trim(r.Replace(s.template), "/")
}

// safe keeps letters, digits, '-', '_' and '.', replacing anything else
// (slashes included) with '_', so a segment can't climb or split the path.
func safe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		out = "_"
	}
	return out
}
