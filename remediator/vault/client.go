package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/hashicorp/vault/api"
)

// Auth says how to log in to Vault.
type Auth struct {
	// Method is token (default), approle, jwt or kubernetes.
	Method string `yaml:"method"`
	// Mount is the auth method's mount path; default the method's name.
	Mount string `yaml:"mount"`
	// Token, for the token method (else VAULT_TOKEN).
	Token string `yaml:"token"`
	// RoleID and SecretID (or SecretIDFile), for approle.
	RoleID       string `yaml:"role_id"`
	SecretID     string `yaml:"secret_id"`
	SecretIDFile string `yaml:"secret_id_file"`
	// Role, for jwt and kubernetes.
	Role string `yaml:"role"`
	// JWT or JWTFile, for jwt; JWTFile for kubernetes defaults to the pod's
	// service account token.
	JWT     string `yaml:"jwt"`
	JWTFile string `yaml:"jwt_file"`
}

// Config is how to reach Vault and where pushvault keeps secrets there.
type Config struct {
	Address   string `yaml:"address"`
	Namespace string `yaml:"namespace"`
	CACert    string `yaml:"ca_cert"`
	Auth      Auth   `yaml:"auth"`
	// Mount is the KV v2 mount; default "secret".
	Mount string `yaml:"mount"`
	// PathTemplate places secrets; default "pushvault/{owner}/{repo}/{name}".
	PathTemplate string `yaml:"path_template"`
	// TransitMount is the transit engine's mount; default "transit".
	TransitMount string `yaml:"transit_mount"`
}

// Defaults for Config.
const (
	DefaultMount        = "secret"
	DefaultPathTemplate = "pushvault/{owner}/{repo}/{name}"
	DefaultTransitMount = "transit"
	kubernetesTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"
)

// FromEnv fills what cfg leaves empty the way the vault CLI does: VAULT_ADDR,
// VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT; then the defaults.
func FromEnv(cfg Config) Config {
	if cfg.Address == "" {
		cfg.Address = os.Getenv("VAULT_ADDR")
	}
	if cfg.Namespace == "" {
		cfg.Namespace = os.Getenv("VAULT_NAMESPACE")
	}
	if cfg.CACert == "" {
		cfg.CACert = os.Getenv("VAULT_CACERT")
	}
	if cfg.Auth.Method == "" {
		cfg.Auth.Method = "token"
	}
	if cfg.Auth.Method == "token" && cfg.Auth.Token == "" {
		cfg.Auth.Token = os.Getenv("VAULT_TOKEN")
	}
	if cfg.Mount == "" {
		cfg.Mount = DefaultMount
	}
	if cfg.PathTemplate == "" {
		cfg.PathTemplate = DefaultPathTemplate
	}
	if cfg.TransitMount == "" {
		cfg.TransitMount = DefaultTransitMount
	}
	return cfg
}

// Validate reports every problem with the configuration at once, in the
// configuration's own terms.
func (c Config) Validate() error {
	var errs []error
	if c.Address == "" {
		errs = append(errs, errors.New("vault.address: required (or set VAULT_ADDR)"))
	} else if u, err := url.Parse(c.Address); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("vault.address: %q is not an http(s) URL", c.Address))
	}
	switch c.Auth.Method {
	case "token":
		if c.Auth.Token == "" {
			errs = append(errs, errors.New("vault.auth.token: required for the token method (or set VAULT_TOKEN)"))
		}
	case "approle":
		if c.Auth.RoleID == "" {
			errs = append(errs, errors.New("vault.auth.role_id: required for approle"))
		}
		if c.Auth.SecretID == "" && c.Auth.SecretIDFile == "" {
			errs = append(errs, errors.New("vault.auth.secret_id or secret_id_file: required for approle"))
		}
	case "jwt":
		if c.Auth.Role == "" {
			errs = append(errs, errors.New("vault.auth.role: required for jwt"))
		}
		if c.Auth.JWT == "" && c.Auth.JWTFile == "" {
			errs = append(errs, errors.New("vault.auth.jwt or jwt_file: required for jwt"))
		}
	case "kubernetes":
		if c.Auth.Role == "" {
			errs = append(errs, errors.New("vault.auth.role: required for kubernetes"))
		}
	default:
		errs = append(errs, fmt.Errorf("vault.auth.method: %q is not one of token, approle, jwt, kubernetes", c.Auth.Method))
	}
	for _, p := range []string{"{owner}", "{repo}", "{name}"} {
		if !strings.Contains(c.PathTemplate, p) {
			errs = append(errs, fmt.Errorf("vault.path_template: %q lacks %s", c.PathTemplate, p))
		}
	}
	return errors.Join(errs...)
}

// Connect returns a logged-in client. Errors say which step failed and
// never carry credentials.
func Connect(ctx context.Context, cfg Config) (*api.Client, error) {
	c, _, err := connect(ctx, cfg, nil)
	return c, err
}

