package githubapp

import (
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
	OutcomeAccepted     = "accepted"      // 202, enqueued
	OutcomeDuplicate    = "duplicate"     // 202, already queued or finished (redelivery)
	OutcomeIgnored      = "ignored"       // 202, an event nothing handles
	OutcomeBadSignature = "bad_signature" // 401
	OutcomeMalformed    = "malformed"     // 400
	OutcomeTooLarge     = "too_large"     // 413
	OutcomeQueueError   = "queue_error"   // 503, the queue refused it: GitHub may redeliver
)

// DefaultMaxBody is GitHub's own cap on webhook payloads (25 MB).
const DefaultMaxBody = 25 << 20

// WebhookHandler is the POST /webhook endpoint. It answers:
//
//   - 413 when the body is longer than MaxBody;
//   - 401 when X-Hub-Signature-256 is missing or is not the HMAC-SHA256
//     of the body under Secret (compared in constant time);
//   - 400 when X-GitHub-Event or X-GitHub-Delivery is missing or the body
//     is not a JSON object, nor a form whose payload field is one (an
//     App's webhook may be set to application/x-www-form-urlencoded);
//   - 202 without enqueuing for events not in Events, and for check_run
//     and check_suite events of another app than AppID;
//   - 202 once the event is enqueued (or found queued or finished: a
//     redelivery of a dead-lettered delivery is enqueued again);
//   - 503 when the queue refuses it, so that GitHub's delivery shows a
//     failure and can be redelivered.
//
// It does nothing else: no GitHub, Vault or git calls.
type WebhookHandler struct {
	Secret []byte
	Events map[string]bool // the events something processes
	// AppID is the GitHub App's id: check runs and suites of other apps
	// (GitHub sends an App every check run and suite of the repositories
	// it watches) are not queued. 0 queues them all.
	AppID    int64
	Queue    Enqueuer
	Log      *slog.Logger
	Observer WebhookObserver // may be nil
	MaxBody  int64           // DefaultMaxBody when 0
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

func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	delivery := r.Header.Get("X-GitHub-Delivery")
	event := r.Header.Get("X-GitHub-Event")
	log := h.Log.With(slog.String("delivery_id", delivery), slog.String("event", event))
	max := h.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.Warn("webhook refused: body over the limit", slog.Int64("limit_bytes", max))
			h.observe(event, OutcomeTooLarge)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		log.Warn("webhook refused: reading the body failed", slog.Any("error", err))
		h.observe(event, OutcomeMalformed)
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	if !validSignature(h.Secret, r.Header.Get("X-Hub-Signature-256"), body) {
		log.Warn("webhook refused: bad or missing X-Hub-Signature-256")
		h.observe(event, OutcomeBadSignature)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if event == "" || delivery == "" {
		log.Warn("webhook refused: X-GitHub-Event or X-GitHub-Delivery missing")
		h.observe(event, OutcomeMalformed)
		http.Error(w, "X-GitHub-Event and X-GitHub-Delivery are required", http.StatusBadRequest)
		return
	}
	ev, env, err := parseEvent(delivery, event, r.Header.Get("Content-Type"), body)
	if err != nil {
		log.Warn("webhook refused: body is not a JSON object", slog.Any("error", err))
		h.observe(event, OutcomeMalformed)
		http.Error(w, "body is not a JSON object", http.StatusBadRequest)
		return
	}
	log = log.With(ev.LogAttrs()[2:]...)
	if ignore := h.ignored(event, env); ignore != "" {
		log.Info("webhook ignored: " + ignore)
		h.observe(event, OutcomeIgnored)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	dup, err := h.Queue.Enqueue(r.Context(), ev)
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
	return ""
}

// jsonPayload is the JSON document of a delivery's body: the body itself,
// or its payload field when the webhook is form-encoded.
func jsonPayload(contentType string, body []byte) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/x-www-form-urlencoded" {
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

// validSignature reports whether header is "sha256=" followed by the hex
// HMAC-SHA256 of body under secret. An empty secret never validates.
func validSignature(secret []byte, header string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(secret) == 0 {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for body under
// secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
