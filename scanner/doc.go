// Package scanner finds secrets in what a push adds to a git repository.
//
// It streams the added lines of a commit range out of the git CLI (no
// checkout), runs TruffleHog's detectors behind their Aho-Corasick keyword
// prefilter plus pushvault's own detectors (HashiCorp Vault tokens, custom
// regexes from repository settings), applies allowlists, and returns one
// Finding per distinct secret with every place it was seen, oldest first.
//
// The package knows nothing of GitHub or Vault. Raw secret values travel only
// inside Secret, which redacts itself in every printer.
package scanner
