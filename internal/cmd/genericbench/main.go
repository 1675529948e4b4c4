// Command genericbench measures pushvault's generic secret detector beside
// Gitleaks' generic rule (generic-api-key, with Gitleaks' default
// configuration, as a library) on the project's corpus, testdata/generic:
// precision and recall, and where each was wrong. `make bench-generic`
// runs it.
//
// It is a module of its own so that Gitleaks is a dependency of this
// measurement only, never of the pushvault binary: the product's go.mod
// does not name it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/pushvault/pushvault/internal/genericcorpus"
	"github.com/pushvault/pushvault/scanner"
)

// gitleaksVersion is the Gitleaks module this command is built with (go.mod).
const gitleaksVersion = "v8.30.1"

func main() {
	corpus := flag.String("corpus", "testdata/generic", "corpus directory (leaks/, clean/, labels.txt)")
	verbose := flag.Bool("v", false, "list every miss and false report")
	flag.Parse()
	if err := run(*corpus, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "genericbench:", err)
		os.Exit(1)
	}
}

func run(dir string, verbose bool) error {
	c, err := genericcorpus.Load(dir)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "genericbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pv, err := c.Pushvault(context.Background(), tmp, scanner.GenericReport, scanner.GenericName)
	if err != nil {
		return err
	}
	gl, err := gitleaksGeneric(c)
	if err != nil {
		return err
	}
	fmt.Printf("corpus %s: %d files with %d planted generic secrets (leaks/), %d clean files (clean/)\n\n",
		dir, len(c.Files[genericcorpus.Leaks]), len(c.Labels), len(c.Files[genericcorpus.Clean]))
	fmt.Println("| detector | precision | recall | found | false in leaks/ | false in clean/ |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	scores := []struct {
		name string
		s    genericcorpus.Score
	}{{"pushvault Generic", c.Rate(pv)}, {"Gitleaks " + gitleaksVersion + " generic-api-key", c.Rate(gl)}}
	for _, r := range scores {
		fmt.Printf("| %s | %.2f | %.2f | %d/%d | %d | %d |\n", r.name, r.s.Precision(), r.s.Recall(), r.s.Found, r.s.Labels, r.s.FalseInLeaks, r.s.FalseInClean)
	}
	if verbose {
		for _, r := range scores {
			fmt.Printf("\n%s\n  missed: %s\n  false:  %s\n", r.name, strings.Join(r.s.Missed, " "), strings.Join(r.s.FalsePositive, " "))
		}
	}
	return nil
}

// gitleaksGeneric runs Gitleaks' default configuration on every file of
// the corpus, each with its path (Gitleaks' allowlists look at paths), and
// keeps its generic rule's findings. Gitleaks drops a generic finding that
// another of its rules also makes, as pushvault does.
func gitleaksGeneric(c *genericcorpus.Corpus) ([]genericcorpus.Loc, error) {
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		return nil, fmt.Errorf("gitleaks config: %w", err)
	}
	var out []genericcorpus.Loc
	for _, kind := range []string{genericcorpus.Leaks, genericcorpus.Clean} {
		paths := make([]string, 0, len(c.Files[kind]))
		for p := range c.Files[kind] {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			for _, f := range d.Detect(detect.Fragment{Raw: c.Files[kind][p], FilePath: p}) {
				if f.RuleID != "generic-api-key" {
					continue
				}
				// Gitleaks counts a fragment's lines from 0.
				out = append(out, genericcorpus.Loc{Kind: kind, Path: p, Line: f.StartLine + 1})
			}
		}
	}
	return out, nil
}
