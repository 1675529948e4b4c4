package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
	hcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	vaultapi "github.com/hashicorp/vault/api"
	"github.com/joho/godotenv"
	"github.com/magiconair/properties"
	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/bash"
	"github.com/smacker/go-tree-sitter/csharp"
	"github.com/smacker/go-tree-sitter/dockerfile"
	"github.com/smacker/go-tree-sitter/java"
	"github.com/smacker/go-tree-sitter/javascript"
	"github.com/smacker/go-tree-sitter/kotlin"
	"github.com/smacker/go-tree-sitter/php"
	"github.com/smacker/go-tree-sitter/python"
	"github.com/smacker/go-tree-sitter/ruby"
	"github.com/smacker/go-tree-sitter/typescript/typescript"
	"gopkg.in/ini.v1"
	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/fixture"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/vaulttest"
)

// parse checks content with an independent real parser for its format.
func parse(p string, content []byte) error {
	base := path.Base(p)
	switch ext := path.Ext(p); {
	case base == ".env" || ext == ".env":
		_, err := godotenv.Unmarshal(string(content))
		return err
	case ext == ".yaml" || ext == ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(content))
		for {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	case ext == ".json":
		var v any
		return json.Unmarshal(content, &v)
	case ext == ".toml":
		var v map[string]any
		_, err := toml.Decode(string(content), &v)
		return err
	case ext == ".ini":
		_, err := ini.Load(content)
		return err
	case base == ".npmrc": // npm's ini: the key ends at the first "="
		_, err := ini.LoadSources(ini.LoadOptions{KeyValueDelimiters: "="}, content)
		return err
	case ext == ".properties":
		_, err := properties.Load(content, properties.UTF8)
		return err
	case ext == ".xml" || ext == ".config": // .NET's Web.config and App.config are XML
		d := xml.NewDecoder(bytes.NewReader(content))
		for {
			if _, err := d.Token(); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	case ext == ".tfvars" || ext == ".tf" || ext == ".hcl":
		if _, diags := hclsyntax.ParseConfig(content, p, hcl.Pos{Line: 1, Column: 1}); diags.HasErrors() {
			return diags
		}
		return nil
	case ext == ".go":
		if _, err := parser.ParseFile(token.NewFileSet(), p, content, parser.AllErrors); err != nil {
			return err
		}
		if f, err := format.Source(content); err != nil || !bytes.Equal(f, content) {
			return fmt.Errorf("not gofmt-clean")
		}
		return nil
	}
	langs := map[string]*sitter.Language{
		".py": python.GetLanguage(), ".js": javascript.GetLanguage(), ".ts": typescript.GetLanguage(),
		".java": java.GetLanguage(), ".kt": kotlin.GetLanguage(), ".rb": ruby.GetLanguage(), ".php": php.GetLanguage(),
		".cs": csharp.GetLanguage(), ".sh": bash.GetLanguage(),
	}
	lang := langs[path.Ext(p)]
	if base == "Dockerfile" {
		lang = dockerfile.GetLanguage()
	}
	if lang == nil {
		return fmt.Errorf("no parser for %s in the test", p)
	}
	ps := sitter.NewParser()
	ps.SetLanguage(lang)
	tree, err := ps.ParseCtx(context.Background(), nil, content)
	if err != nil {
		return err
	}
	if tree.RootNode().HasError() {
		return fmt.Errorf("syntax error")
	}
	return nil
}

// TestFixEveryFormat runs the table of cases the fix handles
// (internal/fixture.Formats) through `scan --fix`; TestAppEveryFormat
// pushes the same table to the App.
func TestFixEveryFormat(t *testing.T) {
	srv := vaulttest.Start(t)
	f := fixture.Formats(t)
	r := f.Repo
	r.Git("remote", "add", "origin", "git@github.com:acme/formats.git")
	data := t.TempDir()
	run := vaultRun(t, srv, data, r.Dir, "scan", "--fix")
	if run.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", run.code, run.stdout, run.stderr)
	}
	checkManualSteps(t, f, run.stdout)
	head := r.Head()
	branch := "pushvault/fix-" + head[:7]
	if parent := r.Git("rev-parse", branch+"^"); parent != head {
		t.Fatalf("fix commit's parent %s, want %s", parent, head)
	}
	checkFixTree(t, r, head, branch, f, f.Values())
	vaulted := checkVaulted(t, srv.Client(t), "acme/formats", f)
	wt := gittest.Clone(t, r.Dir, "--branch", branch)
	checkVaultEnv(t, srv, wt.Dir, f, vaulted)
	for _, v := range f.Values() {
		if strings.Contains(run.stdout+run.stderr, v) {
			t.Errorf("planted value in pushvault's output")
		}
	}
}

