package genericcorpus_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/genericcorpus"
	"github.com/pushvault/pushvault/scanner"
)

func load(t *testing.T) *genericcorpus.Corpus {
	t.Helper()
	c, err := genericcorpus.Load("../../testdata/generic")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every label names a line that exists, and no pattern detector finds a
// labelled value: the labels are the generic detector's alone to find.
func TestLabelsAreGenericSecrets(t *testing.T) {
	c := load(t)
	if len(c.Labels) < 40 || len(c.Files[genericcorpus.Leaks]) < 20 || len(c.Files[genericcorpus.Clean]) < 20 {
		t.Fatalf("corpus too small: %d labels, %d leak files, %d clean files", len(c.Labels), len(c.Files[genericcorpus.Leaks]), len(c.Files[genericcorpus.Clean]))
	}
	for l := range c.Labels {
		path, line, _ := strings.Cut(l, ":")
		n, err := strconv.Atoi(line)
		content, ok := c.Files[genericcorpus.Leaks][path]
		if err != nil || !ok || n < 1 || n > strings.Count(content, "\n")+1 {
			t.Errorf("label %s names no line of leaks/", l)
		}
	}
	reports, err := c.Pushvault(context.Background(), t.TempDir(), scanner.GenericOff, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Kind == genericcorpus.Leaks && c.Labels[r.Path+":"+strconv.Itoa(r.Line)] {
			t.Errorf("a pattern detector finds the labelled secret at %s:%d", r.Path, r.Line)
		}
	}
}

// The generic detector's figures on the corpus stay at least where they
// were measured (README, performance): a change that loses precision or
// recall fails here, not only in the measuring command.
func TestGenericDetectorOnCorpus(t *testing.T) {
	c := load(t)
	reports, err := c.Pushvault(context.Background(), t.TempDir(), scanner.GenericReport, scanner.GenericName)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Rate(reports)
	t.Logf("precision %.3f recall %.3f (found %d of %d; false: %d in leaks, %d in clean)\nmissed: %v\nfalse: %v",
		s.Precision(), s.Recall(), s.Found, s.Labels, s.FalseInLeaks, s.FalseInClean, s.Missed, s.FalsePositive)
	if s.Precision() < 0.95 || s.Recall() < 0.85 {
		t.Errorf("precision %.3f (floor 0.95), recall %.3f (floor 0.85)", s.Precision(), s.Recall())
	}
}
