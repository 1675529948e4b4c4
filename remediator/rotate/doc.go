// Package rotate makes an exposed secret useless and proves it. A Runner
// picks one Rotator per finding (by detector type and repository
// settings), lets it rotate or revoke the credential at its source, writes
// the new value (or a marker saying what replaced it) as the next version of
// the vault secret with check-and-set, checks that the exposed value no
// longer works where that can be checked, and then destroys the exposed
// version (setting destroy_exposed, default on). Every step is recorded
// through a Recorder (the evidence ledger) and in the secret's
// custom_metadata, so a rotation that fails halfway leaves a stated state
// (rotation_failed with its reason) that the next run resumes without
// repeating what was done or claiming what was not. Credentials no rotator
// handles become rotation_manual with the provider's rotation steps, until a
// person marks them rotated.
//
// The rotators, one file each: staticrole.go with postgres.go and mysql.go
// (a Vault database secrets engine static role takes over the leaked
// PostgreSQL or MySQL/MariaDB role), vaulttoken.go (token revocation),
// pki.go (revocation by serial, proven through the CRL, and a replacement
// certificate), github.go (GitHub's credential revocation API), awsiam.go
// (a Vault AWS secrets engine static role takes over the leaked key's IAM
// user; the leaked key is deactivated, and deleted once approved), owned.go
// (new random values for secrets the application owns) and manual.go.
package rotate
