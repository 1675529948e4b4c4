#!/usr/bin/env bash
# The GitHub App, end to end, on one machine: a Vault dev server, the GitHub
# stand-in (internal/cmd/standin: GitHub's REST API, webhooks and git over
# HTTP, with an App installed on acme/shop) and `pushvault serve` as that
# App. A developer clones acme/shop with an installation token, commits
# three planted (fake, generated here) secrets and runs a real `git push`;
# the stand-in delivers the push webhook to pushvault serve, which scans
# the push, moves the values into Vault, opens a fix pull request and
# completes its check run. The script waits for that check run and prints
# it, the pull request and its diff, the comment and issues, the Vault
# paths, the verified evidence ledger, and checks that no planted value
# reached any output. Planted values are shown redacted (first four
# characters and ****), the diff's removed lines included.
#
# Run through `make demo` (which builds bin/pushvault and Vault first).
# Everything lives under tmp/demo-app and is removed at the next run;
# every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
demo="$root/tmp/demo-app"
wait_secs="${PUSHVAULT_DEMO_TIMEOUT:-180}"

for tool in curl jq openssl git; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is needed" >&2; exit 1; }
done
[ -x bin/pushvault ] || { echo "demo: bin/pushvault is missing: run make demo (or make build first)" >&2; exit 1; }

