package queue_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/tlstest"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// credentials is one way for queue.listen to authenticate clients: the
// configuration that sets it up, and a client option with the right
// identity and one with a wrong one.
type credentials struct {
	name         string
	configure    func(*queue.Config)
	right, wrong nats.Option
}

func passwordCredentials(t *testing.T) credentials {
	gen := secrettest.Fresh(t)
	password := gen.Alnum(32)
	return credentials{
		name: "user and password",
		configure: func(c *queue.Config) {
			c.User, c.PasswordFile, c.Secrets.Password = "pushvault", "/run/secrets/nats-password", password
		},
		right: nats.UserInfo("pushvault", password),
		wrong: nats.UserInfo("pushvault", gen.Alnum(32)),
	}
}

func nkeyCredentials(t *testing.T) credentials {
	user, other := newUserKey(t), newUserKey(t)
	seed, err := user.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return credentials{
		name: "nkey",
		configure: func(c *queue.Config) {
			c.NkeySeedVault, c.Secrets.NkeySeed = "vault:secret/data/pushvault/nats#seed", seed
		},
		right: nkeyOption(t, user),
		wrong: nkeyOption(t, other),
	}
}

func newUserKey(t *testing.T) nkeys.KeyPair {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func nkeyOption(t *testing.T, kp nkeys.KeyPair) nats.Option {
	t.Helper()
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return nats.Nkey(pub, kp.Sign)
}

// With queue.listen, credentials and TLS, a client without the
// credentials (or with wrong ones, or without TLS) can neither queue a
// push, nor write the state bucket, nor delete the evidence stream; a
// second replica with the credentials and the CA can, over TLS.
func TestQueueListenRefusesUnauthenticatedClients(t *testing.T) {
	certs := tlstest.New(t)
	for _, creds := range []credentials{passwordCredentials(t), nkeyCredentials(t)} {
		t.Run(creds.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := queuetest.Config()
			cfg.Listen = "127.0.0.1:0"
			cfg.TLS = queue.TLSConfig{CertFile: certs.ServerCert, KeyFile: certs.ServerKey}
			creds.configure(&cfg)
			first := queuetest.Open(t, cfg)
			if _, err := evidence.CreateJetStream(ctx, first.JetStream(), 1); err != nil {
				t.Fatal(err)
			}
			url := first.ClientURL()
			if !strings.HasPrefix(url, "tls://127.0.0.1:") {
				t.Fatalf("client URL %q, want tls://127.0.0.1:PORT", url)
			}

			for name, opts := range map[string][]nats.Option{
				"no credentials":    {nats.RootCAs(certs.CA)},
				"wrong credentials": {nats.RootCAs(certs.CA), creds.wrong},
			} {
				if err := attack(ctx, url, opts...); !errors.Is(err, nats.ErrAuthorization) {
					t.Errorf("%s: %v, want an authorization violation", name, err)
				}
			}
			assertPlaintextRefused(t, url)
			assertUntouched(t, ctx, first.JetStream())

			second := cfg
			second.Listen, second.URL = "", url
			second.TLS = queue.TLSConfig{CAFile: certs.CA}
			replica := queuetest.Open(t, second)
			ev := githubapp.Event{DeliveryID: "d-1", Event: "push", Payload: []byte(`{}`)}
			if _, err := replica.Enqueue(ctx, ev); err != nil {
				t.Fatalf("the replica with the credentials cannot enqueue: %v", err)
			}
			if n := streamMessages(t, ctx, first.JetStream()); n != 1 {
				t.Errorf("the first replica's webhook stream holds %d messages, want the replica's delivery", n)
			}
			nc, err := nats.Connect(url, nats.RootCAs(certs.CA), creds.right)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if st, err := nc.TLSConnectionState(); err != nil || !st.HandshakeComplete {
				t.Errorf("the connection is not TLS: %v", err)
			}
		})
	}
}

// attack connects to url and tries what an attacker with the queue's
// address would: queue a push that skips the webhook signature, rewrite an
// idempotency record, delete the evidence stream. It returns the first
// refusal.
func attack(ctx context.Context, url string, opts ...nats.Option) error {
	nc, err := nats.Connect(url, append(opts, nats.Timeout(5*time.Second))...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, queue.WebhookSubject+".push", []byte(`{"repository":{"clone_url":"https://evil.test/x.git"}}`)); err != nil {
		return err
	}
	kv, err := js.KeyValue(ctx, queue.StateBucket)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, "delivery.forged", []byte("done")); err != nil {
		return err
	}
	return js.DeleteStream(ctx, evidence.StreamName)
}

// assertPlaintextRefused speaks the NATS protocol without TLS: the server
// must announce that TLS is required and answer no PING sent in clear.
func assertPlaintextRefused(t *testing.T, url string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "tls://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	info, err := r.ReadString('\n')
	if err != nil || !strings.Contains(info, `"tls_required":true`) {
		t.Errorf("INFO %q (%v), want tls_required", info, err)
	}
	if _, err := conn.Write([]byte("CONNECT {\"verbose\":false}\r\nPING\r\n")); err != nil {
		return // closed already: refused
	}
	if line, err := r.ReadString('\n'); err == nil && strings.HasPrefix(line, "PONG") {
		t.Errorf("a plaintext client got %q", line)
	}
}

// assertUntouched checks that nothing was queued, no state written and
// the evidence stream still exists.
func assertUntouched(t *testing.T, ctx context.Context, js jetstream.JetStream) {
	t.Helper()
	if n := streamMessages(t, ctx, js); n != 0 {
		t.Errorf("webhook stream: %d messages, want none", n)
	}
	kv, err := js.KeyValue(ctx, queue.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "delivery.forged"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("state bucket: the forged record is there (%v)", err)
	}
	if _, err := js.Stream(ctx, evidence.StreamName); err != nil {
		t.Errorf("evidence stream: %v", err)
	}
}

// streamMessages is how many messages the webhook stream holds.
func streamMessages(t *testing.T, ctx context.Context, js jetstream.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(ctx, queue.WebhookStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}
