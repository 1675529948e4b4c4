package rotate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/internal/strictyaml"
)

// Rotator names, as settings list them.
const (
	NamePostgres   = "postgresql"
	NameMySQL      = "mysql"
	NameVaultToken = "vault_token"
	NamePKI        = "vault_pki"
	NameGitHub     = "github_token"
	NameOwned      = "owned"
	NameAWSIAM     = "aws_iam"
)

var allNames = []string{NamePostgres, NameMySQL, NameVaultToken, NamePKI, NameGitHub, NameOwned, NameAWSIAM}

// Approval modes.
const (
	ApprovalAuto     = "auto"
	ApprovalRequired = "required"
)

// Settings say what rotation may do. They come from the server config
// (embed this struct under `rotation:`) and from the `rotation:` section
// of .github/pushvault.yml (ParseSettings). The zero value is the default:
// every rotator whose settings exist is on, the exposed version is
// destroyed, rotations run at once.
type Settings struct {
	// Enabled names the rotators that may run; nil means all.
	Enabled []string `yaml:"enabled"`
	// DestroyExposed destroys the exposed KV version once the rotation is
	// verified; nil means true.
	DestroyExposed *bool `yaml:"destroy_exposed"`
	// Approval is auto (default) or required. Under required every
	// rotation waits for an approval (the "Approve rotation" check-run
	// action, or `pushvault scan --fix --approve-rotation` locally); under
	// auto only a rotation that would break a use of the secret the fix
	// leaves in place waits (Target.Unreplaced).
	Approval  string     `yaml:"approval"`
	Databases []Database `yaml:"databases"`
	// DatabaseTimeout bounds each login to a database (connecting
	// included), so a server that accepts and never answers fails the
	// rotation (to retry) instead of holding it; 0 means
	// DefaultDatabaseTimeout. The server's alone: ParseSettings does not
	// read it from a repository's file.
	DatabaseTimeout time.Duration `yaml:"database_timeout"`
	PKI             []PKIMount    `yaml:"pki"`
	Owned           []OwnedSecret `yaml:"owned"`
	// AWS maps AWS accounts to Vault AWS secrets engine mounts: leaked
	// IAM user keys of these accounts are rotated (rotator aws_iam).
	AWS []AWSAccount `yaml:"aws"`
	// AWSTimeout bounds each AWS call (STS, IAM); 0 means
	// DefaultAWSTimeout. The server's alone, like DatabaseTimeout.
	AWSTimeout time.Duration `yaml:"aws_timeout"`
}

// AWSAccount maps one AWS account to the Vault AWS secrets engine mount
// that manages its IAM users' keys.
type AWSAccount struct {
	// Account is the 12-digit account id STS reports for the leaked key.
	Account string `yaml:"account"`
	// Mount is the AWS secrets engine's mount; default "aws". Its
	// config/root names the IAM and STS endpoints pushvault talks to.
	Mount string `yaml:"vault_mount"`
	// CredentialsRole is the role on the mount whose short-lived
	// credentials (<mount>/creds/<role>: assumed_role or iam_user) may
	// call iam:ListAccessKeys, iam:UpdateAccessKey and iam:DeleteAccessKey
	// on the account's users.
	CredentialsRole string `yaml:"vault_credentials_role"`
	// Users is a glob over IAM user names that may be rotated; empty
	// means any user of the account.
	Users string `yaml:"users"`
	// RotationPeriod is the static role's period; default "24h".
	RotationPeriod string `yaml:"rotation_period"`
	// DeleteLeakedKey is on_approval (default: the leaked key is
	// deactivated at once and deleted when the rotation is approved) or
	// at_once (deleted as soon as the replacement works).
	DeleteLeakedKey string `yaml:"delete_leaked_key"`
}

