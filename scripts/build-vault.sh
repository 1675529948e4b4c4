#!/usr/bin/env bash
# Builds the pinned Vault server from the Go module proxy into a cache directory
# and prints the binary's path. A `vault` on PATH at the pinned version is used
# as is. Safe to run concurrently: the build happens in a private temp dir and
# the binary is moved into place atomically.
set -euo pipefail

VERSION="${PUSHVAULT_VAULT_VERSION:-1.21.0}"
CACHE="${PUSHVAULT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pushvault}"
OUT="$CACHE/vault-$VERSION/vault"

if command -v vault >/dev/null 2>&1 && vault version 2>/dev/null | grep -q "Vault v$VERSION[ (]"; then
  command -v vault
  exit 0
fi
if [ -x "$OUT" ]; then
  echo "$OUT"
  exit 0
fi

mkdir -p "$CACHE"
# One build at a time: a second caller waits, then finds the binary.
exec 9>"$CACHE/vault-$VERSION.lock"
flock 9
if [ -x "$OUT" ]; then
  echo "$OUT"
  exit 0
fi
work="$(mktemp -d "$CACHE/vault-build.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "building Vault v$VERSION from the Go module proxy (first time only; several minutes)" >&2
dir="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/hashicorp/vault@v$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "build-vault: could not download github.com/hashicorp/vault@v$VERSION" >&2
  exit 1
fi
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
# The module's go.mod points these at nested directories that module zips
# don't contain; without the replaces Go resolves them from the proxy.
for m in api api/auth/approle api/auth/kubernetes api/auth/userpass sdk; do
  go mod edit -dropreplace "github.com/hashicorp/vault/$m"
done
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/vault" .
mkdir -p "$(dirname "$OUT")"
mv -f "$work/vault" "$OUT"
echo "$OUT"
