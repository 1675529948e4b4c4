package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pushvault/pushvault/app/handler"
	"github.com/pushvault/pushvault/app/ledger"
	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/secretstore"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

// Server is `pushvault serve`: every component and every event handler,
// wired in one place (New). Run serves; Close releases.
type Server struct {
	Config ServeConfig
	Log    *slog.Logger
	Vault  *vault.Session
	// Store is where leaks are pushed (store:; Vault's KV by default).
	Store   secretstore.Store
	Queue   *queue.Queue
	Claims  *queue.Claims
	Ledger  *evidence.Ledger
	GitHub  *githubapp.Clients
	Metrics *Metrics
	// Dispatcher routes each queued event to its handler; its events are
	// the ones the webhook endpoint accepts.
	Dispatcher *handler.Dispatcher
	// backfill is the backfill handler, whose RefreshHistory the ledger
	// watch calls.
	backfill *handler.Backfill

	webhookSecret []byte
	// stopVault ends the goroutine keeping the Vault token alive.
	stopVault func()
}

// New logs in to Vault (transit keys ready; the token is kept alive until
// Close), reads the app's private key
// and webhook secret, opens the queue (embedded server or queue.url), the
// claim store and the ledger's stream, checks the GitHub App identity, and
// builds every event handler. cfg must have passed Validate. Errors never
// carry a secret.
func New(ctx context.Context, log *slog.Logger, cfg ServeConfig) (*Server, error) {
	s := &Server{Config: cfg, Log: log}
	vs, err := vault.Open(ctx, cfg.Vault)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	s.Vault = vs
	s.keepVaultToken(ctx)
	if s.Store, err = secretstore.Open(ctx, cfg.Store, vs); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	res := vault.NewResolver(vs.Client)
	key, err := readSecret(ctx, res, "github.private_key", cfg.GitHub.PrivateKey, cfg.GitHub.PrivateKeyFile, cfg.GitHub.PrivateKeyVault)
	if err != nil {
		s.Close()
		return nil, err
	}
	secret, err := readSecret(ctx, res, "github.webhook_secret", cfg.GitHub.WebhookSecret, cfg.GitHub.WebhookSecretFile, cfg.GitHub.WebhookSecretVault)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.webhookSecret = secret
	if cfg.Queue.Secrets, err = readQueueSecrets(ctx, res, cfg.Queue); err != nil {
		return nil, err
	}
	if s.Queue, err = queue.Open(ctx, log, cfg.Queue, cfg.DataDir); err != nil {
		s.Close()
		return nil, err
	}
	s.Claims = s.Queue.Claims()
	if limit := s.Queue.MaxMessage(); limit < cfg.Webhook.MaxBodyBytes {
		log.Info("queue messages are smaller than the largest delivery: larger ones are queued reduced to the fields pushvault reads",
			slog.Int64("queue_max_message_bytes", limit), slog.Int64("webhook_max_body_bytes", cfg.Webhook.MaxBodyBytes))
	}
	backend, err := evidence.CreateJetStream(ctx, s.Queue.JetStream(), cfg.Queue.Replicas)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Ledger = evidence.New(backend, evidence.TransitSigner{T: vs.Transit, Key: vault.EvidenceKey})
	s.Metrics = NewMetrics(s.Queue.Depth)
	s.Metrics.Registry.MustRegister(&backfillCollector{q: s.Queue})
	if s.GitHub, err = githubapp.NewClients(githubapp.ClientsConfig{
		AppID: cfg.GitHub.AppID, PrivateKey: key, APIURL: cfg.GitHub.APIURL, Observer: s.Metrics, Log: log,
	}); err != nil {
		s.Close()
		return nil, err
	}
	if s.Dispatcher, err = s.handlers(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// keepVaultToken renews the Vault token and logs in again as it expires
// (vault.Session.Keep) until Close: serve runs for longer than any login's
// max TTL.
func (s *Server) keepVaultToken(ctx context.Context) {
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Vault.Keep(kctx, s.Log)
	}()
	s.stopVault = func() { cancel(); <-done }
}

// handlers is every event handler serve runs.
func (s *Server) handlers() (*handler.Dispatcher, error) {
	push := handler.NewPush(handler.PushDeps{
		GitHub: s.GitHub, Claims: s.Claims, Vault: s.Vault, Store: s.Store, Ledger: ledger.Shared(s.Ledger),
		Metrics: s.Metrics, AppID: s.Config.GitHub.AppID, APIURL: s.Config.GitHub.APIURL, WebURL: s.Config.GitHub.WebURL,
		Policy: policy.Server{MaySet: s.Config.RepositoryMaySet, Rotation: s.Config.Rotation, Generic: scanner.GenericMode(s.Config.GenericSecrets)}, MirrorDir: filepath.Join(s.Config.DataDir, "git"),
		InlineAllow: policy.InlineAllow(s.Config.InlineAllow), ActionPermission: githubapp.Role(s.Config.GitHub.ActionPermission),
		ScanLimits:   s.Config.ScanLimits,
		RevokeBudget: s.Queue.RevokeBudget(0, 0),
	})
	inst := &handler.Installation{Claims: s.Claims, Ledger: s.Ledger}
	if s.Config.Backfill.OnInstall {
		inst.Backfill = s.Queue
	}
	s.backfill = handler.NewBackfill(handler.BackfillDeps{Push: push, States: s.Queue.Backfills(), SliceCommits: s.Config.Backfill.SliceCommits,
		Reserve: s.Config.Backfill.Reserve(), Metrics: s.Metrics})
	return handler.NewDispatcher(
		handler.Ping{},
		inst,
		s.backfill,
		push,
		handler.NewPullRequest(push),
		handler.NewCheckRun(push, s.Queue),
		handler.NewCheckSuite(push),
		handler.NewIssueComment(s.backfill, s.Queue),
	)
}

// readSecret reads a secret from its one configured source.
func readSecret(ctx context.Context, res *vault.Resolver, key, value, file, ref string) ([]byte, error) {
	switch {
	case value != "":
		return []byte(value), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s_file: %w", key, err)
		}
		return []byte(strings.TrimSpace(string(b))), nil
	default:
		r, err := vault.ParseReference(ref)
		if err != nil {
			return nil, fmt.Errorf("%s_vault: %w", key, err)
		}
		v, err := res.Resolve(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("%s_vault: %w", key, err)
		}
		return []byte(v), nil
	}
}

