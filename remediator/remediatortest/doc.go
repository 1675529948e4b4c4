// Package remediatortest holds hand-written fakes of remediator's ports —
// the secret store, the ledger, the rotator, the fix writer and the
// proposer — with XValue/XError fields and call counts, so the pipeline's
// logic is tested in milliseconds. Wherever a real part can run (Vault,
// git, the GitHub stand-in) the process-level tests use it instead.
package remediatortest
