package githubapp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Enqueuer takes accepted events for the workers. Enqueue must be durable
// when it returns nil, and must run each DeliveryID to the end once: it
// reports duplicate (and stores nothing) when that delivery is queued or
// finished, and queues it again when it was given up on (dead-lettered)
// or lost, so that GitHub's "Redeliver" cures a dead letter.
type Enqueuer interface {
	Enqueue(ctx context.Context, ev Event) (duplicate bool, err error)
}

// WebhookObserver counts webhook outcomes (metrics). event is one of the
// handler's Events, or "other" for any other name (the header is the
// sender's to choose: it must not mint new label values).
type WebhookObserver interface {
	Webhook(event, outcome string)
}

// Webhook outcomes, as WebhookObserver receives them.
const (
	OutcomeAccepted       = "accepted"         // 202, enqueued
	OutcomeDuplicate      = "duplicate"        // 202, already queued or finished (redelivery)
	OutcomeIgnored        = "ignored"          // 202, an event nothing handles
	OutcomeBadSignature   = "bad_signature"    // 401
	OutcomeMalformed      = "malformed"        // 400
	OutcomeBadContentType = "bad_content_type" // 415
	OutcomeTooLarge       = "too_large"        // 413
	OutcomeBusy           = "busy"             // 503 with Retry-After, MaxConcurrent bodies being read for all of SlotWait
	OutcomeQueueError     = "queue_error"      // 503, the queue refused it: GitHub may redeliver
)

// DefaultMaxBody is the default body limit: GitHub caps webhook payloads at
// "25 MB" and this is 25 MiB (26,214,400 bytes), which holds 25 MB under
// either reading of the unit.
const DefaultMaxBody = 25 << 20

// DefaultMaxConcurrent is how many bodies WebhookHandler reads at once when
// its MaxConcurrent is 0.
const DefaultMaxConcurrent = 16

// DefaultSlotWait is how long a delivery waits for a reading slot when its
// handler's SlotWait is 0: half GitHub's 10 s, so that a burst of
// deliveries (GitHub sends them at once and does not retry a 503 on its
// own) is read a few at a time rather than refused, and a delivery still
// refused is refused before GitHub gives up on it.
const DefaultSlotWait = 5 * time.Second

// busyRetryAfter is the Retry-After (seconds) of a 503 for a full handler.
const busyRetryAfter = "1"

// WebhookHandler is the POST /webhook endpoint. Before reading the body it
// answers:
//
//   - 401 when X-Hub-Signature-256 is missing or is not "sha256=" and 64
//     hex digits;
//   - 400 when X-GitHub-Event or X-GitHub-Delivery is missing;
//   - 415 when Content-Type is neither application/json nor
//     application/x-www-form-urlencoded (an App's webhook may be set to
//     either; a request without one is read as JSON);
//   - 413 when Content-Length is over MaxBody;
//   - 202 without reading or enqueuing for events not in Events;
//   - 503 with Retry-After when MaxConcurrent bodies are being read and
//     none is done within SlotWait.
//
// A refused body is never read (the connection is closed instead), so an
// unsigned request costs no more than its headers. The body is read once,
// through the HMAC as it arrives; then it answers:
//
//   - 413 when the body turns out longer than MaxBody;
//   - 401 when the signature is not the HMAC-SHA256 of the body under
//     Secret (compared in constant time);
//   - 400 when the body is not a JSON object, nor a form whose payload
//     field is one;
//   - 202 without enqueuing for check_run and check_suite events of
//     another app than AppID, and for actions Acts says nothing acts on
//     (GitHub sends the App its own check runs' created and completed,
//     its pull requests' opened: queueing them cost as much as the push),
//     and for events Ignore says need not be (a push of the App's own fix
//     commit, a ref deletion);
//   - 202 once the event is enqueued (or found queued or finished: a
//     redelivery of a dead-lettered delivery is enqueued again);
//   - 503 when the queue refuses it, so that GitHub's delivery shows a
//     failure and can be redelivered.
//
// It does nothing else: no GitHub, Vault or git calls (Ignore may read the
// queue's state). Its memory for
// bodies is bounded by MaxConcurrent x MaxBody. It is safe for concurrent
// use; its fields must not change once it serves.
type WebhookHandler struct {
	Secret []byte
	Events map[string]bool // the events something processes
	// AppID is the GitHub App's id: check runs and suites of other apps
	// (GitHub sends an App every check run and suite of the repositories
	// it watches) are not queued. 0 queues them all.
	AppID int64
	// Acts says whether anything acts on an event's action (the payload's
	// "action"; "" for events without one); nil: on every action of
	// Events. An action nothing acts on is answered 202 and not queued.
	Acts func(event, action string) bool
	// Ignore, when set, says why an event Acts passes need not be queued
	// after all ("" when it must be): it may read the workers' state, and
	// must answer quickly and say "" when it cannot tell.
	Ignore   func(ctx context.Context, ev Event) string
	Queue    Enqueuer
	Log      *slog.Logger
	Observer WebhookObserver // may be nil
	MaxBody  int64           // DefaultMaxBody when 0
	// MaxConcurrent is how many bodies are read at once
	// (DefaultMaxConcurrent when 0).
	MaxConcurrent int
	// SlotWait is how long a delivery waits for one of the MaxConcurrent
	// places (DefaultSlotWait when 0).
	SlotWait time.Duration

	slotsOnce sync.Once
	slots     chan struct{}
}

