package scanner

import (
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Secret holds a raw secret value. Every way of printing it — String,
// GoString, fmt verbs, JSON and slog — yields a redacted form, so a Secret
// that reaches a log line, an error string or a report leaks nothing. The raw
// value is only available through Reveal, which callers use to vault or
// rewrite it and never to print it.
//
// The zero Secret is empty. Secret is immutable and safe for concurrent use.
type Secret struct {
	value string
}

// NewSecret wraps a raw value.
func NewSecret(value string) Secret { return Secret{value: value} }

// Reveal returns the raw value. Do not print or log it.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// Len is the length of the raw value in bytes.
func (s Secret) Len() int { return len(s.value) }

// Redacted is the printable form: a short, non-secret prefix (at most four
// characters, and only for values long enough that the rest stays strong),
// then asterisks. Values that contain line breaks, such as PEM keys, show
// only their first line's marker.
func (s Secret) Redacted() string { return Redact(s.value) }

// String implements fmt.Stringer with the redacted form.
func (s Secret) String() string { return s.Redacted() }

// GoString implements fmt.GoStringer so %#v is redacted too.
func (s Secret) GoString() string { return fmt.Sprintf("scanner.Secret(%q)", s.Redacted()) }

// Format makes every fmt verb (%v, %+v, %s, %q, %x, ...) print the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.Redacted())
	case '#':
		fmt.Fprint(f, s.GoString())
	default:
		if verb == 'v' && f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprint(f, s.Redacted())
	}
}

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%q", s.Redacted())), nil
}

// MarshalText encodes the redacted form (YAML, TOML and friends use it).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.Redacted()), nil }

// LogValue implements slog.LogValuer with the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.Redacted()) }

// Redact returns a printable stand-in for a raw value: at most a 4-character
// prefix of a value of 16 characters or more (prefixes such as "AKIA",
// "ghp_" or "sk_l" identify the kind, not the key), followed by "****".
// Values with line breaks show the first line only when it is a PEM header.
func Redact(value string) string {
	if value == "" {
		return ""
	}
	if i := strings.IndexAny(value, "\r\n"); i >= 0 {
		first := value[:i]
		if strings.HasPrefix(first, "-----BEGIN ") {
			return first + "****"
		}
		return "****"
	}
	n := utf8.RuneCountInString(value)
	if n < 16 {
		return "****"
	}
	const keep = 4
	var b strings.Builder
	for _, r := range value {
		if b.Len() >= keep {
			break
		}
		b.WriteRune(r)
	}
	return b.String() + "****"
}
