package rewrite

import "testing"

func TestCodeShell(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "bare words and quoted strings", path: "deploy.sh", golden: "shell_whole.sh",
			src: `#!/bin/bash
set -euo pipefail
export VAULT_TOKEN=«B»
STRIPE_KEY='«A»'
curl -H "Authorization: Bearer «B»" https://api.example.com
`, reps: []codeRep{{secret: "B", env: "VAULT_TOKEN"}, {secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "password inside a URL: bare word, double and single quotes", path: "db.bash", golden: "shell_url_password.bash",
			src: `DATABASE_URL=postgres://shop:«PW»@db/shop
psql "postgres://shop:«PW»@$DB_HOST/shop"
mysql --password='«PW»x' shop
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a double-quoted string and a heredoc", path: "tls.sh", golden: "shell_pem.sh",
			src:  "KEY=\"«PEM»\"\ncat > key.pem <<EOF\n«PEM»\nEOF\n",
			reps: []codeRep{{secret: "PEM", env: "TLS_KEY"}}},

		{name: "ANSI-C string and a string next to an expansion", path: "a.sh", golden: "shell_ansi.sh",
			src:  "X=$'pre«A»\\n'\nY=\"$HOME/«B»\"\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "does not parse before", path: "a.sh", golden: "shell_unparsable",
			src: "TOKEN=«A»\nif then fi (\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file does not parse as shell before the edit"},

		{name: "secret in a comment", path: "a.sh", golden: "shell_comment",
			src: "# token «A»\necho hi\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a comment"},

		{name: "literal not found", path: "a.sh", golden: "shell_not_found",
			src: "echo hi\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 1}},
			reason: "the secret was not found in the file"},

		{name: "secret glued to a variable name", path: "a.sh", golden: "shell_glued_expansion",
			src: "Y=\"$HOME«B»\"\n", reps: []codeRep{{secret: "B", env: "GITHUB_TOKEN"}},
			reason: "the secret overlaps an interpolation in the string"},

		{name: "secret right after a dollar sign", path: "a.sh", golden: "shell_after_dollar",
			src: "X=\"price$«PLUS»\"\n", reps: []codeRep{{secret: "PLUS", env: "TOKEN"}},
			reason: "the secret follows a $ sign, which would change the expansion"},

		{name: "secret in a quoted heredoc", path: "a.sh", golden: "shell_quoted_heredoc",
			src: "cat <<'EOF'\n«A»\nEOF\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a quoted heredoc, which does not expand variables"},
	})
}

func TestCodeShellIdentifier(t *testing.T) {
	src := `TOKEN=«A»
export VAULT_TOKEN=«B»
local db_url="postgres://u:«PW»@h"
echo «A»
`
	runCodeIdentCases(t, []codeIdentCase{
		{name: "assignment", path: "a.sh", src: src, line: 1, secret: "A", want: "TOKEN"},
		{name: "export", path: "a.sh", src: src, line: 2, secret: "B", want: "VAULT_TOKEN"},
		{name: "local", path: "a.sh", src: src, line: 3, secret: "PW", want: "db_url"},
		{name: "command argument has no name", path: "a.sh", src: src, line: 4, secret: "A", want: ""},
	})
}
