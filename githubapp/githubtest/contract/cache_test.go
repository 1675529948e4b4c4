package contract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/npmfixture"
)

// recorded reads the source a cached subset records.
func recorded(t *testing.T, path string) source {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cached subset: %v", err)
	}
	var rec struct {
		Source source `json:"x-pushvault-source"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec.Source
}

func TestLoadUsesTheCachedSubset(t *testing.T) {
	s := mustLoad(t)
	again := mustLoad(t)
	if s != again {
		t.Error("second Load returned another *Spec")
	}
	src := recorded(t, s.path)
	pkg := npmfixture.GitHubREST
	if src.Package != pkg.Name || src.Version != pkg.Version || src.SHA256 != pkg.SHA256 || src.File != npmfixture.GitHubRESTFile {
		t.Errorf("subset records %+v, want %s@%s sha256 %s", src, pkg.Name, pkg.Version, pkg.SHA256)
	}
	if src.Key != s.source.Key || len(src.Roots) != len(Served) {
		t.Errorf("subset records key %s for %d operations, loaded %s for %d", src.Key, len(src.Roots), s.source.Key, len(Served))
	}

	w := mustLoadWebhooks(t)
	hsrc := recorded(t, w.path)
	hpkg := npmfixture.GitHubWebhooks
	if hsrc.Package != hpkg.Name || hsrc.Version != hpkg.Version || hsrc.SHA256 != hpkg.SHA256 || len(hsrc.Roots) != len(WebhookEvents) {
		t.Errorf("webhooks subset records %+v, want %s@%s sha256 %s", hsrc, hpkg.Name, hpkg.Version, hpkg.SHA256)
	}
}

// TestCachedSubset derives into an empty cache directory (the pinned
// tarball linked in, so no network), reads the file back without deriving,
// and derives again when the recorded key differs or the roots change.
func TestCachedSubset(t *testing.T) {
	pkg := npmfixture.GitHubREST
	tgz, err := pkg.Tarball()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "npm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(tgz, filepath.Join(dir, "npm", filepath.Base(tgz))); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PUSHVAULT_CACHE_DIR", dir)

	roots := []string{"GET /app", "POST /repos/{owner}/{repo}/check-runs"}
	derived := 0
	derive := func(full map[string]any, roots []string) (map[string]any, error) {
		derived++
		return deriveREST(full, roots)
	}
	first, src, err := cachedSubset("rest", pkg, npmfixture.GitHubRESTFile, roots, derive)
	if err != nil {
		t.Fatal(err)
	}
	if derived != 1 {
		t.Fatalf("first call derived %d times, want 1", derived)
	}
	path := src.path("rest")
	if diff := cmp.Diff(src, recorded(t, path)); diff != "" {
		t.Errorf("recorded source (-want +got):\n%s", diff)
	}
	spec, err := parseSpec(first, roots)
	if err != nil {
		t.Fatal(err)
	}
	if op, _, err := spec.Find("POST", "/repos/acme/shop/check-runs"); err != nil || op.ID != "checks/create" {
		t.Errorf("derived subset: %v %v", op, err)
	}

	second, _, err := cachedSubset("rest", pkg, npmfixture.GitHubRESTFile, roots, derive)
	if err != nil {
		t.Fatal(err)
	}
	if derived != 1 || string(second) != string(first) {
		t.Errorf("second call derived again (%d) or read something else", derived)
	}

	// A file whose recorded key differs is derived again.
	var m map[string]any
	if err := json.Unmarshal(first, &m); err != nil {
		t.Fatal(err)
	}
	m[sourceField].(map[string]any)["key"] = "stale"
	stale, _ := json.Marshal(m)
	if err := os.WriteFile(path, stale, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cachedSubset("rest", pkg, npmfixture.GitHubRESTFile, roots, derive); err != nil {
		t.Fatal(err)
	}
	if derived != 2 {
		t.Errorf("stale key: derived %d times, want 2", derived)
	}
	if got := recorded(t, path).Key; got != src.Key {
		t.Errorf("rewritten file records key %s, want %s", got, src.Key)
	}

	// Other roots make another key and another file.
	_, other, err := cachedSubset("rest", pkg, npmfixture.GitHubRESTFile, roots[:1], derive)
	if err != nil {
		t.Fatal(err)
	}
	if other.Key == src.Key || other.path("rest") == path || derived != 3 {
		t.Errorf("other roots: key %s path %s derived %d", other.Key, other.path("rest"), derived)
	}
}
