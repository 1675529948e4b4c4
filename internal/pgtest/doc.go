// Package pgtest runs a throwaway PostgreSQL cluster for tests: initdb and
// pg_ctl into a temporary directory, listening on a free loopback port with
// its unix socket inside that directory, password (SCRAM) authentication
// for every connection, stopped when the test ends. As root (CI) the cluster
// runs as the postgres system user, since initdb refuses root. It skips
// only under -short (the unit-test tier, make test-short); otherwise a test
// that asks for PostgreSQL and can't have one fails and says why
// (scripts/install-deps.sh installs it from apt).
package pgtest