// checkManualSteps checks that the only manual steps a --fix report lists
// are for the files the fix deletes (they hold nothing but a key).
func checkManualSteps(t *testing.T, f *fixture.Fixture, stdout string) {
	t.Helper()
	steps := 0
	for _, line := range strings.Split(stdout, "\n") {
		rest, ok := strings.CutPrefix(line, "      manual ")
		if !ok {
			continue
		}
		path, _, _ := strings.Cut(rest, ":")
		if _, deleted := f.Deleted[path]; !deleted || !strings.Contains(rest, "so the fix deletes it") {
			t.Errorf("a format needed a manual step: %s", line)
			continue
		}
		steps++
	}
	if steps != len(f.Deleted) {
		t.Errorf("%d manual steps for the %d files the fix deletes, want one each", steps, len(f.Deleted))
	}
}

// checkFixTree checks fix, the fix commit on top of head in r, against the
// secrets f planted: every file holding one is rewritten and still parses,
// or, holding nothing but the secret, is gone with its variable in
// vault.env; no file of fix's tree holds any of values.
func checkFixTree(t *testing.T, r *gittest.Repo, head, fix string, f *fixture.Fixture, values []string) {
	t.Helper()
	vaultEnv, err := godotenv.Unmarshal(r.Git("show", fix+":vault.env") + "\n")
	if err != nil {
		t.Errorf("vault.env on the fix branch does not parse: %v", err)
	}
	for _, p := range f.Planted {
		if name, ok := f.Deleted[p.Path]; ok {
			if _, err := exec.Command("git", "-C", r.Dir, "cat-file", "-e", fix+":"+p.Path).CombinedOutput(); err == nil {
				t.Errorf("%s holds nothing but a key, yet is still on the fix branch", p.Path)
			}
			if ref := vaultEnv[name]; !strings.HasPrefix(ref, "vault:secret/data/pushvault/") {
				t.Errorf("vault.env %s = %q, want the vault reference of %s's key", name, ref, p.Path)
			}
			continue
		}
		before := []byte(r.Git("show", head+":"+p.Path) + "\n")
		after := []byte(r.Git("show", fix+":"+p.Path) + "\n")
		if bytes.Equal(before, after) {
			t.Errorf("%s: not rewritten", p.Path)
		}
		if err := parse(p.Path, before); err != nil {
			t.Fatalf("%s: the fixture itself does not parse: %v", p.Path, err)
		}
		if err := parse(p.Path, after); err != nil {
			t.Errorf("%s: rewritten file does not parse: %v\n%s", p.Path, err, after)
		}
	}
	for _, file := range strings.Split(r.Git("ls-tree", "-r", "--name-only", fix), "\n") {
		content := r.Git("show", fix+":"+file)
		for _, v := range values {
			if strings.Contains(content, v) {
				t.Errorf("%s: a planted value remains on the fix branch", file)
			}
		}
	}
}

