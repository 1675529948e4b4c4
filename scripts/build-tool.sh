#!/usr/bin/env bash
# build-tool.sh NAME MODULE VERSION [PKG]
# Builds a Go program from the Go module proxy into the cache and prints the
# binary's path. The module is built inside its own directory, so its own
# go.mod (replace directives included) applies. Used for the comparison
# tools of `make bench` (TruffleHog CLI, Gitleaks) and the linters of
# `make lint` (staticcheck, gci).
set -euo pipefail
name="$1" module="$2" version="$3" pkg="${4:-.}"
CACHE="${PUSHVAULT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pushvault}"
out="$CACHE/$name-$version/$name"
if [ -x "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/$name-build.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
echo "building $name $version from the Go module proxy (first time only)" >&2
dir="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$dir" ] || { echo "build-tool: could not download $module@$version" >&2; exit 1; }
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w ${LDFLAGS:-}" -o "$work/$name" "$pkg"
mkdir -p "$(dirname "$out")"
mv -f "$work/$name" "$out"
echo "$out"
