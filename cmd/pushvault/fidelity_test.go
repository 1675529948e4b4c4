package main_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
)

// fidelityDir holds the fidelity suite: real-world-shaped files written for
// this project (a Spring Boot application.yml, a Django settings.py, a Helm
// values file, a GitHub Actions workflow, …), each with a planted secret
// marked @@KIND@@ (see plantSecrets).
const fidelityDir = "testdata/fidelity"

// fidelityCase is one file of the suite with its secrets planted.
type fidelityCase struct {
	path    string   // in the repository
	content string   // with fresh secrets in place of the markers
	values  []string // the planted secrets, as written
	vaulted []string // the planted secrets as Vault must hold them (decoded)
}

// TestFixFidelity runs `scan --fix` on the fidelity suite and checks each
// file the way a developer receiving the fix would: the fixed file parses
// with an independent parser for its format; a byte-level diff shows only
// the secret's span changed (its quotes at most), plus imports the
// language needs and vault.env; no other file changes; no file needs a
// manual step; each reference the fix wrote names a secret `vault kv get`
// reads back as the planted value; and `pushvault exec` resolves every
// reference (written into the file or mapped in vault.env) to that value.
func TestFixFidelity(t *testing.T) {
	srv := vaulttest.Start(t)
	cases := loadFidelity(t, secrettest.Fresh(t))
	if len(cases) < 20 {
		t.Fatalf("the fidelity suite has %d files, want 20 or more", len(cases))
	}
	r := gittest.New(t)
	r.Git("remote", "add", "origin", "https://github.com/acme/fidelity.git")
	files := map[string]string{}
	var values []string
	for _, c := range cases {
		files[c.path] = c.content
		values = append(values, c.values...)
	}
	head := r.Commit("Dana <dana@acme.test>", "real-world files", files)
	run := vaultRun(t, srv, t.TempDir(), r.Dir, "scan", "--fix", "--format", "json")
	if run.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", run.code, run.stderr)
	}
	for _, v := range values {
		if strings.Contains(run.stdout+run.stderr, v) {
			t.Fatalf("a planted value is in pushvault's output")
		}
	}
	var report struct {
		Fix struct {
			Branch  string          `json:"branch"`
			Secrets []fixSecretJSON `json:"secrets"`
		} `json:"fix"`
	}
	if err := json.Unmarshal([]byte(run.stdout), &report); err != nil {
		t.Fatalf("report: %v", err)
	}
	fix := report.Fix.Branch
	if fix == "" {
		t.Fatalf("no fix branch\n%s", run.stderr)
	}
	checkOnlyPlantedFilesChanged(t, r, head, fix, cases)
	for _, c := range cases {
		before, after := c.content, showFile(r, fix, c.path)
		if err := parse(c.path, []byte(before)); err != nil {
			t.Fatalf("%s: the suite's file itself does not parse: %v", c.path, err)
		}
		if err := parse(c.path, []byte(after)); err != nil {
			t.Errorf("%s: the fixed file does not parse: %v\n%s", c.path, err, after)
		}
		if diff := r.Git("diff", "-U0", "--no-color", head, fix, "--", c.path); onlySecretsChanged(diff, c.values) != nil {
			t.Errorf("%s: %v\n%s", c.path, onlySecretsChanged(diff, c.values), redactValues(diff, c.values))
		}
	}
	checkFidelityReferences(t, srv, r, fix, cases, report.Fix.Secrets)
}

// fixSecretJSON is the part of a `scan --fix --format json` secret the
// fidelity suite reads.
type fixSecretJSON struct {
	Detector string `json:"detector"`
	Edits    []struct {
		Path    string `json:"path"`
		EnvName string `json:"env_name"`
		Ref     string `json:"reference"`
	} `json:"edits"`
	Manual []struct {
		Path   string `json:"path"`
		Reason string `json:"reason"`
	} `json:"manual"`
}

