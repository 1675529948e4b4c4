# pushvault — see README.md.
SHELL := bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
TRUFFLEHOG_VERSION := v3.90.0
GITLEAKS_VERSION := v8.30.1
# The NATS server the cluster test and `make bench`'s -cluster run as
# processes: the release go.mod pins for the embedded one
# (internal/natstest checks they agree).
NATS_SERVER_VERSION := v2.15.2
# make lint's tools, built once into the cache by scripts/build-tool.sh:
# staticcheck 2025.1.1 (its module's version v0.6.1) and gci.
STATICCHECK_VERSION := v0.6.1
GCI_VERSION := v0.13.7
# TruffleHog's detector regexes run on Google RE2 through cgo when libre2 is
# installed (scripts/install-deps.sh), else on its WebAssembly build.
# Decided when each recipe runs (after `deps` may have installed it), and
# passed through GOFLAGS so that builds inside tests get the same tags.
WITH_TAGS = GOFLAGS="$$($(GO) env GOFLAGS) $$(test -f /usr/include/re2/re2.h && echo -tags=re2_cgo)"
# Keep under CI's budget on 2 cores, first run (Vault build) included.
TEST_TIMEOUT ?= 30m

.PHONY: all build build-static test test-short bench bench-generic vault nats lint sample-scan demo demo-local tools deps clean

all: build

deps:
	@bash scripts/install-deps.sh

build:
	$(WITH_TAGS) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/pushvault ./cmd/pushvault

## Detection alone, without Vault: build, make a repository with planted
## secrets, scan it. `pushvault scan` exits 1 when it finds secrets, which
## is the expected outcome here.
sample-scan: deps build
	$(GO) run ./internal/cmd/sample tmp/sample-repo
	bin/pushvault scan tmp/sample-repo; status=$$?; [ $$status -eq 1 ]

## A fully static binary for git servers' hook environments (GHES):
## RE2 and the tree-sitter grammars linked in, no shared libraries.
build-static: deps
	$(GO) build -tags re2_cgo,osusergo,netgo -trimpath \
	  -ldflags '$(LDFLAGS) -linkmode external -extldflags "-static"' -o bin/pushvault-static ./cmd/pushvault

## The README's first command: the GitHub App end to end — a Vault dev
## server, the GitHub stand-in and `pushvault serve`; a real `git push`
## with planted secrets; the check run, the fix PR and its diff, the
## vaulted secrets (see scripts/demo-app.sh).
demo: deps build vault
	bash scripts/demo-app.sh

## The local job without GitHub: `pushvault scan --fix` on a sample
## repository against a Vault dev server (see scripts/demo-local.sh).
demo-local: deps build vault
	bash scripts/demo-local.sh

## Every test; with `deps` before it, the README's test command and what
## .ci/run runs (`make deps test`). Vault and nats-server are built first
## (once, cached) so no test waits on them. System packages are `deps`'s
## job, not this one's.
test: vault nats lint
	$(WITH_TAGS) GO=$(GO) bash scripts/test.sh -timeout $(TEST_TIMEOUT) -count=1

## The fast tier: unit tests only. Under -short the harnesses that start
## real servers or processes (Vault, PostgreSQL, MariaDB, the built
## pushvault binary) skip their tests.
test-short:
	$(WITH_TAGS) $(GO) test -short ./...

vault:
	@bash scripts/build-vault.sh >/dev/null

## nats-server for the JetStream cluster of the tests and the benchmark
## (internal/natstest builds it the same way on first use).
nats:
	@bash scripts/build-tool.sh nats-server github.com/nats-io/nats-server/v2 $(NATS_SERVER_VERSION) >/dev/null

## gofmt, go vet, imports in three groups (standard library, third party,
## this module) and staticcheck; see scripts/lint.sh.
lint:
	@GO=$(GO) bash scripts/lint.sh $(STATICCHECK_VERSION) $(GCI_VERSION)

tools:
	@bash scripts/build-tool.sh trufflehog github.com/trufflesecurity/trufflehog/v3 $(TRUFFLEHOG_VERSION) >/dev/null
	@bash scripts/build-tool.sh gitleaks github.com/zricethezav/gitleaks/v8 $(GITLEAKS_VERSION) >/dev/null

## Scanner throughput and peak memory against the TruffleHog CLI and
## Gitleaks on the same generated 60 MiB history, the pre-receive hook, the
## GitHub App (webhook-to-PR latency, pushes per minute, serve's peak
## memory; Vault dev and the GitHub stand-in), the same burst through 1, 2
## and 3 serve replicas on a 3-node NATS JetStream cluster (pushes per
## minute, and per serve CPU core), `scan --all` of a generated
## 20,000-commit organisation-style history (-history), the App's history
## backfill of it and of a 5,000-commit one beside that scan (wall-time
## ratio, serve's peak RSS, push latency with a backfill running:
## -backfill), then the Go benchmarks.
bench: deps build tools vault nats
	$(GO) run ./internal/cmd/bench -pushvault bin/pushvault \
	  -trufflehog "$$(bash scripts/build-tool.sh trufflehog github.com/trufflesecurity/trufflehog/v3 $(TRUFFLEHOG_VERSION))" \
	  -trufflehog-version $(TRUFFLEHOG_VERSION) \
	  -gitleaks "$$(bash scripts/build-tool.sh gitleaks github.com/zricethezav/gitleaks/v8 $(GITLEAKS_VERSION))" \
	  -gitleaks-version $(GITLEAKS_VERSION)
	$(GO) run ./internal/cmd/bench -pushvault bin/pushvault -hook
	$(GO) run ./internal/cmd/bench -pushvault bin/pushvault -app
	$(GO) run ./internal/cmd/bench -pushvault bin/pushvault -cluster
	$(GO) run ./internal/cmd/bench -pushvault bin/pushvault -history
	$(GO) run ./internal/cmd/bench -pushvault bin/pushvault -backfill
	$(MAKE) bench-generic
	PUSHVAULT_BENCH_REPO="$$(ls -d $${PUSHVAULT_CACHE_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/pushvault}/bench-repo-v*-56mib | tail -1)" \
	  $(WITH_TAGS) $(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./scanner/

## The generic detector's precision and recall beside Gitleaks' generic
## rule (generic-api-key, Gitleaks as a library) on the corpus in
## testdata/generic. A module of its own: Gitleaks never enters the
## product's go.mod.
bench-generic:
	cd internal/cmd/genericbench && $(WITH_TAGS) $(GO) run . -corpus ../../../testdata/generic -v

clean:
	rm -rf bin tmp
