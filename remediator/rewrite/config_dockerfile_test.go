package rewrite

import (
	"testing"
)

func TestConfigDockerfile(t *testing.T) {
	tok := fakeToken("dockerfile")
	tok2 := fakeToken("dockerfile-github")
	pw := fakePassword("dockerfile")
	df := "# syntax=docker/dockerfile:1\nFROM node:20-alpine\nWORKDIR /app\nENV NODE_ENV=production \\\n    STRIPE_API_KEY=" + tok + "\nCOPY . .\nCMD [\"node\", \"server.js\"]\n"
	cases := []configCase{
		{
			name: "whole value, vault style", path: "Dockerfile", content: df,
			reps: []Replacement{stripeRep(5, tok)}, golden: "dockerfile_vault.dockerfile",
		},
		{
			name: "whole value, vals style", path: "Dockerfile", content: df,
			reps: []Replacement{stripeRep(5, tok)}, style: StyleVals, golden: "dockerfile_vals.dockerfile",
		},
		{
			name: "whole value, env style", path: "Dockerfile.prod", content: df,
			reps: []Replacement{stripeRep(5, tok)}, style: StyleEnv, golden: "dockerfile_env.dockerfile",
		},
		{
			name: "legacy ENV KEY value form and ARG", path: "api.dockerfile",
			content: "ARG BASE=alpine\nFROM ${BASE}\nENV STRIPE_API_KEY " + tok + "\nARG GITHUB_TOKEN=\"" + tok2 + "\"\n",
			reps:    []Replacement{stripeRep(3, tok), githubRep(4, tok2)}, golden: "dockerfile_legacy_and_arg.dockerfile",
		},
		{
			name: "password inside a database URL keeps the reference unexpanded", path: "Dockerfile",
			content: "FROM alpine\nENV DATABASE_URL=\"postgres://shop:" + pw + "@db/shop\" PORT=80\n",
			reps:    []Replacement{dbRep(2, pw)}, golden: "dockerfile_url_password.dockerfile",
		},
		{
			name: "password inside a database URL, env style", path: "Dockerfile",
			content: "FROM alpine\nENV DATABASE_URL=postgres://shop:" + pw + "@db/shop\n",
			reps:    []Replacement{dbRep(2, pw)}, style: StyleEnv, golden: "dockerfile_url_password_env.dockerfile",
		},
		{
			name: "same secret twice, with a heredoc in between", path: "Dockerfile",
			content: "FROM alpine\nENV A=" + tok + "\nRUN <<EOF\necho ENV B=x\nEOF\nENV B='" + tok + "'\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "dockerfile_same_secret_twice.dockerfile",
		},
		{
			name: "backtick escape directive", path: "Dockerfile",
			content: "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nENV GITHUB_TOKEN=" + tok2 + " `\n    PATH=C:\\tools\n",
			reps:    []Replacement{githubRep(3, tok2)}, golden: "dockerfile_backtick_escape.dockerfile",
		},
		{
			name: "secret in a RUN line is refused", path: "Dockerfile",
			content: "FROM alpine\nRUN curl -H 'Authorization: Bearer " + tok + "' https://api.example.com\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "dockerfile_run.txt", wantErr: true,
		},
		{
			name: "does not parse before the edit", path: "Dockerfile",
			content: "FROM alpine\nENV STRIPE_API_KEY=\"" + tok + "\nRUN true\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "dockerfile_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: "Dockerfile", content: df,
			reps: []Replacement{githubRep(5, tok2)}, golden: "dockerfile_not_found.txt", wantErr: true,
		},
	}
	runConfigCases(t, nil, cases)
}

func TestConfigDockerfileValidation(t *testing.T) {
	cases := []struct {
		name    string
		content string
		ok      bool
	}{
		{"minimal", "FROM alpine\n", true},
		{"ARG before FROM", "ARG V=1\nFROM alpine:${V}\n", true},
		{"lower-case instructions", "from alpine\nrun true\n", true},
		{"continuation with comment and blank lines", "FROM alpine\nRUN a \\\n# note\n\n  && b\n", true},
		{"heredoc", "FROM alpine\nCOPY <<-EOT /x\n\thello\n\tEOT\n", true},
		{"empty file", "# nothing\n", false},
		{"instruction before FROM", "RUN true\nFROM alpine\n", false},
		{"unknown instruction", "FROM alpine\nRUNN true\n", false},
		{"instruction without arguments", "FROM alpine\nWORKDIR\n", false},
		{"unterminated heredoc", "FROM alpine\nRUN <<EOF\necho\n", false},
		{"unbalanced quote in ENV", "FROM alpine\nENV A=\"x\n", false},
		{"ENV without a value", "FROM alpine\nENV A\n", false},
		{"bad escape directive", "# escape=x\nFROM alpine\n", false},
		{"ONBUILD FROM", "FROM alpine\nONBUILD FROM x\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := dockerfileSyntax{}.parse([]byte(tc.content))
			if (err == nil) != tc.ok {
				t.Errorf("parse = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestConfigDockerfileIdentifier(t *testing.T) {
	tok := fakeToken("dockerfile-ident")
	runIdentCases(t, []identCase{
		{"ENV pair", "Dockerfile", "FROM a\nENV STRIPE_KEY=" + tok + "\n", 2, tok, "STRIPE_KEY"},
		{"second ENV pair", "Dockerfile", "FROM a\nENV A=1 API_TOKEN=\"" + tok + "\"\n", 2, tok, "API_TOKEN"},
		{"legacy ENV", "Dockerfile", "FROM a\nENV API_TOKEN " + tok + "\n", 2, tok, "API_TOKEN"},
		{"ARG", "Dockerfile", "ARG NPM_TOKEN=" + tok + "\nFROM a\n", 1, tok, "NPM_TOKEN"},
		{"continuation line", "Dockerfile", "FROM a\nENV A=1 \\\n  B_KEY=" + tok + "\n", 3, tok, "B_KEY"},
		{"RUN line", "Dockerfile", "FROM a\nRUN echo " + tok + "\n", 2, tok, ""},
	})
}
