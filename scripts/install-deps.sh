#!/usr/bin/env bash
# Installs the system packages pushvault builds and tests with, when
# missing and when this user may install them:
#   libre2-dev — Google RE2 for TruffleHog's detector regexes through cgo
#                (-tags re2_cgo): 3x faster start-up (no WebAssembly module
#                to compile at every start) and faster matching. Without
#                it pushvault builds and works the same, slower.
#   postgresql — the server binaries (initdb, pg_ctl) internal/pgtest runs
#                a throwaway cluster with, for the database rotation tests.
#   mariadb-server — mariadb-install-db and mariadbd, for internal/mysqltest
#                (the MySQL/MariaDB rotation test).
#   jq, curl, openssl — what scripts/demo-app.sh (make demo) drives the
#                GitHub stand-in and serve with.
# The packages' own services are not needed (the tests start their own
# servers in temporary directories).
set -euo pipefail
want=""
if [ ! -f /usr/include/re2/re2.h ]; then
  want="$want libre2-dev"
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  want="$want postgresql"
fi
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  want="$want mariadb-server"
fi
for tool in jq curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || want="$want $tool"
done
if [ -z "$want" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: no apt-get; missing:$want (without libre2 start-up is slower; without postgresql or mariadb-server the rotation tests fail)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "install-deps: not root; missing:$want (apt-get install$want)" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # $want is a list of package names
if ! $SUDO apt-get install -y -q $want >/dev/null 2>&1; then
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q $want >/dev/null
fi
