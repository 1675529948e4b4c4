package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// Style is how references are written into config files.
type Style string

const (
	// StyleVault is the bank-vaults form: vault:secret/data/PATH#KEY.
	StyleVault Style = "vault"
	// StyleVals is the helmfile/vals form: ref+vault://secret/data/PATH#/KEY.
	StyleVals Style = "vals"
	// StyleEnv is an environment reference, ${NAME}, with the mapping in vault.env.
	StyleEnv Style = "env"
)

// Ref is where one secret value lives: in Vault (KV v2, or another engine
// after a rotation), or, with External, in another store.
type Ref struct {
	Mount string // KV v2 mount, e.g. "secret"
	Path  string // path under the mount without "data/", e.g. "pushvault/acme/shop/stripe_api_key"
	Key   string // key in the secret's data, e.g. "value"
	// API, when set, is the full API path of a secret another engine
	// serves (database/static-creds/pv-acme-shop-app, after a rotation
	// handed the credential to Vault's database engine); Mount and Path are
	// then unused.
	API string
	// External, when set, is the whole reference a store other than Vault
	// writes (ref+awssecrets://NAME?region=R#/KEY for AWS Secrets
	// Manager): every style but env writes it as it is, and the other
	// fields are unused.
	External string
}

// Vault is the canonical reference: vault:secret/data/pushvault/acme/shop/stripe_api_key#value.
func (r Ref) Vault() string {
	if r.External != "" {
		return r.External
	}
	if r.API != "" {
		return "vault:" + r.API + "#" + r.Key
	}
	return "vault:" + r.Mount + "/data/" + r.Path + "#" + r.Key
}

// Vals is the vals form: ref+vault://secret/data/pushvault/acme/shop/stripe_api_key#/value.
func (r Ref) Vals() string {
	if r.External != "" {
		return r.External
	}
	if r.API != "" {
		return "ref+vault://" + r.API + "#/" + r.Key
	}
	return "ref+vault://" + r.Mount + "/data/" + r.Path + "#/" + r.Key
}

// Inline is the bank-vaults inline form for a reference inside a larger
// string (a password inside a URL): ${vault:secret/data/...#password}.
func (r Ref) Inline() string { return "${" + r.Vault() + "}" }

// In returns the reference in the given style; for StyleEnv, ${name}.
func (r Ref) In(s Style, envName string) string {
	switch s {
	case StyleVals:
		return r.Vals()
	case StyleEnv:
		return "${" + envName + "}"
	}
	return r.Vault()
}

// Replacement is one occurrence of a secret to replace.
type Replacement struct {
	// Line is the 1-based line where the literal starts, as the scanner
	// reported it.
	Line int
	// Literal is the exact text to replace as it appears in the file (for a
	// secret inside a URL, only the password part). It may span lines.
	Literal string
	// EnvName is the environment variable the value is exposed as in code
	// and in env-style references, e.g. "STRIPE_API_KEY".
	EnvName string
	// Ref is where the value now lives.
	Ref Ref
	// Encoded says the literal is in the file only base64-encoded (the
	// scanner decoded it): a Kubernetes Secret's data, a Docker config's
	// auth. Manual steps then say how to write the reference there.
	Encoded bool
}

// Options tune Apply.
type Options struct {
	// Style for config formats; default StyleVault.
	Style Style
}

// Result is a rewritten file.
type Result struct {
	Content []byte
	// Env maps environment variable names to canonical references
	// (Ref.Vault()) that must be added to vault.env at the repository root
	// for the rewritten file to work: set for source code, and for config
	// files written in StyleEnv.
	Env map[string]string
}

// UnsafeError says that no edit was made because it could not be proven
// safe, why, and what a person should do instead. Its strings never contain
// the secret.
type UnsafeError struct {
	Path   string
	Line   int
	Reason string // e.g. "the file does not parse as YAML before the edit"
	Manual string // the manual step, naming the reference to use
	// Err is the sentinel the refusal wraps, if any: ErrUnsupported for a
	// file type no format handles.
	Err error
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("%s:%d: no safe automatic edit: %s", e.Path, e.Line, e.Reason)
}

