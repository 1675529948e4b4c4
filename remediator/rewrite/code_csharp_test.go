package rewrite

import "testing"

func TestCodeCSharp(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "whole string, const field becomes static readonly", path: "Billing.cs", golden: "csharp_whole.cs",
			src: `namespace Shop;

public class Billing
{
    private const string StripeKey = "«A»";
    private readonly string _token = @"«B»";
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "password inside a connection string: regular, verbatim, interpolated", path: "Db.cs", golden: "csharp_url_password.cs",
			src: `class Db
{
    string a = "Host=db;Password=«PW»;Database=\"shop\"";
    string b = @"Host=db;Password=«PW»;Name=""x""";
    string c = $"Host={host};Password=«PW»;".Trim();
}
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a verbatim string, local const", path: "Tls.cs", golden: "csharp_pem.cs",
			src:  "class Tls\n{\n    void Load()\n    {\n        const string key = @\"«PEM»\";\n        Use(key);\n    }\n}\n",
			reps: []codeRep{{secret: "PEM", env: "TLS_KEY"}}},

		{name: "same secret twice", path: "App.cs", golden: "csharp_twice.cs",
			src: `class App
{
    void F()
    {
        var c = new Client { ApiKey = "«A»" };
        Connect(apiKey: "«A»");
    }
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "does not parse before", path: "App.cs", golden: "csharp_unparsable",
			src: "class App { string k = \"«A»\" }\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file does not parse as C# before the edit"},

		{name: "secret in a comment", path: "App.cs", golden: "csharp_comment",
			src: "class App\n{\n    // «A»\n}\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a comment"},

		{name: "literal not found", path: "App.cs", golden: "csharp_not_found",
			src: "class App {}\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 1}},
			reason: "the secret was not found in the file"},

		{name: "UTF-8 literal", path: "App.cs", golden: "csharp_utf8",
			src:  "class App { byte[] k = \"«A»\"u8.ToArray(); }\n",
			reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}, reason: "the secret is a C# UTF-8 string literal"},

		{name: "secret in an attribute", path: "App.cs", golden: "csharp_attribute",
			src: "class App\n{\n    [Key(\"«A»\")]\n    public string K { get; set; }\n}\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a C# attribute, which needs a constant"},
	})
}

func TestCodeCSharpIdentifier(t *testing.T) {
	src := `class App
{
    private const string StripeKey = "«A»";
    void F()
    {
        this.Token = "«B»";
        cfg["github_token"] = "«B»";
        Connect(password: "«PW»");
        var o = new O { ApiKey = "«A»" };
        Console.WriteLine("«A»");
    }
}
`
	runCodeIdentCases(t, []codeIdentCase{
		{name: "const field", path: "a.cs", src: src, line: 3, secret: "A", want: "StripeKey"},
		{name: "member assignment", path: "a.cs", src: src, line: 6, secret: "B", want: "Token"},
		{name: "indexer assignment", path: "a.cs", src: src, line: 7, secret: "B", want: "github_token"},
		{name: "named argument", path: "a.cs", src: src, line: 8, secret: "PW", want: "password"},
		{name: "object initializer", path: "a.cs", src: src, line: 9, secret: "A", want: "ApiKey"},
		{name: "call argument has no name", path: "a.cs", src: src, line: 10, secret: "A", want: ""},
	})
}
