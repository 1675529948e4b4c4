package scanner

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Verified is what verification against the provider said about a secret.
type Verified string

const (
	// VerifiedTrue: the provider accepted the secret; it is live.
	VerifiedTrue Verified = "verified"
	// VerifiedFalse: the provider was asked and rejected the secret.
	VerifiedFalse Verified = "unverified"
	// VerifiedUnknown: not asked (verification off, or the detector cannot
	// verify), or the check itself failed.
	VerifiedUnknown Verified = "unknown"
)

// Location is one place a secret was added: a commit, a file and a line of
// the file as of that commit (1-based).
type Location struct {
	Commit string `json:"commit"`
	Author string `json:"author"`
	Date   string `json:"date,omitempty"`
	Path   string `json:"path"`
	Line   int    `json:"line"`
	// ID identifies this location across machines and runs without saying
	// anything about the secret; see LocationID.
	ID string `json:"id"`

	// Message is set when the secret is in a message, not a file:
	// MessageCommit for Commit's message, MessageTag for the message of
	// the annotated tag Tag (Commit is then the tag object's id). Path is
	// then "" and Line the message's line.
	Message MessageKind `json:"message,omitempty"`
	Tag     string      `json:"tag,omitempty"`

	order  int  // position of the commit in the scan, oldest = 0
	inline bool // the line carries an inline allow marker
}

// Where names the location for people: "path:line", or "commit message of
// <sha7>", or "message of tag <name> (<sha7>)".
func (l Location) Where() string {
	switch l.Message {
	case MessageCommit:
		return "commit message of " + shortID(l.Commit)
	case MessageTag:
		return "message of tag " + l.Tag + " (" + shortID(l.Commit) + ")"
	}
	return l.Path + ":" + strconv.Itoa(l.Line)
}

// InMessage reports whether the location is in a commit's or tag's
// message: there is no file to fix.
func (l Location) InMessage() bool { return l.Message != "" }

func shortID(id string) string {
	if len(id) > 7 {
		return id[:7]
	}
	return id
}

// Finding is one distinct secret found by one detector, with every location
// it was added at, the first introduction first.
type Finding struct {
	// ID is the ID of the first location: stable across machines, derived from
	// where the secret was introduced, never from its value.
	ID       string
	Detector string
	// Secret is the raw value (for multi-part credentials, the identifying
	// part, e.g. an AWS access key id). It redacts itself when printed.
	Secret Secret
	// Parts holds the named parts of a multi-part credential (for AWS,
	// "access_key_id" and "secret_access_key"); nil for single values.
	Parts map[string]Secret
	// Redacted is the printable preview of the value.
	Redacted    string
	Verified    Verified
	Fingerprint Fingerprint
	Locations   []Location
	// Description is the detector's one-line description of the credential.
	Description string
	// ReportOnly marks a finding shown but neither vaulted nor fixed: a
	// generic secret under scan.generic: report (see GenericMode).
	ReportOnly bool

	fullValue string // Raw, or RawV2 for multi-part credentials
}

// key identifies the secret a finding is about: one finding per detector
// and value.
func (f *Finding) key() string { return f.Detector + "\x00" + f.fullValue }

// First returns the first introduction of the secret.
func (f *Finding) First() Location {
	if len(f.Locations) == 0 {
		return Location{}
	}
	return f.Locations[0]
}

// LocationID derives a finding identifier from where a secret was added: the
// detector, the commit, the path and the line. Commit ids are global, so the
// same finding has the same id on every machine; the value never enters it,
// so an id in an allowlist reveals nothing and cannot be used to test
// guesses of the secret.
func LocationID(detector, commit, path string, line int) string {
	return locationID(detector, commit, path, line)
}

// messageLocationID is LocationID for a line of commit's (or tag
// object's) message: a path no file can have (git paths hold no NUL)
// keeps it apart from every file's.
func messageLocationID(detector, commit string, kind MessageKind, line int) string {
	return locationID(detector, commit, "\x00"+string(kind)+" message", line)
}

func locationID(detector, commit, path string, line int) string {
	h := sha256.New()
	for _, part := range []string{"pushvault-finding-v1", detector, commit, path, strconv.Itoa(line)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "pv_" + hex.EncodeToString(h.Sum(nil)[:10])
}
