package contract

import "testing"

func TestValidateURITemplate(t *testing.T) {
	tests := []struct {
		template string
		ok       bool
	}{
		{"https://api.github.com/repos/acme/shop/keys{/key_id}", true},
		{"https://api.github.com/repos/acme/shop/compare/{base}...{head}", true},
		{"https://api.github.com/users/mona/starred{/owner}{/repo}", true},
		{"https://uploads.github.com/repos/acme/shop/releases/1/assets{?name,label}", true},
		{"https://example.com/{+path:12}/{var*}", true},
		{"https://api.github.com/repos/acme/shop", true},
		{"https://api.github.com/repos/acme/shop/keys{/key_id", false},
		{"https://api.github.com/repos/acme/shop/keys/key_id}", false},
		{"https://example.com/{}", false},
		{"https://example.com/{a b}", false},
		{"https://example.com/{a{b}}", false},
		{"https://example.com/{var:0}", false},
		{"https://example.com/a b", false},
		{"https://example.com/%zz", false},
	}
	for _, tt := range tests {
		err := validateURITemplate(tt.template)
		if (err == nil) != tt.ok {
			t.Errorf("%q: error %v, want ok=%v", tt.template, err, tt.ok)
		}
	}
	if err := validateURITemplate(42); err != nil {
		t.Errorf("a non-string is not this format's business: %v", err)
	}
}

func TestValidateURI(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"https://api.github.com/repos/acme/shop/check-runs/1/annotations", true},
		{"git://github.com/acme/shop.git", true},
		{"mailto:mona@acme.example", true},
		{"annotations", false},
		{"/repos/acme/shop", false},
		{"https://example.com/a b", false},
		{"https://example.com/{id}", false},
	}
	for _, tt := range tests {
		if err := validateURI(tt.uri); (err == nil) != tt.ok {
			t.Errorf("%q: error %v, want ok=%v", tt.uri, err, tt.ok)
		}
	}
}
