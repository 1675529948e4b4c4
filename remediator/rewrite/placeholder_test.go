package rewrite

import (
	"errors"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/secrettest"
)

// A secret inside another templating syntax's placeholder — the default of
// Spring's ${NAME:default}, a shell ${VAR:-default}, a Helm {{ default … }},
// a Ruby #{…} — is not rewritten: a reference written there would be read
// as part of the placeholder. The refusal says why and gives the manual
// step; a secret beside a placeholder, outside it, is still rewritten.
func TestConfigLeavesSecretsInsideOtherPlaceholders(t *testing.T) {
	pw := secrettest.Fresh(t).Alnum(20)
	refused := map[string]string{
		"application.properties": "spring.datasource.url=${POSTGRES_URL:jdbc:postgresql://app:" + pw + "@db.acme.internal/app}\n",
		"application.yml":        "spring:\n  datasource:\n    url: ${POSTGRES_URL:jdbc:postgresql://app:" + pw + "@db.acme.internal/app}\n",
		".env":                   "DATABASE_URL=${DATABASE_URL:-postgres://app:" + pw + "@db.acme.internal/app}\n",
		"values.yaml":            "url: '{{ default \"postgres://app:" + pw + "@db.acme.internal/app\" .Values.dbUrl }}'\n",
		"config/app.toml":        "url = \"#{ENV.fetch('DATABASE_URL', 'postgres://app:" + pw + "@db.acme.internal/app')}\"\n",
	}
	for path, content := range refused {
		t.Run(path, func(t *testing.T) {
			line := 1 + strings.Count(content[:strings.Index(content, pw)], "\n")
			_, err := Apply(path, []byte(content), []Replacement{dbRep(line, pw)}, Options{})
			var unsafe *UnsafeError
			if !errors.As(err, &unsafe) || !strings.Contains(unsafe.Reason, "placeholder") || unsafe.Manual == "" || unsafe.Line != line {
				t.Fatalf("Apply: %v, want a refusal naming the placeholder, on line %d, with a manual step", err, line)
			}
			if strings.Contains(unsafe.Reason+unsafe.Manual, pw) {
				t.Errorf("the refusal quotes the secret")
			}
		})
	}
	beside := "DATABASE_URL=postgres://app:" + pw + "@${DB_HOST}/app\n"
	res, err := Apply(".env", []byte(beside), []Replacement{dbRep(1, pw)}, Options{})
	if err != nil || strings.Contains(string(res.Content), pw) {
		t.Fatalf("a secret beside a placeholder is not rewritten: %v", err)
	}
}
