package rewrite

import "testing"

func TestCodeJavaScript(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "whole string", path: "src/stripe.js", golden: "javascript_whole.js",
			src: `const Stripe = require('stripe');

const apiKey = '«A»';
module.exports = new Stripe(apiKey);
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "password inside a URL, with an escaped quote and a method call", path: "src/db.mjs", golden: "javascript_url_password.mjs",
			src: `export const url = "postgres://shop:«PW»@db:5432/shop";
export const quoted = 'it\'s «PW»'.trim();
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a template literal", path: "src/tls.js", golden: "javascript_template_pem.js",
			src:  "const key = `«PEM»`;\nconst bundle = `${prefix}\n«PEM»\n`;\n",
			reps: []codeRep{{secret: "PEM", env: "TLS_KEY"}}},

		{name: "same secret twice", path: "src/app.cjs", golden: "javascript_twice.cjs",
			src: `const a = { auth: '«A»' };
a.headers = { Authorization: "Bearer «A»" };
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "two different secrets, JSX attribute and object key", path: "src/App.jsx", golden: "javascript_two_secrets.jsx",
			src: `export const App = () => <Checkout stripeKey="«A»" />;
export const tokens = { "«B»": true };
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "does not parse before", path: "a.js", golden: "javascript_unparsable",
			src: "const k = '«A»';\nfunction (\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file does not parse as JavaScript before the edit"},

		{name: "secret in a comment", path: "a.js", golden: "javascript_comment",
			src: "// key: «A»\nconst k = 1;\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a comment"},

		{name: "literal not found", path: "a.js", golden: "javascript_not_found",
			src: "const k = '«B»';\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 1}},
			reason: "the secret was not found in the file"},

		{name: "secret in a module path", path: "a.js", golden: "javascript_module_path",
			src: "import x from './«A».js';\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a module path"},
	})
}

func TestCodeTypeScript(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "whole string", path: "src/config.ts", golden: "typescript_whole.ts",
			src: `export const config: { key: string } = {
  key: "«A»",
};
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "password inside a URL", path: "src/db.ts", golden: "typescript_url_password.ts",
			src:  "const url: string = 'postgres://shop:«PW»@db:5432/shop' as string;\n",
			reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a template literal", path: "src/tls.ts", golden: "typescript_template_pem.ts",
			src: "export const key = `«PEM»`;\n", reps: []codeRep{{secret: "PEM", env: "TLS_KEY"}}},

		{name: "same secret twice and another secret in TSX", path: "src/App.tsx", golden: "typescript_tsx.tsx",
			src: `const key: string = "«A»";
export const App = () => <Pay k="«A»" gh={"«B»"} />;
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "does not parse before", path: "a.ts", golden: "typescript_unparsable",
			src: "const k: = '«A»';\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file does not parse as TypeScript before the edit"},

		{name: "secret in a comment", path: "a.ts", golden: "typescript_comment",
			src: "/* «A» */\nconst k = 1;\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a comment"},

		{name: "secret in an enum", path: "a.ts", golden: "typescript_enum",
			src: "enum Keys { Live = '«A»' }\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is a TypeScript enum member, which must be a constant"},
	})
}

func TestCodeJavaScriptIdentifier(t *testing.T) {
	src := `const apiKey = "«A»";
const cfg = { auth: '«B»', "stripe_key": "«A»" };
config["stripe_key"] = "«A»";
this.token = "«B»";
class C { secret = "«A»"; }
const el = <A token="«B»" />;
headers.set("X-Api-Key", "«A»");
const url = "https://x/" + "«B»";
fetch("«A»");
`
	runCodeIdentCases(t, []codeIdentCase{
		{name: "const", path: "a.jsx", src: src, line: 1, secret: "A", want: "apiKey"},
		{name: "object key", path: "a.jsx", src: src, line: 2, secret: "B", want: "auth"},
		{name: "quoted object key", path: "a.jsx", src: src, line: 2, secret: "A", want: "stripe_key"},
		{name: "subscript assignment", path: "a.jsx", src: src, line: 3, secret: "A", want: "stripe_key"},
		{name: "member assignment", path: "a.jsx", src: src, line: 4, secret: "B", want: "token"},
		{name: "class field", path: "a.jsx", src: src, line: 5, secret: "A", want: "secret"},
		{name: "JSX attribute", path: "a.jsx", src: src, line: 6, secret: "B", want: "token"},
		{name: "setter key", path: "a.jsx", src: src, line: 7, secret: "A", want: "X-Api-Key"},
		{name: "through a concatenation", path: "a.jsx", src: src, line: 8, secret: "B", want: "url"},
		{name: "call argument has no name", path: "a.jsx", src: src, line: 9, secret: "A", want: ""},
		{name: "TypeScript class field", path: "a.ts", src: "class C {\n  private readonly key: string = '«A»';\n}\n", line: 2, secret: "A", want: "key"},
	})
}
