package rotate

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"

	"github.com/pushvault/pushvault/remediator/evidence"
)

// Data is a secret's key/value data. It holds secret values: it redacts
// itself in every printer, and only Reveal gives a value out.
type Data map[string]string

// Reveal returns the value under key ("" when absent).
func (d Data) Reveal(key string) string { return d[key] }

// String lists the keys only.
func (d Data) String() string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "Data{" + strings.Join(keys, ",") + ": redacted}"
}

// GoString redacts like String.
func (d Data) GoString() string { return d.String() }

// LogValue redacts like String.
func (d Data) LogValue() slog.Value { return slog.StringValue(d.String()) }

// MarshalJSON redacts like String.
func (d Data) MarshalJSON() ([]byte, error) { return []byte(`"redacted"`), nil }

// Target is one vaulted finding to rotate.
type Target struct {
	Repository  string // owner/repo
	FindingID   string
	Fingerprint string
	Detector    string
	// Name is the secret's name in Vault (the identifier the code used);
	// SourcePath is the file it was first found in.
	Name       string
	SourcePath string
	// Mount and Path locate the KV v2 secret (Path without data/).
	Mount string
	Path  string
	// ExposedVersion is the KV version holding the exposed value.
	ExposedVersion int
	// Exposed is the exposed value as vaulted ("value", and for connection
	// URIs "username" and "password").
	Exposed Data
	// Prior is the data a previous, unfinished attempt already wrote as
	// the next version (nil when none): a rotator that generates values
	// reuses it rather than generating another.
	Prior Data
	// Approved lets a rotation run when the settings require approval.
	Approved bool
	// Unreplaced says the fix leaves some use of the secret in place (a
	// manual step remains). Under approval "auto", a rotation that would
	// break such a use at the source waits for approval; one that changes
	// nothing at the source (an owned secret's new value) runs at once.
	Unreplaced bool

	// resumed: an earlier attempt by the same rotator started and did not
	// finish, so the source may have changed already. The Runner sets it.
	resumed bool
	// note is what an attempt of the same rotator wrote down (writeNote)
	// before it changed anything at the source: how a later attempt finds
	// what it was working on when the source no longer says (a deleted
	// AWS key names no owner). "" when none. The Runner sets both; a nil
	// writeNote (Hold) writes nothing.
	note      string
	writeNote func(ctx context.Context, note string) error
}

// Ref is a reference to a value held by another secrets engine than KV:
// Path is the full API path (database/static-creds/pv-acme-shop-app).
type Ref struct {
	Path string
	Key  string
}

// Vault is the bank-vaults form: vault:database/static-creds/role#password.
func (r Ref) Vault() string { return "vault:" + r.Path + "#" + r.Key }

// Change is what a rotation produced.
type Change struct {
	// Data is stored as the next version of the vault secret. It never
	// repeats the exposed value; for revocations it is a marker saying what
	// happened (no new value exists).
	Data Data
	// Refs, by data key, replace the KV references the fix writes, for
	// credentials another engine now serves (database static roles).
	Refs map[string]Ref
	// Detail holds non-secret facts for the ledger (role, serials,
	// accessor).
	Detail map[string]string
	// Held, when not "", says which destructive step the rotator left for
	// approval (the leaked AWS key is inactive, not yet deleted): the
	// rotation is done and proven, and the rotator's Deleter finishes it
	// once a run is approved.
	Held string
}

// Rotator rotates one kind of credential. Implementations are safe for
// concurrent use.
type Rotator interface {
	// Match reports whether the rotator handles t. It changes nothing; it
	// may read (a PKI rotator looks the certificate up).
	Match(ctx context.Context, t Target) (bool, error)
	// Rotate replaces or revokes the exposed credential at its source and
	// returns what to store next. It is safe to repeat after a partial
	// failure (t.Prior says what an earlier attempt stored). A
	// *ManualError means it changed nothing and a person must rotate.
	Rotate(ctx context.Context, t Target) (Change, error)
	// CheckDead returns nil when the exposed value demonstrably no longer
	// works, an error wrapping ErrStillWorks when it does, ErrUncheckable
	// when nothing can tell, and other errors when the check itself
	// failed.
	CheckDead(ctx context.Context, t Target) error
}

// Holder is a Rotator that may have to wait for approval for reasons
// only it can see (an IAM user that already holds two keys). Hold changes
// nothing; it returns why the rotation of t waits, or "" when it may run.
// The Runner asks it before every rotation not yet approved.
type Holder interface {
	Hold(ctx context.Context, t Target) (string, error)
}

// Deleter is a Rotator whose rotation may leave a destructive step for
// approval (Change.Held). Delete does that step; it is safe to repeat and
// returns non-secret facts for the ledger.
type Deleter interface {
	Delete(ctx context.Context, t Target) (map[string]string, error)
}

// Errors rotators return.
var (
	ErrStillWorks  = errors.New("the exposed value still works")
	ErrUncheckable = errors.New("whether the exposed value still works cannot be checked")
)

// ManualError is a rotator's verdict that it must not rotate the
// credential and a person has to (the leaked password does not log in,
// the credential lives on another server than the one mapped). The rotator
// changed nothing; Reason, which holds no secret, says why.
type ManualError struct{ Reason string }

func (e *ManualError) Error() string { return e.Reason }

// State is where a finding's rotation stands.
type State string

// States, as recorded in the secret's custom_metadata "state". A state
// reached by a ledger transition has that transition's name.
const (
	StateRotated       State = evidence.Rotated
	StateManual        State = evidence.RotationManual
	StateFailed        State = evidence.RotationFailed
	StatePending       State = evidence.RotationPending // waits for approval
	StateMarkedRotated State = "rotated_manually"       // after the marked_rotated transition

	// stateRotating: an attempt started and has not finished (or
	// stopped without recording its failure).
	stateRotating = "rotating"
)

// Result is the outcome of one Run.
type Result struct {
	State State
	// Rotator is the rotator that ran ("" when none did).
	Rotator string
	// NewVersion is the KV version the rotation wrote (0 when none).
	NewVersion int
	// ExposedDead: the check proved the exposed value no longer works.
	ExposedDead bool
	// DeadCheck says how the exposed value was checked, or why it could
	// not be ("login refused", "CRL lists serial ...", "not checkable: ...").
	DeadCheck string
	// ExposedDestroyed: the exposed KV version is destroyed.
	ExposedDestroyed bool
	// Refs replace the fix's references (see Change.Refs).
	Refs map[string]Ref
	// Reason says why a rotation failed, waits or is left to a person (no
	// secret value in it).
	Reason string
	// Guide and Steps are the manual procedure for rotation_manual.
	Guide string
	Steps []string
	// Attempt counts runs that started a rotation for this secret.
	Attempt int
	// Already: an earlier run finished this rotation; nothing was done now.
	Already bool
	// Held says which destructive step waits for approval after a
	// finished rotation ("" when none): see Change.Held.
	Held string
	// HeldDone: this run did the held step (it was approved).
	HeldDone bool
}
