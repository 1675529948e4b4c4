package rewrite

import (
	"encoding/json"
	"fmt"
	"net/url"
	pathpkg "path"
	"sort"
	"strings"

	"gopkg.in/ini.v1"
)

// credentialFile is the credentials file of a tool that reads it as plain
// text and expands no variable in it (.pypirc, .git-credentials, .netrc,
// Docker's config.json, AWS's credentials): no reference written there
// would resolve, so the fix never edits it. Its refusal is the manual
// step that tool's own mechanism calls for — a credential helper, or the
// environment variable the tool reads — with the vault.env line pushvault
// exec fills that variable from.
type credentialFile struct {
	// reads says which tool reads the file, for messages: "twine reads .pypirc".
	reads string
	// step is the manual step for the replacements (at least one), the
	// first reported on line; content is the file, to name the entry
	// (registry, host, login) the secret belongs to.
	step func(path string, content []byte, line int, reps []Replacement) string
	// names reads identifiers; nil when the file gives none.
	names format
}

var _ format = (*credentialFile)(nil)

// credentialFormat returns the credentials-file format for path, or nil.
func credentialFormat(path string) format {
	base := pathpkg.Base(path)
	dir := pathpkg.Base(pathpkg.Dir(path))
	switch {
	case base == ".pypirc":
		return &credentialFile{reads: "twine reads .pypirc", step: pypircStep, names: &configFile{syntax: iniSyntax{}}}
	case base == ".git-credentials":
		return &credentialFile{reads: "git's store credential helper reads .git-credentials", step: gitCredentialsStep}
	case base == ".netrc" || base == "_netrc":
		return &credentialFile{reads: "curl, git, ftp and Python's netrc read .netrc", step: netrcStep}
	case base == "config.json" && dir == ".docker":
		return &credentialFile{reads: "Docker reads .docker/config.json", step: dockerConfigStep, names: &configFile{syntax: jsonSyntax{}}}
	case base == "credentials" && dir == ".gem":
		return &credentialFile{reads: "RubyGems reads ~/.gem/credentials", step: gemStep, names: &configFile{syntax: yamlSyntax{}}}
	case (base == "credentials.toml" || base == "credentials") && dir == ".cargo":
		return &credentialFile{reads: "Cargo reads .cargo/credentials.toml", step: cargoStep, names: &configFile{syntax: tomlSyntax{}}}
	case base == ".pgpass":
		return &credentialFile{reads: "libpq (psql, and every driver built on it) reads .pgpass", step: pgpassStep}
	case base == "gradle.properties":
		return &credentialFile{reads: "Gradle reads gradle.properties", step: gradleStep, names: &configFile{syntax: propertiesSyntax{}}}
	case base == "credentials": // ~/.aws/credentials, and the same file kept elsewhere
		return &credentialFile{reads: "the AWS CLI and SDKs read the credentials file", step: awsCredentialsStep, names: &configFile{syntax: iniSyntax{}}}
	}
	return nil
}

func (c *credentialFile) name() string { return c.reads }

func (c *credentialFile) identifier(content []byte, line int, literal string) string {
	if c.names == nil {
		return ""
	}
	return c.names.identifier(content, line, literal)
}

// apply refuses: the manual step is the fix.
func (c *credentialFile) apply(path string, content []byte, reps []Replacement, _ Options) (*Result, error) {
	if len(reps) == 0 {
		return &Result{Content: content}, nil
	}
	line := reps[0].Line
	manual := c.step(path, content, line, reps)
	for _, r := range reps {
		if configLeaks(manual, r.Literal) { // a login or host that is the secret
			manual = manualStep(path, reps)
		}
	}
	return nil, &UnsafeError{Path: path, Line: line,
		Reason: c.reads + " as plain text, expanding no environment variable or vault reference: a reference written there would not resolve",
		Manual: manual}
}

// vaultEnvLines is "NAME=reference" for each replacement, the variable
// named by env (the replacement's own EnvName when env gives "").
func vaultEnvLines(reps []Replacement, env func(Replacement) string) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range reps {
		name := env(r)
		if name == "" {
			name = r.EnvName
		}
		if l := name + "=" + r.Ref.Vault(); !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " and ")
}

func ownEnv(Replacement) string { return "" }

