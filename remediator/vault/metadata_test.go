package vault_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/vault"
)

// Values a push controls (a path with a newline or a control character, a
// long one) or an error message spanning lines must not make Vault refuse
// the write: WriteMetadata makes each fit, and "" removes a key.
func TestWriteMetadataMakesEveryValueFit(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	const path = "pushvault/acme/shop/metadata"
	current := map[string]string{"kept": "yes", "cleared": "for now"}
	written, err := vault.WriteMetadata(ctx, c, "secret", path, current, map[string]string{
		"multi_line": "line one\n\tline two\r\n",
		"control":    "a\x01b\x7fc",
		"long":       strings.Repeat("é", 300), // 600 bytes
		"cleared":    "",
		"blank":      " \n ",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"kept": "yes", "multi_line": "line one line two", "control": "a?b?c",
		"long": strings.Repeat("é", 254) + "..."}
	if diff := cmp.Diff(want, written); diff != "" {
		t.Errorf("returned metadata (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"kept": "yes", "cleared": "for now"}, current); diff != "" {
		t.Errorf("current was modified (-want +got):\n%s", diff)
	}
	meta, err := c.KVv2("secret").GetMetadata(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range meta.CustomMetadata {
		got[k], _ = v.(string)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("custom_metadata in Vault (-want +got):\n%s", diff)
	}
}

// The store's first write goes through WriteMetadata too: a source path
// with a newline is vaulted, and the state is the ledger's word.
func TestStorePutWithAnAwkwardSourcePath(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	it := item("awkward", "hmac-vault:v1:FFF", map[string]string{"value": planted})
	it.Source.Path = "config/\nsecrets\x01.env"
	st, err := vault.NewStore(c, "", "").Put(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := c.KVv2("secret").GetMetadata(ctx, st.Path)
	if err != nil {
		t.Fatal(err)
	}
	if got := meta.CustomMetadata["source_path"]; got != "config/ secrets?.env" {
		t.Errorf("source_path = %q", got)
	}
	if got := meta.CustomMetadata[vault.MetaState]; got != evidence.Vaulted {
		t.Errorf("state = %q, want the ledger's %q", got, evidence.Vaulted)
	}
}
