package handler

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/gittest"
)

// TestHistoryHolders: each commit asked about is named with every branch
// and tag whose history holds it, as a real git repository says — a
// commit on main and on the branch forked after it, one only a branch and
// two tags hold (an annotated tag given by its own object, as
// `git ls-remote` names it, and a lightweight one), one only main holds,
// one reached by main and by a release branch only through a merge — a
// tag on a blob holds nothing, and a string that is not an object id is
// not looked for. One walk answers for all of them.
func TestHistoryHolders(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("dev <dev@acme.test>", "base", map[string]string{"a.txt": "a\n"})
	r.Git("checkout", "-q", "-b", "old-deploy")
	deploy := r.Commit("dev <dev@acme.test>", "deploy", map[string]string{"deploy.sh": "echo\n"})
	r.Git("tag", "-a", "v0.1", "-m", "release 0.1")
	r.Git("tag", "v0.1-light")
	r.Git("checkout", "-q", "-b", "feature", "main")
	feature := r.Commit("dev <dev@acme.test>", "feature", map[string]string{"f.txt": "f\n"})
	r.Git("checkout", "-q", "main")
	later := r.Commit("dev <dev@acme.test>", "later", map[string]string{"b.txt": "b\n"})
	r.Git("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
	r.Git("branch", "-q", "-D", "feature")
	r.Git("checkout", "-q", "-b", "release", "main")
	r.Commit("dev <dev@acme.test>", "release", map[string]string{"r.txt": "r\n"})
	r.Git("checkout", "-q", "main")
	r.Git("tag", "blob-tag", r.Git("rev-parse", "main:a.txt"))
	ref := func(name string) string { return r.Git("rev-parse", name+"^{commit}") }
	m := &history{fetched: fetched{dir: r.Dir},
		branches: map[string]string{"main": ref("main"), "old-deploy": ref("old-deploy"), "release": ref("release")},
		tags: map[string]string{"v0.1": r.Git("rev-parse", "v0.1"), "v0.1-light": ref("v0.1-light"),
			"blob-tag": r.Git("rev-parse", "blob-tag")}}

	got := m.holders(context.Background(), []string{base, deploy, later, feature, "HEAD"})
	want := map[string]refsHolding{
		base:    {branches: []string{"main", "old-deploy", "release"}, tags: []string{"v0.1", "v0.1-light"}},
		deploy:  {branches: []string{"old-deploy"}, tags: []string{"v0.1", "v0.1-light"}},
		later:   {branches: []string{"main", "release"}},
		feature: {branches: []string{"main", "release"}},
	}
	if diff := cmp.Diff(want, deref(got), cmp.AllowUnexported(refsHolding{})); diff != "" {
		t.Errorf("holders (-want +got):\n%s", diff)
	}
}

func deref(m map[string]*refsHolding) map[string]refsHolding {
	out := map[string]refsHolding{}
	for k, v := range m {
		if v == nil {
			panic(fmt.Sprintf("nil holding for %s", k))
		}
		out[k] = *v
	}
	return out
}

// A refSet holds indexes past one word, and with and union leave the sets
// they are given as they were.
func TestRefSet(t *testing.T) {
	a := refSet(nil).with(3)
	b := a.with(70)
	c := a.union(refSet(nil).with(64))
	var got []int
	c.union(b).each(func(i int) { got = append(got, i) })
	if diff := cmp.Diff([]int{3, 64, 70}, got); diff != "" {
		t.Errorf("union (-want +got):\n%s", diff)
	}
	got = nil
	a.each(func(i int) { got = append(got, i) })
	if diff := cmp.Diff([]int{3}, got); diff != "" {
		t.Errorf("a changed (-want +got):\n%s", diff)
	}
}
