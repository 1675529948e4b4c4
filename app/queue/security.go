package queue

import (
	"errors"
	"fmt"
	"net"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// TLSConfig is queue.tls. With queue.listen it is the embedded server's
// side: CertFile and KeyFile are the server's certificate, and CAFile,
// when set, makes the server require client certificates signed by it.
// With queue.url it is this client's side: CAFile is the CA that signed
// the servers' certificates (empty: the system's roots), and CertFile and
// KeyFile an optional client certificate.
type TLSConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	CAFile   string `yaml:"ca_file"`
}

// Enabled reports whether any TLS setting is given.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" || t.CAFile != "" }

// Secrets are the queue credentials' values, read from their configured
// sources (queue.password, queue.nkey_seed: the value, _file or _vault)
// by whoever resolves them (serve's New); serve.yml cannot set them
// directly. Empty fields: that method is not used.
type Secrets struct {
	Password string
	// NkeySeed is a user nkey seed (SU...), as `nk -gen user` prints it.
	NkeySeed []byte
}

// ErrNoCredentials is returned when a credential method is configured
// but its secret was not resolved into Config.Secrets.
var ErrNoCredentials = errors.New("queue: credentials configured but not read (Config.Secrets is empty)")

// usesPassword and usesNkey say which credential method the configuration
// names, whatever source its secret comes from.
func (c Config) usesPassword() bool {
	return c.User != "" || c.Password != "" || c.PasswordFile != "" || c.PasswordVault != ""
}

func (c Config) usesNkey() bool {
	return c.NkeySeed != "" || c.NkeySeedFile != "" || c.NkeySeedVault != ""
}

// HasAuth reports whether clients of the queue authenticate: user and
// password, an nkey, or (queue.url only) a credentials file.
func (c Config) HasAuth() bool { return c.usesPassword() || c.usesNkey() || c.CredsFile != "" }

// nkeyPair is the key pair of the resolved nkey seed.
func (c Config) nkeyPair() (nkeys.KeyPair, error) {
	if len(c.Secrets.NkeySeed) == 0 {
		return nil, ErrNoCredentials
	}
	kp, err := nkeys.FromSeed(c.Secrets.NkeySeed)
	if err != nil {
		// nkeys' errors name the problem, never the seed.
		return nil, fmt.Errorf("queue.nkey_seed: %w", err)
	}
	if pre, _, err := nkeys.DecodeSeed(c.Secrets.NkeySeed); err != nil || pre != nkeys.PrefixByteUser {
		return nil, errors.New("queue.nkey_seed: not a user nkey seed (want one starting SU, as `nk -gen user` prints)")
	}
	return kp, nil
}

// clientOptions is how this process authenticates, and with queue.url
// which TLS it uses: the embedded server is reached in process, where
// TLS does not apply.
func (c Config) clientOptions() ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case c.CredsFile != "":
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	case c.usesNkey():
		kp, err := c.nkeyPair()
		if err != nil {
			return nil, err
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("queue.nkey_seed: %w", err)
		}
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	case c.usesPassword():
		if c.Secrets.Password == "" {
			return nil, ErrNoCredentials
		}
		opts = append(opts, nats.UserInfo(c.User, c.Secrets.Password))
	}
	if c.URL == "" {
		return opts, nil
	}
	if c.TLS.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.TLS.CAFile))
	}
	if c.TLS.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.TLS.CertFile, c.TLS.KeyFile))
	}
	return opts, nil
}

// secureServer configures the embedded server's users and TLS: with
// credentials configured, the one user they name is the only way in (no
// anonymous user), so a client without them is refused at CONNECT.
func (c Config) secureServer(o *server.Options) error {
	switch {
	case c.usesNkey():
		kp, err := c.nkeyPair()
		if err != nil {
			return err
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return fmt.Errorf("queue.nkey_seed: %w", err)
		}
		o.Nkeys = []*server.NkeyUser{{Nkey: pub}}
	case c.usesPassword():
		if c.Secrets.Password == "" {
			return ErrNoCredentials
		}
		o.Users = []*server.User{{Username: c.User, Password: c.Secrets.Password}}
	}
	if !c.TLS.Enabled() {
		return nil
	}
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{
		CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile, CaFile: c.TLS.CAFile, Verify: c.TLS.CAFile != "",
	})
	if err != nil {
		return fmt.Errorf("queue.tls: %w", err)
	}
	o.TLS, o.TLSConfig, o.TLSVerify, o.TLSTimeout = true, tc, c.TLS.CAFile != "", 5
	return nil
}

// IsLoopback reports whether a host:port listen address is reachable only
// from this machine: localhost or a loopback IP. An empty host (every
// interface) and other names are not.
func IsLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
