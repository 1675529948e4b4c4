// Package rewrite replaces a hard-coded secret in a file with a reference to
// where it now lives in Vault, and proves the edit safe: the file parses
// with a real parser for its format before and after, and the literal is
// gone. When that can't be proven, no edit is made and an *UnsafeError says
// why and what a person should do instead.
//
// Config formats (dotenv, YAML, docker-compose, JSON, TOML, INI,
// .properties, XML, HCL/tfvars, Dockerfile ENV) get the reference string in
// the configured style. Source code (Go, Python, JavaScript, TypeScript,
// Java, Kotlin, Ruby, PHP, C#, shell) gets the language's environment lookup,
// the import where the language needs one, and a NAME=reference mapping
// for vault.env at the repository root, which `pushvault exec` resolves.
package rewrite
