package rotate

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Owned generates a new random value for secrets the application owns
// (signing keys, session and webhook secrets), declared in settings by
// source path glob or by name. The value has the declared shape, or the
// exposed value's alphabet and length. Whether the exposed value still
// works can't be checked from outside: the application stops accepting it
// once it reads the new version.
type Owned struct{ owned []OwnedSecret }

// NewOwned returns the rotator for the declared secrets.
func NewOwned(decl []OwnedSecret) *Owned { return &Owned{owned: decl} }

var _ Rotator = (*Owned)(nil)

func (o *Owned) decl(t Target) (OwnedSecret, bool) {
	for _, d := range o.owned {
		if d.Name != "" && d.Name == t.Name {
			return d, true
		}
		if d.Path != "" && t.SourcePath != "" {
			if ok, _ := doublestar.Match(d.Path, t.SourcePath); ok {
				return d, true
			}
		}
	}
	return OwnedSecret{}, false
}

// Match implements Rotator.
func (o *Owned) Match(_ context.Context, t Target) (bool, error) {
	_, ok := o.decl(t)
	return ok && t.Exposed.Reveal("value") != "", nil
}

// Rotate implements Rotator.
func (o *Owned) Rotate(_ context.Context, t Target) (Change, error) {
	d, ok := o.decl(t)
	if !ok {
		return Change{}, errors.New("not a declared owned secret")
	}
	if t.Prior != nil && t.Prior.Reveal("value") != "" {
		return Change{Data: t.Prior, Detail: map[string]string{"generated": "earlier attempt"}}, nil
	}
	sh, err := parseShape(d.Shape)
	if err != nil {
		return Change{}, err
	}
	if sh.kind == "same" {
		sh = shapeOf(t.Exposed.Reveal("value"))
	}
	v, err := sh.generate()
	if err != nil {
		return Change{}, err
	}
	return Change{Data: Data{"value": v}, Detail: map[string]string{"generated": sh.String()}}, nil
}

// CheckDead implements Rotator: never checkable.
func (o *Owned) CheckDead(context.Context, Target) error {
	return fmt.Errorf("%w: the application owns this secret and stops accepting the exposed value once it reads the new version (redeploy or reload it)", ErrUncheckable)
}

// shape is a kind of random value: hex, base64 or base64url (n bytes), or
// an alphabet of characters (n characters).
type shape struct {
	kind     string // same, hex, base64, base64url, alnum, chars
	n        int
	alphabet string // for chars
	pad      int    // '=' appended, for chars shaped like padded base64
}

func (s shape) String() string {
	if s.kind == "chars" {
		return "chars:" + strconv.Itoa(s.n)
	}
	return s.kind + ":" + strconv.Itoa(s.n)
}

// parseShape reads a settings shape: "" or "same", "hex:N", "base64:N",
// "base64url:N" (N bytes), "alnum:N" (N characters).
func parseShape(s string) (shape, error) {
	if s == "" || s == "same" {
		return shape{kind: "same"}, nil
	}
	kind, n, ok := strings.Cut(s, ":")
	num, err := strconv.Atoi(n)
	if !ok || err != nil || num < 16 || num > 1024 {
		return shape{}, fmt.Errorf("%q: want same, hex:N, base64:N, base64url:N or alnum:N with N from 16 to 1024", s)
	}
	switch kind {
	case "hex", "base64", "base64url", "alnum":
		return shape{kind: kind, n: num}, nil
	}
	return shape{}, fmt.Errorf("%q: want same, hex:N, base64:N, base64url:N or alnum:N", s)
}

const (
	alnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerHx = "0123456789abcdef"
)

// shapeOf describes v: the smallest common alphabet holding all its
// characters, same length. Values shorter than 16 characters get 32 so a
// rotation never weakens a secret to a guessable length.
func shapeOf(v string) shape {
	n := len(v)
	if n < 32 {
		n = 32
	}
	var set []byte
	seen := map[byte]bool{}
	for i := 0; i < len(v); i++ {
		if !seen[v[i]] {
			seen[v[i]] = true
			set = append(set, v[i])
		}
	}
	in := func(alpha string) bool {
		for _, c := range set {
			if !strings.ContainsRune(alpha, rune(c)) {
				return false
			}
		}
		return true
	}
	switch {
	case in(lowerHx):
		return shape{kind: "chars", n: n, alphabet: lowerHx}
	case in(strings.ToUpper(lowerHx[10:]) + "0123456789"):
		return shape{kind: "chars", n: n, alphabet: "0123456789ABCDEF"}
	case in(alnum):
		return shape{kind: "chars", n: n, alphabet: alnum}
	case in(alnum + "-_"):
		return shape{kind: "chars", n: n, alphabet: alnum + "-_"}
	case in(alnum + "+/="):
		// base64 with padding: keep the length, pad like the original.
		pad := strings.Count(v, "=")
		return shape{kind: "chars", n: n - pad, alphabet: alnum + "+/", pad: pad}
	}
	return shape{kind: "chars", n: n, alphabet: alnum + "-_.~!@#%^*+="}
}

func (s shape) generate() (string, error) {
	switch s.kind {
	case "hex", "base64", "base64url":
		b := make([]byte, s.n)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		switch s.kind {
		case "hex":
			return hex.EncodeToString(b), nil
		case "base64":
			return base64.StdEncoding.EncodeToString(b), nil
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	case "alnum":
		return randomChars(alnum, s.n)
	}
	out, err := randomChars(s.alphabet, s.n)
	if err != nil {
		return "", err
	}
	return out + strings.Repeat("=", s.pad), nil
}

func randomChars(alphabet string, n int) (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for i := 0; i < n; i++ {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(alphabet[k.Int64()])
	}
	return b.String(), nil
}
