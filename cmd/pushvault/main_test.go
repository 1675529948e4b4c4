package main_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pushvault/pushvault/internal/fixture"
	"github.com/pushvault/pushvault/internal/gittest"
	goldenpkg "github.com/pushvault/pushvault/internal/golden"
	"github.com/pushvault/pushvault/internal/npmfixture"
	"github.com/pushvault/pushvault/scanner/report"
)

var binary string

// TestMain builds the pushvault binary once: the CLI is tested as users run
// it, exit statuses and all. Under -short it builds nothing and every test
// that runs the binary skips (see needBinary).
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "pushvault-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "pushvault")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building pushvault: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// pushvault runs the binary with a private data dir holding a fixed
// fingerprint key, so outputs are reproducible.
func pushvault(t *testing.T, dir string, args ...string) result {
	t.Helper()
	data := t.TempDir()
	key := bytes.Repeat([]byte{0x42}, 32)
	if err := os.WriteFile(filepath.Join(data, "fingerprint.key"), []byte(hex.EncodeToString(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	return runBinary(t, dir, []string{"PUSHVAULT_DATA_DIR=" + data}, args...)
}

// needBinary skips t under -short, where TestMain built no binary.
func needBinary(t testing.TB) {
	t.Helper()
	if binary == "" {
		t.Skip("-short skips the tests that run the built pushvault binary (make test runs them)")
	}
}

// runBinary runs the pushvault binary in dir with the test git environment
// plus env, and returns what it printed and its exit status.
func runBinary(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	needBinary(t)
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(gittest.Env(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running pushvault: %v", err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenpkg.Assert(t, name, got)
}

func TestScanJSON(t *testing.T) {
	f := fixture.Leaky(t)
	r := pushvault(t, f.Repo.Dir, "scan", "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (findings); stderr: %s", r.code, r.stderr)
	}
	var doc report.JSONReport
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("output is not the documented JSON: %v\n%s", err, r.stdout)
	}
	type loc struct {
		Detector, Commit, Path string
		Line                   int
	}
	var want, got []loc
	for _, p := range f.Planted {
		want = append(want, loc{p.Detector, f.Commits[p.Commit], p.Path, p.Line})
	}
	for _, fd := range doc.Findings {
		got = append(got, loc{fd.Detector, fd.Commit, fd.Path, fd.Line})
		if fd.Verified != "unknown" || !strings.HasPrefix(fd.ID, "pv_") || fd.Author == "" {
			t.Errorf("finding %s: verified=%q id=%q author=%q", fd.Detector, fd.Verified, fd.ID, fd.Author)
		}
	}
	less := func(a, b loc) bool { return a.Detector < b.Detector }
	if diff := cmp.Diff(want, got, cmpSortLocs(less)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if doc.Stats.Commits != 4 || doc.Stats.Bytes == 0 || doc.Stats.Files == 0 {
		t.Errorf("stats %+v", doc.Stats)
	}
	golden(t, "scan_leaky.json", r.stdout)
}

func TestScanTextAndSARIF(t *testing.T) {
	f := fixture.Leaky(t)
	text := pushvault(t, f.Repo.Dir, "scan")
	if text.code != 1 {
		t.Fatalf("text: exit %d; stderr %s", text.code, text.stderr)
	}
	if n := strings.Count(text.stdout, "\n"); n != len(f.Planted)+1 {
		t.Errorf("text: %d lines, want one per finding plus a summary:\n%s", n, text.stdout)
	}
	golden(t, "scan_leaky.txt", text.stdout)

	sarif := pushvault(t, f.Repo.Dir, "scan", "--format", "sarif")
	if sarif.code != 1 {
		t.Fatalf("sarif: exit %d; stderr %s", sarif.code, sarif.stderr)
	}
	validateSARIF(t, sarif.stdout)
	golden(t, "scan_leaky.sarif", sarif.stdout)
}

// validateSARIF checks a log against the published SARIF 2.1.0 schema.
func validateSARIF(t testing.TB, doc string) {
	t.Helper()
	schemaJSON, err := npmfixture.SARIFSchema.File(npmfixture.SARIFSchemaFile)
	if err != nil {
		t.Fatalf("SARIF schema: %v", err)
	}
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-2.1.0.json", schema); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif-2.1.0.json")
	if err != nil {
		t.Fatalf("compiling SARIF schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("SARIF output is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("SARIF output does not validate against the 2.1.0 schema: %v", err)
	}
}

func TestSARIFValidationCatchesBadLogs(t *testing.T) {
	// The validator itself must reject what the schema forbids, or the test
	// above proves nothing.
	bad := `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"level":"catastrophic"}]}]}`
	ft := &fakeT{}
	func() {
		defer func() { recover() }()
		validateSARIF(ft.T(t), bad)
	}()
	if !ft.failed {
		t.Fatal("a SARIF log with an invalid level passed validation")
	}
}

func TestExitStatusesAndErrors(t *testing.T) {
	clean := gittest.New(t)
	clean.Commit("", "clean", map[string]string{"main.go": "package main\n\nfunc main() {}\n"})
	notRepo := t.TempDir()
	badConfig := func(name, body string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name     string
		dir      string
		args     []string
		code     int
		stderr   string
		stdoutOK string
	}{
		{"clean repository", clean.Dir, []string{"scan"}, 0, "", "0 findings"},
		{"clean, json", clean.Dir, []string{"scan", "--format", "json"}, 0, "", `"findings": []`},
		{"directory argument", t.TempDir(), []string{"scan", clean.Dir, "--all"}, 0, "", "0 findings"},
		{"not a repository", notRepo, []string{"scan"}, 2, "not a git repository", ""},
		{"bad range", clean.Dir, []string{"scan", "--range", "HEAD..nope"}, 2, `bad range HEAD..nope: "nope" is not a commit`, ""},
		{"malformed range", clean.Dir, []string{"scan", "--range", "HEAD"}, 2, "want A..B", ""},
		{"range and all", clean.Dir, []string{"scan", "--range", "HEAD~1..HEAD", "--all"}, 2, "can't be used together", ""},
		{"unknown format", clean.Dir, []string{"scan", "--format", "xml"}, 2, `unknown format "xml"`, ""},
		{"unknown flag", clean.Dir, []string{"scan", "--nope"}, 2, "flag provided but not defined: -nope", ""},
		{"unknown command", clean.Dir, []string{"scna"}, 2, `unknown command "scna"`, ""},
		{"missing config file", clean.Dir, []string{"scan", "--config", "/nonexistent/pushvault.yml"}, 2, "no such file", ""},
		{"config with unknown key", clean.Dir, []string{"scan", "--config", badConfig("a.yml", "allowlist:\n  pathz: [x]\n")}, 2, "a.yml:2: allowlist.pathz: unknown key", ""},
		{"config with bad regex", clean.Dir, []string{"scan", "--config", badConfig("b.yml", "detectors:\n  - name: X\n    regex: '(unclosed'\n")}, 2, "b.yml:3: detectors[0].regex: invalid regular expression", ""},
		{"config with bad glob", clean.Dir, []string{"scan", "--config", badConfig("c.yml", "allowlist:\n  paths: ['a/[b']\n")}, 2, `c.yml:2: allowlist.paths[0]: invalid glob "a/[b"`, ""},
		{"bad log level", clean.Dir, []string{"scan", "--log-level", "loud"}, 2, "bad --log-level", ""},
		{"version", clean.Dir, []string{"version"}, 0, "", "pushvault "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := pushvault(t, tc.dir, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.stderr != "" && !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.stderr)
			}
			if tc.stdoutOK != "" && !strings.Contains(r.stdout, tc.stdoutOK) {
				t.Errorf("stdout %q does not contain %q", r.stdout, tc.stdoutOK)
			}
			if tc.code == 2 && r.stdout != "" {
				t.Errorf("an error run printed a report: %q", r.stdout)
			}
		})
	}
}

// The repository's own settings file applies without --config, and a broken
// one fails the scan naming the file.
func TestRepositorySettingsFile(t *testing.T) {
	f := fixture.Leaky(t)
	f.Repo.Commit("", "settings", map[string]string{".github/pushvault.yml": "allowlist:\n  detectors: [AWS, Github, Stripe, Slack, SendGrid, NpmToken, Postgres, PrivateKey, VaultToken]\n"})
	if r := pushvault(t, f.Repo.Dir, "scan"); r.code != 0 {
		t.Errorf("allowlisting every detector: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	f.Repo.Write(map[string]string{".github/pushvault.yml": "allowlist: {paths: 3}\n"})
	r := pushvault(t, f.Repo.Dir, "scan")
	if r.code != 2 || !strings.Contains(r.stderr, ".github/pushvault.yml:1: allowlist.paths: must be a list of strings") {
		t.Errorf("broken settings: exit %d, stderr %q", r.code, r.stderr)
	}
}

// No planted value appears anywhere in any output of any format, even with
// debug logging on.
func TestNoSecretInAnyOutput(t *testing.T) {
	f := fixture.Leaky(t)
	var runs []result
	for _, format := range []string{"text", "json", "sarif"} {
		for _, target := range [][]string{{}, {"--all"}, {"--range", f.Commits[0] + "..HEAD"}} {
			args := append([]string{"scan", "--format", format, "--log-level", "debug"}, target...)
			r := pushvault(t, f.Repo.Dir, args...)
			if r.code != 1 {
				t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
			}
			runs = append(runs, r)
		}
	}
	debugLines := 0
	for _, r := range runs {
		debugLines += strings.Count(r.stderr, `"level":"DEBUG"`)
		for _, v := range f.Values() {
			for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
				if strings.Contains(out, v) {
					t.Errorf("planted value (%d chars, starts %q) found in %s", len(v), v[:4], name)
				}
			}
		}
	}
	if debugLines == 0 {
		t.Fatal("no debug log lines were written: the leak check would prove nothing about logs")
	}
}
