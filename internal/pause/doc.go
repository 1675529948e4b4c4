// Package pause waits for a while or until a context ends, whichever comes
// first: the one way pushvault's retry and poll loops wait, so that none of
// them outlives the work it belongs to.
package pause