// Database maps databases the organisation declares to a Vault database
// secrets engine connection. Match fields are globs; empty matches any.
type Database struct {
	Match struct {
		Host     string `yaml:"host"`
		Port     string `yaml:"port"`
		Database string `yaml:"database"`
	} `yaml:"match"`
	// Connection is the connection's name under the engine (database/config/NAME).
	Connection string `yaml:"vault_connection"`
	// Mount is the database engine's mount; default "database".
	Mount string `yaml:"vault_mount"`
	// RotationPeriod is the static role's period; default "24h".
	RotationPeriod string `yaml:"rotation_period"`
}

// PKIMount names a Vault PKI mount whose certificates the organisation
// issues, and the role replacements are issued with.
type PKIMount struct {
	Mount string `yaml:"mount"`
	Role  string `yaml:"role"`
}

// OwnedSecret declares a secret the application owns (signing key, session or
// webhook secret): rotating it means generating a new value. Path is a
// doublestar glob over the file it was found in, Name the secret's name in
// Vault; one of them is required. Shape is "same" (default: the exposed
// value's alphabet and length), "hex:N", "base64:N" or "alnum:N" (N random
// bytes, or characters for alnum).
type OwnedSecret struct {
	Path  string `yaml:"path"`
	Name  string `yaml:"name"`
	Shape string `yaml:"shape"`
}

// Destroy reports whether the exposed version is destroyed after a
// verified rotation.
func (s Settings) Destroy() bool { return s.DestroyExposed == nil || *s.DestroyExposed }

// DefaultDatabaseTimeout is rotation.database_timeout's default.
const DefaultDatabaseTimeout = 15 * time.Second

// DefaultAWSTimeout is rotation.aws_timeout's default.
const DefaultAWSTimeout = 15 * time.Second

// databaseTimeout is DatabaseTimeout with its default.
func (s Settings) databaseTimeout() time.Duration {
	if s.DatabaseTimeout <= 0 {
		return DefaultDatabaseTimeout
	}
	return s.DatabaseTimeout
}

func (s Settings) enabled(name string) bool {
	if s.Enabled == nil {
		return true
	}
	for _, n := range s.Enabled {
		if n == name {
			return true
		}
	}
	return false
}