func pypircStep(path string, content []byte, line int, reps []Replacement) string {
	repo := "pypi"
	if sc, ok := iniValueHolding(content, reps[0].Literal); ok && sc.path[0].key != ini.DefaultSection {
		repo = sc.path[0].key
	}
	return fmt.Sprintf("delete the password on line %d of %s; twine reads TWINE_PASSWORD (with TWINE_USERNAME=__token__ for an API token) before .pypirc: add %s to vault.env and upload with `pushvault exec --env-file vault.env -- twine upload --repository %s dist/*`, or keep the token in the system keyring (`keyring set <the repository's upload URL> __token__`), twine's credential helper",
		line, path, vaultEnvLines(reps, func(Replacement) string { return "TWINE_PASSWORD" }), repo)
}

// iniValueHolding is the INI value holding literal.
func iniValueHolding(content []byte, literal string) (scalar, bool) {
	scs, _ := iniSyntax{}.scalars(content)
	for _, sc := range scs {
		if strings.Contains(sc.value, literal) && len(sc.path) == 2 {
			return sc, true
		}
	}
	return scalar{}, false
}

func gitCredentialsStep(path string, content []byte, line int, reps []Replacement) string {
	user, host := "x-access-token", ""
	for _, l := range strings.Split(string(content), "\n") {
		u, err := url.Parse(strings.TrimSpace(l))
		if err != nil || u.User == nil {
			continue
		}
		if pw, _ := u.User.Password(); pw == reps[0].Literal {
			user, host = u.User.Username(), u.Host
		}
	}
	scope := "credential.helper"
	if host != "" {
		scope = "credential.https://" + host + ".helper"
	}
	name := reps[0].EnvName
	return fmt.Sprintf("delete line %d of %s (git's store helper keeps credentials there in plain text) and give git the token through a credential helper that reads the environment: `git config %s '!f() { test \"$1\" = get && echo username=%s && echo \"password=$%s\"; }; f'`, with %s in vault.env and git run under `pushvault exec --env-file vault.env -- git …`",
		line, path, scope, user, name, vaultEnvLines(reps, ownEnv))
}

func netrcStep(path string, content []byte, line int, reps []Replacement) string {
	machine, login := netrcEntry(content, reps[0].Literal)
	name := reps[0].EnvName
	return fmt.Sprintf("delete the password on line %d of %s (the entry for machine %s) and supply it at run time instead: add %s to vault.env and, under `pushvault exec --env-file vault.env`, pass $%s to the tool (`curl -u %s:\"$%s\" https://%s/…`, or a git credential helper that prints password=$%s)",
		line, path, machine, vaultEnvLines(reps, ownEnv), name, login, name, machine, name)
}

// netrcEntry is the machine and login of the .netrc entry whose password
// is literal ("HOST" and "USER" when the file does not say).
func netrcEntry(content []byte, literal string) (machine, login string) {
	machine, login = "HOST", "USER"
	var m, l string
	f := strings.Fields(string(content))
	for i := 0; i+1 < len(f); i++ {
		switch f[i] {
		case "machine":
			m, l = f[i+1], ""
		case "login":
			l = f[i+1]
		case "password":
			if f[i+1] == literal && m != "" {
				machine = m
				if l != "" {
					login = l
				}
			}
		}
	}
	return machine, login
}

func dockerConfigStep(path string, content []byte, line int, reps []Replacement) string {
	registry, user := dockerLogin(content, reps[0].Literal)
	name := reps[0].EnvName
	return fmt.Sprintf("delete the \"auth\" entry of %s on line %d of %s (Docker keeps auths.*.auth as base64 of user:password) and let a credential helper hold the login (\"credsStore\" or \"credHelpers\": docker-credential-pass, -secretservice, -osxkeychain, -ecr-login); in CI, add %s to vault.env and log in with `pushvault exec --env-file vault.env -- sh -c 'printf %%s \"$%s\" | docker login %s -u %s --password-stdin'`",
		registry, line, path, vaultEnvLines(reps, ownEnv), name, registry, user)
}

// dockerLogin is the registry and user of the auths entry whose auth
// (base64 of user:password) holds literal ("REGISTRY" and "USER" when
// none does).
func dockerLogin(content []byte, literal string) (registry, user string) {
	var cfg struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	if json.Unmarshal(content, &cfg) != nil {
		return "REGISTRY", "USER"
	}
	for reg, a := range cfg.Auths {
		if dec, ok := decodeBase64Text(a.Auth); ok && strings.Contains(dec, literal) {
			u, _, _ := strings.Cut(dec, ":")
			return reg, u
		}
	}
	return "REGISTRY", "USER"
}

