package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/githubapp"
)

// Config is the NATS JetStream queue and claim store (serve.yml's queue section).
type Config struct {
	// URL of an external NATS server or cluster (nats://host:4222,...);
	// empty runs the embedded server with file storage under data_dir.
	URL string `yaml:"url"`
	// CredsFile is a NATS credentials file (.creds: user JWT and nkey
	// seed) for URL.
	CredsFile string `yaml:"creds_file"`
	// Listen is the embedded server's client address (host:port), so other
	// replicas or the nats CLI can reach it; empty: in-process only. Off
	// loopback it requires credentials and TLS (serve's Validate).
	Listen string `yaml:"listen"`
	// User and the password (from exactly one of Password, PasswordFile,
	// PasswordVault), or an nkey seed (one of NkeySeed, NkeySeedFile,
	// NkeySeedVault): on the embedded server the one identity every
	// client, this process included, must present; with URL what this
	// process presents.
	User          string `yaml:"user"`
	Password      string `yaml:"password"`
	PasswordFile  string `yaml:"password_file"`
	PasswordVault string `yaml:"password_vault"`
	NkeySeed      string `yaml:"nkey_seed"`
	NkeySeedFile  string `yaml:"nkey_seed_file"`
	NkeySeedVault string `yaml:"nkey_seed_vault"`
	// TLS is the embedded server's certificate (and client CA), or with
	// URL the CA and client certificate this process uses.
	TLS TLSConfig `yaml:"tls"`
	// Secrets holds the password and nkey seed once read from their
	// sources; never decoded from serve.yml or the environment.
	Secrets Secrets `yaml:"-"`
	// Replicas of the streams and the bucket (a clustered NATS: 3).
	Replicas int `yaml:"replicas"`
	// AckWait is how long a delivery may go without an acknowledgement or
	// a progress signal before it is redelivered.
	AckWait time.Duration `yaml:"ack_wait"`
	// DeliveryTimeout bounds one attempt at a delivery: when it runs out
	// the work is cancelled and the attempt counts as failed (retried with
	// backoff, dead-lettered after max_attempts), so no delivery holds a
	// worker forever. While it runs, progress signals keep ack_wait from
	// handing the delivery to another worker.
	DeliveryTimeout time.Duration `yaml:"delivery_timeout"`
	// MaxAttempts is how many times a delivery is tried before it goes to
	// the dead-letter stream.
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is the wait before each retry (the last one repeats).
	Backoff []time.Duration `yaml:"backoff"`
	// DedupWindow is how long a delivery id is remembered by the stream.
	DedupWindow time.Duration `yaml:"dedup_window"`
	// ClaimLease is how long an idempotency claim may go unrenewed before
	// another process takes it over.
	ClaimLease time.Duration `yaml:"claim_lease"`
	// StateTTL is how long idempotency records are kept.
	StateTTL time.Duration `yaml:"state_ttl"`
}

// DefaultConfig is the queue's defaults (serve.yml's queue section).
func DefaultConfig() Config {
	return Config{
		Replicas:        1,
		AckWait:         30 * time.Second,
		DeliveryTimeout: 10 * time.Minute,
		MaxAttempts:     5,
		Backoff:         []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute},
		DedupWindow:     24 * time.Hour,
		ClaimLease:      DefaultClaimLease,
		StateTTL:        30 * 24 * time.Hour,
	}
}

// Names of what pushvault keeps in JetStream.
const (
	WebhookStream    = "PUSHVAULT_WEBHOOKS"     // accepted deliveries, work-queue retention
	WebhookSubject   = "pushvault.webhooks"     // + "." + event
	DeadLetterStream = "PUSHVAULT_DEAD_LETTERS" // what kept failing
	DeadLetterSubj   = "pushvault.deadletters"  // + "." + event
	WorkerConsumer   = "pushvault-workers"      // the durable pull consumer all replicas share
	StateBucket      = "pushvault_state"        // KV: idempotency records (Once)
)

// Message headers pushvault sets (besides Nats-Msg-Id).
const (
	hdrEvent        = "Pushvault-Event"
	hdrDelivery     = "Pushvault-Delivery"
	hdrAction       = "Pushvault-Action"
	hdrInstallation = "Pushvault-Installation"
	hdrRepo         = "Pushvault-Repo"
	hdrSHA          = "Pushvault-Sha"
	hdrDeadReason   = "Pushvault-Dead-Reason"
	hdrDeadAttempts = "Pushvault-Dead-Attempts"
	hdrDeadSeq      = "Pushvault-Dead-Stream-Seq"
	hdrDeadAt       = "Pushvault-Dead-At"
	hdrReducedFrom  = "Pushvault-Reduced-From" // the size GitHub sent of a delivery queued reduced
)

