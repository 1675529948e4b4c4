// Package golden compares what a person reads (reports, messages, rewritten
// files) with files under testdata/golden, rewritten by `go test -update`.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "github.com/tailscale/depaware/depaware" // defines -update; see update
)

// update is the -update flag. TruffleHog's pkg/common links in
// tailscale/depaware, whose package init defines a global boolean -update
// flag; any second definition panics, and package init order can't put ours
// after it. So the flag is depaware's, imported here so that it exists in
// every test binary, TruffleHog linked or not.
func update() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// Dir is testdata/golden at the repository root, found from the test's
// working directory.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "golden")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("golden: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Assert compares got with testdata/golden/name, first rewriting the file
// when -update is set.
func Assert(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join(Dir(t), filepath.FromSlash(name))
	if update() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}