// checkVaulted checks that every value f planted is in Vault under
// pushvault/<repo>, with metadata, in one secret at version 1 (a value
// leaked twice is vaulted once); it returns each value stored there
// (trimmed) with the secret holding it.
func checkVaulted(t *testing.T, c *vaultapi.Client, repo string, f *fixture.Fixture) map[string]string {
	t.Helper()
	ctx := context.Background()
	vaulted := map[string]string{}
	list, err := c.Logical().List("secret/metadata/pushvault/" + repo)
	if err != nil || list == nil {
		t.Fatalf("listing vaulted secrets: %v", err)
	}
	for _, k := range list.Data["keys"].([]any) {
		path := "pushvault/" + repo + "/" + k.(string)
		sec, err := c.KVv2("secret").Get(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if sec.CustomMetadata["source_repo"] != repo || sec.CustomMetadata["fingerprint"] == "" {
			t.Errorf("%s: metadata %v", k, sec.CustomMetadata)
		}
		if sec.VersionMetadata.Version != 1 {
			t.Errorf("%s: version %d, want 1", k, sec.VersionMetadata.Version)
		}
		for key, v := range sec.Data {
			v := strings.TrimSpace(v.(string))
			if other, ok := vaulted[v]; ok && key != "username" {
				t.Errorf("one value vaulted twice: %s and %s", other, k.(string)+"#"+key)
			}
			vaulted[v] = k.(string) + "#" + key
		}
	}
	for _, p := range f.Planted {
		wants := append([]string{p.Value}, p.Extra...) // every part of a multi-part credential
		if p.Detector == "Postgres" {
			wants = p.Extra[:1] // the password, stored apart from the URI
		}
		for _, want := range wants {
			if _, ok := vaulted[strings.TrimSpace(want)]; !ok {
				t.Errorf("%s (%s): value not in Vault", p.Path, p.Detector)
			}
		}
	}
	return vaulted
}

// checkVaultEnv runs `pushvault exec` in dir, a checkout of a fix branch:
// every name vault.env maps resolves to a vaulted value, and the variable
// of each deleted key file to that key.
func checkVaultEnv(t *testing.T, srv *vaulttest.Server, dir string, f *fixture.Fixture, vaulted map[string]string) {
	t.Helper()
	env := vaultRun(t, srv, t.TempDir(), dir, "exec", "--", "env", "-0")
	if env.code != 0 {
		t.Fatalf("exec: %s", env.stderr)
	}
	got := envMap(env.stdout)
	names := readEnvNames(t, filepath.Join(dir, "vault.env"))
	if len(names) < 10 {
		t.Errorf("vault.env maps only %d names: %v", len(names), names)
	}
	for _, n := range names {
		if _, ok := vaulted[strings.TrimSpace(got[n])]; !ok {
			t.Errorf("exec: %s did not resolve to a vaulted value", n)
		}
	}
	for _, p := range f.Planted {
		if name, ok := f.Deleted[p.Path]; ok && strings.TrimSpace(got[name]) != p.Value {
			t.Errorf("exec: %s does not resolve to the key of %s", name, p.Path)
		}
	}
	for _, v := range f.Values() {
		if strings.Contains(env.stderr, v) {
			t.Errorf("planted value in exec's output")
		}
	}
}

// TestAppEveryFormat pushes TestFixEveryFormat's table of cases
// (internal/fixture.Formats) to the App, in the fixture's two pushes to
// main: every format, files holding nothing but a key, which the fix
// deletes from the App's bare mirror (issue 19: git refused there, and
// every such push was retried until dead-lettered), a rename, an AWS key
// pair, files in subdirectories, and a key leaked again in the second
// push. For each push:
// the check run completes with an annotation on every location; one fix PR
// on top of the push, whose files parse, whose tree holds no planted value
// and no key file, and whose vault.env maps each deleted key; every value
// in Vault once. Each PR is merged before the next push, and the merge is
// scanned clean. No planted value reaches serve's log, a check run, a PR,
// a comment, an issue, a fix commit message or the ledger.
func TestAppEveryFormat(t *testing.T) {
	e := newAppEnv(t)
	vc := e.vault.Client(t)
	work := e.clone(t)
	var fixes []string
	f := fixture.FormatsOnto(t, work, func(f *fixture.Fixture) {
		n := len(f.Pushes) - 1
		push := f.Push(n)
		head := f.Commits[f.Pushes[n]]
		work.Git("push", "-q", "origin", "HEAD:main")

		var run *githubtest.CheckRun
		waitFor(t, fmt.Sprintf("push %d's check run completes", n+1), func() bool {
			run = e.checkRun(head)
			return run != nil && run.Status == "completed"
		})
		if run.Conclusion != "action_required" {
			t.Fatalf("push %d: check run concluded %q, want action_required:\n%s\nserve's log ends:\n%s", n+1, run.Conclusion, run.Summary, lastLines(e.serve.logs.String(), 15))
		}
		var want, got []string
		for _, p := range push.Planted {
			want = append(want, fmt.Sprintf("%s:%d", p.Path, p.Line))
		}
		for _, a := range run.Annotations {
			got = append(got, fmt.Sprintf("%s:%d", a.Path, a.StartLine))
		}
		sort.Strings(want)
		sort.Strings(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("push %d: annotations, one per location (-want +got):\n%s", n+1, d)
		}

		var prs []githubtest.PullRequest
		for _, pr := range e.srv.PullRequests() {
			if pr.Head == "pushvault/fix-"+head[:7] {
				prs = append(prs, pr)
			}
		}
		if len(prs) != 1 || prs[0].Base != "main" {
			t.Fatalf("push %d: fix pull requests %+v, want one onto main", n+1, prs)
		}
		pr := prs[0]
		work.Git("fetch", "-q", "origin", "+refs/heads/"+pr.Head+":refs/heads/"+pr.Head)
		fix := work.Git("rev-parse", "refs/heads/"+pr.Head)
		fixes = append(fixes, fix)
		if parent := work.Git("rev-parse", fix+"^"); parent != head {
			t.Errorf("push %d: fix commit's parent %s, want the pushed head %s", n+1, parent, head)
		}
		checkFixTree(t, work, head, fix, push, f.Values())
		vaulted := checkVaulted(t, vc, "acme/shop", f)
		checkVaultEnv(t, e.vault, gittest.Clone(t, work.Dir, "--branch", pr.Head).Dir, f, vaulted)

		// A comment on each offending commit links the PR.
		offending := map[string]bool{}
		for _, p := range push.Planted {
			offending[f.Commits[p.Commit]] = true
		}
		for sha := range offending {
			waitFor(t, "the commit comment on "+sha[:7], func() bool {
				for _, c := range e.srv.Comments() {
					if c.Kind == "commit" && c.CommitSHA == sha && strings.Contains(c.Body, fmt.Sprintf("#%d", pr.Number)) {
						return true
					}
				}
				return false
			})
		}

		// Merged, the fix is scanned clean and the next push builds on it.
		res, _, err := e.gh.PullRequests.Merge(context.Background(), "acme", "shop", pr.Number, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the merge's check run completes", func() bool {
			r := e.checkRun(res.GetSHA())
			return r != nil && r.Status == "completed"
		})
		if r := e.checkRun(res.GetSHA()); r.Conclusion != "success" || len(r.Annotations) != 0 {
			t.Errorf("the merged fix: check run %s with %d annotations, want success and none:\n%s", r.Conclusion, len(r.Annotations), r.Summary)
		}
		work.Git("pull", "-q", "--ff-only", "origin", "main")
	})

	// Nothing secret anywhere.
	e.serve.stop(t)
	outputs := append(e.githubTexts(), e.serve.logs.String())
	for _, fix := range fixes {
		outputs = append(outputs, work.Git("log", "-1", "--format=%B", fix))
	}
	for _, r := range exportLedger(t, e.vault, "--data-dir", e.data) {
		b, _ := json.Marshal(r)
		outputs = append(outputs, string(b))
	}
	for _, o := range outputs {
		for _, v := range f.Values() {
			if strings.Contains(o, v) {
				t.Errorf("a planted secret reached an output: %.120s…", o)
			}
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
