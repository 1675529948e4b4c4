// Package handler holds pushvault serve's GitHub event handlers, one file
// per event, each declaring the events it takes (Handles). Handlers are
// thin: they decode the payload, drop what they ignore and hand one value
// to the remediation pipeline (remediator.Pipeline) through the App's
// ports — the git mirror that writes the fix branch, the pull request that
// proposes it, the check run that reports it.
package handler
