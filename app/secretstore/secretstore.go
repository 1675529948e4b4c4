// Package secretstore chooses where leaks are pushed: the server's store:
// setting (serve.yml, PUSHVAULT_STORE_* for every command). It is the
// operator's alone — no repository settings file has the key — and is
// read once per process into one Store that the pipeline, the rotations and
// the reports share.
package secretstore

import (
	"context"
	"fmt"
	"time"

	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/awssm"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/remediator/vault"
)

// The store types.
const (
	TypeVault = "vault"
	TypeAWS   = "aws_secretsmanager"
)

// Config is the store: section. The zero value is Vault KV v2 (the vault:
// section's mount and path template).
type Config struct {
	// Type is vault (default) or aws_secretsmanager.
	Type string `yaml:"type"`
	// AWS configures aws_secretsmanager.
	AWS awssm.Config `yaml:"aws"`
}

// Validate reports every problem, naming fields under field ("store").
func (c Config) Validate(field string) error {
	switch c.Type {
	case "", TypeVault:
		return nil
	case TypeAWS:
		return c.AWS.Validate(field + ".aws")
	}
	return fmt.Errorf("%s.type: %q is not a store (vault or %s)", field, c.Type, TypeAWS)
}

// FromEnv fills what c leaves empty from PUSHVAULT_STORE_TYPE,
// PUSHVAULT_STORE_AWS_REGION, _ENDPOINT, _KMS_KEY_ID, _NAME_TEMPLATE and
// _TIMEOUT (the names serve's configuration uses), for the commands that
// have no configuration file (scan --fix, exec).
func FromEnv(c Config, getenv func(string) string) (Config, error) {
	fill := func(dst *string, key string) {
		if *dst == "" {
			*dst = getenv(key)
		}
	}
	fill(&c.Type, "PUSHVAULT_STORE_TYPE")
	fill(&c.AWS.Region, "PUSHVAULT_STORE_AWS_REGION")
	fill(&c.AWS.Endpoint, "PUSHVAULT_STORE_AWS_ENDPOINT")
	fill(&c.AWS.KMSKeyID, "PUSHVAULT_STORE_AWS_KMS_KEY_ID")
	fill(&c.AWS.NameTemplate, "PUSHVAULT_STORE_AWS_NAME_TEMPLATE")
	if t := getenv("PUSHVAULT_STORE_AWS_TIMEOUT"); t != "" && c.AWS.Timeout == 0 {
		d, err := time.ParseDuration(t)
		if err != nil {
			return c, fmt.Errorf("PUSHVAULT_STORE_AWS_TIMEOUT: %w", err)
		}
		c.AWS.Timeout = d
	}
	return c, c.Validate("store")
}

// Store is a secret store as the pipeline and the rotations use it.
type Store interface {
	remediator.SecretStore
	rotate.Store
}

var (
	_ Store = (*vault.Store)(nil)
	_ Store = (*awssm.Store)(nil)
)

// Open returns the configured store: vs's KV v2 store for vault, else a new
// AWS Secrets Manager store. Vault stays needed either way (fingerprints,
// evidence signatures, rotation engines).
func Open(ctx context.Context, c Config, vs *vault.Session) (Store, error) {
	if c.Type == TypeAWS {
		return awssm.New(ctx, c.AWS)
	}
	return vs.Store, nil
}

// RunnerOptions are the rotation runner's options for s: the rotations
// keep their state in s when it is not Vault's KV (which the runner reaches
// through the mount each target names).
func RunnerOptions(s Store) []rotate.Option {
	if _, ok := s.(*vault.Store); ok || s == nil {
		return nil
	}
	return []rotate.Option{rotate.WithStore(s)}
}

// Describe names the store for reports: "Vault https://vault:8200" or
// "AWS Secrets Manager (eu-west-1)".
func Describe(s Store, vaultAddr string) string {
	if a, ok := s.(*awssm.Store); ok {
		return "AWS Secrets Manager (" + a.Region() + ")"
	}
	return "Vault " + vaultAddr
}
