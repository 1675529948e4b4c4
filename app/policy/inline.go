package policy

import (
	"fmt"

	"github.com/pushvault/pushvault/scanner"
)

// InlineAllow is the server's answer to an inline allow comment
// ("pushvault:allow", "trufflehog:ignore") on a line with a secret: a
// comment is written by the pusher, so whether it may let a finding through
// is the server's to decide (serve.yml and the hook's settings:
// inline_allow), never a repository's.
type InlineAllow string

// The values of inline_allow.
const (
	// InlineHonour lets marked findings through and records nothing.
	InlineHonour InlineAllow = "honour"
	// InlineRecord lets them through, records each in the evidence ledger
	// (or the hook's audit log) with the pusher, and shows them in the
	// check run and the hook's message. The default.
	InlineRecord InlineAllow = "record"
	// InlineIgnore treats a marked finding as any other.
	InlineIgnore InlineAllow = "ignore"
)

// DefaultInlineAllow is inline_allow when the server does not set it.
const DefaultInlineAllow = InlineRecord

// ParseInlineAllow reads a setting's value; "" is the default.
func ParseInlineAllow(s string) (InlineAllow, error) {
	switch m := InlineAllow(s); m {
	case "":
		return DefaultInlineAllow, nil
	case InlineHonour, InlineRecord, InlineIgnore:
		return m, nil
	}
	return "", fmt.Errorf("%q is not one of honour, record, ignore", s)
}

// Apply puts the server's decision into a scan's result: under ignore the
// inline-allowed findings join res.Findings; otherwise they stay out of it.
// It returns the findings to record (under record), else nil.
func (m InlineAllow) Apply(res *scanner.Result) []*scanner.Finding {
	switch m {
	case InlineIgnore:
		res.DisregardInlineAllow()
		return nil
	case InlineHonour:
		return nil
	}
	return res.InlineAllowed
}
