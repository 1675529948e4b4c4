// Command awsstandin runs the AWS stand-in (internal/awstest) as its own
// process, for trying pushvault and Vault's AWS engine by hand:
//
//	go run ./internal/cmd/awsstandin [-addr 127.0.0.1:0] [-region us-east-1] [-user NAME ...] [-role NAME ...]
//
// Each -user is an IAM user with one access key, each -role a role any
// caller may assume. It writes the users' keys to a JSON file (mode 0600,
// under a temporary directory unless -keys names one) and prints one JSON
// line on stdout — the endpoint, region, account, the keys file and the
// users' ARNs and key ids, never a secret key — then serves until SIGINT
// or SIGTERM. Contract violations are logged to stderr as JSON; the
// process exits 1 when there were any.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pushvault/pushvault/internal/awstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "awsstandin:", err)
		os.Exit(1)
	}
}

type names []string

func (n *names) String() string { return strings.Join(*n, ",") }

func (n *names) Set(v string) error {
	if v == "" {
		return errors.New("empty name")
	}
	*n = append(*n, v)
	return nil
}

// Info is the JSON line the process prints once it is serving.
type Info struct {
	URL      string   `json:"url"`
	Region   string   `json:"region"`
	Account  string   `json:"account"`
	KeysFile string   `json:"keys_file"`
	Users    []User   `json:"users"`
	Roles    []string `json:"role_arns"`
}

// User is a user made with -user.
type User struct {
	Name        string `json:"name"`
	ARN         string `json:"arn"`
	AccessKeyID string `json:"access_key_id"`
}

// Key is one entry of the keys file.
type Key struct {
	User            string `json:"user"`
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("awsstandin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	region := fs.String("region", awstest.DefaultRegion, "region STS and Secrets Manager requests are signed for")
	keysFile := fs.String("keys", "", "where to write the users' keys (JSON, mode 0600); a temporary file when empty")
	var users, roles names
	fs.Var(&users, "user", "an IAM user to create with one access key (repeatable)")
	fs.Var(&roles, "role", "an IAM role to create (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	path := *keysFile
	if path == "" {
		dir, err := os.MkdirTemp("", "awsstandin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "keys.json")
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	srv, err := awstest.Start(*addr, log, awstest.WithRegion(*region))
	if err != nil {
		return err
	}
	defer srv.Close()
	info := Info{URL: srv.URL, Region: srv.Region(), Account: srv.Account(), KeysFile: path, Users: []User{}, Roles: []string{}}
	var keys []Key
	for _, n := range users {
		arn, err := srv.CreateUser(n)
		if err != nil {
			return fmt.Errorf("-user: %w", err)
		}
		k, err := srv.CreateAccessKey(n)
		if err != nil {
			return fmt.Errorf("-user: %w", err)
		}
		info.Users = append(info.Users, User{Name: n, ARN: arn, AccessKeyID: k.AccessKeyID})
		keys = append(keys, Key{User: n, AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey})
	}
	for _, n := range roles {
		arn, err := srv.CreateRole(n)
		if err != nil {
			return fmt.Errorf("-role: %w", err)
		}
		info.Roles = append(info.Roles, arn)
	}
	data, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write the keys: %w", err)
	}
	line, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	log.Info("serving", "url", srv.URL)
	<-ctx.Done()
	if n := len(srv.Violations()); n > 0 {
		return fmt.Errorf("%d contract violations (logged above)", n)
	}
	return nil
}