// Queue is the JetStream side of `pushvault serve`: the connection (to the
// embedded server or to queue.url), the webhook stream with its durable
// consumer, the dead-letter stream and the state bucket. Safe for
// concurrent use.
type Queue struct {
	cfg    Config
	srv    *server.Server // the embedded server; nil with queue.url
	lock   *os.File       // holds the embedded store directory
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream // the webhook stream
	cons   jetstream.Consumer
	// backfillCons is the backfill stream's consumer, backfills its bucket.
	backfillCons jetstream.Consumer
	backfills    *Backfills
	claims       *Claims
	limits       jetstream.KeyValue // LimitsBucket
}

var _ githubapp.Enqueuer = (*Queue)(nil)

// Open starts the embedded NATS server with file storage under
// dataDir/nats (unless cfg.URL names an external server), connects, and
// creates or updates the streams, the consumer, the state bucket and the
// limits bucket. It is
// idempotent: every replica runs it at start-up. Close releases it all.
func Open(ctx context.Context, log *slog.Logger, cfg Config, dataDir string) (*Queue, error) {
	q := &Queue{cfg: cfg}
	nc, srv, lock, err := connect(log, cfg, dataDir)
	if err != nil {
		return nil, err
	}
	q.nc, q.srv, q.lock = nc, srv, lock
	if q.js, err = jetstream.New(nc); err != nil {
		q.Close()
		return nil, fmt.Errorf("queue: %w", err)
	}
	if err := q.setUp(ctx); err != nil {
		q.Close()
		return nil, fmt.Errorf("queue (%s): %w", q.Where(), err)
	}
	return q, nil
}

// connect connects to cfg.URL, or starts the embedded server under
// dataDir/nats and connects to it in process.
func connect(log *slog.Logger, cfg Config, dataDir string) (*nats.Conn, *server.Server, *os.File, error) {
	auth, err := cfg.clientOptions()
	if err != nil {
		return nil, nil, nil, err
	}
	opts := append([]nats.Option{nats.Name("pushvault"), nats.MaxReconnects(-1)}, auth...)
	var srv *server.Server
	var lock *os.File
	if cfg.URL == "" {
		if srv, lock, err = startEmbedded(log, cfg, filepath.Join(dataDir, "nats")); err != nil {
			return nil, nil, nil, err
		}
		opts = append(opts, nats.InProcessServer(srv))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		if srv != nil {
			srv.Shutdown()
			lock.Close()
		}
		where := "the embedded NATS server"
		if cfg.URL != "" {
			where = RedactURL(cfg.URL)
		}
		return nil, nil, nil, fmt.Errorf("queue: connect to %s: %w", where, err)
	}
	return nc, srv, lock, nil
}

// connectJetStream is connect for readers: it returns a JetStream context
// and a function that closes it all.
func ConnectJetStream(ctx context.Context, log *slog.Logger, cfg Config, dataDir string) (jetstream.JetStream, func(), error) {
	nc, srv, lock, err := connect(log, cfg, dataDir)
	if err != nil {
		return nil, nil, err
	}
	q := &Queue{nc: nc, srv: srv, lock: lock}
	js, err := jetstream.New(nc)
	if err != nil {
		q.Close()
		return nil, nil, err
	}
	return js, q.Close, nil
}

// ClientURL is where other replicas reach the embedded server
// (queue.listen, its port chosen when it was 0); empty when it listens on
// no port or the queue is queue.url.
func (q *Queue) ClientURL() string {
	if q.srv == nil || q.cfg.Listen == "" {
		return ""
	}
	return q.srv.ClientURL()
}

// Where names the queue for logs and errors, without credentials.
func (q *Queue) Where() string {
	if q.cfg.URL == "" {
		return "embedded NATS server"
	}
	return "NATS at " + RedactURL(q.cfg.URL)
}

// redactURL drops a password from a NATS URL before it is printed.
func RedactURL(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "***@" + s[i+1:]
		}
	}
	return s
}

