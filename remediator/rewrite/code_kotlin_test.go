package rewrite

import "testing"

func TestCodeKotlin(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "whole string, const dropped", path: "src/main/kotlin/Billing.kt", golden: "kotlin_whole.kt",
			src: `object Billing {
    private const val STRIPE_KEY = "«A»"
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "password inside a URL, with an escape and a template", path: "Db.kt", golden: "kotlin_url_password.kt",
			src: `val url = "postgres://shop:«PW»@$host/shop"
val quoted = "say \"«PW»\"".trim()
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a raw string", path: "Tls.kt", golden: "kotlin_raw_pem.kt",
			src:  "val key = \"\"\"«PEM»\"\"\"\nval bundle = \"\"\"\n«PEM»\n\"\"\".trimIndent()\n",
			reps: []codeRep{{secret: "PEM", env: "TLS_KEY"}}},

		{name: "same secret twice", path: "App.kt", golden: "kotlin_twice.kt",
			src: `val m = mapOf("stripe_key" to "«A»")
fun f() = Client(key = "«A»")
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "two different secrets", path: "build.gradle.kts", golden: "kotlin_two_secrets.kts",
			src: `extra["stripeKey"] = "«A»"
extra["githubToken"] = "«B»"
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "does not parse before", path: "App.kt", golden: "kotlin_unparsable",
			src: "val k = \"«A»\"\nfun (\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file does not parse as Kotlin before the edit"},

		{name: "secret in a comment", path: "App.kt", golden: "kotlin_comment",
			src: "// «A»\nval k = 1\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a comment"},

		{name: "literal not found", path: "App.kt", golden: "kotlin_not_found",
			src: "val k = 1\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 1}},
			reason: "the secret was not found in the file"},

		{name: "const used in an annotation", path: "App.kt", golden: "kotlin_const_used",
			src: "const val KEY = \"«A»\"\n\n@Named(KEY)\nclass App\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the Kotlin constant KEY holding the secret is used where a constant is required, so it can't stop being const"},
	})
}

func TestCodeKotlinIdentifier(t *testing.T) {
	src := `const val STRIPE_KEY = "«A»"
fun f() {
    config["github_token"] = "«B»"
    this.apiKey = "«A»"
    connect(password = "«PW»")
    val m = mapOf("stripe" to "«A»")
    println("«A»")
}
`
	runCodeIdentCases(t, []codeIdentCase{
		{name: "property", path: "a.kt", src: src, line: 1, secret: "A", want: "STRIPE_KEY"},
		{name: "indexed assignment", path: "a.kt", src: src, line: 3, secret: "B", want: "github_token"},
		{name: "navigation assignment", path: "a.kt", src: src, line: 4, secret: "A", want: "apiKey"},
		{name: "named argument", path: "a.kt", src: src, line: 5, secret: "PW", want: "password"},
		{name: "map pair", path: "a.kt", src: src, line: 6, secret: "A", want: "stripe"},
		{name: "call argument has no name", path: "a.kt", src: src, line: 7, secret: "A", want: ""},
	})
}
