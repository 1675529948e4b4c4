package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The transitions of a finding's lifecycle, the only values Record.Transition
// may take.
const (
	Detected       = "detected"
	Vaulted        = "vaulted"
	Rotated        = "rotated"
	RotationManual = "rotation_manual"
	FixProposed    = "fix_proposed"
	Closed         = "closed"
	// ScanSkipped records a push an administrator let through unscanned
	// (the hook's pushvault.skip push option); FindingID names the push
	// ("push:<ref>@<new commit>") and Detail holds the reason.
	ScanSkipped = "scan_skipped"
	// ScanSkipRefused records a skip asked for by someone the server does
	// not allow to skip (hook.skip_allowed): the push was scanned anyway.
	ScanSkipRefused = "scan_skip_refused"
	// InlineAllowed records a finding let through by an inline
	// "pushvault:allow" (or "trufflehog:ignore") comment under the server's
	// inline_allow: record, one record per marked location: Actor is the
	// pusher, Detail the detector, commit, path and line, and "occurrence"
	// the location's id (never the value, nor a redacted preview).
	InlineAllowed = "inline_allowed"

	// The check run's buttons. ActionRefused records a press of "False
	// positive" or "Approve rotation" by someone without the permission
	// the server requires (Detail "action", "role" they hold, "required");
	// RotationApproved records a permitted "Approve rotation" (a permitted
	// "False positive" is the closed record itself). Actor is the person;
	// Detail "occurrence" is the webhook delivery of the press.
	ActionRefused    = "action_refused"
	RotationApproved = "rotation_approved"

	// The steps of a rotation, between vaulted and rotated or
	// rotation_manual (remediator/rotate records them; Detail["attempt"]
	// numbers the runs): a rotation started, the exposed value proven dead,
	// the exposed vault version destroyed, a rotation that failed (Detail
	// "step" and "reason"; the finding stays there until a retry), one
	// waiting for approval, and a manual rotation marked done by a person
	// (Actor).
	RotationStarted     = "rotation_started"
	ExposedVerifiedDead = "exposed_verified_dead"
	ExposedDestroyed    = "exposed_destroyed"
	RotationFailed      = "rotation_failed"
	RotationPending     = "rotation_pending"
	MarkedRotated       = "marked_rotated"
	// ExposedDeleted records the deletion, once approved, of an exposed
	// credential a rotation left disabled at its source (an AWS access key
	// left inactive: the rotated record's Detail "held_for_approval").
	ExposedDeleted = "exposed_deleted"

	// RepositoryAdded and RepositoryRemoved record that pushvault started
	// or stopped watching a repository (the GitHub App was installed on it
	// or removed from it): FindingID names the subject
	// ("installation:<id>:<owner>/<repo>"), Actor who did it, and Detail
	// the delivery id and the event's action.
	RepositoryAdded   = "repository_added"
	RepositoryRemoved = "repository_removed"
)

// transitions are the valid transitions, in lifecycle order.
var transitions = []string{Detected, Vaulted, RotationStarted, Rotated, ExposedVerifiedDead, ExposedDestroyed,
	RotationFailed, RotationPending, RotationManual, MarkedRotated, FixProposed, Closed, ScanSkipped, ScanSkipRefused,
	InlineAllowed, ActionRefused, RotationApproved, RepositoryAdded, RepositoryRemoved, ExposedDeleted}

