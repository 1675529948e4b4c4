package githubtest

import (
	"strings"
	"testing"

	"github.com/pushvault/pushvault/githubapp/githubtest/contract"
)

// TestRoutesMatchContract: every route the stand-in serves is the
// operation of the same id in GitHub's description, so the stand-in's
// router and the contract's agree (including {ref} and {path} with
// slashes).
func TestRoutesMatchContract(t *testing.T) {
	srv := New(t)
	sample := map[string]string{"{ref}": "heads/feature/x", "{path}": "dir/sub/file.txt", "{owner}": "acme", "{repo}": "shop"}
	served := map[string]bool{}
	for _, rt := range srv.routes {
		var segs []string
		for _, seg := range rt.tmpl {
			if v, ok := sample[seg]; ok {
				seg = v
			} else if strings.HasPrefix(seg, "{") {
				seg = "123"
			}
			segs = append(segs, seg)
		}
		path := "/" + strings.Join(segs, "/")
		op, _, err := srv.spec.Find(rt.method, path)
		if err != nil || op.ID != rt.op {
			t.Errorf("%s %s: contract finds %v (%v), the stand-in routes to %s", rt.method, path, op, err, rt.op)
		}
		got, params := srv.match(rt.method, path)
		if got == nil || got.op != rt.op {
			t.Errorf("%s %s: the stand-in's router does not find its own route", rt.method, path)
		}
		if v, ok := params["ref"]; ok && v != sample["{ref}"] {
			t.Errorf("%s %s: ref = %q", rt.method, path, v)
		}
		served[rt.method+" "+"/"+strings.Join(rt.tmpl, "/")] = true
	}
	for _, line := range contract.Served {
		if !served[line] {
			t.Errorf("the contract serves %q but the stand-in has no route for it", line)
		}
	}
}
