#!/usr/bin/env bash
# The whole test suite, as `make test` runs it. cmd/pushvault holds the
# end-to-end tests (real Vault, git, serve, the stand-ins): run as one
# package they take most of the suite's wall time on one core while the
# machine's others sit idle once the smaller packages are done. So its
# tests are split round-robin (in `go test -list` order) into SHARDS
# processes that run beside the other packages; every test still runs
# exactly once, and the script fails if any part fails.
#
# Usage: scripts/test.sh [go test flags...]   (SHARDS, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
shards=${SHARDS:-2}
e2e=./cmd/pushvault
mapfile -t tests < <($go test -list '.*' "$e2e" | grep -E '^(Test|Example|Fuzz)')
if [ "${#tests[@]}" -eq 0 ]; then
	echo "scripts/test.sh: no tests listed in $e2e" >&2
	exit 2
fi
mapfile -t others < <($go list ./... | grep -vx "$($go list "$e2e")")

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pids=()
names=()
$go test "$@" "${others[@]}" >"$logs/others" 2>&1 &
pids+=($!)
names+=(others)
for ((s = 0; s < shards; s++)); do
	run=()
	for ((i = s; i < ${#tests[@]}; i += shards)); do
		run+=("${tests[$i]}")
	done
	[ "${#run[@]}" -gt 0 ] || continue
	re="^($(IFS='|'; echo "${run[*]}"))\$"
	$go test "$@" -run "$re" "$e2e" >"$logs/shard$s" 2>&1 &
	pids+=($!)
	names+=("shard$s")
done
fail=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		fail=1
	fi
	echo "=== ${names[$i]}"
	cat "$logs/${names[$i]}"
done
if [ "$fail" -ne 0 ]; then
	echo "FAIL: see the output above" >&2
fi
exit "$fail"
