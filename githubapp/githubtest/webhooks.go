package githubtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Delivery is one webhook delivery attempt, as GitHub's delivery log
// shows it.
type Delivery struct {
	ID         string // X-GitHub-Delivery; a redelivery keeps the original's
	Event      string // X-GitHub-Event
	Action     string // the payload's action, "" for push
	Payload    []byte
	Redelivery bool
	// Dropped means a fault swallowed it: nothing was sent.
	Dropped bool
	// StatusCode is the receiver's answer, 0 when nothing was answered.
	StatusCode int
	// Err says why the delivery failed: no webhook URL, an invalid
	// payload, a transport error.
	Err string
	At  time.Time
}

// SetWebhookURL sets where webhooks go ("" stops deliveries; they are
// still recorded).
func (s *Server) SetWebhookURL(u string) {
	s.mu.Lock()
	s.webhookURL = u
	s.mu.Unlock()
}

// Deliveries returns copies of every delivery so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = *d
		out[i].Payload = slices.Clone(d.Payload)
	}
	return out
}

// DropDeliveries makes the next n webhook deliveries be recorded as
// dropped and not sent.
func (s *Server) DropDeliveries(n int) {
	s.mu.Lock()
	s.dropNext += n
	s.mu.Unlock()
}

// Redeliver sends a past delivery again with the same payload and
// X-GitHub-Delivery, as GitHub's "Redeliver" button does.
func (s *Server) Redeliver(id string) (Delivery, error) {
	orig, err := s.delivery(id)
	if err != nil {
		return Delivery{}, fmt.Errorf("redeliver %s: %w", id, err)
	}
	d := &Delivery{ID: orig.ID, Event: orig.Event, Action: orig.Action, Payload: orig.Payload, Redelivery: true}
	s.send(d)
	return *d, nil
}

// Replay sends a past delivery's payload again under a fresh
// X-GitHub-Delivery, correctly signed: what someone who captured a signed
// delivery can do, since the signature covers the body alone. GitHub never
// does this; the receiver must recognise the request by what it means.
func (s *Server) Replay(id string) (Delivery, error) {
	orig, err := s.delivery(id)
	if err != nil {
		return Delivery{}, fmt.Errorf("replay %s: %w", id, err)
	}
	d := &Delivery{ID: newDeliveryID(), Event: orig.Event, Action: orig.Action, Payload: orig.Payload}
	s.send(d)
	return *d, nil
}

// delivery is the first delivery with id (ErrNotFound when none).
func (s *Server) delivery(id string) (*Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deliveries {
		if d.ID == id {
			return d, nil
		}
	}
	return nil, ErrNotFound
}

func newDeliveryID() string {
	h := randHex(16)
	b := []byte(h)
	b[12] = '4' // version 4
	b[16] = "89ab"[int(b[16])%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}

// deliver validates payload against GitHub's webhook description, then
// signs and sends it. A payload that breaks the contract is reported as a
// violation and not sent.
func (s *Server) deliver(event string, payload obj) *Delivery {
	body, err := json.Marshal(payload)
	d := &Delivery{ID: newDeliveryID(), Event: event, Payload: body}
	if a, ok := payload["action"].(string); ok {
		d.Action = a
	}
	if err == nil {
		if verr := s.hooks.ValidateDelivery(s.deliveryHeaders(d), body); verr != nil {
			s.violation(verr)
			err = verr
		}
	}
	if err != nil {
		d.Err = "invalid payload: " + err.Error()
		d.At = s.now()
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
		return d
	}
	s.send(d)
	return d
}

// send records d and, unless dropped or without a URL, POSTs it.
func (s *Server) send(d *Delivery) {
	s.mu.Lock()
	d.At = s.now()
	url := s.webhookURL
	if s.dropNext > 0 {
		s.dropNext--
		d.Dropped = true
	}
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	if d.Dropped {
		return
	}
	if url == "" {
		s.setDelivery(d, 0, "no webhook URL")
		return
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.Payload))
	if err != nil {
		s.setDelivery(d, 0, err.Error())
		return
	}
	req.Header = s.deliveryHeaders(d)
	resp, err := s.client.Do(req)
	if err != nil {
		s.setDelivery(d, 0, err.Error())
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	msg := ""
	if resp.StatusCode/100 != 2 {
		msg = "receiver answered " + resp.Status
	}
	s.setDelivery(d, resp.StatusCode, msg)
}

// deliveryHeaders are the headers GitHub sends with d, signed with the
// App's webhook secret.
func (s *Server) deliveryHeaders(d *Delivery) http.Header {
	mac := hmac.New(sha256.New, []byte(s.app.WebhookSecret))
	mac.Write(d.Payload)
	mac1 := hmac.New(sha1.New, []byte(s.app.WebhookSecret))
	mac1.Write(d.Payload)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/stand-in")
	h.Set("X-GitHub-Event", d.Event)
	h.Set("X-GitHub-Delivery", d.ID)
	h.Set("X-GitHub-Hook-ID", "1")
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(s.app.ID, 10))
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac1.Sum(nil)))
	return h
}

func (s *Server) setDelivery(d *Delivery, code int, msg string) {
	s.mu.Lock()
	d.StatusCode, d.Err = code, msg
	s.mu.Unlock()
}
