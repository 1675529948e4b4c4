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
// a tag hold, one only main holds — and a string that is not an object id
// is not looked for. One walk per ref answers for all of them.
func TestHistoryHolders(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("dev <dev@acme.test>", "base", map[string]string{"a.txt": "a\n"})
	r.Git("checkout", "-q", "-b", "old-deploy")
	deploy := r.Commit("dev <dev@acme.test>", "deploy", map[string]string{"deploy.sh": "echo\n"})
	r.Git("tag", "-a", "v0.1", "-m", "release 0.1")
	r.Git("tag", "v0.1-light")
	r.Git("checkout", "-q", "main")
	later := r.Commit("dev <dev@acme.test>", "later", map[string]string{"b.txt": "b\n"})
	ref := func(name string) string { return r.Git("rev-parse", name+"^{commit}") }
	m := &history{fetched: fetched{dir: r.Dir},
		branches: map[string]string{"main": ref("main"), "old-deploy": ref("old-deploy")},
		tags:     map[string]string{"v0.1": ref("v0.1"), "v0.1-light": ref("v0.1-light")}}

	got := m.holders(context.Background(), []string{base, deploy, later, "HEAD"})
	want := map[string]refsHolding{
		base:   {branches: []string{"main", "old-deploy"}, tags: []string{"v0.1", "v0.1-light"}},
		deploy: {branches: []string{"old-deploy"}, tags: []string{"v0.1", "v0.1-light"}},
		later:  {branches: []string{"main"}},
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
