package rewrite

import "testing"

func TestCodeGo(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "whole string, os import added to a file without imports", path: "billing/stripe.go", golden: "go_import_added.go",
			src: `package billing

// Client talks to Stripe.
type Client struct{ key string }

func New() *Client {
	return &Client{key: "«A»"}
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "whole string, os added to an existing import block", path: "main.go", golden: "go_import_block.go",
			src: `package main

import (
	"fmt"
	"net/http"

	"github.com/stripe/stripe-go/v76"
)

func main() {
	stripe.Key = "«A»"
	fmt.Println(http.StatusOK)
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "whole string, single import becomes a block", path: "main.go", golden: "go_single_import.go",
			src: `package main

import "fmt"

var apiKey = "«A»"

func main() { fmt.Println(len(apiKey)) }
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "os already imported under its own name", path: "main.go", golden: "go_os_imported.go",
			src: `package main

import (
	"fmt"
	"os"
)

func main() {
	token := "«B»"
	fmt.Fprintln(os.Stderr, token)
}
`, reps: []codeRep{{secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "constant becomes a variable", path: "config/keys.go", golden: "go_const.go",
			src: `package config

// StripeKey is the live key.
const StripeKey = "«A»" // live
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "constant moves out of a const group", path: "config/keys.go", golden: "go_const_group.go",
			src: `package config

const (
	Region = "eu-west-1"
	// StripeKey is the live key.
	StripeKey = "«A»"
	Timeout   = 30
)
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "password inside a URL", path: "db/db.go", golden: "go_url_password.go",
			src: `package db

import "database/sql"

func Open() (*sql.DB, error) {
	return sql.Open("postgres", "postgres://shop:«PW»@db:5432/shop?sslmode=disable")
}
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "URL with an escaped quote, used with a method", path: "db/db.go", golden: "go_url_escapes.go",
			src: `package db

import "strings"

var dsn = strings.TrimSpace("user=\"shop\" password=«PW» host=db")
var n = len("postgres://shop:«PW»@db/shop"[1:])
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a raw string", path: "tls/key.go", golden: "go_raw_pem.go",
			src:  "package tls\n\nvar keyPEM = []byte(`«PEM»`)\n\nvar wrapped = `key:\n«PEM»\nend`\n",
			reps: []codeRep{{secret: "PEM", env: "TLS_KEY"}}},

		{name: "same secret twice", path: "main.go", golden: "go_twice.go",
			src: `package main

import "os"

var primary = "«A»"

func main() {
	os.Setenv("STRIPE_KEY", "«A»")
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "two different secrets", path: "main.go", golden: "go_two_secrets.go",
			src: `package main

var cfg = map[string]string{
	"stripe": "«A»",
	"github": "«B»",
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "typed declaration keeps its type", path: "main.go", golden: "go_typed.go",
			src: `package main

type Key string

var live Key = "«A»"
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "constant in a function's const group", path: "main.go", golden: "go_const_in_func.go",
			src:  "package main\n\nfunc f() {\n\tconst (\n\t\ta = 1\n\t\tk = \"«A»\"\n\t\tb = 2\n\t)\n\tprintln(k, a, b)\n}\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "cgo file keeps import C alone", path: "main.go", golden: "go_cgo.go",
			src:  "package main\n\n// #include <stdio.h>\nimport \"C\"\n\nvar k = \"«A»\"\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "CRLF file", path: "main.go", golden: "go_crlf.go",
			src:  "package main\r\n\r\nvar k = \"«A»\"\r\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "does not parse before", path: "main.go", golden: "go_unparsable",
			src:  "package main\n\nvar key = \"«A»\"\nfunc {\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}, reason: "the file does not parse as Go before the edit"},

		{name: "secret in a comment", path: "main.go", golden: "go_comment",
			src:  "package main\n\n// old key: «A»\nvar key = \"«A»\"\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}, reason: "the secret is in a comment"},

		{name: "literal not found", path: "main.go", golden: "go_not_found",
			src:  "package main\n\nvar key = \"«B»\"\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 3}}, reason: "the secret was not found in the file"},

		{name: "secret in a struct tag", path: "main.go", golden: "go_struct_tag",
			src:  "package main\n\ntype T struct {\n\tKey string `default:\"«A»\"`\n}\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}, reason: "the secret is in a struct tag, which must be a constant"},

		{name: "secret in an import path", path: "main.go", golden: "go_import_path",
			src:  "package main\n\nimport _ \"example.com/«A»\"\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}, reason: "the secret is in an import path"},

		{name: "secret outside any string", path: "main.go", golden: "go_identifier",
			src:  "package main\n\nvar «A» = 1\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}, reason: "the secret is not inside a single string literal"},

		{name: "constant used by another constant", path: "main.go", golden: "go_const_used",
			src:    "package main\n\nconst key = \"«A»\"\n\nconst header = \"Bearer \" + key\n",
			reps:   []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the Go constant key holding the secret is used in another constant, so it can't become a variable"},

		{name: "os shadowed by a local name", path: "main.go", golden: "go_os_shadowed",
			src:    "package main\n\nfunc f(os []string) string { return \"«A»\" }\n",
			reps:   []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file declares its own identifier os, which would hide the os package"},
	})
}

func TestCodeGoIdentifier(t *testing.T) {
	src := `package main

import "os"

const apiKey = "«A»"

var (
	token, other = "«B»", "x"
)

type Config struct{ StripeKey string }

func main() {
	cfg := Config{StripeKey: "«A»"}
	m := map[string]string{"stripe_key": "«A»"}
	m["github_token"] = "«B»"
	cfg.StripeKey = "prefix-" + "«A»"
	os.Setenv("VAULT_TOKEN", "«B»")
	b := []byte("«A»")
	println("«A»")
	_, _, _ = cfg, m, b
}
`
	runCodeIdentCases(t, []codeIdentCase{
		{name: "constant", path: "main.go", src: src, line: 5, secret: "A", want: "apiKey"},
		{name: "first name of a multi-name var spec", path: "main.go", src: src, line: 8, secret: "B", want: "token"},
		{name: "struct field", path: "main.go", src: src, line: 14, secret: "A", want: "StripeKey"},
		{name: "map literal key", path: "main.go", src: src, line: 15, secret: "A", want: "stripe_key"},
		{name: "map index assignment", path: "main.go", src: src, line: 16, secret: "B", want: "github_token"},
		{name: "selector assignment through a concatenation", path: "main.go", src: src, line: 17, secret: "A", want: "StripeKey"},
		{name: "Setenv key", path: "main.go", src: src, line: 18, secret: "B", want: "VAULT_TOKEN"},
		{name: "through a conversion", path: "main.go", src: src, line: 19, secret: "A", want: "b"},
		{name: "function argument has no name", path: "main.go", src: src, line: 20, secret: "A", want: ""},
		{name: "no literal given", path: "main.go", src: src, line: 5, want: "apiKey"},
		{name: "does not parse", path: "main.go", src: "package main\nvar x = \"«A»\"\nfunc {", line: 2, secret: "A", want: ""},
	})
}
