package store

import (
	"errors"
	"regexp"
)

// Expand is what every store's reference resolver does with a string: s
// is resolved whole when parse takes it, each inline reference (inline's
// first group) is replaced when it holds some, and otherwise it comes back
// unchanged with changed=false. notRef is the error parse returns for a
// string that is not a reference at all; any other parse error is the
// caller's. The first error is returned; errors name the reference, never
// a value.
func Expand[R any](s string, inline *regexp.Regexp, notRef error, parse func(string) (R, error), resolve func(R) (string, error)) (out string, changed bool, err error) {
	if ref, err := parse(s); err == nil {
		v, err := resolve(ref)
		return v, true, err
	} else if !errors.Is(err, notRef) {
		return "", false, err
	}
	if !inline.MatchString(s) {
		return s, false, nil
	}
	var firstErr error
	out = inline.ReplaceAllStringFunc(s, func(m string) string {
		ref, err := parse(inline.FindStringSubmatch(m)[1])
		if err == nil {
			var v string
			if v, err = resolve(ref); err == nil {
				return v
			}
		}
		if firstErr == nil {
			firstErr = err
		}
		return m
	})
	return out, true, firstErr
}
