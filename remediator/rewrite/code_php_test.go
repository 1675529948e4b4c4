package rewrite

import "testing"

func TestCodePHP(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "whole string", path: "config/stripe.php", golden: "php_whole.php",
			src: `<?php
return [
    'stripe' => ['secret' => '«A»'],
];
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "password inside a URL, double and single quotes", path: "db.php", golden: "php_url_password.php",
			src: `<?php
$dsn = "pgsql:host=$host;password=«PW»;dbname=shop";
$url = 'postgres://shop:«PW»@db/it\'s' . $suffix;
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a multi-line string", path: "tls.php", golden: "php_pem.php",
			src: "<?php\n$key = '«PEM»';\n", reps: []codeRep{{secret: "PEM", env: "TLS_KEY"}}},

		{name: "same secret twice and another secret", path: "app.php", golden: "php_twice.php",
			src: `<?php
define('STRIPE_KEY', '«A»');
$config['stripe_key'] = "«A»";
$client = new Client(token: '«B»');
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "does not parse before", path: "app.php", golden: "php_unparsable",
			src: "<?php\n$k = '«A»'\nfunction (\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file does not parse as PHP before the edit"},

		{name: "secret in a comment", path: "app.php", golden: "php_comment",
			src: "<?php\n// «A»\n$k = 1;\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a comment"},

		{name: "literal not found", path: "app.php", golden: "php_not_found",
			src: "<?php\n$k = 1;\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 2}},
			reason: "the secret was not found in the file"},

		{name: "secret outside the PHP tags", path: "index.php", golden: "php_html",
			src:  "<html>«A»</html>\n<?php echo 1; ?>\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}, reason: "the secret is not inside a single string literal"},

		{name: "secret in a class constant", path: "app.php", golden: "php_class_const",
			src: "<?php\nclass Billing {\n    const KEY = '«A»';\n}\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a PHP const declaration, which needs a constant expression"},

		{name: "secret in a heredoc", path: "app.php", golden: "php_heredoc",
			src: "<?php\n$k = <<<EOT\n«A»\nEOT;\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a PHP heredoc or nowdoc"},
	})
}

func TestCodePHPIdentifier(t *testing.T) {
	src := `<?php
$apiKey = '«A»';
$config['github_token'] = "«B»";
$arr = ['stripe_key' => '«A»'];
define('DB_PASSWORD', '«PW»');
$this->token = '«B»';
echo '«A»';
`
	runCodeIdentCases(t, []codeIdentCase{
		{name: "variable", path: "a.php", src: src, line: 2, secret: "A", want: "apiKey"},
		{name: "subscript assignment", path: "a.php", src: src, line: 3, secret: "B", want: "github_token"},
		{name: "array key", path: "a.php", src: src, line: 4, secret: "A", want: "stripe_key"},
		{name: "define", path: "a.php", src: src, line: 5, secret: "PW", want: "DB_PASSWORD"},
		{name: "property", path: "a.php", src: src, line: 6, secret: "B", want: "token"},
		{name: "echo has no name", path: "a.php", src: src, line: 7, secret: "A", want: ""},
	})
}
