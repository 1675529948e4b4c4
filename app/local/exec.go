package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/pushvault/pushvault/app/secretstore"
	"github.com/pushvault/pushvault/remediator/awssm"
	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/vault"
)

// ExecOptions are the inputs of `pushvault exec`.
type ExecOptions struct {
	// EnvFiles are read in order; later files override earlier ones, and
	// all override the inherited environment.
	EnvFiles []string
	Vault    vault.Config
	// Store gives the endpoint and timeout for ref+awssecrets://
	// references (PUSHVAULT_STORE_AWS_*; credentials and region from the
	// standard AWS chain and the reference).
	Store   secretstore.Config
	Command []string
}

// ExecEnv builds the environment for the command: the inherited environment
// plus the env files, with every vault reference (whole-value vault: or
// ref+vault:// forms, and inline ${vault:...}) and every AWS Secrets
// Manager reference (ref+awssecrets://, whole or inline) resolved. Errors name the
// variable, path and key that failed, never a value.
func ExecEnv(ctx context.Context, opts ExecOptions, inherited []string) ([]string, error) {
	env := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range inherited {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	for _, f := range opts.EnvFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("env file: %w", err)
		}
		entries, err := rewrite.ParseEnvFile(f, data)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			set(e.Name, e.Value)
		}
	}
	var refs, awsRefs []string
	for _, k := range order {
		if isReference(env[k]) {
			refs = append(refs, k)
		}
		if awssm.IsReference(env[k]) {
			awsRefs = append(awsRefs, k)
		}
	}
	if len(awsRefs) > 0 {
		// The standard AWS chain's credentials; the endpoint and timeout
		// of the operator's store settings, if any.
		r := awssm.NewResolver(opts.Store.AWS.Endpoint, opts.Store.AWS.Timeout)
		for _, k := range awsRefs {
			v, _, err := r.Expand(ctx, env[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			env[k] = v
		}
	}
	if len(refs) > 0 {
		cfg := vault.FromEnv(opts.Vault)
		c, err := vault.Connect(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("connecting to vault to resolve %s: %w", strings.Join(refs, ", "), err)
		}
		r := vault.NewResolver(c)
		for _, k := range refs {
			v, _, err := r.Expand(ctx, env[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			env[k] = v
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+env[k])
	}
	return out, nil
}

func isReference(v string) bool {
	return strings.HasPrefix(v, "vault:") || strings.HasPrefix(v, "ref+vault://") || strings.Contains(v, "${vault:")
}

// Exec resolves the environment and replaces this process with the command.
// It returns only on error.
func Exec(ctx context.Context, opts ExecOptions) error {
	if len(opts.Command) == 0 {
		return fmt.Errorf("%w: no command given after --", ErrUsage)
	}
	env, err := ExecEnv(ctx, opts, os.Environ())
	if err != nil {
		return err
	}
	path, err := exec.LookPath(opts.Command[0])
	if err != nil {
		return fmt.Errorf("command %q: %w", opts.Command[0], errors.Unwrap(err))
	}
	return syscall.Exec(path, opts.Command, env)
}
