package awssm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pushvault/pushvault/remediator/store"
)

// Reference is a parsed vals reference to an AWS Secrets Manager secret:
//
//	ref+awssecrets://pushvault/acme/shop/stripe_api_key?region=eu-west-1#/value
//
// vals (helmfile, helm-secrets, the vals CLI) resolves the same string; the
// fragment is a JSON pointer into the secret's JSON value.
type Reference struct {
	Name         string
	Region       string // "": the AWS chain's region
	VersionStage string // "": AWSCURRENT
	VersionID    string
	Key          string // the JSON pointer without its leading '/'
}

// Scheme starts every reference.
const Scheme = "ref+awssecrets://"

func (r Reference) String() string {
	q := url.Values{}
	if r.Region != "" {
		q.Set("region", r.Region)
	}
	if r.VersionStage != "" {
		q.Set("version_stage", r.VersionStage)
	}
	if r.VersionID != "" {
		q.Set("version_id", r.VersionID)
	}
	s := Scheme + r.Name
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s + "#/" + r.Key
}

// ErrNotReference is returned by ParseReference for strings that are not
// references at all.
var ErrNotReference = errors.New("not an AWS Secrets Manager reference")

// ParseReference parses a whole-string reference.
func ParseReference(s string) (Reference, error) {
	body, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return Reference{}, ErrNotReference
	}
	rest, frag, ok := strings.Cut(body, "#")
	if !ok || !strings.HasPrefix(frag, "/") || len(frag) < 2 {
		return Reference{}, fmt.Errorf("reference %q: want %sNAME[?region=R]#/KEY", s, Scheme)
	}
	name, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	if err != nil || name == "" || strings.Contains(name, "..") {
		return Reference{}, fmt.Errorf("reference %q: want %sNAME[?region=R]#/KEY", s, Scheme)
	}
	for k := range q {
		switch k {
		case "region", "version_stage", "version_id":
		default:
			return Reference{}, fmt.Errorf("reference %q: unknown parameter %q", s, k)
		}
	}
	return Reference{Name: name, Region: q.Get("region"), VersionStage: q.Get("version_stage"),
		VersionID: q.Get("version_id"), Key: frag[1:]}, nil
}

// inlinePat finds ${ref+awssecrets://...} inside larger strings.
var inlinePat = regexp.MustCompile(`\$\{(ref\+awssecrets://[^}]+)\}`)

// IsReference says whether s is or holds a reference.
func IsReference(s string) bool {
	return strings.HasPrefix(s, Scheme) || strings.Contains(s, "${"+Scheme)
}

// Resolver reads referenced values from Secrets Manager with the standard
// AWS chain's credentials, one client per region, caching each secret for
// its lifetime. Not safe for concurrent use.
type Resolver struct {
	endpoint string
	timeout  time.Duration
	clients  map[string]*secretsmanager.Client
	cache    map[string]map[string]any
}

// NewResolver returns a resolver; endpoint ("": AWS's, or
// AWS_ENDPOINT_URL_SECRETS_MANAGER) and timeout (0: DefaultTimeout) as in
// Config.
func NewResolver(endpoint string, timeout time.Duration) *Resolver {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &Resolver{endpoint: endpoint, timeout: timeout, clients: map[string]*secretsmanager.Client{}, cache: map[string]map[string]any{}}
}

// Expand resolves s when it is a reference or holds inline
// ${ref+awssecrets://...} references; other strings come back unchanged
// with changed=false. Errors name the reference, never a value.
func (r *Resolver) Expand(ctx context.Context, s string) (out string, changed bool, err error) {
	return store.Expand(s, inlinePat, ErrNotReference, ParseReference, func(ref Reference) (string, error) {
		return r.Resolve(ctx, ref)
	})
}

// Resolve reads one referenced value.
func (r *Resolver) Resolve(ctx context.Context, ref Reference) (string, error) {
	cacheKey := ref.Region + "\x00" + ref.Name + "\x00" + ref.VersionStage + "\x00" + ref.VersionID
	doc, ok := r.cache[cacheKey]
	if !ok {
		c, err := r.client(ctx, ref.Region)
		if err != nil {
			return "", fmt.Errorf("resolving %s: %w", ref, err)
		}
		in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.Name)}
		if ref.VersionStage != "" {
			in.VersionStage = aws.String(ref.VersionStage)
		}
		if ref.VersionID != "" {
			in.VersionId = aws.String(ref.VersionID)
		}
		cctx, cancel := context.WithTimeout(ctx, r.timeout)
		out, err := c.GetSecretValue(cctx, in)
		cancel()
		if err != nil {
			return "", fmt.Errorf("resolving %s: %w", ref, err)
		}
		if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &doc); err != nil {
			return "", fmt.Errorf("resolving %s: the secret's value is not a JSON object", ref)
		}
		r.cache[cacheKey] = doc
	}
	var cur any = doc
	for _, part := range strings.Split(ref.Key, "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := cur.(map[string]any)
		if !ok {
			return "", fmt.Errorf("resolving %s: no key %q", ref, ref.Key)
		}
		if cur, ok = m[part]; !ok {
			return "", fmt.Errorf("resolving %s: no key %q", ref, ref.Key)
		}
	}
	s, ok := cur.(string)
	if !ok {
		return "", fmt.Errorf("resolving %s: key %q is not a string", ref, ref.Key)
	}
	return s, nil
}

func (r *Resolver) client(ctx context.Context, region string) (*secretsmanager.Client, error) {
	if c, ok := r.clients[region]; ok {
		return c, nil
	}
	ac, err := loadAWS(ctx, region, r.timeout)
	if err != nil {
		return nil, err
	}
	c := secretsmanager.NewFromConfig(ac, func(o *secretsmanager.Options) {
		if r.endpoint != "" {
			o.BaseEndpoint = aws.String(r.endpoint)
		}
	})
	r.clients[region] = c
	return c, nil
}
