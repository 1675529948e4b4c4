package awssm_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/awstest"
	"github.com/pushvault/pushvault/remediator/awssm"
	"github.com/pushvault/pushvault/remediator/store"
	"github.com/pushvault/pushvault/scanner"
)

// TestStoreAgainstStandIn runs the store's whole life against the AWS
// stand-in (SigV4-checked, every request and answer held to the Secrets
// Manager model): written once however often Put is repeated, tags without
// the value, PUSHVAULT_EXPOSED on the exposed version, a rotation as the
// next version with AWSCURRENT moved, a stale write refused, the exposed
// version's labels removed by Destroy, and the reference resolved.
func TestStoreAgainstStandIn(t *testing.T) {
	ctx := context.Background()
	srv := awstest.New(t, awstest.WithRegion("eu-west-1"))
	if _, err := srv.CreateUser("pushvault"); err != nil {
		t.Fatal(err)
	}
	creds, err := srv.CreateAccessKey("pushvault")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	st, err := awssm.New(ctx, awssm.Config{Region: "eu-west-1", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	planted := "sk_live_" + strings.Repeat("Zq7", 10) // planted: must appear in no tag or error
	item := store.Item{Owner: "acme", Repo: "shop", Name: "stripe_api_key", Fingerprint: scanner.Fingerprint("hmac-sha256:0123456789abcdef0123456789abcdef"),
		Data:   map[string]scanner.Secret{"value": scanner.NewSecret(planted)},
		Source: store.Source{Repository: "acme/shop", Commit: "1a2b3c4d", Path: "config/pay ments\n.yml", Line: 3, Detector: "Stripe"}}

	first, err := st.Put(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.Put(ctx, item) // a redelivery
	if err != nil {
		t.Fatal(err)
	}
	name := "pushvault/acme/shop/stripe_api_key"
	if first != (store.Stored{Path: name, Version: 1, Created: true}) || again != (store.Stored{Path: name, Version: 1}) {
		t.Fatalf("Put twice = %+v then %+v", first, again)
	}
	if got := srv.SecretNames(); !slices.Equal(got, []string{name}) {
		t.Fatalf("secrets = %q, want one", got)
	}
	info, _ := srv.Secret(name)
	for k, want := range map[string]string{"fingerprint": string(item.Fingerprint), "source_repo": "acme/shop",
		"source_commit": "1a2b3c4d", "source_path": "config/pay ments+0A.yml", "source_line": "3", "detector": "Stripe", "state": "vaulted"} {
		if info.Tags[k] != want {
			t.Errorf("tag %s = %q, want %q", k, info.Tags[k], want)
		}
	}
	for k, v := range info.Tags {
		if strings.Contains(v, planted) || strings.Contains(k, planted) {
			t.Errorf("tag %s holds the planted value", k)
		}
	}
	if len(info.Versions) != 1 || !sameSet(info.Versions[0].Stages, "AWSCURRENT", awssm.LabelExposed) ||
		info.Versions[0].VersionID != awssm.VersionID(string(item.Fingerprint), name, 1) {
		t.Fatalf("versions after Put: %+v", info.Versions)
	}

	ref := st.Ref(name, "value").External
	if v, changed, err := awssm.NewResolver(srv.URL, 0).Expand(ctx, "postgres://app:${"+ref+"}@db/x"); err != nil || !changed || v != "postgres://app:"+planted+"@db/x" {
		t.Fatalf("Expand inline: changed=%v err=%v, value resolved correctly: %v", changed, err, v == "postgres://app:"+planted+"@db/x")
	}

	// A rotation writes version 2 and moves AWSCURRENT; a writer that
	// still thinks version 1 is current is refused.
	v, err := st.WriteNext(ctx, name, 1, map[string]string{"value": "rotated-value"})
	if err != nil || v != 2 {
		t.Fatalf("WriteNext = %d, %v", v, err)
	}
	if _, err := st.WriteNext(ctx, name, 1, map[string]string{"value": "another"}); err == nil {
		t.Error("a second WriteNext on version 1: no error")
	}
	sec, err := st.Secret(ctx, name)
	if err != nil || sec.Current != 2 {
		t.Fatalf("Secret = %+v, %v; want current 2", sec, err)
	}
	if got, _, err := awssm.NewResolver(srv.URL, 0).Expand(ctx, ref); err != nil || got != "rotated-value" {
		t.Errorf("reference after rotation: %v (resolved to the new value: %v)", err, got == "rotated-value")
	}
	if _, err := st.UpdateMetadata(ctx, name, sec.Metadata, map[string]string{"state": "rotated", "rotation_error": ""}); err != nil {
		t.Fatal(err)
	}

	// destroy_exposed: version 1 keeps no label; the current one is refused.
	if err := st.Destroy(ctx, name, 2); err == nil {
		t.Error("Destroy of the current version: no error")
	}
	if err := st.Destroy(ctx, name, 1); err != nil {
		t.Fatal(err)
	}
	info, _ = srv.Secret(name)
	if len(info.Versions) != 2 || len(info.Versions[0].Stages) != 0 || !sameSet(info.Versions[1].Stages, "AWSCURRENT") || info.Tags["state"] != "rotated" {
		t.Errorf("after Destroy: versions %+v, state %q", info.Versions, info.Tags["state"])
	}
	if d, err := st.Version(ctx, name, 1); err != nil || d != nil {
		t.Errorf("Version(1) after Destroy = %v, %v; want nil", d != nil, err)
	}
	if again, err := st.Put(ctx, item); err != nil || again != (store.Stored{Path: name, Version: 1}) {
		t.Errorf("Put after the rotation = %+v, %v", again, err)
	}
	if got := srv.SecretNames(); len(got) != 1 {
		t.Errorf("secrets = %q, want one", got)
	}
}

func sameSet(got []string, want ...string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}
