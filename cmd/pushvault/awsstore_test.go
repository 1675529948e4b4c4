package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/awstest"
	"github.com/pushvault/pushvault/internal/fixture"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/awssm"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// awsStoreEnv is the environment of a pushvault command whose store is
// the AWS stand-in's Secrets Manager (store: aws_secretsmanager through
// PUSHVAULT_STORE_*), with awsCredentials.
func awsStoreEnv(t *testing.T, aw *awstest.Server) []string {
	t.Helper()
	return append([]string{"PUSHVAULT_STORE_TYPE=aws_secretsmanager", "PUSHVAULT_STORE_AWS_REGION=" + aw.Region(), "PUSHVAULT_STORE_AWS_ENDPOINT=" + aw.URL},
		awsCredentials(t, aw)...)
}

// awsCredentials is the environment that has pushvault sign with a key
// the stand-in issued to IAM user pushvault; no AWS file or instance role
// of the machine is read.
func awsCredentials(t *testing.T, aw *awstest.Server) []string {
	t.Helper()
	if _, err := aw.CreateUser("pushvault"); err != nil {
		t.Fatal(err)
	}
	key, err := aw.CreateAccessKey("pushvault")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return []string{"AWS_ACCESS_KEY_ID=" + key.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + key.SecretAccessKey, "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true"}
}

// awsStoreRun runs pushvault with Vault (fingerprints, ledger signatures,
// rotation engines) and the AWS store.
func awsStoreRun(t *testing.T, srv *vaulttest.Server, store []string, data, dir string, args ...string) result {
	t.Helper()
	env := append([]string{"PUSHVAULT_DATA_DIR=" + data, "VAULT_ADDR=" + srv.Addr, "VAULT_TOKEN=" + srv.Token}, store...)
	return runBinary(t, dir, env, args...)
}

// fixSecret is one secret of `scan --fix --format json`'s fix member.
type fixSecret struct {
	ID           string
	Detector     string
	VaultPath    string `json:"vault_path"`
	VaultVersion int    `json:"vault_version"`
	Created      bool
	References   map[string]string
	Rotation     *struct{ State, Rotator string }
}

