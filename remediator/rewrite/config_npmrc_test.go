package rewrite

import (
	"errors"
	"testing"

	"gopkg.in/ini.v1"
)

// npmrcGet reads a key of the default section as npm does: the key is
// everything before the first "=".
func npmrcGet(content []byte, key string) (string, error) {
	f, err := ini.LoadSources(ini.LoadOptions{KeyValueDelimiters: "=", IgnoreInlineComment: true}, content)
	if err != nil {
		return "", err
	}
	k, err := f.Section("").GetKey(key)
	if err != nil {
		return "", errors.New("no " + key)
	}
	return k.Value(), nil
}

func TestConfigNpmrc(t *testing.T) {
	tok := fakeToken("npmrc")
	tok2 := fakeToken("npmrc-github")
	npmrc := "registry=https://registry.npmjs.org/\n@acme:registry=https://npm.pkg.github.com\n" +
		"//npm.pkg.github.com/:_authToken=" + tok2 + "\n//registry.npmjs.org/:_authToken = \"" + tok + "\"\n; pinned\nsave-exact=true\n"
	runConfigCases(t, npmrcGet, []configCase{
		{
			// npm expands ${NAME} itself: that is the reference, whatever
			// the style, mapped in vault.env.
			name: "auth tokens, npm's own variables whatever the style", path: "web/.npmrc", content: npmrc,
			reps: []Replacement{stripeRep(4, tok), githubRep(3, tok2)}, style: StyleVals, golden: "npmrc_tokens.npmrc", toolEnv: true,
			want: map[string]string{"//registry.npmjs.org/:_authToken": "${STRIPE_API_KEY}", "//npm.pkg.github.com/:_authToken": "${GITHUB_TOKEN}"},
		},
		{
			name: "a value a comment ends", path: ".npmrc",
			content: "//registry.npmjs.org/:_authToken=" + tok + " ; rotate yearly\n",
			reps:    []Replacement{stripeRep(1, tok)}, golden: "npmrc_comment_after.npmrc", toolEnv: true,
			want: map[string]string{"//registry.npmjs.org/:_authToken": "${STRIPE_API_KEY} ; rotate yearly"},
		},
		{
			name: "secret in a comment is refused", path: ".npmrc",
			content: "; old token " + tok + "\n//registry.npmjs.org/:_authToken=" + tok + "\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "npmrc_comment.txt", wantErr: true,
		},
	})
}
