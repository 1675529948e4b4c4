package rewrite

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// hclGet evaluates an attribute with hclsyntax: "name" at the top level,
// "type.name" in the first block of that type, "name.key" for an object
// item.
func hclGet(content []byte, path string) (string, error) {
	f, diags := hclsyntax.ParseConfig(content, "x.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return "", diags
	}
	body := f.Body.(*hclsyntax.Body)
	parts := strings.Split(path, ".")
	if blocks := body.Blocks; len(parts) > 1 {
		for _, b := range blocks {
			if b.Type == parts[0] {
				body, parts = b.Body, parts[1:]
				break
			}
		}
	}
	a, ok := body.Attributes[parts[0]]
	if !ok {
		return "", errors.New("no " + path)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return "", diags
	}
	if len(parts) > 1 {
		v = v.GetAttr(parts[1])
	}
	if v.Type() != cty.String {
		return "", errors.New(path + " is not a string")
	}
	return v.AsString(), nil
}

func TestConfigHCL(t *testing.T) {
	tok := fakeToken("hcl")
	tok2 := fakeToken("hcl-github")
	pw := fakePassword("hcl")
	pem := fakePEM("hcl")
	tfvars := "# production\nregion         = \"eu-west-1\"\nstripe_api_key = \"" + tok + "\"\n"
	cases := []configCase{
		{
			name: "whole value, vault style", path: "prod.tfvars", content: tfvars,
			reps: []Replacement{stripeRep(3, tok)}, golden: "hcl_vault.tfvars",
			want: map[string]string{"stripe_api_key": stripeRef.Vault()},
		},
		{
			name: "whole value, vals style", path: "prod.tfvars", content: tfvars,
			reps: []Replacement{stripeRep(3, tok)}, style: StyleVals, golden: "hcl_vals.tfvars",
			want: map[string]string{"stripe_api_key": stripeRef.Vals()},
		},
		{
			name: "whole value, env style is escaped from interpolation", path: "prod.tfvars", content: tfvars,
			reps: []Replacement{stripeRep(3, tok)}, style: StyleEnv, golden: "hcl_env.tfvars",
			want: map[string]string{"stripe_api_key": "${STRIPE_API_KEY}"},
		},
		{
			name: "PEM key in a heredoc", path: "main.tf",
			content: "resource \"tls_cert\" \"x\" {\n  private_key = <<EOT\n" + pem + "\nEOT\n  ttl = 3600\n}\n",
			reps:    []Replacement{tlsRep(3, pem)}, golden: "hcl_pem_heredoc.tf",
			want: map[string]string{"resource.private_key": tlsRef.Vault()},
		},
		{
			name: "PEM key in a \\n-escaped string", path: "main.tf",
			content: "locals {\n  key = \"" + jsonEscape(pem) + "\"\n}\n",
			reps:    []Replacement{tlsRep(2, pem)}, golden: "hcl_pem_escaped.tf",
			want: map[string]string{"locals.key": tlsRef.Vault()},
		},
		{
			name: "password inside a URL template with an interpolation", path: "main.tf",
			content: "resource \"app\" \"shop\" {\n  database_url = \"postgres://shop:" + pw + "@${var.db_host}/shop\"\n}\n",
			reps:    []Replacement{dbRep(2, pw)}, golden: "hcl_url_password.tf",
		},
		{
			name: "two secrets, in a variable default and an object", path: "variables.tf",
			content: "variable \"stripe_api_key\" {\n  type    = string\n  default = \"" + tok + "\"\n}\n\nlocals {\n  tokens = { github = \"" + tok2 + "\", other = [1, 2] }\n}\n",
			reps:    []Replacement{stripeRep(3, tok), githubRep(7, tok2)}, golden: "hcl_two_secrets.tf",
			want: map[string]string{"variable.default": stripeRef.Vault(), "locals.tokens.github": githubRef.Vault()},
		},
		{
			name: "same secret twice, reported once", path: "vault/config.hcl",
			content: "prod { token = \"" + tok + "\" }\nstaging { token = \"" + tok + "\" }\n",
			reps:    []Replacement{stripeRep(1, tok)}, golden: "hcl_same_secret_twice.hcl",
		},
		{
			name: "does not parse before the edit", path: "main.tf",
			content: "variable \"k\" {\n  default = \"" + tok + "\"\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "hcl_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: "prod.tfvars", content: tfvars,
			reps: []Replacement{githubRep(3, tok2)}, golden: "hcl_not_found.txt", wantErr: true,
		},
	}
	runConfigCases(t, hclGet, cases)
}

func TestConfigHCLIdentifier(t *testing.T) {
	tok := fakeToken("hcl-ident")
	runIdentCases(t, []identCase{
		{"attribute", "a.tfvars", "stripeApiKey = \"" + tok + "\"\n", 1, tok, "stripeApiKey"},
		{"attribute in a block", "a.tf", "provider \"x\" {\n  token = \"" + tok + "\"\n}\n", 2, tok, "token"},
		{"variable default", "a.tf", "variable \"db_password\" {\n  default = \"" + tok + "\"\n}\n", 2, tok, "db_password"},
		{"object item", "a.hcl", "m = {\n  \"api-key\" = \"" + tok + "\"\n}\n", 2, tok, "api-key"},
		{"function argument", "a.tf", "k = base64encode(\"" + tok + "\")\n", 1, tok, "k"},
		{"unparsable file", "a.tf", "k = \"" + tok + "\n", 1, tok, ""},
	})
}
