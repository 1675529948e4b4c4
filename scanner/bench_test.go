package scanner_test

import (
	"context"
	"os"
	"testing"

	"github.com/pushvault/pushvault/internal/fixture"
	"github.com/pushvault/pushvault/scanner"
)

// BenchmarkScan scans a repository's whole history: the one named by
// PUSHVAULT_BENCH_REPO (make bench points it at the generated 60 MiB
// history), else the small planted-secret fixture. Reports MiB/s of the
// diff read from git.
func BenchmarkScan(b *testing.B) {
	dir := os.Getenv("PUSHVAULT_BENCH_REPO")
	if dir == "" {
		dir = fixture.Leaky(b).Repo.Dir
	}
	sc := scanner.New()
	var bytes int64
	b.ResetTimer()
	for b.Loop() {
		res, err := sc.Scan(context.Background(), dir, scanner.All())
		if err != nil {
			b.Fatal(err)
		}
		bytes = res.Stats.Bytes
	}
	b.SetBytes(bytes)
}