// TestFixAWSSecretsManagerStore runs `pushvault scan --fix` with store:
// aws_secretsmanager on the leaky repository plus a working IAM user key
// pair: a first attempt fails midway (the stand-in refuses the
// PUSHVAULT_EXPOSED label to every secret: those being written when the
// first refusal ends the vault step are created, no later one is), the
// rerun finishes it and a third run adds nothing. Then each finding is exactly
// one secret named by the prefix, tagged as the README says and without the
// value; each has one version labelled AWSCURRENT and PUSHVAULT_EXPOSED,
// except the key pair the aws_iam rotator rotated, whose new version is
// AWSCURRENT and whose exposed version keeps no label (destroy_exposed);
// `pushvault exec` resolves the fix's references; no value leaks.
func TestFixAWSSecretsManagerStore(t *testing.T) {
	srv := vaulttest.Start(t)
	w := newAWSWorld(t, srv.Client(t))
	store := awsStoreEnv(t, w.aw)
	f := fixture.Leaky(t)
	r := f.Repo
	r.Git("remote", "add", "origin", "https://github.com/acme/shop.git")
	stripe := f.Planted[1].Value
	head := r.Commit("Dev <dev@acme.test>", "deploy keys", map[string]string{
		".github/pushvault.yml": w.settings,
		".env":                  "PORT=8080\nSTRIPE_API_KEY=" + stripe + "\nAWS_ACCESS_KEY_ID=" + w.leaked.AccessKeyID + "\nAWS_SECRET_ACCESS_KEY=" + w.leaked.SecretAccessKey + "\n",
	})
	findings := len(f.Planted) + 1
	data := t.TempDir()

	// Attempt 1 dies midway: secrets are created, their label refused
	// (every try of the SDK's retryer). The vault step writes a few
	// secrets at once, so those in flight at the first refusal are
	// created, and no write starts after it.
	w.aw.Fault(awstest.Fault{Operation: "UpdateSecretVersionStage", Kind: awstest.ServerError, Count: 1000})
	broken := awsStoreRun(t, srv, store, data, r.Dir, "scan", "--fix")
	w.aw.ClearFaults()
	if broken.code != 2 || !strings.Contains(broken.stderr, "aws secrets manager stage "+awssm.LabelExposed) {
		t.Fatalf("attempt with a refused label: exit %d\nstdout:\n%s\nstderr:\n%s", broken.code, broken.stdout, broken.stderr)
	}
	if names := w.aw.SecretNames(); len(names) == 0 || len(names) >= findings {
		t.Fatalf("after the failed attempt: secrets %q, want those created before the refusal, not all %d", names, findings)
	} else {
		for _, name := range names {
			if info, _ := w.aw.Secret(name); len(info.Versions) != 1 || slices.Contains(info.Versions[0].Stages, awssm.LabelExposed) {
				t.Fatalf("after the failed attempt: %s versions %+v, want one without %s", name, info.Versions, awssm.LabelExposed)
			}
		}
	}
	if r.Git("branch", "--list", "pushvault/*") != "" {
		t.Fatal("the failed attempt committed a fix branch")
	}

	run := awsStoreRun(t, srv, store, data, r.Dir, "scan", "--fix")
	if run.code != 1 || !strings.Contains(run.stdout, "AWS Secrets Manager ("+w.aw.Region()+"): "+strconv.Itoa(findings)+" secrets") ||
		!strings.Contains(run.stdout, "rotation: rotated by aws_iam; exposed value proven dead; version 1 destroyed; current version 2") {
		t.Fatalf("rerun: exit %d\nstdout:\n%s\nstderr:\n%s", run.code, run.stdout, run.stderr)
	}
	branch := "pushvault/fix-" + head[:7]
	fixCommit := r.Git("rev-parse", branch)
	again := awsStoreRun(t, srv, store, data, r.Dir, "scan", "--fix", "--format", "json")
	if again.code != 1 {
		t.Fatalf("third run: exit %d\n%s", again.code, again.stderr)
	}
	if moved := r.Git("rev-parse", branch); moved != fixCommit {
		t.Errorf("the third run moved the fix branch from %s to %s", fixCommit[:7], moved[:7])
	}
	var doc struct {
		Fix struct {
			Store   string
			Secrets []fixSecret
		}
	}
	if err := json.Unmarshal([]byte(again.stdout), &doc); err != nil {
		t.Fatalf("third run's JSON: %v\n%s", err, again.stdout)
	}
	if doc.Fix.Store != "AWS Secrets Manager ("+w.aw.Region()+")" || len(doc.Fix.Secrets) != findings {
		t.Fatalf("third run: store %q, %d secrets, want %d", doc.Fix.Store, len(doc.Fix.Secrets), findings)
	}

	// One secret per finding, each created once, named by the prefix.
	prefix := awssm.MountPrefix + w.aw.Region() + "/"
	byName := map[string]fixSecret{}
	for _, s := range doc.Fix.Secrets {
		name, ok := strings.CutPrefix(s.VaultPath, prefix)
		if !ok || !strings.HasPrefix(name, "pushvault/acme/shop/") || s.Created || s.VaultVersion != 1 {
			t.Errorf("third run, %s secret %s: %+v", s.Detector, s.ID, s)
		}
		byName[name] = s
	}
	names := w.aw.SecretNames()
	if len(names) != findings || len(byName) != findings {
		t.Fatalf("secrets in the stand-in %q; the report names %d; want %d", names, len(byName), findings)
	}
	if n := w.aw.CallCount("CreateSecret", "*"); n != findings {
		t.Errorf("%d CreateSecret calls over three runs, want %d (one per finding)", n, findings)
	}
	if n := w.aw.CallCount("PutSecretValue", "*"); n != 1 {
		t.Errorf("%d PutSecretValue calls, want 1 (the rotation's)", n)
	}

	// Tags, versions and labels, secret by secret.
	var pair string
	for name, s := range byName {
		info, ok := w.aw.Secret(name)
		if !ok {
			t.Errorf("%s: not in the stand-in", name)
			continue
		}
		commit, path, line := head, ".env", 3
		if s.Rotation != nil && s.Rotation.Rotator == "aws_iam" && s.Rotation.State == "rotated" {
			pair = name
		} else {
			p := findPlanted(t, f, s.Detector)
			commit, path, line = f.Commits[p.Commit], p.Path, p.Line
		}
		fp := info.Tags["fingerprint"]
		if !strings.HasPrefix(fp, "hmac-vault:") {
			t.Errorf("%s: fingerprint tag %q", name, fp)
		}
		want := map[string]string{"source_repo": "acme/shop", "source_commit": commit, "source_path": path,
			"source_line": strconv.Itoa(line), "detector": s.Detector, "managed_by": "pushvault"}
		for k, v := range want {
			if info.Tags[k] != v {
				t.Errorf("%s: tag %s = %q, want %q", name, k, info.Tags[k], v)
			}
		}
		if info.Tags["state"] == "" || info.Tags["detected_at"] == "" {
			t.Errorf("%s: tags state %q, detected_at %q", name, info.Tags["state"], info.Tags["detected_at"])
		}
		v1 := awssm.VersionID(fp, name, 1)
		switch {
		case name == pair:
			if info.Tags["state"] != "rotated" || len(info.Versions) != 2 || info.Versions[0].VersionID != v1 || len(info.Versions[0].Stages) != 0 ||
				info.Versions[1].VersionID != awssm.VersionID(fp, name, 2) || !slices.Equal(info.Versions[1].Stages, []string{"AWSCURRENT"}) {
				t.Errorf("%s (rotated): state %q, versions %+v; want v1 without labels, v2 AWSCURRENT", name, info.Tags["state"], info.Versions)
			}
		default:
			if len(info.Versions) != 1 || info.Versions[0].VersionID != v1 || !sameStages(info.Versions[0].Stages, "AWSCURRENT", awssm.LabelExposed) {
				t.Errorf("%s: versions %+v; want one, AWSCURRENT and %s", name, info.Versions, awssm.LabelExposed)
			}
		}
	}
	if pair == "" {
		t.Fatalf("no secret rotated by aws_iam in the report:\n%s", again.stdout)
	}

	// The fix's references resolve: vault.env and .env through exec.
	wt := gittest.Clone(t, r.Dir, "--branch", branch)
	env := awsStoreRun(t, srv, store, data, wt.Dir, "exec", "--env-file", "vault.env", "--", "env", "-0")
	if env.code != 0 {
		t.Fatalf("exec vault.env: exit %d: %s", env.code, env.stderr)
	}
	got := envMap(env.stdout)
	refs := readEnvNames(t, filepath.Join(wt.Dir, "vault.env"))
	vaultEnv := string(readFile(t, wt.Dir, "vault.env"))
	if len(refs) == 0 || strings.Count(vaultEnv, "=ref+awssecrets://pushvault/acme/shop/") != len(refs) {
		t.Errorf("vault.env on the fix branch does not map every variable to a ref+awssecrets reference:\n%s", vaultEnv)
	}
	for _, name := range refs {
		if v := got[name]; v == "" || awssm.IsReference(v) || !containsAny(v, f.Values()) && !slices.Contains(f.Values(), strings.TrimSpace(v)) {
			t.Errorf("exec: %s did not resolve to a planted value", name)
		}
	}
	envDot := awsStoreRun(t, srv, store, data, wt.Dir, "exec", "--env-file", ".env", "--", "env", "-0")
	if envDot.code != 0 {
		t.Fatalf("exec .env: exit %d: %s", envDot.code, envDot.stderr)
	}
	got = envMap(envDot.stdout)
	dotenv := string(readFile(t, wt.Dir, ".env"))
	if !strings.Contains(dotenv, "STRIPE_API_KEY=ref+awssecrets://pushvault/acme/shop/") || got["STRIPE_API_KEY"] != stripe {
		t.Errorf(".env on the fix branch: STRIPE_API_KEY not a resolving ref+awssecrets reference (resolved right: %v):\n%s", got["STRIPE_API_KEY"] == stripe, dotenv)
	}
	newSecret := got["AWS_SECRET_ACCESS_KEY"]
	if arn, code := w.caller(t, got["AWS_ACCESS_KEY_ID"], newSecret); arn != w.userARN {
		t.Errorf("the pair exec resolves from .env: %q %s, want %s", arn, code, w.userARN)
	}
	if _, code := w.caller(t, w.leaked.AccessKeyID, w.leaked.SecretAccessKey); code != "InvalidClientTokenId" {
		t.Errorf("the leaked pair: %q, want InvalidClientTokenId", code)
	}

	// The ledger: every finding detected and vaulted, one rotated, the rest
	// left to a person; it verifies.
	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Findings per transition. (A rotator's "manual" verdict is asked again
	// on every run, so the made-up AWS key gets a rotation_manual each
	// time: a record, not a write.)
	counts, seen, vaultedRecs := map[string]int{}, map[string]bool{}, 0
	for _, line := range strings.Split(strings.TrimSpace(string(ledger)), "\n") {
		var rec evidence.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if !seen[rec.Transition+" "+rec.FindingID] {
			seen[rec.Transition+" "+rec.FindingID] = true
			counts[rec.Transition]++
		}
		if rec.Transition == evidence.Vaulted {
			vaultedRecs++
			if !strings.HasPrefix(rec.VaultPath, prefix+"pushvault/acme/shop/") {
				t.Errorf("ledger: vaulted at %q", rec.VaultPath)
			}
		}
	}
	for tr, n := range map[string]int{"detected": findings, "vaulted": findings, "rotated": 1, "exposed_destroyed": 1, "rotation_manual": findings - 1} {
		if counts[tr] != n {
			t.Errorf("ledger: %d %s, want %d (all: %v)", counts[tr], tr, n, counts)
		}
	}
	if vaultedRecs != findings {
		t.Errorf("ledger: %d vaulted records over three runs, want %d", vaultedRecs, findings)
	}
	if ver := awsStoreRun(t, srv, store, data, r.Dir, "evidence", "verify"); ver.code != 0 {
		t.Errorf("evidence verify: exit %d %s", ver.code, ver.stderr)
	}

	planted := append(f.Values(), w.leaked.SecretAccessKey, newSecret)
	var stored []string
	for _, name := range names {
		info, _ := w.aw.Secret(name)
		stored = append(stored, name)
		for k, v := range info.Tags {
			stored = append(stored, k+"="+v)
		}
	}
	for _, out := range []string{broken.stdout, broken.stderr, run.stdout, run.stderr, again.stdout, again.stderr, env.stderr, envDot.stderr, string(ledger), strings.Join(stored, "\n")} {
		for _, v := range planted {
			if strings.Contains(out, v) {
				t.Errorf("a planted value (starts %q) appears in pushvault's output, the ledger or the stand-in's names and tags", v[:4])
			}
		}
	}
}

// findPlanted is the fixture's one planted secret of detector.
func findPlanted(t *testing.T, f *fixture.Fixture, detector string) fixture.Planted {
	t.Helper()
	var match []fixture.Planted
	for _, p := range f.Planted {
		if p.Detector == detector {
			match = append(match, p)
		}
	}
	if len(match) != 1 {
		t.Fatalf("the fixture plants %d %s secrets, want 1", len(match), detector)
	}
	return match[0]
}

func sameStages(got []string, want ...string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// TestAppAWSSecretsManagerStore: pushvault serve with store:
// aws_secretsmanager in serve.yml. A push leaking two secrets ends with
// one secret each in the stand-in (none in Vault's KV), the fix PR's files
// hold ref+awssecrets references that `pushvault exec` resolves, every text
// on GitHub names AWS Secrets Manager, and the push's redelivered webhook
// writes no second secret or version.
func TestAppAWSSecretsManagerStore(t *testing.T) {
	e := newStandIn(t)
	aw := awstest.New(t)
	e.config = "store:\n  type: aws_secretsmanager\n  aws:\n    region: " + aw.Region() + "\n    endpoint: " + aw.URL + "\n"
	creds := awsCredentials(t, aw)
	e.serve = startApp(t, e.srv, e.serveVault, e.data, "", e.config, creds...)
	e.srv.SetWebhookURL("http://" + e.serve.addr + "/webhook")

	head, planted := e.pushSecrets(t, 17)
	waitFor(t, "the check run completes", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Status == "completed"
	})
	run := e.checkRun(head)
	if run.Conclusion != "action_required" || run.Title != "2 secrets moved to AWS Secrets Manager" ||
		!strings.Contains(run.Summary, "The values are in AWS Secrets Manager and fix pull request #") {
		t.Errorf("check run: %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
	names := []string{"pushvault/acme/shop/sendgrid_api_key", "pushvault/acme/shop/stripe_api_key"}
	if got := aw.SecretNames(); !slices.Equal(got, names) {
		t.Fatalf("secrets in the stand-in: %q, want %q", got, names)
	}
	if l, err := e.vault.Client(t).Logical().List("secret/metadata/pushvault/acme/shop"); err != nil || l != nil {
		t.Errorf("serve wrote to Vault's KV too: %v %v", l, err)
	}

	prs := e.srv.PullRequests()
	if len(prs) != 1 || prs[0].Title != "pushvault: move 2 secrets to AWS Secrets Manager" {
		t.Fatalf("pull requests: %+v", prs)
	}
	tok, _, err := e.srv.Token(e.inst)
	if err != nil {
		t.Fatal(err)
	}
	fix := gittest.Clone(t, e.srv.AuthCloneURL("acme", "shop", tok), "--branch", prs[0].Head)
	ref := func(name string) string { return "ref+awssecrets://" + name + "?region=" + aw.Region() + "#/value" }
	yml := string(readFile(t, fix.Dir, "config/payments.yml"))
	if yml != "stripe_api_key: "+ref(names[1])+"\n" {
		t.Errorf("config/payments.yml in the fix PR:\n%s", yml)
	}
	if dotenv := string(readFile(t, fix.Dir, ".env")); dotenv != "SENDGRID_API_KEY="+ref(names[0])+"\n" {
		t.Errorf(".env in the fix PR:\n%s", dotenv)
	}
	env := runBinary(t, fix.Dir, append(creds, "PUSHVAULT_STORE_AWS_ENDPOINT="+aw.URL, "STRIPE="+ref(names[1])), "exec", "--env-file", ".env", "--", "env", "-0")
	if vars := envMap(env.stdout); env.code != 0 || vars["STRIPE"] != planted[0] || vars["SENDGRID_API_KEY"] != planted[1] {
		t.Errorf("exec: exit %d, stripe resolved %v, sendgrid resolved %v\n%s", env.code, vars["STRIPE"] == planted[0], vars["SENDGRID_API_KEY"] == planted[1], env.stderr)
	}

	// The push redelivered: no second secret, version, check run or PR.
	e.redeliver(t, e.pushDelivery(t, head))
	_, body := e.serve.get(t, "/metrics")
	if n := series(body, `pushvault_webhooks_total{event="push",outcome="duplicate"}`); n != 1 {
		t.Errorf("the redelivery: %v duplicates counted, want 1", n)
	}
	if n := aw.CallCount("CreateSecret", "*"); n != 2 || aw.CallCount("PutSecretValue", "*") != 0 {
		t.Errorf("CreateSecret called %d times (want 2), PutSecretValue %d (want 0)", n, aw.CallCount("PutSecretValue", "*"))
	}
	var stored []string
	for _, name := range names {
		info, _ := aw.Secret(name)
		if len(info.Versions) != 1 || !sameStages(info.Versions[0].Stages, "AWSCURRENT", awssm.LabelExposed) || info.Tags["source_repo"] != "acme/shop" {
			t.Errorf("%s: versions %+v, tags %v", name, info.Versions, info.Tags)
		}
		for k, v := range info.Tags {
			stored = append(stored, k+"="+v)
		}
	}
	if n := len(e.srv.PullRequests()); n != 1 {
		t.Errorf("%d pull requests after the redelivery, want 1", n)
	}
	texts := e.githubTexts()
	for _, s := range texts {
		if strings.Contains(s, "to Vault") || strings.Contains(s, "in Vault") {
			t.Errorf("a text on GitHub still says Vault:\n%s", s)
		}
	}
	e.serve.stop(t)
	recs := exportLedger(t, e.vault, "--data-dir", e.data)
	noPlantedValue(t, planted, recs, append(append(texts, e.serve.logs.String()), stored...))
}