// Validate checks settings given in Go (the server config), naming fields
// as the YAML does.
func (s Settings) Validate() error {
	var errs []error
	for i, n := range s.Enabled {
		if !known(n) {
			errs = append(errs, fmt.Errorf("rotation.enabled[%d]: %q is not one of %s", i, n, strings.Join(allNames, ", ")))
		}
	}
	if s.Approval != "" && s.Approval != ApprovalAuto && s.Approval != ApprovalRequired {
		errs = append(errs, fmt.Errorf("rotation.approval: %q is not one of auto, required", s.Approval))
	}
	if s.DatabaseTimeout < 0 || (s.DatabaseTimeout > 0 && s.DatabaseTimeout < time.Second) {
		errs = append(errs, fmt.Errorf("rotation.database_timeout: %v, want at least 1s (0: the default, %v)", s.DatabaseTimeout, DefaultDatabaseTimeout))
	}
	for i, d := range s.Databases {
		key := fmt.Sprintf("rotation.databases[%d]", i)
		if d.Connection == "" {
			errs = append(errs, fmt.Errorf("%s.vault_connection: required", key))
		}
		for f, g := range map[string]string{"host": d.Match.Host, "port": d.Match.Port, "database": d.Match.Database} {
			if g != "" && !doublestar.ValidatePattern(g) {
				errs = append(errs, fmt.Errorf("%s.match.%s: invalid glob %q", key, f, g))
			}
		}
	}
	if s.AWSTimeout < 0 || (s.AWSTimeout > 0 && s.AWSTimeout < time.Second) {
		errs = append(errs, fmt.Errorf("rotation.aws_timeout: %v, want at least 1s (0: the default, %v)", s.AWSTimeout, DefaultAWSTimeout))
	}
	for i, a := range s.AWS {
		errs = append(errs, a.validate(fmt.Sprintf("rotation.aws[%d]", i))...)
	}
	for i, p := range s.PKI {
		if p.Mount == "" || p.Role == "" {
			errs = append(errs, fmt.Errorf("rotation.pki[%d]: mount and role are required", i))
		}
	}
	for i, o := range s.Owned {
		key := fmt.Sprintf("rotation.owned[%d]", i)
		if o.Path == "" && o.Name == "" {
			errs = append(errs, fmt.Errorf("%s: path or name is required", key))
		}
		if o.Path != "" && !doublestar.ValidatePattern(o.Path) {
			errs = append(errs, fmt.Errorf("%s.path: invalid glob %q", key, o.Path))
		}
		if _, err := parseShape(o.Shape); err != nil {
			errs = append(errs, fmt.Errorf("%s.shape: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// validate checks one account mapping; key names it in messages.
func (a AWSAccount) validate(key string) []error {
	var errs []error
	if len(a.Account) != 12 || strings.Trim(a.Account, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("%s.account: %q is not a 12-digit AWS account id", key, a.Account))
	}
	if a.CredentialsRole == "" {
		errs = append(errs, fmt.Errorf("%s.vault_credentials_role: required (a role on the mount whose short-lived credentials may list, deactivate and delete the users' access keys)", key))
	} else if pathSafe(a.CredentialsRole) != a.CredentialsRole {
		errs = append(errs, fmt.Errorf("%s.vault_credentials_role: %q: letters, digits, - and _ only", key, a.CredentialsRole))
	}
	if a.Mount != "" && (strings.Contains(a.Mount, "..") || strings.Trim(a.Mount, "/") != a.Mount) {
		errs = append(errs, fmt.Errorf("%s.vault_mount: %q is not a mount path", key, a.Mount))
	}
	if a.Users != "" && !doublestar.ValidatePattern(a.Users) {
		errs = append(errs, fmt.Errorf("%s.users: invalid glob %q", key, a.Users))
	}
	if a.RotationPeriod != "" {
		if d, err := time.ParseDuration(a.RotationPeriod); err != nil || d < time.Minute {
			errs = append(errs, fmt.Errorf("%s.rotation_period: %q, want a duration of at least 1m (Vault's minimum)", key, a.RotationPeriod))
		}
	}
	if a.DeleteLeakedKey != "" && a.DeleteLeakedKey != DeleteOnApproval && a.DeleteLeakedKey != DeleteAtOnce {
		errs = append(errs, fmt.Errorf("%s.delete_leaked_key: %q is not one of %s, %s", key, a.DeleteLeakedKey, DeleteOnApproval, DeleteAtOnce))
	}
	return errs
}

func known(n string) bool {
	for _, k := range allNames {
		if k == n {
			return true
		}
	}
	return false
}

// ParseSettings decodes the `rotation:` section of a settings file
// strictly: unknown keys and wrong types are errors, all reported at once
// with file, line and key. n is the section's value node; file names the
// file in messages.
func ParseSettings(file string, n *yaml.Node) (Settings, error) {
	var s Settings
	p := &parser{strictyaml.New(file)}
	p.Mapping(n, "rotation", map[string]func(*yaml.Node, string){
		"enabled": func(n *yaml.Node, key string) {
			s.Enabled = p.Strings(n, key)
			if s.Enabled == nil {
				s.Enabled = []string{}
			}
			for i, name := range s.Enabled {
				if !known(name) {
					p.Errf(n.Content[i], fmt.Sprintf("%s[%d]", key, i), "%q is not one of %s", name, strings.Join(allNames, ", "))
				}
			}
		},
		"destroy_exposed": func(n *yaml.Node, key string) {
			b := p.Bool(n, key)
			s.DestroyExposed = &b
		},
		"approval": func(n *yaml.Node, key string) {
			s.Approval = p.Str(n, key)
			if s.Approval != ApprovalAuto && s.Approval != ApprovalRequired {
				p.Errf(n, key, "%q is not one of auto, required", s.Approval)
			}
		},
		"databases": func(n *yaml.Node, key string) {
			p.List(n, key, func(item *yaml.Node, ikey string) {
				var d Database
				p.Mapping(item, ikey, map[string]func(*yaml.Node, string){
					"match": func(n *yaml.Node, key string) {
						p.Mapping(n, key, map[string]func(*yaml.Node, string){
							"host":     func(n *yaml.Node, key string) { d.Match.Host = p.Glob(n, key) },
							"port":     func(n *yaml.Node, key string) { d.Match.Port = p.Glob(n, key) },
							"database": func(n *yaml.Node, key string) { d.Match.Database = p.Glob(n, key) },
						})
					},
					"vault_connection": func(n *yaml.Node, key string) { d.Connection = p.Str(n, key) },
					"vault_mount":      func(n *yaml.Node, key string) { d.Mount = p.Str(n, key) },
					"rotation_period":  func(n *yaml.Node, key string) { d.RotationPeriod = p.Str(n, key) },
				})
				if item.Kind == yaml.MappingNode && d.Connection == "" {
					p.Errf(item, ikey+".vault_connection", "required")
				}
				s.Databases = append(s.Databases, d)
			})
		},
		"pki": func(n *yaml.Node, key string) {
			p.List(n, key, func(item *yaml.Node, ikey string) {
				var k PKIMount
				p.Mapping(item, ikey, map[string]func(*yaml.Node, string){
					"mount": func(n *yaml.Node, key string) { k.Mount = p.Str(n, key) },
					"role":  func(n *yaml.Node, key string) { k.Role = p.Str(n, key) },
				})
				if item.Kind == yaml.MappingNode && (k.Mount == "" || k.Role == "") {
					p.Errf(item, ikey, "mount and role are required")
				}
				s.PKI = append(s.PKI, k)
			})
		},
		"aws": func(n *yaml.Node, key string) {
			p.List(n, key, func(item *yaml.Node, ikey string) {
				var a AWSAccount
				p.Mapping(item, ikey, map[string]func(*yaml.Node, string){
					"account":                func(n *yaml.Node, key string) { a.Account = p.Str(n, key) },
					"vault_mount":            func(n *yaml.Node, key string) { a.Mount = p.Str(n, key) },
					"vault_credentials_role": func(n *yaml.Node, key string) { a.CredentialsRole = p.Str(n, key) },
					"users":                  func(n *yaml.Node, key string) { a.Users = p.Glob(n, key) },
					"rotation_period":        func(n *yaml.Node, key string) { a.RotationPeriod = p.Str(n, key) },
					"delete_leaked_key":      func(n *yaml.Node, key string) { a.DeleteLeakedKey = p.Str(n, key) },
				})
				if item.Kind == yaml.MappingNode {
					for _, err := range a.validate(ikey) {
						p.Errf(item, "", "%v", err)
					}
				}
				s.AWS = append(s.AWS, a)
			})
		},
		"owned": func(n *yaml.Node, key string) {
			p.List(n, key, func(item *yaml.Node, ikey string) {
				var o OwnedSecret
				p.Mapping(item, ikey, map[string]func(*yaml.Node, string){
					"path": func(n *yaml.Node, key string) { o.Path = p.Glob(n, key) },
					"name": func(n *yaml.Node, key string) { o.Name = p.Str(n, key) },
					"shape": func(n *yaml.Node, key string) {
						o.Shape = p.Str(n, key)
						if _, err := parseShape(o.Shape); err != nil {
							p.Errf(n, key, "%v", err)
						}
					},
				})
				if item.Kind == yaml.MappingNode && o.Path == "" && o.Name == "" {
					p.Errf(item, ikey, "path or name is required")
				}
				s.Owned = append(s.Owned, o)
			})
		},
	})
	if err := p.Err(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// parser reads the rotation section through the project's one strict YAML
// walker.
type parser struct{ *strictyaml.Walker }
