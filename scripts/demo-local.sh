#!/usr/bin/env bash
# The whole local job, end to end: start a Vault dev server, make a sample
# repository with planted (fake) secrets, run `pushvault scan --fix`, show
# what landed in Vault, the fix branch's diff, `pushvault exec` resolving
# vault.env, and the verified evidence ledger. Everything lives under
# tmp/demo and is removed at the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
demo="$root/tmp/demo"
rm -rf "$demo"
mkdir -p "$demo/data"

vault_bin="$(bash scripts/build-vault.sh)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18200)"
export VAULT_ADDR="http://127.0.0.1:$port" VAULT_TOKEN="pushvault-demo-root"
HOME="$demo" "$vault_bin" server -dev -dev-root-token-id="$VAULT_TOKEN" -dev-listen-address="127.0.0.1:$port" -dev-no-store-token >"$demo/vault.log" 2>&1 &
vault_pid=$!
trap 'kill $vault_pid 2>/dev/null; wait $vault_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$VAULT_ADDR/v1/sys/health" >/dev/null 2>&1 && break
  sleep 0.1
done
export PUSHVAULT_DATA_DIR="$demo/data"

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

section "A repository with secrets committed in it"
go run ./internal/cmd/sample "$demo/shop"
git -C "$demo/shop" remote add origin https://github.com/acme/shop.git
git -C "$demo/shop" log --oneline

section "pushvault scan --fix   (Vault dev server at $VAULT_ADDR)"
set +e
bin/pushvault scan "$demo/shop" --fix
status=$?
set -e
[ "$status" -eq 1 ] || { echo "demo: pushvault scan --fix exited $status"; exit 1; }

section "What is in Vault now"
"$vault_bin" kv list secret/pushvault/acme/shop
"$vault_bin" kv metadata get secret/pushvault/acme/shop/stripe_api_key | sed -n '/custom_metadata/,/^$/p'

branch="$(git -C "$demo/shop" branch --list 'pushvault/*' --format='%(refname:short)')"
section "The fix branch $branch (the working tree and main are untouched)"
git -C "$demo/shop" --no-pager diff --stat main "$branch"
git -C "$demo/shop" --no-pager diff main "$branch"

section "pushvault exec resolves vault.env (values shown redacted here)"
git -C "$demo/shop" worktree add -q "$demo/fixed" "$branch"
(cd "$demo/fixed" && "$root/bin/pushvault" exec --env-file vault.env -- sh -c 'for n in $(grep -o "^[A-Z_]*" vault.env); do eval "v=\${$n}"; printf "%s=%.4s**** (%s characters)\n" "$n" "$v" "${#v}"; done')

section "The evidence ledger"
bin/pushvault evidence verify
bin/pushvault evidence export --format md | sed -n 1,20p
