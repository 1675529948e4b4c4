#!/usr/bin/env bash
# Installs the system packages pushvault builds better with, when missing
# and when this user may install them:
#   libre2-dev — Google RE2 for TruffleHog's detector regexes through cgo
#                (-tags re2_cgo): 3x faster start-up (no WebAssembly module
#                to compile at every start) and faster matching. Without
#                it pushvault builds and works the same, slower.
set -euo pipefail
if [ -f /usr/include/re2/re2.h ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: no apt-get; building without libre2 (slower start-up)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "install-deps: not root; building without libre2 (apt-get install libre2-dev to speed pushvault up)" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q libre2-dev >/dev/null 2>&1; then
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q libre2-dev >/dev/null
fi
