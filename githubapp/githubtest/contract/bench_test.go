package contract

import (
	"testing"

	"github.com/pushvault/pushvault/internal/npmfixture"
)

// The load benchmarks compare parsing GitHub's full descriptions with
// parsing the cached subsets (reading the file included in both):
//
//	go test -run '^$' -bench Load -benchtime 5x ./githubapp/githubtest/contract/

func BenchmarkLoadREST(b *testing.B) {
	if _, err := Load(); err != nil { // derive the subset once
		b.Fatal(err)
	}
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			data, err := npmfixture.GitHubREST.File(npmfixture.GitHubRESTFile)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := parseSpec(data, Served); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("subset", func(b *testing.B) {
		for b.Loop() {
			data, _, err := cachedSubset("rest", npmfixture.GitHubREST, npmfixture.GitHubRESTFile, Served, deriveREST)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := parseSpec(data, Served); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLoadWebhooks(b *testing.B) {
	if _, err := LoadWebhooks(); err != nil {
		b.Fatal(err)
	}
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			data, err := npmfixture.GitHubWebhooks.File(npmfixture.GitHubWebhooksFile)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := compileWebhooks(data, WebhookEvents); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("subset", func(b *testing.B) {
		for b.Loop() {
			data, _, err := cachedSubset("webhooks", npmfixture.GitHubWebhooks, npmfixture.GitHubWebhooksFile, WebhookEvents, deriveWebhooks)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := compileWebhooks(data, WebhookEvents); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkValidateResponse(b *testing.B) {
	s, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	op, _, err := s.Find("GET", "/repos/acme/shop/check-runs/1")
	if err != nil {
		b.Fatal(err)
	}
	body := fixture(b, "check_run.json")
	h := map[string][]string{"Content-Type": {"application/json"}}
	for b.Loop() {
		if err := s.ValidateResponse(op, nil, 200, h, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDerive measures what a cache miss adds: reading the description
// from the pinned tarball and cutting the subset out of it.
func BenchmarkDerive(b *testing.B) {
	for _, tt := range []struct {
		name   string
		pkg    npmfixture.Package
		file   string
		roots  []string
		derive deriveFunc
	}{
		{"rest", npmfixture.GitHubREST, npmfixture.GitHubRESTFile, Served, deriveREST},
		{"webhooks", npmfixture.GitHubWebhooks, npmfixture.GitHubWebhooksFile, WebhookEvents, deriveWebhooks},
	} {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				raw, err := tt.pkg.File(tt.file)
				if err != nil {
					b.Fatal(err)
				}
				full, err := decodeJSON(raw)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tt.derive(full, tt.roots); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