rm -rf "$demo"
mkdir -p "$demo/serve-data" "$demo/standin-data" "$demo/home"

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() {
  printf '\ndemo: %s\n' "$*" >&2
  for log in serve standin; do
    if [ -s "$demo/$log.log" ]; then
      printf -- '--- last lines of %s ---\n' "$demo/$log.log" >&2
      tail -n 25 "$demo/$log.log" | redact >&2
    fi
  done
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}
# wait_http URL SECONDS PID: until URL answers 200 or the process PID ends.
wait_http() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# The planted secrets, generated like internal/secrettest: the formats of
# real keys, granting nothing. redact replaces each by its first four
# characters and ****, as pushvault's own outputs show values.
planted=()
mixed() { # N characters of [A-Za-z0-9] with at least one upper, lower and digit
  local s
  while :; do
    s="$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1")" || true
    [[ ${#s} -eq $1 && $s =~ [A-Z] && $s =~ [a-z] && $s =~ [0-9] ]] && { printf '%s' "$s"; return; }
  done
}
redact() {
  local args=() v
  for v in ${planted[@]+"${planted[@]}"}; do args+=(-e "s/$v/${v:0:4}****/g"); done
  if [ ${#args[@]} -eq 0 ]; then cat; else sed "${args[@]}"; fi
}

pids=()
cleanup() {
  local pid
  for pid in ${pids[@]+"${pids[@]}"}; do kill "$pid" 2>/dev/null || true; done
  for pid in ${pids[@]+"${pids[@]}"}; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Vault -----------------------------------------------------------------
vault_bin="$(bash scripts/build-vault.sh)"
vault_port="$(free_port)"
export VAULT_ADDR="http://127.0.0.1:$vault_port" VAULT_TOKEN="pushvault-demo-root"
HOME="$demo/home" "$vault_bin" server -dev -dev-root-token-id="$VAULT_TOKEN" \
  -dev-listen-address="127.0.0.1:$vault_port" -dev-no-store-token >"$demo/vault.log" 2>&1 &
pids+=($!)
wait_http "$VAULT_ADDR/v1/sys/health" 30 "${pids[-1]}" || die "the Vault dev server did not start (see $demo/vault.log)"

# --- the GitHub stand-in ---------------------------------------------------
# pushvault serve's port is chosen first so the stand-in knows where to
# deliver webhooks; nothing is delivered before the push below.
serve_port="$(free_port)"
nats_port="$(free_port)"
go build -o "$demo/standin" ./internal/cmd/standin
"$demo/standin" -data "$demo/standin-data" -webhook-url "http://127.0.0.1:$serve_port/webhook" \
  -repo acme/shop >"$demo/standin.json" 2>"$demo/standin.log" &
pids+=($!)
for _ in $(seq 1 100); do
  [ -s "$demo/standin.json" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 0.1
done
[ -s "$demo/standin.json" ] || die "the GitHub stand-in did not start"
info="$(head -n 1 "$demo/standin.json")"
gh_url="$(jq -r .url <<<"$info")"
app_id="$(jq -r .app_id <<<"$info")"
app_key="$(jq -r .private_key_path <<<"$info")"
installation="$(jq -r .installation_id <<<"$info")"
clone_url="$(jq -r '.installations[0].clone_urls[0]' <<<"$info")"
webhook_secret="$(jq -r .webhook_secret <<<"$info")"
rm -f "$demo/standin.json" # it holds the webhook secret; serve gets it from its environment

# --- pushvault serve, as the stand-in's App ---------------------------------
cat >"$demo/serve.yml" <<EOF
listen: 127.0.0.1:$serve_port
data_dir: $demo/serve-data
workers: 2
log_level: info
github:
  app_id: $app_id
  api_url: $gh_url/    # GHES: https://HOST/api/v3/
  web_url: $gh_url/    # GHES: https://HOST/
queue:
  listen: 127.0.0.1:$nats_port   # so pushvault evidence can read the ledger live
EOF
PUSHVAULT_GITHUB_PRIVATE_KEY_FILE="$app_key" PUSHVAULT_GITHUB_WEBHOOK_SECRET="$webhook_secret" \
  bin/pushvault serve --config "$demo/serve.yml" >"$demo/serve.log" 2>&1 &
pids+=($!)
unset webhook_secret
wait_http "http://127.0.0.1:$serve_port/healthz" 60 "${pids[-1]}" || die "pushvault serve did not come up"
wait_http "http://127.0.0.1:$serve_port/readyz" 60 "${pids[-1]}" || die "pushvault serve is not ready: $(curl -sS "http://127.0.0.1:$serve_port/readyz" 2>&1)"

section "The world"
cat <<EOF
Vault dev server      $VAULT_ADDR
GitHub stand-in       $gh_url   (App id $app_id installed on acme/shop, installation $installation)
pushvault serve       http://127.0.0.1:$serve_port   (webhooks at /webhook; config $demo/serve.yml)
EOF

# --- a developer pushes secrets ---------------------------------------------
# An installation token, the way an App gets one: a JWT signed with the
# App's key (RS256, iss = App id, at most 10 minutes) exchanged at
# POST /app/installations/{id}/access_tokens.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now="$(date +%s)"
jwt_head="$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)"
jwt_body="$(printf '{"iat":%d,"exp":%d,"iss":"%s"}' $((now - 60)) $((now + 540)) "$app_id" | b64url)"
jwt_sig="$(printf '%s.%s' "$jwt_head" "$jwt_body" | openssl dgst -sha256 -sign "$app_key" -binary | b64url)"
token="$(curl -fsS -X POST -H "Authorization: Bearer $jwt_head.$jwt_body.$jwt_sig" \
  -H "Accept: application/vnd.github+json" "$gh_url/app/installations/$installation/access_tokens" | jq -r .token)" ||
  die "could not get an installation token"
if [ -z "$token" ] || [ "$token" = null ]; then die "the stand-in answered without a token"; fi
# The token travels in a header (never in the URL or .git/config).
auth="Authorization: Basic $(printf 'x-access-token:%s' "$token" | openssl base64 -A)"
ghgit() { GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=http.extraHeader GIT_CONFIG_VALUE_0="$auth" git "$@"; }
export GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@acme.test GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@acme.test
export GIT_CONFIG_NOSYSTEM=1 HOME="$demo/home"

stripe="sk_live_$(mixed 24)"
sendgrid="SG.$(mixed 22).$(mixed 43)"
ghtoken="ghp_$(mixed 36)"
planted=("$stripe" "$sendgrid" "$ghtoken")

section "A developer commits three secrets to acme/shop and runs git push"
ghgit clone -q "$clone_url" "$demo/shop"
cd "$demo/shop"
mkdir -p config
printf 'payments:\n  provider: stripe\n  stripe_api_key: %s\n' "$stripe" >config/payments.yml
printf 'SENDGRID_API_KEY=%s\n' "$sendgrid" >.env
printf 'import os\n\nGITHUB_TOKEN = "%s"\n\nprint(len(GITHUB_TOKEN))\n' "$ghtoken" >deploy.py
git add -A
git commit -q -m "add payment config"
head_sha="$(git rev-parse HEAD)"
git --no-pager show --stat --format='commit %h %s (%an)' HEAD
for v in "${planted[@]}"; do printf 'planted: %s\n' "$(printf '%s' "$v" | redact)"; done
echo "\$ git push origin main"
ghgit push origin main 2>&1 | redact

# --- wait for pushvault ----------------------------------------------------
state() { curl -fsS "$gh_url/_standin/state"; }
run_json=""
for ((i = 0; i < wait_secs * 2; i++)); do
  run_json="$(state | jq -c --arg sha "$head_sha" '[.check_runs[] | select(.HeadSHA == $sha and .Name == "pushvault")] | last // empty')" || true
  [ -n "$run_json" ] && [ "$(jq -r .Status <<<"$run_json")" = completed ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || die "pushvault serve exited"
  sleep 0.5
done
if [ -z "$run_json" ] || [ "$(jq -r .Status <<<"$run_json")" != completed ]; then
  die "no completed pushvault check run for ${head_sha:0:7} after ${wait_secs}s (check run: ${run_json:-none}; PUSHVAULT_DEMO_TIMEOUT raises the wait)"
fi

section "The check run on ${head_sha:0:7}"
jq -r '"name:       \(.Name)\nstatus:     \(.Status)\nconclusion: \(.Conclusion)\ntitle:      \(.Title)\n\n\(.Summary)\n\nannotations:",
  (.Annotations[] | "  \(.path):\(.start_line)  [\(.annotation_level)] \(.title // "") \(.message | split("\n")[0])"),
  "buttons: \([.Actions[].label] | join(", "))"' <<<"$run_json" | redact

st="$(state)"
fix_branch="pushvault/fix-${head_sha:0:7}"
pr_json="$(jq -c --arg h "$fix_branch" '[.pull_requests[] | select(.Head == $h)] | last // empty' <<<"$st")"
[ -n "$pr_json" ] || die "pushvault opened no pull request from $fix_branch"
section "The fix pull request"
jq -r '"#\(.Number) \(.Title)   (\(.Head) → \(.Base), \(.State), by \(.User))\n\n\(.Body)"' <<<"$pr_json" | redact

section "Its diff: git diff main..origin/$fix_branch   (removed values shown redacted)"
ghgit fetch -q origin "$fix_branch"
git --no-pager diff --stat "main..origin/$fix_branch"
git --no-pager diff "main..origin/$fix_branch" | redact

section "Comments and issues"
jq -r '.comments[] | "comment on \(if .Kind == "commit" then "commit " + .CommitSHA[0:7] else "#\(.Issue)" end) by \(.User):\n\(.Body)\n"' <<<"$st" | redact
jq -r '.issues[] | "issue #\(.Number) [\(.State)] \(.Title)   labels: \(.Labels | join(", "))"' <<<"$st" | redact
echo "credentials revoked through POST /credentials/revoke: $(jq -r .revoked_credentials <<<"$st")"

cd "$root"
section "What is in Vault: vault kv list secret/pushvault/acme/shop"
"$vault_bin" kv list secret/pushvault/acme/shop
path="$("$vault_bin" kv list -format=json secret/pushvault/acme/shop | jq -r '.[0]')"
echo "\$ vault kv metadata get secret/pushvault/acme/shop/$path"
"$vault_bin" kv metadata get "secret/pushvault/acme/shop/$path" | sed -n '/custom_metadata/,/^$/p'

section "The evidence ledger (read live from serve's NATS)"
bin/pushvault evidence verify --nats "nats://127.0.0.1:$nats_port"
bin/pushvault evidence export --nats "nats://127.0.0.1:$nats_port" --format md | sed -n 1,12p | redact

section "No planted value in any output"
st="$(state)"
jq -r '.violations[]' <<<"$st" | sed 's/^/stand-in contract violation: /'
leaks=0
check_output() { # NAME: stdin must hold no planted value
  local text v
  text="$(cat)"
  for v in "${planted[@]}"; do
    if [[ $text == *"$v"* ]]; then echo "LEAK: a planted value (${v:0:4}****) is in $1"; leaks=1; fi
  done
}
state | check_output "the stand-in's state (check runs, PRs, comments, issues)"
for f in serve.log standin.log vault.log; do check_output "$f" <"$demo/$f"; done
bin/pushvault evidence export --nats "nats://127.0.0.1:$nats_port" --format jsonl | check_output "the evidence ledger"
git -C "$demo/shop" grep -q -F -e "$stripe" -e "$sendgrid" -e "$ghtoken" "origin/$fix_branch" &&
  { echo "LEAK: the fix branch still holds a planted value"; leaks=1; }
[ "$leaks" -eq 0 ] || die "a planted value leaked (above)"
echo "none in: check runs, the PR, comments, issues, serve.log, standin.log, vault.log, the ledger, the fix branch's tree"

section "Logs"
cat <<EOF
$demo/serve.log      pushvault serve (JSON)
$demo/standin.log    the GitHub stand-in (JSON; contract violations)
$demo/vault.log      the Vault dev server
$demo/shop           the developer's clone (fix branch fetched as origin/$fix_branch)
EOF
