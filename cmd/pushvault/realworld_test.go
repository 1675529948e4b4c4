package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
)

// The most common docker-compose form of a database URL names no port:
// TruffleHog's Postgres detector normalises it to host:5432, which is not in
// the file (issue 15). `scan --fix` vaults the password, replaces it alone
// in the URL, and the reference resolves: compose hands the container
// ${vault:…} ($$ escapes the dollar), and `pushvault exec` turns the
// variable back into the URL as it was.
func TestFixPortlessDatabaseURI(t *testing.T) {
	srv := vaulttest.Start(t)
	pw := secrettest.Fresh(t).Alnum(20)
	uri := "postgres://app:" + pw + "@db/app"
	r := gittest.New(t)
	r.Commit("", "compose", map[string]string{
		"docker-compose.yml": "services:\n  web:\n    image: acme/web:1.4\n    environment:\n      DATABASE_URL: " + uri +
			"\n      RAILS_ENV: production\n  db:\n    image: postgres:16\n",
	})
	r.Git("remote", "add", "origin", "git@github.com:acme/compose.git")
	head := r.Head()

	run := vaultRun(t, srv, t.TempDir(), r.Dir, "scan", "--fix")
	if run.code != 1 || !strings.Contains(run.stdout, "Postgres") {
		t.Fatalf("exit %d, want 1 with the Postgres finding\n%s\n%s", run.code, run.stdout, run.stderr)
	}
	sec, err := srv.Client(t).KVv2("secret").Get(context.Background(), "pushvault/acme/compose/database_url")
	if err != nil {
		t.Fatalf("the password is not in Vault: %v", err)
	}
	if sec.Data["password"] != pw {
		t.Errorf("vaulted password is not the one in the file")
	}

	branch := "pushvault/fix-" + head[:7]
	after := r.Git("show", branch+":docker-compose.yml")
	if strings.Contains(after, pw) {
		t.Fatalf("the password is still in docker-compose.yml:\n%s", after)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(after), &compose); err != nil {
		t.Fatalf("the rewritten file does not parse: %v", err)
	}
	ref := compose.Services["web"].Environment["DATABASE_URL"]
	if want := "postgres://app:$${vault:secret/data/pushvault/acme/compose/database_url#password}@db/app"; ref != want {
		t.Errorf("DATABASE_URL = %q, want %q", ref, want)
	}
	if before := r.Git("show", head+":docker-compose.yml"); strings.Replace(before, pw, "$${vault:secret/data/pushvault/acme/compose/database_url#password}", 1) != after {
		t.Errorf("more than the password changed:\n%s", after)
	}

	// What compose hands the container, resolved by exec.
	env := runBinary(t, t.TempDir(), []string{"VAULT_ADDR=" + srv.Addr, "VAULT_TOKEN=" + srv.Token,
		"DATABASE_URL=" + strings.ReplaceAll(ref, "$$", "$")}, "exec", "--", "env", "-0")
	if env.code != 0 {
		t.Fatalf("exec: %s", env.stderr)
	}
	if got := envMap(env.stdout)["DATABASE_URL"]; got != uri {
		t.Errorf("exec: DATABASE_URL does not resolve to the URL as it was")
	}
	if strings.Contains(run.stdout+run.stderr+env.stderr, pw) {
		t.Errorf("the password is in pushvault's output")
	}
}

// A Helm values file documents its settings with commented examples; one
// holding a credential-shaped URL cannot be edited (it is in a comment),
// and must not keep the real values beside it in the file (issue 15). The
// real ones are rewritten; the commented one gets a manual step with its
// own line and its own reference, and the others none.
func TestFixEditsWhatItCanBesideACommentedExample(t *testing.T) {
	srv := vaulttest.Start(t)
	g := secrettest.Fresh(t)
	example, real, stripe := g.Alnum(20), g.Alnum(20), g.Stripe()
	values := "# Default values for charts-sync.\nimage:\n  repository: acme/charts-sync\n  tag: \"1.8.2\"\n\n" +
		"git:\n  # The repository to sync, with its credentials, for example:\n" +
		"  # url: \"https://oauth2:" + example + "@gitlab.acme.internal/platform/charts.git\"\n" +
		"  url: \"https://oauth2:" + real + "@gitlab.acme.internal/platform/charts.git\"\n\n" +
		"billing:\n  stripeSecretKey: " + stripe + "\n"
	r := gittest.New(t)
	r.Commit("", "chart", map[string]string{"charts/sync/values.yaml": values})
	r.Git("remote", "add", "origin", "git@github.com:acme/charts.git")
	head := r.Head()

	run := vaultRun(t, srv, t.TempDir(), r.Dir, "scan", "--fix", "--format", "json")
	if run.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", run.code, run.stdout, run.stderr)
	}
	var rep struct {
		Findings []struct {
			ID        string `json:"id"`
			Locations []struct {
				Line int `json:"line"`
			} `json:"locations"`
		} `json:"findings"`
		Fix struct {
			Secrets []struct {
				ID         string            `json:"id"`
				References map[string]string `json:"references"`
				Edits      []struct {
					Line int    `json:"line"`
					Ref  string `json:"reference"`
				} `json:"edits"`
				Manual []struct {
					Line int    `json:"line"`
					Step string `json:"step"`
				} `json:"manual"`
			} `json:"secrets"`
		} `json:"fix"`
	}
	if err := json.Unmarshal([]byte(run.stdout), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, run.stdout)
	}
	line := map[string]int{}
	for _, f := range rep.Findings {
		line[f.ID] = f.Locations[0].Line
	}
	type outcome struct{ Edited, Manual []int }
	got := map[int]outcome{}
	for _, s := range rep.Fix.Secrets {
		var o outcome
		for _, e := range s.Edits {
			o.Edited = append(o.Edited, e.Line)
		}
		for _, m := range s.Manual {
			o.Manual = append(o.Manual, m.Line)
			if ref := s.References["password"]; !strings.Contains(m.Step, ref) {
				t.Errorf("the manual step for line %d does not name its own reference %s: %s", m.Line, ref, m.Step)
			}
		}
		got[line[s.ID]] = o
	}
	want := map[int]outcome{8: {Manual: []int{8}}, 9: {Edited: []int{9}}, 12: {Edited: []int{12}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("by the line of each finding, the lines edited and given a manual step (-want +got):\n%s", diff)
	}
	after := r.Git("show", "pushvault/fix-"+head[:7]+":charts/sync/values.yaml")
	if strings.Contains(after, real) || strings.Contains(after, stripe) || !strings.Contains(after, example) {
		t.Errorf("want the two real values rewritten and the commented example left:\n%s", after)
	}
	if err := parse("values.yaml", []byte(after)); err != nil {
		t.Errorf("the rewritten file does not parse: %v", err)
	}
	if strings.Contains(run.stdout+run.stderr, real) || strings.Contains(run.stdout+run.stderr, stripe) || strings.Contains(run.stdout+run.stderr, example) {
		t.Errorf("a planted value is in pushvault's output")
	}
}
