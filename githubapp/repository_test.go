package githubapp_test

import (
	"testing"

	"github.com/pushvault/pushvault/githubapp"
)

// Names GitHub allows pass; anything that could change the URL or path
// built from them is refused.
func TestValidateRepository(t *testing.T) {
	for _, ok := range [][2]string{{"acme", "shop"}, {"octo-cat", ".github"}, {"dev_acme", "my.repo_x-1"}, {"A1", "a..b"}} {
		if err := githubapp.ValidateRepository(ok[0], ok[1]); err != nil {
			t.Errorf("%s/%s: %v", ok[0], ok[1], err)
		}
	}
	for _, bad := range [][2]string{{"", "shop"}, {"acme", ""}, {"acme", "."}, {"acme", ".."}, {"-acme", "shop"},
		{"acme/x", "shop"}, {"acme", "shop/../x"}, {"acme", "shop%2fx"}, {"acme", "shop x"}, {"acme", "shop?x"},
		{"acme", "shop#x"}, {"acme", "shop@evil.test"}, {"acme:1", "shop"}, {"acme", "shöp"}, {"acme", "shop\n"}} {
		if err := githubapp.ValidateRepository(bad[0], bad[1]); err == nil {
			t.Errorf("%q/%q: accepted", bad[0], bad[1])
		}
	}
	if got, want := githubapp.CloneURL("https://ghe.acme.test/", "acme", "shop"), "https://ghe.acme.test/acme/shop.git"; got != want {
		t.Errorf("CloneURL = %q, want %q", got, want)
	}
}