// refusal is an answer given without enqueuing: its status, metric
// outcome, log message and reply text.
type refusal struct {
	status  int
	outcome string
	why     string
	reply   string
}

func (h *WebhookHandler) observe(event, outcome string) {
	if h.Observer == nil {
		return
	}
	if !h.Events[event] {
		event = "other"
	}
	h.Observer.Webhook(event, outcome)
}

func (h *WebhookHandler) maxBody() int64 {
	if h.MaxBody <= 0 {
		return DefaultMaxBody
	}
	return h.MaxBody
}

// acquire takes one of MaxConcurrent reading slots, waiting up to
// SlotWait (or until the request ends); release gives it back.
func (h *WebhookHandler) acquire(ctx context.Context) bool {
	h.slotsOnce.Do(func() {
		n := h.MaxConcurrent
		if n <= 0 {
			n = DefaultMaxConcurrent
		}
		h.slots = make(chan struct{}, n)
	})
	select {
	case h.slots <- struct{}{}:
		return true
	default:
	}
	wait := h.SlotWait
	if wait <= 0 {
		wait = DefaultSlotWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (h *WebhookHandler) release() { <-h.slots }

func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	delivery := r.Header.Get("X-GitHub-Delivery")
	event := r.Header.Get("X-GitHub-Event")
	log := h.Log.With(slog.String("delivery_id", delivery), slog.String("event", event))
	sig, no := h.precheck(r, event, delivery)
	if no != nil {
		// Not reading the body: close the connection rather than let the
		// server drain it.
		w.Header().Set("Connection", "close")
		h.refuse(w, log, event, *no)
		return
	}
	if !h.Events[event] {
		w.Header().Set("Connection", "close")
		log.Info("webhook ignored: no handler for this event")
		h.observe(event, OutcomeIgnored)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if !h.acquire(r.Context()) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", busyRetryAfter)
		h.refuse(w, log, event, refusal{http.StatusServiceUnavailable, OutcomeBusy,
			"webhook refused: too many deliveries being read at once", "busy, retry"})
		return
	}
	defer h.release()
	body, no := h.readSigned(w, r, sig)
	if no != nil {
		h.refuse(w, log, event, *no)
		return
	}
	h.enqueue(r.Context(), w, log, delivery, event, r.Header.Get("Content-Type"), body)
}

// precheck refuses what the headers alone condemn, and returns the
// signature the body must have.
func (h *WebhookHandler) precheck(r *http.Request, event, delivery string) ([]byte, *refusal) {
	sig, ok := parseSignature(r.Header.Get("X-Hub-Signature-256"))
	if !ok || len(h.Secret) == 0 {
		return nil, &refusal{http.StatusUnauthorized, OutcomeBadSignature, "webhook refused: bad or missing X-Hub-Signature-256", "bad signature"}
	}
	if event == "" || delivery == "" {
		return nil, &refusal{http.StatusBadRequest, OutcomeMalformed, "webhook refused: X-GitHub-Event or X-GitHub-Delivery missing",
			"X-GitHub-Event and X-GitHub-Delivery are required"}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && mt != formType) {
			return nil, &refusal{http.StatusUnsupportedMediaType, OutcomeBadContentType, "webhook refused: Content-Type is not JSON or a form",
				"Content-Type must be application/json or application/x-www-form-urlencoded"}
		}
	}
	if r.ContentLength > h.maxBody() {
		return nil, tooLarge
	}
	return sig, nil
}

