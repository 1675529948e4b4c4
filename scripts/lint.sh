#!/usr/bin/env bash
# lint.sh STATICCHECK_VERSION GCI_VERSION
# What `make lint` runs, from the module's root: gofmt, go vet, the import
# grouping check (gci: standard library, then third party, then this module
# github.com/pushvault/pushvault, each group its own block) and staticcheck
# with its default checks. Every check runs and reports before the script
# fails, so one run lists everything to fix. The two tools are built once
# into the cache by build-tool.sh; staticcheck keeps its own analysis cache
# (~/.cache/staticcheck), so a warm run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
staticcheck_version="$1" gci_version="$2"
go="${GO:-go}"
gci="$(bash scripts/build-tool.sh gci github.com/daixiang0/gci "$gci_version")"
staticcheck="$(bash scripts/build-tool.sh staticcheck honnef.co/go/tools "$staticcheck_version" ./cmd/staticcheck)"
sections=(-s standard -s default -s localmodule)

failed=""
out="$(gofmt -l .)"
if [ -n "$out" ]; then
  printf 'gofmt needed (gofmt -w FILE):\n%s\n' "$out"
  failed="$failed gofmt"
fi
"$go" vet ./... || failed="$failed vet"
out="$("$gci" list "${sections[@]}" --skip-generated .)"
if [ -n "$out" ]; then
  printf 'imports not grouped standard library / third party / this module (%s write %s FILE):\n%s\n' "$gci" "${sections[*]}" "$out"
  failed="$failed imports"
fi
"$staticcheck" ./... || failed="$failed staticcheck"
if [ -n "$failed" ]; then
  echo "lint failed:$failed" >&2
  exit 1
fi
