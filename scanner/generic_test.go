package scanner

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/secrettest"
)

// genericValues runs the generic detector on one file's text and returns
// the values it reports.
func genericValues(t *testing.T, path, text string) []string {
	t.Helper()
	res, err := Generic{}.inFile(path).FromData(context.Background(), false, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		out = append(out, string(r.Raw))
	}
	return out
}

// Each format and language names a credential its own way; the detector
// finds the planted value in each, and only it.
func TestGenericFindsAssignedCredentials(t *testing.T) {
	g := secrettest.Fresh(t)
	cases := []struct{ name, path, text string }{
		{"dotenv", ".env", "APP_ENV=production\nDB_PASSWORD=%s\n"},
		{"dotenv export with comment", "config/prod.env", "export SMTP_PASS=%s # rotated yearly\n"},
		{"dotenv quoted", ".env.production", "SESSION_SECRET=\"%s\"\n"},
		{"compose environment list", "docker-compose.yml", "    environment:\n      - POSTGRES_PASSWORD=%s\n"},
		{"rails database.yml", "config/database.yml", "production:\n  adapter: postgresql\n  password: %s\n"},
		{"rails secrets.yml", "config/secrets.yml", "production:\n  secret_key_base: %s\n"},
		{"JSON camel case", "appsettings.json", "{\n  \"Auth\": {\n    \"apiSecret\": \"%s\"\n  }\n}\n"},
		{"JSON one line", "config.json", `{"user":"svc","clientSecret":"%s","ttl":30}`},
		{"TOML", "config.toml", "[database]\npassword = \"%s\"\n"},
		{"INI", "settings.ini", "[mail]\nsmtp_password = %s\n"},
		{"properties", "src/main/resources/application.properties", "spring.datasource.password=%s\n"},
		{"properties with colon", "app.properties", "mail.auth.token: %s\n"},
		{"XML element", "pom.xml", "    <password>%s</password>\n"},
		{"XML key value", "Web.config", "    <add key=\"PaymentApiKey\" value=\"%s\" />\n"},
		{"XML attribute", "context.xml", "<Resource name=\"jdbc/app\" username=\"app\" password=\"%s\" />\n"},
		{"Go", "internal/client.go", "\tclientSecret := \"%s\"\n"},
		{"Go const", "config.go", "const apiToken = `%s`\n"},
		{"Python", "settings.py", "SECRET_KEY = '%s'\n"},
		{"Python dict", "app.py", "creds = {\"user\": \"svc\", \"password\": \"%s\"}\n"},
		{"JavaScript object", "src/config.js", "module.exports = {\n  authToken: '%s',\n};\n"},
		{"TypeScript", "src/api.ts", "const API_KEY: string = \"%s\";\n"},
		{"Java", "src/main/java/Db.java", "    private static final String DB_PASSWORD = \"%s\";\n"},
		{"Kotlin", "App.kt", "val signingKey = \"%s\"\n"},
		{"C#", "Startup.cs", "        var accessToken = @\"%s\";\n"},
		{"Ruby hash rocket", "config/initializers/mail.rb", "  :password => \"%s\",\n"},
		{"Ruby keyword", "lib/client.rb", "Client.new(api_key: '%s')\n"},
		{"PHP", "config.php", "    'db_password' => '%s',\n"},
		{"PHP variable", "index.php", "$dbpass = \"%s\";\n"},
		{"shell", "deploy.sh", "export REGISTRY_TOKEN=\"%s\"\n"},
		{"call with name and value", "Main.java", "props.put(\"mail.smtp.password\", \"%s\");\n"},
		{"Dockerfile ENV", "Dockerfile", "ENV ADMIN_PASSWORD %s\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := g.PostgresPassword()
			got := genericValues(t, tc.path, fmt.Sprintf(tc.text, v))
			if len(got) != 1 || got[0] != v {
				t.Errorf("in %s found %q, want exactly the planted value %q", tc.path, got, v)
			}
		})
	}
}

// Passwords people choose mix words, digits and symbols; they are found
// though they hold English words (which TruffleHog's word filter drops).
func TestGenericFindsHumanPasswords(t *testing.T) {
	g := secrettest.Fresh(t)
	for _, v := range []string{"Winter20" + g.PostgresPassword()[:4] + "!", "Tr0ub4dor&3-" + g.PostgresPassword()[:3], "s3cr3t-Pa55-" + g.PostgresPassword()[:2]} {
		if got := genericValues(t, "config/database.yml", "  password: \""+v+"\"\n"); len(got) != 1 || got[0] != v {
			t.Errorf("found %q, want %q", got, v)
		}
	}
}