// connect is Connect that also returns the login's token (its lease: TTL,
// renewable) for a Keeper. denied, when not nil, hears the token of every
// request Vault answered 403.
func connect(ctx context.Context, cfg Config, denied func(token string)) (*api.Client, *api.Secret, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	ac := api.DefaultConfig()
	ac.Address = cfg.Address
	ac.MaxRetries = 2
	if cfg.CACert != "" {
		if err := ac.ConfigureTLS(&api.TLSConfig{CACert: cfg.CACert}); err != nil {
			return nil, nil, fmt.Errorf("vault TLS (ca_cert %s): %w", cfg.CACert, err)
		}
	}
	if denied != nil {
		ac.HttpClient.Transport = deniedTransport{next: ac.HttpClient.Transport, denied: denied}
	}
	c, err := api.NewClient(ac)
	if err != nil {
		return nil, nil, fmt.Errorf("vault client: %w", err)
	}
	// The API library reads VAULT_TOKEN itself; only the configured method
	// decides which token is used.
	c.ClearToken()
	if cfg.Namespace != "" {
		c.SetNamespace(cfg.Namespace)
	}
	auth, err := login(ctx, c, cfg.Auth)
	if err != nil {
		return nil, nil, Explain(cfg.Address, err)
	}
	c.SetToken(auth.Auth.ClientToken)
	return c, auth, nil
}

// login logs in with the configured method on a copy of c (without c's
// token, which may be the expired one being replaced) and returns the new
// token's lease; it does not set the token. For the token method the lease
// is the configured token's own (token lookup-self).
func login(ctx context.Context, c *api.Client, a Auth) (*api.Secret, error) {
	lc, err := c.CloneWithHeaders()
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	lc.ClearToken()
	if a.Method == "token" {
		return tokenLease(ctx, lc, a.Token)
	}
	mount := a.Mount
	if mount == "" {
		mount = a.Method
	}
	var body map[string]any
	switch a.Method {
	case "approle":
		secretID, err := fileOr(a.SecretID, a.SecretIDFile)
		if err != nil {
			return nil, fmt.Errorf("approle secret_id_file: %w", err)
		}
		body = map[string]any{"role_id": a.RoleID, "secret_id": secretID}
	case "jwt":
		jwt, err := fileOr(a.JWT, a.JWTFile)
		if err != nil {
			return nil, fmt.Errorf("jwt_file: %w", err)
		}
		body = map[string]any{"role": a.Role, "jwt": jwt}
	case "kubernetes":
		path := a.JWTFile
		if path == "" {
			path = kubernetesTokenPath
		}
		jwt, err := fileOr(a.JWT, path)
		if err != nil {
			return nil, fmt.Errorf("kubernetes service account token: %w", err)
		}
		body = map[string]any{"role": a.Role, "jwt": jwt}
	}
	sec, err := lc.Logical().WriteWithContext(ctx, "auth/"+strings.Trim(mount, "/")+"/login", body)
	if err != nil {
		return nil, fmt.Errorf("%s login: %w", a.Method, err)
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return nil, fmt.Errorf("%s login: vault returned no token", a.Method)
	}
	return sec, nil
}

func fileOr(value, file string) (string, error) {
	if value != "" || file == "" {
		return value, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// Sentinel errors for the ways Vault fails, so callers choose messages and
// exit statuses with errors.Is.
var (
	ErrUnreachable = errors.New("vault is unreachable")
	ErrSealed      = errors.New("vault is sealed")
	ErrDenied      = errors.New("vault denied the request")
)

// Explain wraps a Vault client error with the matching sentinel and a
// message a person can act on. The result wraps both: errors.Is finds the
// sentinel (ErrSealed, ErrUnreachable, ErrDenied) and errors.As still finds
// the client's error (*api.ResponseError, *net.OpError). A nil err is nil.
func Explain(addr string, err error) error {
	if err == nil {
		return nil
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == 503 && strings.Contains(strings.Join(re.Errors, " "), "sealed"):
			return fmt.Errorf("%w (%s): unseal it and try again: %w", ErrSealed, addr, err)
		case re.StatusCode == 503:
			return fmt.Errorf("%w (%s: 503): %w", ErrUnreachable, addr, err)
		case re.StatusCode == 403 || re.StatusCode == 400 && strings.Contains(strings.Join(re.Errors, " "), "permission denied"):
			return fmt.Errorf("%w: %w (check the token's policy; see the least-privilege policy in README.md)", ErrDenied, err)
		}
		return err
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%w at %s: %w", ErrUnreachable, addr, err)
	}
	return err
}

// tokenLease describes a configured token as a login would: its TTL and
// whether it renews, from token lookup-self. A token that may not look
// itself up is taken as it is (no TTL known, not renewed): the token method
// never logged in, so this must not start failing where it worked.
func tokenLease(ctx context.Context, c *api.Client, token string) (*api.Secret, error) {
	auth := &api.Secret{Auth: &api.SecretAuth{ClientToken: token}}
	c.SetToken(token)
	self, err := c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil || self == nil {
		return auth, nil
	}
	ttl, _ := self.TokenTTL()
	auth.Auth.LeaseDuration = int(ttl.Seconds())
	auth.Auth.Renewable, _ = self.TokenIsRenewable()
	return auth, nil
}

// deniedTransport tells denied the token of every request Vault answers
// 403, so that a Keeper can find out whether its token died early (revoked,
// or lost by a Vault restart) and log in again. It never reads or keeps
// the response.
type deniedTransport struct {
	next   http.RoundTripper
	denied func(token string)
}

func (t deniedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusForbidden {
		if tok := req.Header.Get(api.AuthHeaderName); tok != "" {
			t.denied(tok)
		}
	}
	return resp, err
}
