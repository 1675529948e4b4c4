package rewrite

import "testing"

func TestCodeJava(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "whole string", path: "src/main/java/shop/Billing.java", golden: "java_whole.java",
			src: `package shop;

public class Billing {
    private static final String STRIPE_KEY = "«A»";
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "password inside a URL, with an escaped quote and a method call", path: "Db.java", golden: "java_url_password.java",
			src: `class Db {
    String url = "jdbc:postgresql://db/shop?user=shop&password=«PW»";
    String quoted = "say \"«PW»\"".trim();
}
`, reps: []codeRep{{secret: "PW", env: "DB_PASSWORD"}}},

		{name: "PEM in a text block", path: "Tls.java", golden: "java_text_block.java",
			src:  "class Tls {\n    String key = \"\"\"\n«PEM»\"\"\";\n}\n",
			reps: []codeRep{{secret: "PEM", env: "TLS_KEY", line: 2}}},

		{name: "same secret twice", path: "App.java", golden: "java_twice.java",
			src: `class App {
    void init(Map<String, String> m) {
        m.put("stripe_key", "«A»");
        client.setKey("«A»");
    }
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}}},

		{name: "two different secrets", path: "App.java", golden: "java_two_secrets.java",
			src: `class App {
    String stripe = "«A»", github = "Bearer «B»";
}
`, reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}, {secret: "B", env: "GITHUB_TOKEN"}}},

		{name: "does not parse before", path: "App.java", golden: "java_unparsable",
			src: "class App { String k = \"«A»\" }\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the file does not parse as Java before the edit"},

		{name: "secret in a comment", path: "App.java", golden: "java_comment",
			src: "class App {\n    /* «A» */\n}\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a comment"},

		{name: "literal not found", path: "App.java", golden: "java_not_found",
			src: "class App {}\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY", line: 1}},
			reason: "the secret was not found in the file"},

		{name: "secret in an annotation", path: "App.java", golden: "java_annotation",
			src: "class App {\n    @Value(\"«A»\") String key;\n}\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is in a Java annotation, which needs a constant"},

		{name: "secret inside part of a text block", path: "App.java", golden: "java_text_block_part",
			src: "class App {\n    String k = \"\"\"\n        key=«A»\n        \"\"\";\n}\n", reps: []codeRep{{secret: "A", env: "STRIPE_API_KEY"}},
			reason: "the secret is part of a Java text block"},
	})
}

func TestCodeJavaIdentifier(t *testing.T) {
	src := `class App {
    private static final String STRIPE_KEY = "«A»";
    void f() {
        this.token = "«B»";
        apiKey = "«A»";
        props.setProperty("github.token", "«B»");
        String url = "jdbc:x?password=" + "«PW»";
        call("«A»");
    }
}
`
	runCodeIdentCases(t, []codeIdentCase{
		{name: "field", path: "App.java", src: src, line: 2, secret: "A", want: "STRIPE_KEY"},
		{name: "field access assignment", path: "App.java", src: src, line: 4, secret: "B", want: "token"},
		{name: "assignment", path: "App.java", src: src, line: 5, secret: "A", want: "apiKey"},
		{name: "setProperty key", path: "App.java", src: src, line: 6, secret: "B", want: "github.token"},
		{name: "local through a concatenation", path: "App.java", src: src, line: 7, secret: "PW", want: "url"},
		{name: "call argument has no name", path: "App.java", src: src, line: 8, secret: "A", want: ""},
	})
}
