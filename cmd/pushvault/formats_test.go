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
	"path"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	hcl "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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
	case ext == ".properties":
		_, err := properties.Load(content, properties.UTF8)
		return err
	case ext == ".xml":
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

func TestFixEveryFormat(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	f := fixture.Formats(t)
	r := f.Repo
	r.Git("remote", "add", "origin", "git@github.com:acme/formats.git")
	data := t.TempDir()
	run := vaultRun(t, srv, data, r.Dir, "scan", "--fix")
	if run.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", run.code, run.stdout, run.stderr)
	}
	if strings.Contains(run.stdout, "      manual ") {
		t.Errorf("a format needed a manual step:\n%s", run.stdout)
	}
	branch := "pushvault/fix-" + r.Head()[:7]

	// Every planted file was rewritten, parses, and holds no planted value.
	for _, p := range f.Planted {
		before := []byte(r.Git("show", "HEAD:"+p.Path) + "\n")
		after := []byte(r.Git("show", branch+":"+p.Path) + "\n")
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
	for _, file := range strings.Split(r.Git("ls-tree", "-r", "--name-only", branch), "\n") {
		content := r.Git("show", branch+":"+file)
		for _, v := range f.Values() {
			if strings.Contains(content, v) {
				t.Errorf("%s: a planted value remains on the fix branch", file)
			}
		}
	}

	// Every planted value is in Vault under pushvault/acme/formats, with metadata.
	vaulted := map[string]string{}
	list, err := c.Logical().List("secret/metadata/pushvault/acme/formats")
	if err != nil || list == nil {
		t.Fatalf("listing vaulted secrets: %v", err)
	}
	for _, k := range list.Data["keys"].([]any) {
		sec, err := c.KVv2("secret").Get(ctx, "pushvault/acme/formats/"+k.(string))
		if err != nil {
			t.Fatal(err)
		}
		if sec.CustomMetadata["source_repo"] != "acme/formats" || sec.CustomMetadata["fingerprint"] == "" {
			t.Errorf("%s: metadata %v", k, sec.CustomMetadata)
		}
		for key, v := range sec.Data {
			vaulted[strings.TrimSpace(v.(string))] = k.(string) + "#" + key
		}
	}
	for _, p := range f.Planted {
		want := p.Value
		if p.Detector == "Postgres" {
			want = p.Extra[0]
		}
		if _, ok := vaulted[strings.TrimSpace(want)]; !ok {
			t.Errorf("%s (%s): value not in Vault", p.Path, p.Detector)
		}
	}

	// pushvault exec resolves every name vault.env maps, to a vaulted value.
	wt := gittest.Clone(t, r.Dir, "--branch", branch)
	env := vaultRun(t, srv, data, wt.Dir, "exec", "--", "env", "-0")
	if env.code != 0 {
		t.Fatalf("exec: %s", env.stderr)
	}
	got := envMap(env.stdout)
	names := readEnvNames(t, wt.Dir+"/vault.env")
	if len(names) < 10 {
		t.Errorf("vault.env maps only %d names: %v", len(names), names)
	}
	for _, n := range names {
		if _, ok := vaulted[strings.TrimSpace(got[n])]; !ok {
			t.Errorf("exec: %s did not resolve to a vaulted value", n)
		}
	}
	for _, v := range f.Values() {
		if strings.Contains(run.stdout+run.stderr, v) {
			t.Errorf("planted value in pushvault's output")
		}
	}
}
