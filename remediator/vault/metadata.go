package vault

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/remediator/store"
)

// MetaState is the custom_metadata key holding where a secret stands:
// "vaulted" once the store wrote it, then the rotation's states
// (remediator/rotate), which add keys of their own.
const MetaState = store.MetaState

// Other keys of the custom_metadata the store writes and reads.
const (
	metaExposedVersion = store.MetaExposedVersion
	metaFingerprint    = store.MetaFingerprint
)

// maxMetadataValue is the longest custom_metadata value Vault accepts, in
// bytes.
const maxMetadataValue = 512

// WriteMetadata sets the custom_metadata of the KV v2 secret at path under
// mount to current with changes merged in, and returns what it wrote.
// current (nil for none) is what the secret holds now and is not modified.
// Each changed value is made acceptable to Vault first (see metadataValue);
// one that comes out empty removes its key, since Vault takes no empty
// value. It is the only writer of custom_metadata in pushvault.
func WriteMetadata(ctx context.Context, c *api.Client, mount, path string, current, changes map[string]string) (map[string]string, error) {
	md := make(map[string]string, len(current)+len(changes))
	for k, v := range current {
		md[k] = v
	}
	for k, v := range changes {
		if v = metadataValue(v); v == "" {
			delete(md, k)
			continue
		}
		md[k] = v
	}
	if _, err := c.Logical().WriteWithContext(ctx, mount+"/metadata/"+path, map[string]any{"custom_metadata": md}); err != nil {
		return nil, fmt.Errorf("vault write metadata %s/metadata/%s: %w", mount, path, Explain(c.Address(), err))
	}
	return md, nil
}

// metadataValue is v as Vault's custom_metadata accepts it (1 to 512 bytes,
// printable): runs of white space, line breaks included, become one space
// and the ends are trimmed; any other unprintable character becomes '?';
// a longer value is cut on a character boundary and ends in "...". Values
// may come from a pusher (a file path can hold a newline or a control
// character), so none of them may make the write fail.
func metadataValue(v string) string {
	v = strings.Join(strings.Fields(v), " ")
	v = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, v)
	if len(v) <= maxMetadataValue {
		return v
	}
	cut := maxMetadataValue - len("...")
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "..."
}