func awsCredentialsStep(path string, content []byte, line int, reps []Replacement) string {
	profile := "default"
	if sc, ok := iniValueHolding(content, reps[0].Literal); ok && sc.path[0].key != ini.DefaultSection {
		profile = sc.path[0].key
	}
	return fmt.Sprintf("delete the keys of profile [%s] from line %d of %s and let the AWS CLI and SDKs read them from the environment: add %s to vault.env and run under `pushvault exec --env-file vault.env -- aws …`; or give the profile a `credential_process` that prints them from Vault",
		profile, line, path, vaultEnvLines(reps, awsEnv))
}

// awsEnv is the variable the AWS SDKs read for a part of a key.
func awsEnv(r Replacement) string {
	switch r.Ref.Key {
	case "access_key_id":
		return "AWS_ACCESS_KEY_ID"
	case "secret_access_key":
		return "AWS_SECRET_ACCESS_KEY"
	case "session_token":
		return "AWS_SESSION_TOKEN"
	}
	return ""
}

func gemStep(path string, _ []byte, line int, reps []Replacement) string {
	return fmt.Sprintf("delete line %d of %s; gem push reads GEM_HOST_API_KEY before the credentials file: add %s to vault.env and publish with `pushvault exec --env-file vault.env -- gem push PACKAGE.gem`",
		line, path, vaultEnvLines(reps, func(Replacement) string { return "GEM_HOST_API_KEY" }))
}

func cargoStep(path string, content []byte, line int, reps []Replacement) string {
	env := "CARGO_REGISTRY_TOKEN" // [registry]: crates.io
	scs, _ := tomlSyntax{}.scalars(content)
	for _, sc := range scs {
		if sc.value == reps[0].Literal && len(sc.path) == 3 && sc.path[0].key == "registries" {
			env = "CARGO_REGISTRIES_" + strings.ToUpper(strings.ReplaceAll(sc.path[1].key, "-", "_")) + "_TOKEN"
		}
	}
	return fmt.Sprintf("delete line %d of %s; cargo reads %s before the credentials file: add %s to vault.env and publish with `pushvault exec --env-file vault.env -- cargo publish`, or let a credential provider hold it (registry.global-credential-providers, e.g. cargo:libsecret)",
		line, path, env, vaultEnvLines(reps, func(Replacement) string { return env }))
}

func pgpassStep(path string, content []byte, line int, reps []Replacement) string {
	entry := ""
	lines := strings.Split(string(content), "\n")
	if line >= 1 && line <= len(lines) {
		// host:port:database:user:password; the password is the rest
		if f := strings.SplitN(lines[line-1], ":", 5); len(f) == 5 && strings.TrimRight(f[4], "\r") == reps[0].Literal {
			entry = fmt.Sprintf(" (the entry for user %s on %s:%s, database %s)", f[3], f[0], f[1], f[2])
		}
	}
	return fmt.Sprintf("delete line %d of %s%s; libpq reads PGPASSWORD: add %s to vault.env and connect under `pushvault exec --env-file vault.env -- psql …` (or the application's own command)",
		line, path, entry, vaultEnvLines(reps, func(Replacement) string { return "PGPASSWORD" }))
}

func gradleStep(path string, content []byte, line int, reps []Replacement) string {
	key := (&configFile{syntax: propertiesSyntax{}}).identifier(content, line, reps[0].Literal)
	if key == "" {
		key = "PROPERTY"
	}
	if env := "ORG_GRADLE_PROJECT_" + key; envNamePat.MatchString(env) {
		return fmt.Sprintf("delete line %d of %s; Gradle reads the environment variable %s as the project property %s: add %s to vault.env and build under `pushvault exec --env-file vault.env -- ./gradlew …`",
			line, path, env, key, vaultEnvLines(reps, func(Replacement) string { return env }))
	}
	name := reps[0].EnvName
	return fmt.Sprintf("delete line %d of %s and pass the property on the command line instead: add %s to vault.env and build with `pushvault exec --env-file vault.env -- sh -c './gradlew … -P%s=\"$%s\"'`",
		line, path, vaultEnvLines(reps, ownEnv), key, name)
}
