package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/app/local"
	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/secretstore"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

// ServeConfig is `pushvault serve`'s configuration. Load reads it: defaults,
// then the file (strict: unknown keys are errors), then PUSHVAULT_*
// environment variables (one per key: PUSHVAULT_ + the key's path in upper
// case joined by "_", e.g. PUSHVAULT_GITHUB_APP_ID, PUSHVAULT_QUEUE_URL),
// then Vault's own VAULT_ADDR, VAULT_TOKEN... for what is still empty.
type ServeConfig struct {
	// Listen is the HTTP address for /webhook, /healthz, /readyz, /metrics.
	Listen string `yaml:"listen"`
	// DebugListen, when set, serves Go's profiler (net/http/pprof, under
	// /debug/pprof/) on its own address, for finding where serve spends
	// its time. Bind it to loopback: profiles show the program's code
	// paths (never secret values), which are no one else's business.
	DebugListen string `yaml:"debug_listen"`
	// DataDir holds the embedded NATS server's files.
	DataDir string `yaml:"data_dir"`
	// Workers is how many deliveries this process works on at once.
	Workers int `yaml:"workers"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// ShutdownTimeout is how long work in progress may take to finish
	// after SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MonitorSlack is the timer slack of the Go runtime's monitor thread
	// (internal/timerslack): serve re-executes itself once at start to set
	// it. 0 leaves the kernel's (50 µs). At most MaxMonitorSlack.
	MonitorSlack time.Duration `yaml:"monitor_slack"`
	GitHub       GitHubConfig  `yaml:"github"`
	Vault        vault.Config  `yaml:"vault"`
	// Store is where leaks are pushed: vault (default: the vault
	// section's KV v2) or aws_secretsmanager. The server's alone: no
	// repository setting chooses it.
	Store   secretstore.Config `yaml:"store"`
	Queue   queue.Config       `yaml:"queue"`
	HTTP    HTTPConfig         `yaml:"http"`
	Webhook WebhookConfig      `yaml:"webhook"`
	// Rotation is the server's rotation settings. A repository's
	// .github/pushvault.yml overrides only the rotation keys
	// RepositoryMaySet grants it.
	Rotation rotate.Settings `yaml:"rotation"`
	// RepositoryMaySet lists the keys of .github/pushvault.yml a repository
	// (or its organisation's .github repository) may set; every other key
	// it sets is ignored and the check run says so. Empty: the defaults,
	// policy.DefaultMaySet.
	RepositoryMaySet []string `yaml:"repository_may_set"`
	// InlineAllow is what an inline "pushvault:allow" (or
	// "trufflehog:ignore") comment in a push does: honour, record (the
	// default: honoured, recorded with the pusher, shown in the check run)
	// or ignore. The server's alone: a repository cannot set it.
	InlineAllow string `yaml:"inline_allow"`
	// ScanLimits bound what the scan of one push reads; a push over them
	// is scanned newest first up to them and its check run says what was
	// not scanned. The server's alone: no repository setting raises them.
	ScanLimits scanner.Limits `yaml:"scan_limits"`
	// GenericSecrets is what the generic detector's findings get: report
	// (shown, not vaulted or fixed; the default), fix, or off. A
	// repository's scan.generic applies only when RepositoryMaySet grants
	// it.
	GenericSecrets string `yaml:"generic_secrets"`
	// Backfill is the history backfill of the repositories an
	// installation covers.
	Backfill BackfillConfig `yaml:"backfill"`
}

// BackfillConfig is the history backfill: the scan of every covered
// repository's whole history (every branch and tag) when the App is
// installed or a repository added, on the queue's backfill stream, worked
// apart from pushes.
type BackfillConfig struct {
	// OnInstall queues a backfill of each repository an installation
	// adds (installation created, installation_repositories added);
	// false: only `pushvault backfill` queues them.
	OnInstall bool `yaml:"on_install"`
	// Concurrency is how many repositories this process backfills at
	// once, besides its push workers (which a backfill never holds).
	Concurrency int `yaml:"concurrency"`
	// SliceCommits: a history longer than this is read in slices of as
	// many commits (newest first), so that memory does not grow with it;
	// the log says so.
	SliceCommits int `yaml:"slice_commits"`
	// DeliveryTimeout bounds one attempt at one repository's backfill
	// (queue.delivery_timeout is for pushes): past it the attempt is
	// cancelled and retried, dead-lettered after queue.max_attempts.
	DeliveryTimeout time.Duration `yaml:"delivery_timeout"`
	// GitHubReserve is the part of each installation's GitHub request
	// budget a backfill leaves to pushes: "N%" of the limit or a number of
	// requests. Before each repository, and before writing to GitHub,
	// a backfill asks GitHub for the installation's remaining budget (GET
	// /rate_limit: GitHub's own count, the same for every replica) and
	// waits while it is under this. "0" waits for nothing.
	GitHubReserve string `yaml:"github_reserve"`
}

// Reserve is GitHubReserve parsed (Validate has checked it).
func (b BackfillConfig) Reserve() githubapp.Reserve {
	r, _ := githubapp.ParseReserve(b.GitHubReserve)
	return r
}

// GitHubConfig is the GitHub App's identity. The private key and the
// webhook secret each come from exactly one of: the value itself (best
// from the environment: PUSHVAULT_GITHUB_PRIVATE_KEY,
// PUSHVAULT_GITHUB_WEBHOOK_SECRET), a file, or a Vault reference
// (vault:secret/data/PATH#KEY).
type GitHubConfig struct {
	AppID              int64  `yaml:"app_id"`
	PrivateKey         string `yaml:"private_key"`
	PrivateKeyFile     string `yaml:"private_key_file"`
	PrivateKeyVault    string `yaml:"private_key_vault"`
	WebhookSecret      string `yaml:"webhook_secret"`
	WebhookSecretFile  string `yaml:"webhook_secret_file"`
	WebhookSecretVault string `yaml:"webhook_secret_vault"`
	// APIURL: https://api.github.com/ or, for GHES, https://HOST/api/v3/.
	APIURL string `yaml:"api_url"`
	// WebURL: https://github.com/ or https://HOST/.
	WebURL string `yaml:"web_url"`
	// ActionPermission is the least repository role (read, triage, write,
	// maintain, admin) that may press the check run's "False positive" and
	// "Approve rotation" buttons, asked of GitHub for whoever presses.
	ActionPermission string `yaml:"action_permission"`
}

// HTTPConfig bounds how long one connection may hold the HTTP server, so
// that slow clients (slowloris) cannot pile up connections and goroutines.
type HTTPConfig struct {
	// ReadHeaderTimeout is how long a client may take to send its headers.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout is how long a client may take to send a whole request,
	// body included. GitHub gives up on a delivery after 10 s, so a body
	// still arriving after that is no delivery of GitHub's.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout is how long, from the end of the headers, a request may
	// take to be answered (body read, queued, reply written).
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout is how long a kept-alive connection may wait for its
	// next request.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

// WebhookConfig is the webhook endpoint. Its memory is bounded by
// MaxConcurrent x MaxBodyBytes: only that many bodies are read at once.
type WebhookConfig struct {
	// MaxBodyBytes is the largest body accepted (413 above).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxConcurrent is how many deliveries' bodies are read at once; one
	// more is answered 503 with Retry-After at once, never queued.
	MaxConcurrent int `yaml:"max_concurrent"`
}

// DefaultMonitorSlack is monitor_slack's default, and MaxMonitorSlack its
// most: the Go runtime's monitor sleeps at most 10 ms at a time by design,
// so a slack up to that keeps it within its own range. 5 ms took serve's
// context switches per push from about 1,100 to 560 and its CPU per push
// down a sixth on the App benchmark (README).
const (
	DefaultMonitorSlack = 5 * time.Millisecond
	MaxMonitorSlack     = 10 * time.Millisecond
)

// DefaultServeConfig is every default in one place.
func DefaultServeConfig() ServeConfig {
	return ServeConfig{
		Listen:          ":8080",
		DataDir:         local.DataDir(),
		Workers:         4,
		LogLevel:        "info",
		ShutdownTimeout: 30 * time.Second,
		MonitorSlack:    DefaultMonitorSlack,
		GitHub: GitHubConfig{APIURL: githubapp.DefaultAPIURL, WebURL: "https://github.com/",
			ActionPermission: string(githubapp.DefaultActionPermission)},
		Queue: queue.DefaultConfig(),
		// GitHub gives up on a delivery after 10 s: none of its requests
		// needs longer to arrive.
		HTTP: HTTPConfig{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 15 * time.Second, IdleTimeout: 60 * time.Second},
		Webhook:        WebhookConfig{MaxBodyBytes: githubapp.DefaultMaxBody, MaxConcurrent: githubapp.DefaultMaxConcurrent},
		ScanLimits:     scanner.DefaultServerLimits,
		InlineAllow:    string(policy.DefaultInlineAllow),
		GenericSecrets: string(scanner.DefaultGenericMode),
		Backfill: BackfillConfig{OnInstall: true, Concurrency: 1, SliceCommits: 20000, DeliveryTimeout: 2 * time.Hour,
			GitHubReserve: "20%"},
	}
}

// LoadServeConfig reads path (none when "") over the defaults, applies the
// environment (getenv; os.Getenv when nil) and returns the configuration
// with Validate's verdict.
func LoadServeConfig(path string, getenv func(string) string) (ServeConfig, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := DefaultServeConfig()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := decodeStrict(data, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), "PUSHVAULT", getenv); err != nil {
		return cfg, err
	}
	cfg.Vault = vaultFromEnv(cfg.Vault, getenv)
	return cfg, cfg.Validate()
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

func decodeStrict(data []byte, cfg *ServeConfig) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
		msg = strings.ReplaceAll(msg, "\n  ", "; ")
		return errors.New(unknownField.ReplaceAllString(msg, "unknown key $1"))
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// applyEnv sets every field of v (a struct) from prefix_FIELD variables,
// recursing into nested structs; it reports every bad value at once.
func applyEnv(v reflect.Value, prefix string, getenv func(string) string) error {
	var errs []error
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			errs = append(errs, applyEnv(f, name, getenv))
			continue
		}
		s := getenv(name)
		if s == "" {
			continue
		}
		switch {
		case f.Type() == durationType:
			d, err := time.ParseDuration(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration (e.g. 30s, 5m)", name, s))
				continue
			}
			f.SetInt(int64(d))
		case f.Kind() == reflect.Slice && f.Type().Elem() == durationType:
			var ds []time.Duration
			for _, part := range strings.Split(s, ",") {
				d, err := time.ParseDuration(strings.TrimSpace(part))
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %q is not a comma-separated list of durations", name, s))
					ds = nil
					break
				}
				ds = append(ds, d)
			}
			if ds != nil {
				f.Set(reflect.ValueOf(ds))
			}
		case f.Kind() == reflect.String:
			f.SetString(s)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			var list []string
			for _, part := range strings.Split(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					list = append(list, part)
				}
			}
			f.Set(reflect.ValueOf(list))
		case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, s))
				continue
			}
			f.SetInt(n)
		case f.Kind() == reflect.Bool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, s))
				continue
			}
			f.SetBool(b)
		default:
			errs = append(errs, fmt.Errorf("%s: cannot be set from the environment", name))
		}
	}
	return errors.Join(errs...)
}

// vaultFromEnv is vault.FromEnv reading through getenv.
func vaultFromEnv(c vault.Config, getenv func(string) string) vault.Config {
	fill := func(dst *string, name string) {
		if *dst == "" {
			*dst = getenv(name)
		}
	}
	fill(&c.Address, "VAULT_ADDR")
	fill(&c.Namespace, "VAULT_NAMESPACE")
	fill(&c.CACert, "VAULT_CACERT")
	if c.Auth.Method == "" {
		c.Auth.Method = "token"
	}
	if c.Auth.Method == "token" {
		fill(&c.Auth.Token, "VAULT_TOKEN")
	}
	// vault.FromEnv leaves set fields alone and fills the defaults.
	return vault.FromEnv(c)
}

// Validate reports every problem at once, each naming its key as the file
// spells it.
func (c ServeConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen: %q is not host:port", c.Listen)
	}
	if c.DebugListen != "" {
		if _, _, err := net.SplitHostPort(c.DebugListen); err != nil {
			bad("debug_listen: %q is not host:port", c.DebugListen)
		}
	}
	if c.DataDir == "" {
		bad("data_dir: required")
	}
	if c.Workers < 1 {
		bad("workers: %d, want at least 1", c.Workers)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.MonitorSlack < 0 || c.MonitorSlack > MaxMonitorSlack {
		bad("monitor_slack: %s, want 0 (off) to %s", c.MonitorSlack, MaxMonitorSlack)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout: must be positive")
	}
	g := c.GitHub
	if g.AppID <= 0 {
		bad("github.app_id: required (the GitHub App's numeric id)")
	}
	if err := oneSource("github.private_key", g.PrivateKey, g.PrivateKeyFile, g.PrivateKeyVault); err != nil {
		errs = append(errs, err)
	}
	if err := oneSource("github.webhook_secret", g.WebhookSecret, g.WebhookSecretFile, g.WebhookSecretVault); err != nil {
		errs = append(errs, err)
	}
	for key, u := range map[string]string{"github.api_url": g.APIURL, "github.web_url": g.WebURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("%s: %q is not an http(s) URL", key, u)
		}
	}
	if err := c.Store.Validate("store"); err != nil {
		errs = append(errs, err)
	}
	if _, err := githubapp.ParseRole(g.ActionPermission); err != nil {
		bad("github.action_permission: %v", err)
	}
	if _, err := policy.ParseInlineAllow(c.InlineAllow); err != nil {
		bad("inline_allow: %v", err)
	}
	if _, ok := scanner.ParseGenericMode(c.GenericSecrets); !ok {
		bad("generic_secrets: %q is not one of report, fix, off", c.GenericSecrets)
	}
	if err := c.Vault.Validate(); err != nil {
		errs = append(errs, err)
	}
	q := c.Queue
	if q.URL != "" {
		for _, u := range strings.Split(q.URL, ",") {
			p, err := url.Parse(strings.TrimSpace(u))
			if err != nil || p.Host == "" || (p.Scheme != "nats" && p.Scheme != "tls" && p.Scheme != "ws" && p.Scheme != "wss") {
				bad("queue.url: %q is not a nats://, tls://, ws:// or wss:// URL", queue.RedactURL(u))
			}
		}
		if q.Listen != "" {
			bad("queue.listen: only for the embedded server; remove it or queue.url")
		}
	}
	if q.Listen != "" {
		if _, _, err := net.SplitHostPort(q.Listen); err != nil {
			bad("queue.listen: %q is not host:port", q.Listen)
		}
	}
	errs = append(errs, validateQueueSecurity(q)...)
	if q.Replicas < 1 || q.Replicas > 5 {
		bad("queue.replicas: %d, want 1 to 5", q.Replicas)
	}
	if q.AckWait < time.Second {
		bad("queue.ack_wait: %v, want at least 1s", q.AckWait)
	}
	if q.DeliveryTimeout < time.Second {
		bad("queue.delivery_timeout: %v, want at least 1s", q.DeliveryTimeout)
	}
	if q.MaxAttempts < 1 {
		bad("queue.max_attempts: %d, want at least 1", q.MaxAttempts)
	}
	for i, d := range q.Backoff {
		if d < 0 {
			bad("queue.backoff[%d]: %v is negative", i, d)
		}
	}
	if q.DedupWindow < time.Minute {
		bad("queue.dedup_window: %v, want at least 1m", q.DedupWindow)
	}
	if q.ClaimLease < time.Second {
		bad("queue.claim_lease: %v, want at least 1s", q.ClaimLease)
	}
	if q.StateTTL != 0 && q.StateTTL < q.DedupWindow {
		bad("queue.state_ttl: %v is shorter than queue.dedup_window (%v); 0 keeps records forever", q.StateTTL, q.DedupWindow)
	}
	if c.ScanLimits.MaxCommits < 1 {
		bad("scan_limits.max_commits: %d, want at least 1", c.ScanLimits.MaxCommits)
	}
	if c.ScanLimits.MaxBytes < 1024 {
		bad("scan_limits.max_bytes: %d, want at least 1024", c.ScanLimits.MaxBytes)
	}
	if c.Webhook.MaxBodyBytes < 1024 {
		bad("webhook.max_body_bytes: %d, want at least 1024", c.Webhook.MaxBodyBytes)
	}
	if c.Webhook.MaxConcurrent < 1 {
		bad("webhook.max_concurrent: %d, want at least 1", c.Webhook.MaxConcurrent)
	}
	if c.Backfill.Concurrency < 1 {
		bad("backfill.concurrency: %d, want at least 1", c.Backfill.Concurrency)
	}
	if c.Backfill.SliceCommits < 1 {
		bad("backfill.slice_commits: %d, want at least 1", c.Backfill.SliceCommits)
	}
	if c.Backfill.DeliveryTimeout < time.Second {
		bad("backfill.delivery_timeout: %v, want at least 1s", c.Backfill.DeliveryTimeout)
	}
	if _, err := githubapp.ParseReserve(c.Backfill.GitHubReserve); err != nil {
		bad("backfill.github_reserve: %v", err)
	}
	errs = append(errs, c.HTTP.validate()...)
	if err := c.Rotation.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := policy.ValidateMaySet("repository_may_set", c.RepositoryMaySet); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validate names every timeout that is not positive, and a header timeout
// longer than the read timeout that includes it.
func (h HTTPConfig) validate() []error {
	var errs []error
	for _, t := range []struct {
		key string
		d   time.Duration
	}{
		{"http.read_header_timeout", h.ReadHeaderTimeout}, {"http.read_timeout", h.ReadTimeout},
		{"http.write_timeout", h.WriteTimeout}, {"http.idle_timeout", h.IdleTimeout},
	} {
		if t.d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %v, want a positive duration", t.key, t.d))
		}
	}
	if h.ReadTimeout > 0 && h.ReadHeaderTimeout > h.ReadTimeout {
		errs = append(errs, fmt.Errorf("http.read_header_timeout: %v is longer than http.read_timeout (%v), which includes the headers", h.ReadHeaderTimeout, h.ReadTimeout))
	}
	return errs
}

// validateQueueSecurity checks the queue's credentials and TLS: at most
// one credential method, each from at most one source, and off loopback
// both credentials and TLS, since whoever reaches the embedded server can
// queue deliveries that skip the webhook signature and rewrite the state
// and evidence the server keeps there.
func validateQueueSecurity(q queue.Config) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	password, err := optionalSource("queue.password", q.Password, q.PasswordFile, q.PasswordVault)
	if err != nil {
		errs = append(errs, err)
	}
	nkey, err := optionalSource("queue.nkey_seed", q.NkeySeed, q.NkeySeedFile, q.NkeySeedVault)
	if err != nil {
		errs = append(errs, err)
	}
	if password != (q.User != "") {
		bad("queue.user: queue.user and queue.password (or _file, _vault) go together")
	}
	methods := 0
	for _, set := range []bool{password || q.User != "", nkey, q.CredsFile != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		bad("queue.user: set only one of queue.user with queue.password, queue.nkey_seed and queue.creds_file")
	}
	if q.CredsFile != "" && q.URL == "" {
		bad("queue.creds_file: only with queue.url; the embedded server takes queue.user and queue.password, or queue.nkey_seed")
	}
	t := q.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad("queue.tls: cert_file and key_file go together")
	}
	switch {
	case t.Enabled() && q.URL == "" && q.Listen == "":
		bad("queue.tls: only with queue.listen or queue.url")
	case q.Listen != "" && t.CAFile != "" && t.CertFile == "":
		bad("queue.tls.ca_file: with queue.listen it is the CA of client certificates; set the server's cert_file and key_file too")
	}
	if q.Listen != "" && !queue.IsLoopback(q.Listen) {
		if !password && !nkey {
			bad("queue.listen: %q is not a loopback address: set queue.user and queue.password (or _file, _vault) or queue.nkey_seed (or _file, _vault), so that only pushvault replicas can use the queue", q.Listen)
		}
		if t.CertFile == "" {
			bad("queue.listen: %q is not a loopback address: set queue.tls.cert_file and queue.tls.key_file, so that credentials and deliveries travel encrypted", q.Listen)
		}
	}
	return errs
}

// oneSource checks that exactly one of a secret's three sources is set.
func oneSource(key, value, file, ref string) error {
	set, err := optionalSource(key, value, file, ref)
	if err == nil && !set {
		return fmt.Errorf("%s: required: set %s (or %s), %s_file or %s_vault", key, key, envName(key), key, key)
	}
	return err
}

// optionalSource checks that at most one of a secret's three sources is
// set, and reports whether one is.
func optionalSource(key, value, file, ref string) (bool, error) {
	n := 0
	for _, s := range []string{value, file, ref} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return true, fmt.Errorf("%s: set only one of %s, %s_file and %s_vault", key, key, key, key)
	}
	if ref != "" {
		if _, err := vault.ParseReference(ref); err != nil {
			return true, fmt.Errorf("%s_vault: %q: want vault:PATH#KEY", key, ref)
		}
	}
	return n == 1, nil
}

func envName(key string) string {
	return "PUSHVAULT_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}