// loadFidelity reads the suite and plants fresh secrets from g in it.
func loadFidelity(t *testing.T, g *secrettest.Gen) []fidelityCase {
	t.Helper()
	var cases []fidelityCase
	err := filepath.WalkDir(fidelityDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(fidelityDir, p)
		if err != nil {
			return err
		}
		content, values, vaulted := plantSecrets(t, g, string(data))
		if len(values) == 0 {
			return fmt.Errorf("%s: no @@KIND@@ marker", rel)
		}
		cases = append(cases, fidelityCase{path: filepath.ToSlash(rel), content: content, values: values, vaulted: vaulted})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

var markerRe = regexp.MustCompile(`@@([A-Z0-9_]+)@@`)

// plantSecrets replaces each @@KIND@@ marker of content with a fresh
// secret of that kind (one value per kind in a file: AWS_ID and
// AWS_SECRET are the two halves of one key pair); @@B64_KIND@@ writes its
// base64, as a Kubernetes Secret's data holds it. It returns the values as
// written and as Vault must hold them.
func plantSecrets(t *testing.T, g *secrettest.Gen, content string) (string, []string, []string) {
	t.Helper()
	awsID, awsSecret := g.AWS()
	kinds := map[string]func() string{
		"STRIPE": g.Stripe, "GITHUB": g.GitHub, "SLACK": g.Slack, "SENDGRID": g.SendGrid, "NPM": g.NPM,
		"PGPASS": g.PostgresPassword, "AWS_ID": func() string { return awsID }, "AWS_SECRET": func() string { return awsSecret },
	}
	planted := map[string]string{}
	var values, vaulted []string
	out := markerRe.ReplaceAllStringFunc(content, func(m string) string {
		kind := markerRe.FindStringSubmatch(m)[1]
		if v, ok := planted[kind]; ok {
			return v
		}
		gen, ok := kinds[strings.TrimPrefix(kind, "B64_")]
		if !ok {
			t.Fatalf("unknown marker %s", m)
		}
		v := gen()
		vaulted = append(vaulted, v)
		if kind != strings.TrimPrefix(kind, "B64_") {
			v = base64.StdEncoding.EncodeToString([]byte(v))
		}
		planted[kind] = v
		values = append(values, v)
		return v
	})
	return out, values, vaulted
}

// showFile returns path at rev (with its final newline, unlike Repo.Git).
func showFile(r *gittest.Repo, rev, path string) string {
	out, err := exec.Command("git", "-C", r.Dir, "show", rev+":"+path).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// checkOnlyPlantedFilesChanged checks that the fix commit changes the
// suite's files and vault.env, nothing else.
func checkOnlyPlantedFilesChanged(t *testing.T, r *gittest.Repo, head, fix string, cases []fidelityCase) {
	t.Helper()
	want := map[string]bool{"vault.env": true}
	for _, c := range cases {
		want[c.path] = true
	}
	changed := map[string]bool{}
	for _, p := range strings.Split(r.Git("diff", "--name-only", head, fix), "\n") {
		changed[p] = true
		if !want[p] {
			t.Errorf("the fix changed %s, which holds no secret", p)
		}
	}
	for _, c := range cases {
		if !changed[c.path] {
			t.Errorf("%s: not rewritten", c.path)
		}
	}
}

// importLine is a line a rewrite may add so that the environment lookup it
// wrote compiles: an import, a using directive, a require, or the lines of
// a Go import block.
var importLine = regexp.MustCompile(`^\s*(import\b.*|from \S+ import .*|using [\w.]+;|require\b.*|const \w+ = require\(.*\);?|"[\w/]+"|\)|)$`)

// onlySecretsChanged checks a `git diff -U0` of one file: every hunk either
// only adds import lines, or replaces text whose changed span is the
// planted values plus at most the quotes around them, with text holding no
// planted value.
func onlySecretsChanged(diff string, values []string) error {
	for _, h := range diffHunks(diff) {
		old, new := strings.Join(h.removed, "\n"), strings.Join(h.added, "\n")
		if !containsAny(old, values) {
			for _, l := range append(h.removed, h.added...) {
				if !importLine.MatchString(l) {
					return fmt.Errorf("a change beside the secret: %q", l)
				}
			}
			continue
		}
		if containsAny(new, values) {
			return fmt.Errorf("the rewritten text still holds a planted value")
		}
		pairs := [][2]string{{old, new}}
		if len(h.removed) == len(h.added) { // line for line: compare each pair
			pairs = pairs[:0]
			for i := range h.removed {
				pairs = append(pairs, [2]string{h.removed[i], h.added[i]})
			}
		}
		for _, p := range pairs {
			if extra := beyondSecrets(p[0], p[1], values); extra != "" {
				return fmt.Errorf("the fix changed more than the secret: %q went too", extra)
			}
		}
	}
	return nil
}

// lookupModifiers are the declaration changes an environment lookup needs:
// a C# const and a Kotlin const val take only compile-time constants.
var lookupModifiers = strings.NewReplacer("const string ", "static readonly string ", "const val ", "val ")

// beyondSecrets returns what of old changed in new besides the planted
// values and the quotes and spaces around them: old and new minus their
// common prefix and suffix, the span widened to cover every value it
// touches, with the values, quotes and spaces removed.
func beyondSecrets(old, new string, values []string) string {
	if m := lookupModifiers.Replace(old); m != old && strings.HasPrefix(new, m[:strings.Index(m, "=")]) {
		old = m
	}
	p := 0
	for p < len(old) && p < len(new) && old[p] == new[p] {
		p++
	}
	s := 0
	for s < len(old)-p && s < len(new)-p && old[len(old)-1-s] == new[len(new)-1-s] {
		s++
	}
	start, end := p, len(old)-s
	for _, v := range values {
		for i := strings.Index(old, v); i >= 0; i = indexFrom(old, v, i+1) {
			if i < end && i+len(v) > start {
				start, end = min(start, i), max(end, i+len(v))
			}
		}
	}
	span := old[start:end]
	for _, v := range values {
		span = strings.ReplaceAll(span, v, "")
	}
	return strings.Trim(span, "\"'` \t")
}

func indexFrom(s, sub string, from int) int {
	if from > len(s) {
		return -1
	}
	if i := strings.Index(s[from:], sub); i >= 0 {
		return from + i
	}
	return -1
}

// hunk is one hunk of a unified diff: the lines it removes and adds.
type hunk struct{ removed, added []string }

// diffHunks splits `git diff -U0` output into hunks.
func diffHunks(diff string) []hunk {
	var hs []hunk
	for _, l := range strings.Split(diff, "\n") {
		switch {
		case strings.HasPrefix(l, "@@"):
			hs = append(hs, hunk{})
		case len(hs) == 0, strings.HasPrefix(l, `\ No newline`):
		case strings.HasPrefix(l, "-"):
			hs[len(hs)-1].removed = append(hs[len(hs)-1].removed, l[1:])
		case strings.HasPrefix(l, "+"):
			hs[len(hs)-1].added = append(hs[len(hs)-1].added, l[1:])
		}
	}
	return hs
}

// checkFidelityReferences checks every edit the report lists: no manual
// steps; each reference, read with `vault kv get`, is one of its file's
// planted values; and `pushvault exec`, in a checkout of the fix branch,
// resolves each reference (passed in the environment) and each vault.env
// name an edit wrote to that same value. Every planted value is reachable
// through some reference.
func checkFidelityReferences(t *testing.T, srv *vaulttest.Server, r *gittest.Repo, fix string, cases []fidelityCase, secrets []fixSecretJSON) {
	t.Helper()
	planted := map[string][]string{}
	for _, c := range cases {
		planted[c.path] = c.vaulted
	}
	type ref struct{ path, env, ref string }
	var refs []ref
	for _, s := range secrets {
		for _, m := range s.Manual {
			t.Errorf("%s (%s): manual step: %s", m.Path, s.Detector, m.Reason)
		}
		for _, e := range s.Edits {
			refs = append(refs, ref{e.Path, e.EnvName, e.Ref})
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].path < refs[j].path })
	var env []string
	for i, rf := range refs {
		env = append(env, "FIDELITY_REF_"+strconv.Itoa(i)+"="+rf.ref)
	}
	wt := gittest.Clone(t, r.Dir, "--branch", fix)
	// The references go in through the environment exec inherits.
	out := runBinary(t, wt.Dir, append(env, "PUSHVAULT_DATA_DIR="+t.TempDir(), "VAULT_ADDR="+srv.Addr, "VAULT_TOKEN="+srv.Token),
		"exec", "--", "env", "-0")
	if out.code != 0 {
		t.Fatalf("exec: %s", out.stderr)
	}
	got := envMap(out.stdout)
	reached := map[string]bool{}
	for i, rf := range refs {
		kv := vaultKVGet(t, srv, rf.ref)
		if !isOneOf(kv, planted[rf.path]) {
			t.Errorf("%s: `vault kv get` of its reference is not a value planted there", rf.path)
		}
		if v := got["FIDELITY_REF_"+strconv.Itoa(i)]; strings.TrimSpace(v) != kv {
			t.Errorf("%s: exec resolves its reference to something else than Vault holds", rf.path)
		}
		// A code edit reads the variable it names (mapped in vault.env); a
		// config edit writes the reference itself (its base64 in a
		// Kubernetes Secret's data).
		fixed := showFile(r, fix, rf.path)
		written := strings.Contains(fixed, rf.ref) || strings.Contains(fixed, base64.StdEncoding.EncodeToString([]byte(rf.ref)))
		if rf.env != "" && strings.Contains(fixed, rf.env) && !written && strings.TrimSpace(got[rf.env]) != kv {
			t.Errorf("%s: exec resolves %s (vault.env) to something else than Vault holds", rf.path, rf.env)
		}
		reached[rf.path+"\x00"+kv] = true
	}
	for _, c := range cases {
		for _, v := range c.vaulted {
			if !reached[c.path+"\x00"+strings.TrimSpace(v)] {
				t.Errorf("%s: a planted value has no reference that resolves to it", c.path)
			}
		}
	}
}

// vaultRefRe reads a reference `vault:MOUNT/data/PATH#KEY`, bare or
// wrapped in ${…}.
var vaultRefRe = regexp.MustCompile(`vault:([^/#]+)/data/([^#]+)#([^#}]+)`)

// vaultKVGet reads ref with the real vault CLI (`vault kv get -field`),
// trimmed.
func vaultKVGet(t *testing.T, srv *vaulttest.Server, ref string) string {
	t.Helper()
	m := vaultRefRe.FindStringSubmatch(ref)
	if m == nil {
		t.Fatalf("reference %q is not a KV v2 reference", ref)
	}
	bin, err := vaulttest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "kv", "get", "-mount="+m[1], "-field="+m[3], m[2])
	cmd.Env = append(os.Environ(), "VAULT_ADDR="+srv.Addr, "VAULT_TOKEN="+srv.Token)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vault kv get %s: %v", m[2], err)
	}
	return strings.TrimSpace(string(out))
}

// redactValues replaces each of values in s, for failure messages.
func redactValues(s string, values []string) string {
	for _, v := range values {
		s = strings.ReplaceAll(s, v, "«planted»")
	}
	return s
}

func isOneOf(v string, values []string) bool {
	for _, w := range values {
		if strings.TrimSpace(w) == v {
			return true
		}
	}
	return false
}