// readQueueSecrets reads the queue's password and nkey seed from the
// sources configured for them (none: left empty).
func readQueueSecrets(ctx context.Context, res *vault.Resolver, q queue.Config) (queue.Secrets, error) {
	var out queue.Secrets
	// Validate has checked the sources: at most one each.
	if set, _ := optionalSource("queue.password", q.Password, q.PasswordFile, q.PasswordVault); set {
		b, err := readSecret(ctx, res, "queue.password", q.Password, q.PasswordFile, q.PasswordVault)
		if err != nil {
			return out, err
		}
		out.Password = string(b)
	}
	if set, _ := optionalSource("queue.nkey_seed", q.NkeySeed, q.NkeySeedFile, q.NkeySeedVault); set {
		b, err := readSecret(ctx, res, "queue.nkey_seed", q.NkeySeed, q.NkeySeedFile, q.NkeySeedVault)
		if err != nil {
			return out, err
		}
		out.NkeySeed = b
	}
	return out, nil
}

// Handler is the HTTP side: POST /webhook, GET /healthz, /readyz, /metrics.
func (s *Server) Handler() http.Handler {
	d := s.Dispatcher
	mux := http.NewServeMux()
	events := d.Events()
	// Backfill jobs come from the backfill stream, never from GitHub.
	delete(events, queue.BackfillEvent)
	mux.Handle("/webhook", &githubapp.WebhookHandler{
		Secret: s.webhookSecret, Events: events, Acts: d.Acts, Ignore: d.Ignore, AppID: s.Config.GitHub.AppID, Queue: s.Queue, Log: s.Log,
		Observer: s.Metrics, MaxBody: s.Config.Webhook.MaxBodyBytes, MaxConcurrent: s.Config.Webhook.MaxConcurrent,
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		// Each dependency is asked at once, with a time budget of its
		// own: one that hangs (a NATS server gone before the client
		// noticed) must not use up the other's time and get it named as
		// down too.
		checks := []struct {
			name  string
			ready func(context.Context) error
		}{
			{"queue", s.Queue.Ready},
			{"vault", func(ctx context.Context) error { return vaultReady(ctx, s.Vault.Client) }},
		}
		errs := make([]error, len(checks))
		var wg sync.WaitGroup
		for i, c := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
				defer cancel()
				errs[i] = c.ready(ctx)
			}()
		}
		wg.Wait()
		var problems []string
		for i, err := range errs {
			if err != nil {
				problems = append(problems, checks[i].name+": "+err.Error())
			}
		}
		if len(problems) > 0 {
			http.Error(w, strings.Join(problems, "\n"), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))
	return mux
}

