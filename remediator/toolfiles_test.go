package remediator_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"gopkg.in/ini.v1"

	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/scanner"
)

// vaultEnv reads the vault.env the fix wrote.
func vaultEnv(t *testing.T, files map[string][]byte) map[string]string {
	t.Helper()
	entries, err := rewrite.ParseEnvFile("vault.env", files["vault.env"])
	if err != nil {
		t.Fatalf("vault.env: %v", err)
	}
	out := map[string]string{}
	for _, e := range entries {
		out[e.Name] = e.Value
	}
	return out
}

// npm and Maven expand environment variables in their own files (${VAR} in
// .npmrc, ${env.VAR} in settings.xml): the tokens there become such
// variables, each mapped in vault.env, so `pushvault exec -- npm ci` or
// `pushvault exec -- mvn deploy` fills them from Vault.
func TestPipelineRewritesNpmrcAndMavenSettings(t *testing.T) {
	g := secrettest.Fresh(t)
	npmTok, ghTok, mvnTok, yarnTok := g.NPM(), g.GitHub(), g.GitHub(), g.GitHub()
	npmrc := "registry=https://registry.npmjs.org/\n" +
		"@acme:registry=https://npm.pkg.github.com\n" +
		"//npm.pkg.github.com/:_authToken=" + ghTok + "\n" +
		"//registry.npmjs.org/:_authToken=" + npmTok + "\n" +
		"always-auth=true\n" +
		"; exact versions for reproducible installs\n" +
		"save-exact=true\n"
	settings := `<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://maven.apache.org/SETTINGS/1.0.0 https://maven.apache.org/xsd/settings-1.0.0.xsd">
  <servers>
    <server>
      <id>github</id>
      <username>acme-ci</username>
      <password>` + mvnTok + `</password>
    </server>
  </servers>
</settings>
`
	yarnrc := "nodeLinker: node-modules\nnpmScopes:\n  acme:\n    npmRegistryServer: \"https://npm.pkg.github.com\"\n    npmAuthToken: \"" + yarnTok + "\"\nyarnPath: .yarn/releases/yarn-4.1.0.cjs\n"
	files := map[string]string{".npmrc": npmrc, ".mvn/settings.xml": settings, "web/.yarnrc.yml": yarnrc}
	fs := []*scanner.Finding{
		finding("pv_00000000000000000201", "NpmToken", npmTok, ".npmrc", 4),
		finding("pv_00000000000000000202", "Github", ghTok, ".npmrc", 3),
		finding("pv_00000000000000000203", "Github", mvnTok, ".mvn/settings.xml", 9),
		finding("pv_00000000000000000204", "Github", yarnTok, "web/.yarnrc.yml", 5),
	}
	p := newPorts()
	res, err := p.run(t, fs, files)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, v := range res.Plan.Secrets {
		if len(v.Edits) != 1 || len(v.Manual) != 0 {
			t.Fatalf("%s in %s: edits %+v, manual %+v; want one edit", v.Finding.Detector, v.Finding.First().Path, v.Edits, v.Manual)
		}
	}
	env := vaultEnv(t, p.fix.Files)
	names := map[string]bool{}
	for _, v := range res.Plan.Secrets {
		e := v.Edits[0]
		if env[e.EnvName] != v.Refs["value"].Vault() {
			t.Errorf("vault.env %s = %q, want %s", e.EnvName, env[e.EnvName], v.Refs["value"].Vault())
		}
		names[e.EnvName] = true
	}
	if len(names) != len(fs) {
		t.Errorf("environment variables %v: %d tokens must not share one", names, len(fs))
	}

	out := string(p.fix.Files[".npmrc"])
	if diff := changedLines(t, npmrc, out); len(diff) != 2 || diff[0] != 3 || diff[1] != 4 {
		t.Errorf(".npmrc changed lines %v, want 3 and 4:\n%s", diff, out)
	}
	// npm's own reading: the key is everything before the first "=".
	cfg, err := ini.LoadSources(ini.LoadOptions{KeyValueDelimiters: "="}, []byte(out))
	if err != nil {
		t.Fatalf(".npmrc does not parse: %v", err)
	}
	for key, v := range map[string]*remediator.Vaulted{"//registry.npmjs.org/:_authToken": res.Plan.Secrets[0], "//npm.pkg.github.com/:_authToken": res.Plan.Secrets[1]} {
		if got, want := cfg.Section("").Key(key).String(), "${"+v.Edits[0].EnvName+"}"; got != want {
			t.Errorf(".npmrc %s = %q, want %q", key, got, want)
		}
	}

	sout := string(p.fix.Files[".mvn/settings.xml"])
	if diff := changedLines(t, settings, sout); len(diff) != 1 || diff[0] != 9 {
		t.Errorf("settings.xml changed lines %v, want 9:\n%s", diff, sout)
	}
	var parsed struct {
		Servers []struct {
			ID       string `xml:"id"`
			Password string `xml:"password"`
		} `xml:"servers>server"`
	}
	if err := xml.Unmarshal([]byte(sout), &parsed); err != nil || len(parsed.Servers) != 1 {
		t.Fatalf("settings.xml after the fix: %v, %+v", err, parsed)
	}
	if got, want := parsed.Servers[0].Password, "${env."+res.Plan.Secrets[2].Edits[0].EnvName+"}"; got != want {
		t.Errorf("settings.xml password = %q, want %q (Maven's environment syntax)", got, want)
	}
	yout := p.fix.Files["web/.yarnrc.yml"]
	if diff := changedLines(t, yarnrc, string(yout)); len(diff) != 1 || diff[0] != 5 {
		t.Errorf(".yarnrc.yml changed lines %v, want 5:\n%s", diff, yout)
	}
	scopes := yamlDocs(t, yout)[0]["npmScopes"].(map[string]any)["acme"].(map[string]any)
	if got, want := scopes["npmAuthToken"], "${"+res.Plan.Secrets[3].Edits[0].EnvName+"}"; got != want {
		t.Errorf(".yarnrc.yml npmAuthToken = %v, want %q (Yarn's environment syntax)", got, want)
	}
	for path, content := range p.fix.Files {
		for _, s := range []string{npmTok, ghTok, mvnTok, yarnTok} {
			if strings.Contains(string(content), s) {
				t.Errorf("%s still holds a planted token", path)
			}
		}
	}
}