// Record is one entry of the ledger. It has no field for a secret value, and
// callers must not put one in Links or Detail: the ledger is meant to be
// handed to auditors.
//
// Stored form: a record is stored as json.Marshal(record) — compact JSON,
// fields in this order, map keys sorted, no newline inside. That encoding is
// a function of the record, so there is exactly one valid spelling of each
// record, and Verify rejects any other (see Canonical and Hash).
type Record struct {
	Seq          uint64            `json:"seq"`                   // 1, 2, 3... in storage order
	Time         time.Time         `json:"time"`                  // UTC
	FindingID    string            `json:"finding_id"`            // e.g. pv_0123...
	Fingerprint  string            `json:"fingerprint,omitempty"` // scanner.Fingerprint (a keyed HMAC, not the value)
	Repository   string            `json:"repository,omitempty"`  // owner/repo or a local path
	Transition   string            `json:"transition"`            // one of the transition constants above
	Actor        string            `json:"actor"`                 // who or what made the transition
	VaultPath    string            `json:"vault_path,omitempty"`
	VaultVersion int               `json:"vault_version,omitempty"`
	Rotation     string            `json:"rotation,omitempty"` // rotation outcome, e.g. "revoked", "manual: provider console"
	Links        map[string]string `json:"links,omitempty"`    // name -> URL (check run, PR, issue)
	Detail       map[string]string `json:"detail,omitempty"`   // other identifiers (commit, path, line, reason)
	PrevHash     string            `json:"prev_hash"`          // Hash of the previous record's stored bytes, or its UnsignedHash (AppendAll); "" for seq 1
	Signature    string            `json:"signature"`          // Signer's signature of Canonical()
}

// Canonical returns the bytes the signature covers: json.Marshal of the
// record with Signature set to "" (the "signature" key is still present,
// with an empty value). They include Seq and PrevHash, so a signature also
// binds the record's place in the chain.
func (r Record) Canonical() ([]byte, error) {
	r.Signature = ""
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record %d: %w", r.Seq, err)
	}
	return b, nil
}

// encode returns the record's stored bytes: json.Marshal of the whole record,
// signature included, without a trailing newline.
func (r Record) encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record %d: %w", r.Seq, err)
	}
	return b, nil
}

// Hash is a record's hash as the next record's PrevHash holds it:
// "sha256:" + lowercase hex of SHA-256 over the record's stored bytes
// exactly as the backend holds them, signature included, without the
// newline that separates records in a file. Verify accepts only the
// canonical encoding as stored bytes, so this is also the hash of the
// record's canonical encoding.
func Hash(stored []byte) string {
	sum := sha256.Sum256(stored)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// unsignedPrefix marks a prev_hash that is an UnsignedHash.
const unsignedPrefix = "sha256-unsigned:"

// UnsignedHash is the other form of PrevHash, which records appended
// together after the first (Ledger.AppendAll) hold: "sha256-unsigned:" +
// lowercase hex of SHA-256 over the previous record's Canonical() bytes
// (the record with an empty signature). It binds everything of that record
// but its signature, which Verify checks on its own.
func UnsignedHash(r Record) (string, error) {
	b, err := r.Canonical()
	if err != nil {
		return "", err
	}
	return unsignedHash(b), nil
}

func unsignedHash(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return unsignedPrefix + hex.EncodeToString(sum[:])
}

// decode parses stored bytes into a record and checks that they are its
// canonical encoding, byte for byte.
func decode(stored []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(stored, &r); err != nil {
		return Record{}, fmt.Errorf("not a valid record: %w", err)
	}
	again, err := json.Marshal(r)
	if err != nil {
		return Record{}, fmt.Errorf("not a valid record: %w", err)
	}
	if string(again) != string(stored) {
		return r, errNotCanonical
	}
	return r, nil
}

var errNotCanonical = errors.New("not in canonical form (bytes were changed, added or removed)")

// validate checks what a caller supplies, naming fields as they are stored.
func (r Record) validate() error {
	var errs []error
	if r.FindingID == "" {
		errs = append(errs, errors.New("finding_id is empty"))
	}
	if !validTransition(r.Transition) {
		errs = append(errs, fmt.Errorf("transition %q is not one of %s", r.Transition, strings.Join(transitions, ", ")))
	}
	if r.Actor == "" {
		errs = append(errs, errors.New("actor is empty"))
	}
	if r.VaultVersion < 0 {
		errs = append(errs, fmt.Errorf("vault_version %d is negative", r.VaultVersion))
	}
	return errors.Join(errs...)
}

func validTransition(s string) bool {
	for _, t := range transitions {
		if s == t {
			return true
		}
	}
	return false
}