func startEmbedded(log *slog.Logger, cfg Config, dir string) (*server.Server, *os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("queue: %w", err)
	}
	// Two servers on one store directory would corrupt it: hold a lock for
	// the life of the process.
	lock, err := os.OpenFile(filepath.Join(dir, "pushvault.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("queue: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, nil, fmt.Errorf("queue: %s is in use by another process (another pushvault serve? give the second one queue.url instead): %w", dir, err)
	}
	o := &server.Options{
		ServerName: "pushvault",
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		NoLog:      true,
		DontListen: cfg.Listen == "",
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			lock.Close()
			return nil, nil, fmt.Errorf("queue.listen %q: %w", cfg.Listen, err)
		}
		o.Host = host
		if o.Port, err = strconv.Atoi(port); err != nil {
			lock.Close()
			return nil, nil, fmt.Errorf("queue.listen %q: bad port", cfg.Listen)
		}
		if o.Port == 0 {
			o.Port = server.RANDOM_PORT // as net.Listen reads port 0; NATS would take 4222
		}
	}
	if err := cfg.secureServer(o); err != nil {
		lock.Close()
		return nil, nil, err
	}
	srv, err := server.NewServer(o)
	if err != nil {
		lock.Close()
		return nil, nil, fmt.Errorf("queue: embedded NATS server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		lock.Close()
		return nil, nil, errors.New("queue: the embedded NATS server did not start within 30s")
	}
	listen := ""
	if cfg.Listen != "" {
		listen = srv.ClientURL()
	}
	log.Info("embedded NATS server started", slog.String("store_dir", dir), slog.String("listen", listen),
		slog.Bool("auth", cfg.HasAuth()), slog.Bool("tls", cfg.TLS.Enabled()))
	return srv, lock, nil
}

func (q *Queue) setUp(ctx context.Context) error {
	replicas := max(q.cfg.Replicas, 1)
	stream, err := q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        WebhookStream,
		Description: "pushvault: accepted GitHub webhook deliveries",
		Subjects:    []string{WebhookSubject + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Duplicates:  q.cfg.DedupWindow,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", WebhookStream, err)
	}
	q.stream = stream
	if _, err := q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DeadLetterStream,
		Description: "pushvault: deliveries that kept failing, with the reason",
		Subjects:    []string{DeadLetterSubj + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Duplicates:  q.cfg.DedupWindow,
	}); err != nil {
		return fmt.Errorf("stream %s: %w", DeadLetterStream, err)
	}
	cons, err := q.js.CreateOrUpdateConsumer(ctx, WebhookStream, jetstream.ConsumerConfig{
		Durable:       WorkerConsumer,
		Description:   "pushvault serve workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		// One delivery more than the workers attempt: a worker that dies
		// during the last attempt leaves the message to be dead-lettered
		// by the next one instead of stranding it. Deferrals are
		// deliveries that are no attempts.
		MaxDeliver:    q.cfg.MaxAttempts + 1 + MaxDeferrals,
		FilterSubject: WebhookSubject + ".>",
		Replicas:      replicas,
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", WorkerConsumer, err)
	}
	q.cons = cons
	kv, err := q.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      StateBucket,
		Description: "pushvault: idempotency records (claims and results of side effects)",
		TTL:         q.cfg.StateTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return fmt.Errorf("state bucket %s: %w", StateBucket, err)
	}
	q.claims = NewClaims(kv, q.cfg.ClaimLease)
	if err := q.setUpBackfill(ctx, replicas); err != nil {
		return err
	}
	if q.limits, err = q.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      LimitsBucket,
		Description: "pushvault: request budgets shared by every replica (GitHub revocations)",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	}); err != nil {
		return fmt.Errorf("limits bucket %s: %w", LimitsBucket, err)
	}
	q.limits = boundKV(q.limits)
	return nil
}

// JetStream is the connection's JetStream context.
func (q *Queue) JetStream() jetstream.JetStream { return q.js }

// Claims is the claim store in the state bucket.
func (q *Queue) Claims() *Claims { return q.claims }

// publish stores ev in the webhook stream under message id msgID; the
// stream stores one message per id within its duplicate window
// (queue.dedup_window).
func (q *Queue) publish(ctx context.Context, ev githubapp.Event, msgID string) (*jetstream.PubAck, error) {
	msg := nats.NewMsg(WebhookSubject + "." + subjectToken(ev.Event))
	msg.Header.Set(hdrEvent, ev.Event)
	msg.Header.Set(hdrDelivery, ev.DeliveryID)
	if ev.Action != "" {
		msg.Header.Set(hdrAction, ev.Action)
	}
	if ev.InstallationID != 0 {
		msg.Header.Set(hdrInstallation, strconv.FormatInt(ev.InstallationID, 10))
	}
	if ev.Repo != "" {
		msg.Header.Set(hdrRepo, ev.Repo)
	}
	if ev.SHA != "" {
		msg.Header.Set(hdrSHA, ev.SHA)
	}
	msg.Data = ev.Payload
	if err := q.fit(msg, ev); err != nil {
		return nil, err
	}
	ack, err := q.js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(WebhookStream))
	if err != nil {
		return nil, fmt.Errorf("enqueue delivery %s: %w", ev.DeliveryID, err)
	}
	return ack, nil
}