// Tools that read their credentials file as plain text, expanding no
// variable, can't take a reference there: the file is left as it is, and
// each finding gets a manual step naming the line, the tool's own way to
// take a credential from elsewhere, and the vault.env line pushvault exec
// fills it from.
func TestPipelineManualStepsForCredentialFiles(t *testing.T) {
	g := secrettest.Fresh(t)
	pypi := "pypi-AgEIcHlwaS5vcmc" + g.PostgresPassword() + g.PostgresPassword()
	gitTok, netrcTok, dockerTok := g.GitHub(), g.GitHub(), g.GitHub()
	keyID, secretKey := g.AWS()
	gem, crate, pgpw, ossrh := "rubygems_"+strings.ToLower(g.PostgresPassword()+g.PostgresPassword()), "cio"+g.PostgresPassword()+g.PostgresPassword(), g.PostgresPassword(), g.GitHub()
	files := map[string]string{
		".pypirc":                 "[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\npassword = " + pypi + "\n",
		".git-credentials":        "https://acme-ci:" + gitTok + "@github.com\n",
		".netrc":                  "machine api.github.com\n  login acme-ci\n  password " + netrcTok + "\n",
		"ci/.docker/config.json":  "{\n  \"auths\": {\n    \"ghcr.io\": {\n      \"auth\": \"" + b64("acme-ci:"+dockerTok) + "\"\n    }\n  }\n}\n",
		".aws/credentials":        "[default]\naws_access_key_id = " + keyID + "\naws_secret_access_key = " + secretKey + "\nregion = eu-west-1\n",
		".gem/credentials":        "---\n:rubygems_api_key: " + gem + "\n",
		".cargo/credentials.toml": "[registry]\ntoken = \"cio-old\"\n\n[registries.acme-internal]\ntoken = \"" + crate + "\"\n",
		"ops/.pgpass":             "# host:port:database:user:password\ndb.internal:5432:shop:shop_app:" + pgpw + "\n",
		"gradle.properties":       "org.gradle.jvmargs=-Xmx2g\nossrhUsername=acme-ci\nossrhPassword=" + ossrh + "\n",
	}
	aws := finding("pv_00000000000000000305", "AWS", keyID, ".aws/credentials", 2)
	aws.Parts = map[string]scanner.Secret{"access_key_id": scanner.NewSecret(keyID), "secret_access_key": scanner.NewSecret(secretKey)}
	fs := []*scanner.Finding{
		finding("pv_00000000000000000301", "PyPI", pypi, ".pypirc", 7),
		finding("pv_00000000000000000302", "Github", gitTok, ".git-credentials", 1),
		finding("pv_00000000000000000303", "Github", netrcTok, ".netrc", 3),
		finding("pv_00000000000000000304", "Github", dockerTok, "ci/.docker/config.json", 4),
		aws,
		finding("pv_00000000000000000306", "RubyGems", gem, ".gem/credentials", 2),
		finding("pv_00000000000000000307", "CratesIO", crate, ".cargo/credentials.toml", 5),
		finding("pv_00000000000000000308", "Postgres", pgpw, "ops/.pgpass", 2),
		finding("pv_00000000000000000309", "Github", ossrh, "gradle.properties", 3),
	}
	p := newPorts()
	res, err := p.run(t, fs, files)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i, tc := range []struct {
		line  int
		words []string
	}{
		{7, []string{"twine", "TWINE_PASSWORD=" + res.Plan.Secrets[0].Refs["value"].Vault(), "keyring"}},
		{1, []string{"credential.https://github.com.helper", "username=acme-ci", res.Plan.Secrets[1].Refs["value"].Vault(), "pushvault exec"}},
		{3, []string{".netrc", res.Plan.Secrets[2].Refs["value"].Vault(), "pushvault exec"}},
		{4, []string{"credsStore", "credHelpers", "--password-stdin", res.Plan.Secrets[3].Refs["value"].Vault()}},
		{2, []string{"credential_process", "AWS_ACCESS_KEY_ID=" + aws4(res, "access_key_id"), "AWS_SECRET_ACCESS_KEY=" + aws4(res, "secret_access_key")}},
		{2, []string{"GEM_HOST_API_KEY=" + res.Plan.Secrets[5].Refs["value"].Vault(), "gem push"}},
		{5, []string{"CARGO_REGISTRIES_ACME_INTERNAL_TOKEN=" + res.Plan.Secrets[6].Refs["value"].Vault(), "credential provider"}},
		{2, []string{"PGPASSWORD=" + res.Plan.Secrets[7].Refs["value"].Vault(), "shop_app on db.internal:5432"}},
		{3, []string{"ORG_GRADLE_PROJECT_ossrhPassword=" + res.Plan.Secrets[8].Refs["value"].Vault()}},
	} {
		v := res.Plan.Secrets[i]
		path := v.Finding.First().Path
		if _, ok := p.fix.Files[path]; ok || len(v.Edits) != 0 || len(v.Manual) != 1 {
			t.Errorf("%s: file rewritten %v, edits %+v, manual %+v; want the file left and one manual step", path, ok, v.Edits, v.Manual)
			continue
		}
		m := v.Manual[0]
		if m.Line != tc.line {
			t.Errorf("%s: manual step on line %d, want %d", path, m.Line, tc.line)
		}
		for _, w := range tc.words {
			if !strings.Contains(m.Step, w) {
				t.Errorf("%s: manual step %q does not say %q", path, m.Step, w)
			}
		}
		for _, s := range []string{pypi, gitTok, netrcTok, dockerTok, keyID, secretKey, gem, crate, pgpw, ossrh} {
			if strings.Contains(m.Step+m.Reason, s) {
				t.Errorf("%s: manual step holds a planted secret", path)
			}
		}
	}
}

func aws4(res *remediator.Result, key string) string {
	return res.Plan.Secrets[4].Refs[key].Vault()
}