// Unwrap returns Err.
func (e *UnsafeError) Unwrap() error { return e.Err }

// ErrUnsupported is wrapped by the *UnsafeError Apply returns for a file
// type no format handles, so errors.Is tells that case from a refused edit;
// both carry a manual step.
var ErrUnsupported = errors.New("unsupported file type")

// format rewrites one kind of file.
type format interface {
	// name is the format's name for messages ("YAML", "Go").
	name() string
	// apply replaces every replacement in content and returns the new
	// content and env mappings. It must check that content parses before,
	// that the result parses, and that no literal remains, returning an
	// *UnsafeError otherwise.
	apply(path string, content []byte, reps []Replacement, opts Options) (*Result, error)
	// identifier returns the name the file gives the value on line
	// (assignment target, key, env key), raw (not normalised), or "".
	identifier(content []byte, line int, literal string) string
}

// formatFor picks the format for a path: tools' credentials files first
// (Docker's config.json is JSON no reference resolves in), then config
// formats, then code.
func formatFor(path string) format {
	if f := credentialFormat(path); f != nil {
		return f
	}
	if f := configFormat(path); f != nil {
		return f
	}
	return codeFormat(path)
}

// IsCode reports whether Apply edits path as source code, where the
// replacement is an environment lookup (the variable mapped in vault.env)
// rather than a reference written into the file.
func IsCode(path string) bool { return configFormat(path) == nil && codeFormat(path) != nil }

// Apply rewrites the file at path (repository-relative, slash-separated),
// replacing every replacement. It returns an *UnsafeError (use errors.As)
// when the edit cannot be proven safe; for a file type it does not know,
// that *UnsafeError also wraps ErrUnsupported (errors.Is). In both cases
// nothing should be written.
//
// A UTF-8 byte order mark (Visual Studio writes appsettings.json with one)
// is no part of any format's syntax: the format edits the text after it,
// and the mark is kept.
func Apply(path string, content []byte, reps []Replacement, opts Options) (*Result, error) {
	if opts.Style == "" {
		opts.Style = StyleVault
	}
	if text, ok := bytes.CutPrefix(content, utf8BOM); ok {
		res, err := Apply(path, text, reps, opts)
		if err != nil {
			return nil, err
		}
		res.Content = append(slices.Clip(utf8BOM), res.Content...)
		return res, nil
	}
	f := formatFor(path)
	if f == nil {
		line := 0
		if len(reps) > 0 {
			line = reps[0].Line
		}
		return nil, &UnsafeError{Path: path, Line: line,
			Reason: "pushvault does not know how to edit this kind of file",
			Manual: manualStep(path, reps), Err: ErrUnsupported}
	}
	return f.apply(path, content, reps, opts)
}

// Identifier returns the name the file gives the value on line, normalised
// to lower snake case ("stripe_api_key"), or "" when there is none.
func Identifier(path string, content []byte, line int, literal string) string {
	f := formatFor(path)
	if f == nil {
		return ""
	}
	content, _ = bytes.CutPrefix(content, utf8BOM)
	return Normalize(f.identifier(content, line, literal))
}

// utf8BOM is UTF-8's byte order mark, U+FEFF encoded.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// manualStep is the generic instruction when no format-specific one applies.
func manualStep(path string, reps []Replacement) string {
	if len(reps) == 0 {
		return "remove the secret from " + path
	}
	r := reps[0]
	if r.Encoded {
		return fmt.Sprintf("on line %d of %s, %s", r.Line, path, encodedStep("the value holding the secret", r, true))
	}
	return fmt.Sprintf("replace the secret on line %d of %s with a reference to %s (for example the environment variable %s, mapped in vault.env)",
		r.Line, path, r.Ref.Vault(), r.EnvName)
}