// Names that mention a credential without holding one, values that are
// not literals, placeholders and identifiers: nothing is reported.
func TestGenericIgnoresLookalikes(t *testing.T) {
	g := secrettest.Fresh(t)
	v := g.PostgresPassword()
	cases := []struct{ name, path, text string }{
		{"length", "config.yml", "password_length: " + v},
		{"URL", ".env", "TOKEN_URL=" + v},
		{"secret's name", "k8s/deploy.yml", "secret_name: " + v},
		{"key file", "config.ini", "private_key_file = " + v},
		{"path", "app.properties", "ssl.key.password.path=" + v},
		{"id", "settings.json", `{"client_id": "` + v + `"}`},
		{"hash", "users.yml", "password_hash: " + v},
		{"public key", "config.json", `{"publicKey": "` + v + `"}`},
		{"CSRF token", "form.js", `const csrfToken = "` + v + `";`},
		{"page token", "api.py", `page_token = "` + v + `"`},
		{"bare key", "i18n.json", `{"key": "` + v + `"}`},
		{"expiry", ".env", "JWT_SECRET_EXPIRY=" + v},
		{"env reference", ".env", "DB_PASSWORD=${DB_PASSWORD}"},
		{"env reference with default", "application.yml", "password: ${DB_PASSWORD:" + v + "}"},
		{"template", "values.yaml", "password: {{ .Values.db.password }}"},
		{"ERB", "database.yml", "password: <%= ENV['DB_PASSWORD'] %>"},
		{"angle placeholder", "README.conf", "password = <password>"},
		{"your_", ".env", "API_KEY=your_api_key_here"},
		{"changeme", ".env", "ADMIN_PASSWORD=changeme123"},
		{"xxx", "config.yml", "token: xxxxxxxxxxxxxxxxxxxx"},
		{"example", "config.yml", "api_key: AKIAIOSFODNN7EXAMPLE"},
		{"dummy", "app.js", `const apiKey = "dummy-api-key-1";`},
		{"test value", "app.py", `password = "test1234"`},
		{"env var name", "config.yml", "password_env: DB_PASSWORD"},
		{"identifier", "config.yml", "secret: my-app-db-credentials"},
		{"upper-case identifier", "config.yml", "token: GITHUB_TOKEN"},
		{"vault reference", ".env", "DB_PASSWORD=vault:secret/data/app/db#password"},
		{"file path", "config.yml", "password: /run/secrets/db_password"},
		{"file name", "config.yml", "signing_key: keys/signing-2024.pem"},
		{"expression in code", "db.go", "password := os.Getenv(\"DB_PASSWORD\")"},
		{"variable in code", "db.py", "PASSWORD = settings.DATABASE_PASSWORD"},
		{"comparison", "auth.js", `if (password === "` + v + `") {`},
		{"go equality", "auth.go", `if token == "` + v + `" {`},
		{"number", "config.yml", "password_min: 12345678"},
		{"version", "package.json", `"token": "1.2.3"`},
		{"boolean", "config.yml", "auth: true"},
		{"empty", ".env", "DB_PASSWORD="},
		{"short", ".env", "DB_PASSWORD=abc12"},
		{"lower-case word", "docker-compose.yml", "POSTGRES_PASSWORD=postgres"},
		{"struct tag", "model.go", "Password string `json:\"password\"`"},
		{"bare value in code", "conf.py", "password = get_password()"},
		{"value names the key", ".env", "DB_PASSWORD=db_password_2024"},
		{"bcrypt hash", "seed.yml", "password: $2a$10$" + v},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := genericValues(t, tc.path, tc.text+"\n"); len(got) > 0 {
				t.Errorf("%s: %q reported %q", tc.path, tc.text, got)
			}
		})
	}
}

// Tests, fixtures, examples, templates and documentation hold planted
// values on purpose; the generic detector leaves them to pattern detectors.
func TestGenericSkipsFixturePaths(t *testing.T) {
	for _, p := range []string{"test/config.yml", "src/__tests__/api.js", "spec/fixtures/users.yml", "internal/db/db_test.go",
		"tests/test_auth.py", "testdata/leak.env", ".env.example", "config/database.yml.sample", "docs/setup.md", "README.md",
		"examples/app/settings.py", "src/test/java/DbTest.java", "package-lock.json", "vendor/lib/conf.go"} {
		if !genericSkipsPath(p) {
			t.Errorf("genericSkipsPath(%q) = false, want true", p)
		}
	}
	for _, p := range []string{".env", "config/database.yml", "src/main/resources/application.properties", "app/settings.py",
		"contest/config.yml", "latest/app.json", "deploy/prod.env"} {
		if genericSkipsPath(p) {
			t.Errorf("genericSkipsPath(%q) = true, want false", p)
		}
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"DB_PASSWORD": true, "apiSecret": true, "password": true, "client_secret": true, "APIKey": true, "api-key": true,
		"secret_key_base": true, "PRIVATE_KEY": true, "privatekey": true, "authToken": true, "dbpassword": true,
		"spring.datasource.password": true, "ConnectionStrings:DbPassword": true, "db_pass": true, "PASSWORD_PROD": true,
		"x-api-token": true, "credentials": true, "passphrase": true, "github_pat_token": true,
		"password_length": false, "token_url": false, "secret_name": false, "key_file": false, "client_id": false,
		"public_key": false, "key": false, "passwordPolicy": false, "csrf_token": false, "tokenizer": false,
		"bypass": false, "compass": false, "author": false, "secret_arn": false, "api_key_id": false, "username": false,
	} {
		if got := secretName(name); got != want {
			t.Errorf("secretName(%q) = %v, want %v (words %q)", name, got, want, nameWords(name))
		}
	}
}

// A random value is never taken for a placeholder: the placeholder words
// must not match inside random text.
func TestGenericKeepsRandomValues(t *testing.T) {
	g := secrettest.Fresh(t)
	var dropped []string
	for range 20000 {
		if v := g.PostgresPassword(); !credentialValue(v, "DB_PASSWORD") {
			dropped = append(dropped, v)
		}
	}
	// About one in 20,000 holds a stand-in word as a whole run of letters
	// or starts with one; more than five is a change for the worse.
	if len(dropped) > 5 {
		t.Errorf("%d of 20000 random values dropped, e.g. %s", len(dropped), strings.Join(dropped[:3], " "))
	}
}