// readyTimeout bounds each of /readyz's checks.
const readyTimeout = 3 * time.Second

// vaultReady checks that Vault answers, is unsealed and accepts our token.
func vaultReady(ctx context.Context, c *api.Client) error {
	h, err := c.Sys().HealthWithContext(ctx)
	if err != nil {
		return vault.Explain(c.Address(), err)
	}
	if h.Sealed {
		return vault.ErrSealed
	}
	if _, err := c.Auth().Token().LookupSelfWithContext(ctx); err != nil {
		return vault.Explain(c.Address(), err)
	}
	return nil
}

// maxHeaderBytes bounds a request's headers: GitHub sends about 1 KiB of
// them, and each slow client holds no more than this.
const maxHeaderBytes = 64 << 10

// HTTPServer is the http.Server Run serves: Handler, with the http
// section's timeouts and a bound on header size, so that slow or idle
// clients are cut off.
func (s *Server) HTTPServer() *http.Server {
	h := s.Config.HTTP
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ReadTimeout:       h.ReadTimeout,
		WriteTimeout:      h.WriteTimeout,
		IdleTimeout:       h.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
}

// Run serves HTTP on cfg.Listen and runs the workers until ctx is
// cancelled; then it stops taking webhooks, lets work in progress finish
// (shutdown_timeout) and returns. ready, when not nil, receives the
// listening address once the server accepts connections.
func (s *Server) Run(ctx context.Context, ready func(addr string)) error {
	d := s.Dispatcher
	ln, err := net.Listen("tcp", s.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := s.HTTPServer()
	workers := queue.NewWorkers(s.Queue, d, s.Log, s.Metrics, s.Config.Workers, s.Config.ShutdownTimeout)
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	// Backfills have workers of their own on their own stream: a push
	// never waits behind one.
	backfills := queue.NewBackfillWorkers(s.Queue, d, s.Log, s.Metrics, s.Config.Backfill.Concurrency, s.Config.ShutdownTimeout, s.Config.Backfill.DeliveryTimeout)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		workers.Run(wctx)
	}()
	go func() {
		defer wg.Done()
		backfills.Run(wctx)
	}()
	// The history issues follow the ledger, whoever writes to it.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Queue.WatchLedger(wctx, s.Log, func(ctx context.Context, repo string) error {
			return s.backfill.RefreshHistory(githubapp.WithLogger(ctx, s.Log.With(slog.String("repo", repo))), repo)
		}); err != nil {
			s.Log.Error("ledger watch stopped: history issues follow only the changes serve makes itself", slog.Any("error", err))
		}
	}()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if s.Config.DebugListen != "" {
		dbg, err := s.serveDebug(errc)
		if err != nil {
			_ = srv.Close()
			return err
		}
		defer dbg.Close()
	}
	s.Log.Info("pushvault serve started", slog.String("listen", ln.Addr().String()),
		slog.String("queue", s.Queue.Where()), slog.Int("workers", s.Config.Workers), slog.Int("backfill_workers", s.Config.Backfill.Concurrency),
		slog.Int64("app_id", s.Config.GitHub.AppID), slog.Any("events", d.EventNames()))
	if ready != nil {
		ready(ln.Addr().String())
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	_ = srv.Shutdown(sctx)
	stopWorkers()
	wg.Wait()
	s.Log.Info("pushvault serve stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// serveDebug serves Go's profiler on debug_listen; serving errors go to
// errc.
func (s *Server) serveDebug(errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", s.Config.DebugListen)
	if err != nil {
		return nil, fmt.Errorf("debug_listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("debug_listen: %w", err)
		}
	}()
	s.Log.Info("profiler listening", slog.String("debug_listen", ln.Addr().String()))
	return srv, nil
}

// Close stops renewing the Vault token and releases the queue connection
// (and the embedded server).
func (s *Server) Close() {
	if s.stopVault != nil {
		s.stopVault()
	}
	if s.Queue != nil {
		s.Queue.Close()
	}
}