// MaxMessage is the largest message, headers included, the NATS server
// takes (its max_payload: 1 MiB by default).
func (q *Queue) MaxMessage() int64 { return q.nc.MaxPayload() }

// fit makes msg fit the server's message limit: a delivery larger than
// that (GitHub sends up to 25 MB) is reduced to the fields pushvault's
// handlers read (githubapp.Slim), and the header hdrReducedFrom records
// its size as GitHub sent it. One that still does not fit is refused with
// the sizes, so the webhook answers 503 and GitHub's delivery shows it.
func (q *Queue) fit(msg *nats.Msg, ev githubapp.Event) error {
	limit := q.MaxMessage()
	if messageSize(msg) <= limit {
		return nil
	}
	slim, err := githubapp.Slim(ev)
	if err != nil {
		return fmt.Errorf("enqueue delivery %s: %d bytes, over the queue's %d-byte message limit: %w", ev.DeliveryID, len(ev.Payload), limit, err)
	}
	msg.Data = slim.Payload
	msg.Header.Set(hdrReducedFrom, strconv.Itoa(len(ev.Payload)))
	if size := messageSize(msg); size > limit {
		return fmt.Errorf("enqueue delivery %s: %d bytes even reduced to what pushvault reads, over the queue's %d-byte message limit", ev.DeliveryID, size, limit)
	}
	return nil
}

// messageSize is what the server counts against max_payload: the data and
// the encoded headers.
func messageSize(msg *nats.Msg) int64 {
	n := int64(len(msg.Data)) + int64(len("NATS/1.0\r\n\r\n"))
	for k, vs := range msg.Header {
		for _, v := range vs {
			n += int64(len(k) + len(v) + len(": \r\n"))
		}
	}
	return n
}

// subjectToken makes s safe as one subject token.
func subjectToken(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r <= ' ' || r > '~' {
			return '_'
		}
		return r
	}, s)
}

// eventOf decodes a queued message back into an Event.
func eventOf(msg jetstream.Msg) (githubapp.Event, error) {
	h := msg.Headers()
	ev := githubapp.Event{
		DeliveryID: h.Get(hdrDelivery),
		Event:      h.Get(hdrEvent),
		Action:     h.Get(hdrAction),
		Repo:       h.Get(hdrRepo),
		SHA:        h.Get(hdrSHA),
		Payload:    msg.Data(),
	}
	if ev.DeliveryID == "" || ev.Event == "" {
		return ev, errors.New("message lacks the delivery id or event headers")
	}
	if s := h.Get(hdrInstallation); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return ev, fmt.Errorf("bad %s header %q", hdrInstallation, s)
		}
		ev.InstallationID = id
	}
	return ev, nil
}

// Depth is what the queue holds: deliveries waiting for a worker, being
// worked on (delivered, not yet acknowledged), and dead letters.
type Depth struct {
	Pending, InFlight, DeadLetters uint64
}

// Depth asks the server for the consumer's and the dead-letter stream's state.
func (q *Queue) Depth(ctx context.Context) (Depth, error) {
	ci, err := q.cons.Info(ctx)
	if err != nil {
		return Depth{}, fmt.Errorf("consumer %s: %w", WorkerConsumer, err)
	}
	dl, err := q.js.Stream(ctx, DeadLetterStream)
	if err != nil {
		return Depth{}, fmt.Errorf("stream %s: %w", DeadLetterStream, err)
	}
	si, err := dl.Info(ctx)
	if err != nil {
		return Depth{}, fmt.Errorf("stream %s: %w", DeadLetterStream, err)
	}
	return Depth{Pending: ci.NumPending, InFlight: uint64(ci.NumAckPending), DeadLetters: si.State.Msgs}, nil
}

// Ready reports whether the queue answers: the connection is up and the
// consumer can be read.
func (q *Queue) Ready(ctx context.Context) error {
	if st := q.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("%s: connection %s", q.Where(), strings.ToLower(st.String()))
	}
	if _, err := q.cons.Info(ctx); err != nil {
		return fmt.Errorf("%s: %w", q.Where(), err)
	}
	return nil
}

// Close drains the connection and stops the embedded server, if any.
func (q *Queue) Close() {
	if q.nc != nil {
		q.nc.Close()
	}
	if q.srv != nil {
		q.srv.Shutdown()
		q.srv.WaitForShutdown()
	}
	if q.lock != nil {
		q.lock.Close()
	}
}
