package scanner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/fixture"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/scanner"
)

// lines returns where each finding was first seen, by path.
func lines(res *scanner.Result) map[string]int {
	out := map[string]int{}
	for _, f := range res.Findings {
		for _, l := range f.Locations {
			out[l.Path] = l.Line
		}
	}
	return out
}

// The repository's .gitattributes (written by whoever pushes) can make git
// call a file binary or show it through a textconv filter; none of it
// keeps the file's added lines from the scan, in the commit that adds the
// attributes as in later ones.
func TestScanIgnoresGitAttributes(t *testing.T) {
	g := secrettest.Fresh(t)
	r := gittest.New(t)
	// The drivers an operator may have configured; the attributes are the
	// pusher's choice of which applies.
	r.Git("config", "diff.redact.textconv", "sed s/[A-Za-z0-9]/x/g")
	r.Git("config", "diff.opaque.binary", "true")
	r.Git("config", "diff.quiet.command", "true")
	files := map[string]string{
		".gitattributes": "*.env -diff\n*.key binary\n*.cfg diff=redact\n*.ini diff=opaque\n*.sh diff=quiet\n",
		"a.env":          "PORT=1\nSTRIPE_KEY=" + g.Stripe() + "\n",
		"b.key":          "x\ny\n" + g.GitHub() + "\n",
		"c.cfg":          "token = " + g.GitHub() + "\n",
		"d.ini":          "[s]\nk=1\ntoken=" + g.GitHub() + "\n",
		"e.sh":           "export T=" + g.GitHub() + "\n",
	}
	r.Commit("", "attributes and secrets together", files)
	want := map[string]int{"a.env": 2, "b.key": 3, "c.cfg": 1, "d.ini": 3, "e.sh": 1}
	if diff := cmp.Diff(want, lines(scan(t, r.Dir, scanner.Reachable("HEAD")))); diff != "" {
		t.Errorf("same commit: findings by path (-want +got):\n%s", diff)
	}
	r.Commit("", "more", map[string]string{"later.env": "K=" + g.Stripe() + "\n"})
	if diff := cmp.Diff(map[string]int{"later.env": 1}, lines(scan(t, r.Dir, scanner.Range("HEAD~1", "HEAD")))); diff != "" {
		t.Errorf("later commit: findings by path (-want +got):\n%s", diff)
	}
}

// UTF-16 and UTF-32 text is decoded before detection, and findings point at
// the line an editor shows, also where a character's code unit holds a 0x0A
// byte (上 is U+4E0A: git sees a line break in it) and where only some lines
// of the file change. A text file with a stray NUL byte is text.
func TestScanTextEncodings(t *testing.T) {
	g := secrettest.Fresh(t)
	tok := func() string { return g.GitHub() }
	script := func(secret string) string {
		return "# 上传 deploy script\r\n$ErrorActionPreference = 'Stop'\r\n$token = \"" + secret + "\"\r\nWrite-Host 上\r\n"
	}
	r := gittest.New(t)
	r.Commit("", "text in many encodings", map[string]string{
		"deploy.ps1":     fixture.UTF16(script(tok()), false, true),
		"be.ps1":         fixture.UTF16(script(tok()), true, true),
		"nobom.txt":      fixture.UTF16("line one\nline two\nkey: "+tok()+"\n", false, false),
		"wide32.txt":     fixture.UTF32("a\n上上\nb\ntoken="+tok()+"\n", false),
		"wide32be.txt":   fixture.UTF32("a\nb\ntoken="+tok()+"\n", true),
		"stray-nul.conf": "a=1\nb=\x00\ntoken=" + tok() + "\n",
		"cjk.txt":        fixture.UTF16("上\n上上\n上 上\n"+strings.Repeat("上下\n", 50)+"token="+tok()+"\n", false, true),
	})
	want := map[string]int{"deploy.ps1": 3, "be.ps1": 3, "nobom.txt": 3, "wide32.txt": 4, "wide32be.txt": 3, "stray-nul.conf": 3, "cjk.txt": 54}
	if diff := cmp.Diff(want, lines(scan(t, r.Dir, scanner.Reachable("HEAD")))); diff != "" {
		t.Errorf("added files: lines by path (-want +got):\n%s", diff)
	}

	// Later commits change a few lines in the middle of each file.
	edit := func(lines []string, at int, line string) string {
		out := append([]string(nil), lines...)
		out[at-1] = line
		return strings.Join(out, "\n") + "\n"
	}
	var body []string
	for i := range 40 {
		body = append(body, "line 上 "+strings.Repeat("x", i))
	}
	base := strings.Join(body, "\n") + "\n"
	r.Commit("", "base", map[string]string{"le.txt": fixture.UTF16(base, false, true), "be.txt": fixture.UTF16(base, true, true), "le32.txt": fixture.UTF32(base, false)})
	r.Commit("", "edit", map[string]string{
		"le.txt":   fixture.UTF16(edit(body, 17, "token="+tok()), false, true),
		"be.txt":   fixture.UTF16(edit(body, 23, "token="+tok()), true, true),
		"le32.txt": fixture.UTF32(edit(body, 31, "token="+tok()), false),
	})
	want = map[string]int{"le.txt": 17, "be.txt": 23, "le32.txt": 31}
	if diff := cmp.Diff(want, lines(scan(t, r.Dir, scanner.Range("HEAD~1", "HEAD")))); diff != "" {
		t.Errorf("edited files: lines by path (-want +got):\n%s", diff)
	}
}

