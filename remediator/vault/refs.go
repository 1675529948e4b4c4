package vault

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/remediator/store"
)

// Reference is a parsed vault reference:
//
//	vault:secret/data/pushvault/acme/shop/stripe_api_key#value[#version]   (bank-vaults)
//	ref+vault://secret/data/pushvault/acme/shop/stripe_api_key#/value      (vals)
type Reference struct {
	// Path is the API path, e.g. secret/data/pushvault/acme/shop/x.
	Path    string
	Key     string
	Version int // 0 = latest
}

func (r Reference) String() string {
	s := "vault:" + r.Path + "#" + r.Key
	if r.Version > 0 {
		s += "#" + strconv.Itoa(r.Version)
	}
	return s
}

// ErrNotReference is returned by ParseReference for strings that are not
// references at all (plain values pass through untouched).
var ErrNotReference = errors.New("not a vault reference")

// ParseReference parses a whole-string reference in either form.
func ParseReference(s string) (Reference, error) {
	var body string
	var vals bool
	switch {
	case strings.HasPrefix(s, "vault:"):
		body = strings.TrimPrefix(s, "vault:")
	case strings.HasPrefix(s, "ref+vault://"):
		body, vals = strings.TrimPrefix(s, "ref+vault://"), true
	default:
		return Reference{}, ErrNotReference
	}
	path, frag, ok := strings.Cut(body, "#")
	if !ok || path == "" || frag == "" {
		return Reference{}, fmt.Errorf("reference %q: want PATH#KEY", s)
	}
	if vals {
		frag = strings.TrimPrefix(frag, "/")
	}
	key, ver, hasVer := strings.Cut(frag, "#")
	r := Reference{Path: strings.Trim(path, "/"), Key: key}
	if hasVer {
		v, err := strconv.Atoi(ver)
		if err != nil || v < 1 {
			return Reference{}, fmt.Errorf("reference %q: version must be a positive number", s)
		}
		r.Version = v
	}
	if r.Key == "" || strings.Contains(r.Path, "..") {
		return Reference{}, fmt.Errorf("reference %q: want PATH#KEY", s)
	}
	return r, nil
}

// inlinePat finds ${vault:...} inside larger strings.
var inlinePat = regexp.MustCompile(`\$\{(vault:[^}]+)\}`)

// Resolver reads referenced values from Vault, caching each secret for the
// resolver's lifetime. Not safe for concurrent use.
type Resolver struct {
	c     *api.Client
	addr  string
	cache map[string]map[string]any
}

// NewResolver returns a resolver on a logged-in client.
func NewResolver(c *api.Client) *Resolver {
	return &Resolver{c: c, addr: c.Address(), cache: map[string]map[string]any{}}
}

// Expand resolves s when it is a reference or holds inline ${vault:...}
// references; other strings come back unchanged with changed=false.
// Errors name the reference (path and key), never a value.
func (r *Resolver) Expand(ctx context.Context, s string) (out string, changed bool, err error) {
	return store.Expand(s, inlinePat, ErrNotReference, ParseReference, func(ref Reference) (string, error) {
		return r.Resolve(ctx, ref)
	})
}

// Resolve reads one referenced value.
func (r *Resolver) Resolve(ctx context.Context, ref Reference) (string, error) {
	cacheKey := ref.Path + "#" + strconv.Itoa(ref.Version)
	data, ok := r.cache[cacheKey]
	if !ok {
		var sec *api.Secret
		var err error
		if ref.Version > 0 {
			sec, err = r.c.Logical().ReadWithDataWithContext(ctx, ref.Path, map[string][]string{"version": {strconv.Itoa(ref.Version)}})
		} else {
			sec, err = r.c.Logical().ReadWithContext(ctx, ref.Path)
		}
		if err != nil {
			return "", fmt.Errorf("resolving %s: %w", ref, Explain(r.addr, err))
		}
		if sec == nil || sec.Data == nil {
			return "", fmt.Errorf("resolving %s: no secret at %s", ref, ref.Path)
		}
		data = sec.Data
		// KV v2 nests the values under "data".
		if inner, ok := sec.Data["data"].(map[string]any); ok {
			data = inner
		} else if _, isV2 := sec.Data["metadata"]; isV2 {
			return "", fmt.Errorf("resolving %s: the secret's version was deleted or destroyed", ref)
		}
		r.cache[cacheKey] = data
	}
	v, ok := data[ref.Key]
	if !ok {
		return "", fmt.Errorf("resolving %s: no key %q at %s", ref, ref.Key, ref.Path)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("resolving %s: key %q is not a string", ref, ref.Key)
	}
	return s, nil
}