var tooLarge = &refusal{http.StatusRequestEntityTooLarge, OutcomeTooLarge, "webhook refused: body over the limit", "body too large"}

// readSigned reads the body once, through the HMAC as it arrives, into one
// buffer sized from Content-Length, and checks it against sig.
func (h *WebhookHandler) readSigned(w http.ResponseWriter, r *http.Request, sig []byte) ([]byte, *refusal) {
	mac := hmac.New(sha256.New, h.Secret)
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// MinRead spare: ReadFrom then meets EOF without growing the buffer.
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.TeeReader(http.MaxBytesReader(w, r.Body, h.maxBody()), mac)); err != nil {
		var over *http.MaxBytesError
		if errors.As(err, &over) {
			return nil, tooLarge
		}
		return nil, &refusal{http.StatusBadRequest, OutcomeMalformed, "webhook refused: reading the body failed: " + err.Error(), "could not read the body"}
	}
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, &refusal{http.StatusUnauthorized, OutcomeBadSignature, "webhook refused: X-Hub-Signature-256 is not the body's", "bad signature"}
	}
	return buf.Bytes(), nil
}

// refuse logs, counts and answers a refusal.
func (h *WebhookHandler) refuse(w http.ResponseWriter, log *slog.Logger, event string, no refusal) {
	attrs := []any{}
	if no.outcome == OutcomeTooLarge {
		attrs = append(attrs, slog.Int64("limit_bytes", h.maxBody()))
	}
	log.Warn(no.why, attrs...)
	h.observe(event, no.outcome)
	http.Error(w, no.reply, no.status)
}

// enqueue parses a verified body and queues the event it holds.
func (h *WebhookHandler) enqueue(ctx context.Context, w http.ResponseWriter, log *slog.Logger, delivery, event, contentType string, body []byte) {
	ev, env, err := parseEvent(delivery, event, contentType, body)
	if err != nil {
		log.Warn("webhook refused: body is not a JSON object", slog.Any("error", err))
		h.observe(event, OutcomeMalformed)
		http.Error(w, "body is not a JSON object", http.StatusBadRequest)
		return
	}
	log = log.With(ev.LogAttrs()[2:]...)
	ignore := h.ignored(event, env)
	if ignore == "" && h.Ignore != nil {
		ignore = h.Ignore(ctx, ev)
	}
	if ignore != "" {
		log.Info("webhook ignored: " + ignore)
		h.observe(event, OutcomeIgnored)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	dup, err := h.Queue.Enqueue(ctx, ev)
	if err != nil {
		log.Error("webhook not enqueued", slog.Any("error", err))
		h.observe(event, OutcomeQueueError)
		http.Error(w, "queue unavailable", http.StatusServiceUnavailable)
		return
	}
	outcome := OutcomeAccepted
	if dup {
		outcome = OutcomeDuplicate
	}
	log.Info("webhook enqueued", slog.Bool("duplicate", dup))
	h.observe(event, outcome)
	w.WriteHeader(http.StatusAccepted)
}

// ignored says why a delivery is not queued ("" when it is).
func (h *WebhookHandler) ignored(event string, env *envelope) string {
	if !h.Events[event] {
		return "no handler for this event"
	}
	if app := env.checkApp(); h.AppID != 0 && app != 0 && app != h.AppID {
		return "another app's check"
	}
	if h.Acts != nil && !h.Acts(event, env.Action) {
		return "nothing acts on its action"
	}
	return ""
}

// jsonPayload is the JSON document of a delivery's body: the body itself,
// or its payload field when the webhook is form-encoded.
func jsonPayload(contentType string, body []byte) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != formType {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("form-encoded body: %w", err)
	}
	if len(form["payload"]) != 1 {
		return nil, errors.New("form-encoded body without exactly one payload field")
	}
	return []byte(form.Get("payload")), nil
}

// formType is the media type of a form-encoded delivery.
const formType = "application/x-www-form-urlencoded"

// parseSignature decodes an X-Hub-Signature-256 value: "sha256=" followed
// by the 64 hex digits of an HMAC-SHA256.
func parseSignature(header string) ([]byte, bool) {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return nil, false
	}
	sig, err := hex.DecodeString(hexSig)
	return sig, err == nil
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for body under
// secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