// Real binaries are still skipped, and each is listed and counted with its
// reason; a binary over the size limit is a binary, not an oversized file.
func TestScanSkipsRealBinaries(t *testing.T) {
	g := secrettest.Fresh(t)
	r := gittest.New(t)
	self, err := os.Executable() // this test binary: real object code
	if err != nil {
		t.Fatal(err)
	}
	obj, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	r.Commit("", "binaries", map[string]string{
		"img/logo.png": fixture.PNG(t, "TOKEN="+g.GitHub()),
		"dist/app.zip": fixture.ZIP(t, "TOKEN="+g.GitHub()),
		"bin/tool":     string(obj[:min(len(obj), 256<<10)]) + "TOKEN=" + g.GitHub(),
		"ok.txt":       "nothing here\n",
	})
	settings, err := scanner.ParseSettings("test", []byte("scan:\n  max_file_size: 64KiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	res := scan(t, r.Dir, scanner.All(), scanner.WithSettings(settings))
	if len(res.Findings) != 0 {
		t.Errorf("findings in binaries: %v", summarize(res))
	}
	var got []string
	for _, s := range res.Skipped {
		if s.Reason != scanner.SkipBinary || s.Commit != r.Head() || s.Bytes <= 0 {
			t.Errorf("skipped %+v, want a binary of commit %s with its size", s, r.Head())
		}
		got = append(got, s.Path)
	}
	if diff := cmp.Diff([]string{"bin/tool", "dist/app.zip", "img/logo.png"}, got); diff != "" {
		t.Errorf("skipped files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[scanner.SkipReason]int{scanner.SkipBinary: 3}, res.Stats.Reasons); diff != "" {
		t.Errorf("skip reasons (-want +got):\n%s", diff)
	}
}

// Commit metadata is the pusher's to write, bytes git's own commands refuse
// included: NUL, \x1e and \x1f in the author and committer, and a message
// made of lines that look like the scanner's own markers and like diff
// text. None of it changes what is found in files, where or in which
// commit; what the message holds is found in the message.
func TestScanCraftedCommitMetadata(t *testing.T) {
	g := secrettest.Fresh(t)
	secret, decoy := g.GitHub(), g.Stripe()
	r := gittest.New(t)
	parent := r.Commit("", "base", map[string]string{"README.md": "hi\n"})
	r.Write(map[string]string{"config/app.env": "A=1\nTOKEN=" + secret + "\n"})
	r.Git("add", "-A")
	tree := r.Git("write-tree")
	header := "Ev\x00il\x1f\x1e\x1ecommit 0000\x1f <e\x00v@x>"
	obj := "tree " + tree + "\nparent " + parent + "\nauthor " + header + " 1700000000 +0000\n" +
		"committer \x00commit \x1f\x00 <c\x1e> 1700000000 +0000\n\nsubject\n" +
		"\x00commit " + parent + "\x00x\x00y\n\x1ecommit " + parent + "\x1fx\x1fy\n" +
		"diff --git a/fake.env b/fake.env\n+++ b/fake.env\n@@ -0,0 +1 @@\n+KEY=" + decoy + "\n"
	path := filepath.Join(t.TempDir(), "commit")
	if err := os.WriteFile(path, []byte(obj), 0o644); err != nil {
		t.Fatal(err)
	}
	crafted := r.Git("hash-object", "--literally", "-t", "commit", "-w", path)
	r.Git("update-ref", "refs/heads/main", crafted)
	r.Commit("", "after", map[string]string{"later.txt": "KEY=" + g.GitHub() + "\n"})

	res := scan(t, r.Dir, scanner.Range(parent, "HEAD"))
	type loc struct {
		Commit, Path string
		Line         int
	}
	var got []loc
	for _, f := range res.Findings {
		for _, l := range f.Locations {
			got = append(got, loc{l.Commit, l.Path, l.Line})
		}
	}
	// The decoy is in the crafted commit's message, line 7: found there
	// (messages are scanned), never in the fake.env its lines imitate.
	want := []loc{{crafted, "", 7}, {crafted, "config/app.env", 2}, {r.Head(), "later.txt", 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("locations (-want +got):\n%s", diff)
	}
	if res.Stats.Commits != 2 {
		t.Errorf("commits = %d, want 2", res.Stats.Commits)
	}
}
