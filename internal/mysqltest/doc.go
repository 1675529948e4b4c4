// Package mysqltest runs a throwaway MariaDB (MySQL-compatible) server for
// tests: mariadb-install-db and mariadbd into a temporary directory,
// listening on a free loopback port with its socket inside that directory,
// stopped when the test ends. As root (CI) the server runs as the mysql
// system user. It skips only under -short (the unit-test tier, make
// test-short); otherwise a test that asks for MariaDB and can't have one
// fails and says why (scripts/install-deps.sh installs mariadb-server from
// apt).
package mysqltest
