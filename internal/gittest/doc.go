// Package gittest builds real git repositories for tests with the git CLI:
// commits with fixed authors and dates, branches, bare remotes.
package gittest
