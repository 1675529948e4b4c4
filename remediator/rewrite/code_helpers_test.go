package rewrite

import (
	"errors"
	"fmt"
	gofmt "go/format"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/golden"
)

// Fake secrets, built at run time so that no secret-looking string is in
// the source. Sources in the tests name them with «A», «B», «PW», «PLUS»
// and «PEM».
var codeSecrets = map[string]string{
	"A":    "sk_live_" + codeAlnum(24, 1),
	"B":    "ghp_" + codeAlnum(36, 2),
	"PW":   "Pw" + codeAlnum(18, 3),
	"PLUS": "+Pl" + codeAlnum(20, 7),
	"PEM":  "-----BEGIN RSA PRIVATE KEY-----\n" + codeAlnum(64, 4) + "\n" + codeAlnum(64, 5) + "\n" + codeAlnum(40, 6) + "\n-----END RSA PRIVATE KEY-----",
}

// codeAlnum is n deterministic pseudo-random alphanumerics.
func codeAlnum(n int, seed uint32) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	x := seed*2654435761 + 12345
	b := make([]byte, n)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = chars[(x>>16)%uint32(len(chars))]
	}
	return string(b)
}

// codeExpand puts the fake secrets in place of «NAME».
func codeExpand(src string) string {
	for k, v := range codeSecrets {
		src = strings.ReplaceAll(src, "«"+k+"»", v)
	}
	return src
}

// codeRep is a replacement in a test: which secret, under which name; the
// line is found in the source unless given.
type codeRep struct {
	secret string // key of codeSecrets
	env    string
	line   int
}

func (r codeRep) build(src string) Replacement {
	lit := codeSecrets[r.secret]
	line := r.line
	if line == 0 {
		if i := strings.Index(src, lit); i >= 0 {
			line = strings.Count(src[:i], "\n") + 1
		} else {
			line = 1
		}
	}
	return Replacement{Line: line, Literal: lit, EnvName: r.env,
		Ref: Ref{Mount: "secret", Path: "pushvault/acme/shop/" + strings.ToLower(r.env), Key: "value"}}
}

// codeCase is one rewrite: the rewritten file or the refusal goes to the
// golden file testdata/golden/rewrite/code/<golden>.golden.
type codeCase struct {
	name   string
	path   string
	src    string
	reps   []codeRep
	golden string
	// reason, when set, is the UnsafeError reason expected instead of a
	// rewrite.
	reason string
}

func runCodeCases(t *testing.T, cases []codeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runCodeCase(t, c) })
	}
}

func runCodeCase(t *testing.T, c codeCase) {
	t.Helper()
	src := codeExpand(c.src)
	var reps []Replacement
	for _, r := range c.reps {
		reps = append(reps, r.build(src))
	}
	res, err := Apply(c.path, []byte(src), reps, Options{})
	if c.reason != "" {
		var ue *UnsafeError
		if !errors.As(err, &ue) {
			t.Fatalf("Apply: got result %v, error %v; want an UnsafeError", res != nil, err)
		}
		if res != nil {
			t.Errorf("Apply returned content with an UnsafeError")
		}
		if ue.Reason != c.reason {
			t.Errorf("Reason = %q, want %q", ue.Reason, c.reason)
		}
		text := fmt.Sprintf("error: %s\nreason: %s\nmanual: %s\n", ue.Error(), ue.Reason, ue.Manual)
		codeNoSecret(t, "the error", text)
		golden.Assert(t, "rewrite/code/"+c.golden+".err.golden", text)
		return
	}
	if err != nil {
		codeNoSecret(t, "the error", err.Error())
		t.Fatalf("Apply: %v", err)
	}
	codeNoSecret(t, "the rewritten file", string(res.Content))
	golden.Assert(t, "rewrite/code/"+c.golden+".golden", string(res.Content))

	want := map[string]string{}
	for _, r := range reps {
		want[r.EnvName] = r.Ref.Vault()
	}
	if diff := cmp.Diff(want, res.Env); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	codeCheckParses(t, c.path, res.Content)
}

// codeNoSecret fails if any fake secret, or any long line of the PEM, is in
// text.
func codeNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for k, v := range codeSecrets {
		if strings.Contains(text, v) {
			t.Errorf("%s contains the secret %s", what, k)
		}
		for _, l := range strings.Split(v, "\n") {
			if len(l) >= 16 && strings.Contains(text, l) {
				t.Errorf("%s contains a line of the secret %s", what, k)
			}
		}
	}
}

// codeCheckParses re-parses a rewritten file independently of the format.
func codeCheckParses(t *testing.T, path string, content []byte) {
	t.Helper()
	if strings.HasSuffix(path, ".go") {
		out, err := gofmt.Source(content)
		if err != nil {
			t.Fatalf("rewritten Go file does not parse: %v", err)
		}
		if string(out) != string(content) {
			t.Errorf("rewritten Go file is not gofmt-clean")
		}
		return
	}
	f, ok := codeFormat(path).(*tsSource)
	if !ok {
		t.Fatalf("no tree-sitter format for %s", path)
	}
	if _, ok := tsParse(content, f.lang.grammar()); !ok {
		t.Errorf("rewritten file has ERROR or MISSING nodes")
	}
}

// codeIdentCase is one Identifier call.
type codeIdentCase struct {
	name   string
	path   string
	src    string
	line   int
	secret string // key of codeSecrets, or "" for no literal
	want   string // raw, before Normalize
}

func runCodeIdentCases(t *testing.T, cases []codeIdentCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := codeExpand(c.src)
			f := codeFormat(c.path)
			if f == nil {
				t.Fatalf("no code format for %s", c.path)
			}
			got := f.identifier([]byte(src), c.line, codeSecrets[c.secret])
			if got != c.want {
				t.Errorf("identifier = %q, want %q", got, c.want)
			}
			if got, want := Identifier(c.path, []byte(src), c.line, codeSecrets[c.secret]), Normalize(c.want); got != want {
				t.Errorf("Identifier = %q, want %q", got, want)
			}
		})
	}
}

func TestCodeFormatByExtension(t *testing.T) {
	for path, want := range map[string]string{
		"main.go": "Go", "app/settings.py": "Python",
		"a.js": "JavaScript", "a.mjs": "JavaScript", "a.cjs": "JavaScript", "a.jsx": "JavaScript",
		"a.ts": "TypeScript", "a.tsx": "TypeScript", "A.java": "Java", "a.kt": "Kotlin", "build.gradle.kts": "Kotlin",
		"a.rb": "Ruby", "index.php": "PHP", "Program.cs": "C#", "deploy.sh": "shell", "x.bash": "shell",
		"README.md": "", "Makefile": "", "a.c": "",
	} {
		f := codeFormat(path)
		got := ""
		if f != nil {
			got = f.name()
		}
		if got != want {
			t.Errorf("codeFormat(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestCodeRefusesBadReplacements(t *testing.T) {
	runCodeCases(t, []codeCase{
		{name: "env name that is not an identifier", path: "main.py", golden: "bad_env_name",
			src: "KEY = \"«A»\"\n", reps: []codeRep{{secret: "A", env: "STRIPE-KEY"}},
			reason: "the environment variable name is not a valid identifier"},
	})
}
