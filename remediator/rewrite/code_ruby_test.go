package rewrite

import "testing"

func TestCodeRuby(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "whole string", path: "config/initializers/stripe.rb", golden: "ruby_whole.rb",
			src: `Stripe.api_key = "«A»"
STRIPE = { key: '«B»' }
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "password inside a URL: interpolation or concatenation", path: "db.rb", golden: "ruby_url_password.rb",
			src: `DATABASE_URL = "postgres://shop:«PW»@#{host}/shop"
QUOTED = 'it\'s «PW»'.strip
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a heredoc", path: "tls.rb", golden: "ruby_heredoc_pem.rb",
			src:  "KEY = <<~PEM\n«PEM»\nPEM\nOTHER = \"«PEM»\"\n",
			reps: []codeRep{{secret: "PEM", env: "TLS_KEY"}}},

		{name: "same secret twice", path: "app.rb", golden: "ruby_twice.rb",
			src: `client = Client.new(api_key: "«A»")
ENV["STRIPE_KEY"] ||= "«A»"
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "percent literals", path: "app.rb", golden: "ruby_percent.rb",
			src:  "X = %q(pre «A»).strip\nY = %Q(pre «B»)\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "does not parse before", path: "app.rb", golden: "ruby_unparsable",
			src: "KEY = \"«A»\"\ndef broken(\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file does not parse as Ruby before the edit"},

		{name: "secret in a comment", path: "app.rb", golden: "ruby_comment",
			src: "# «A»\nKEY = 1\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a comment"},

		{name: "literal not found", path: "app.rb", golden: "ruby_not_found",
			src: "KEY = 1\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 1}},
			reason: "the secret was not found in the file"},

		{name: "secret in a heredoc that does not interpolate", path: "app.rb", golden: "ruby_heredoc_plain",
			src: "KEY = <<~'PEM'\n  «A»\nPEM\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a Ruby heredoc that does not interpolate"},
	})
}

func TestCodeRubyIdentifier(t *testing.T) {
	src := `STRIPE_KEY = "«A»"
@api_token = '«B»'
config["github_token"] = "«B»"
opts = { auth: "«A»", :other => "«B»" }
Client.new(password: "«PW»")
self.secret = "«A»"
puts "«A»"
`
	runCodeIdentCases(t, []codeIdentCase{
		{name: "constant", path: "a.rb", src: src, line: 1, secret: "A", want: "STRIPE_KEY"},
		{name: "instance variable", path: "a.rb", src: src, line: 2, secret: "B", want: "api_token"},
		{name: "element assignment", path: "a.rb", src: src, line: 3, secret: "B", want: "github_token"},
		{name: "hash key", path: "a.rb", src: src, line: 4, secret: "A", want: "auth"},
		{name: "symbol hash key", path: "a.rb", src: src, line: 4, secret: "B", want: "other"},
		{name: "keyword argument", path: "a.rb", src: src, line: 5, secret: "PW", want: "password"},
		{name: "setter", path: "a.rb", src: src, line: 6, secret: "A", want: "secret"},
		{name: "call argument has no name", path: "a.rb", src: src, line: 7, secret: "A", want: ""},
	})
}
