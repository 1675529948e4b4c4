package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp/githubtest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStandalone runs the process's run function: it prints its JSON
// line, the printed key gets a token through ghinstallation, the token
// clones the repository, and cancelling stops it cleanly.
func TestStandalone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	data := t.TempDir()
	go func() {
		done <- run(ctx, []string{"-data", data, "-repo", "acme/demo", "-repo", "acme/other", "-role", "acme/demo:mara=maintain"}, pw, stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no JSON line: %v (stderr: %s)", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var info Info
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatal(err)
	}
	if info.AppID == 0 || info.WebhookSecret == "" || len(info.Installations) != 1 || len(info.Installations[0].Repos) != 2 || info.InstallationID != info.Installations[0].ID {
		t.Fatalf("info = %+v", info)
	}
	if st, err := os.Stat(info.PrivateKeyPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	tr, err := ghinstallation.NewKeyFromFile(http.DefaultTransport, info.AppID, info.InstallationID, info.PrivateKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = info.URL
	gh := github.NewClient(&http.Client{Transport: tr})
	gh.BaseURL, _ = url.Parse(info.URL + "/")
	repo, _, err := gh.Repositories.Get(ctx, "acme", "demo")
	if err != nil || repo.GetCloneURL() != info.Installations[0].Clone[0] {
		t.Fatalf("repo = %v, %v", repo, err)
	}
	if p, _, err := gh.Repositories.GetPermissionLevel(ctx, "acme", "demo", "mara"); err != nil || p.GetPermission() != "write" {
		t.Errorf("mara's legacy permission on acme/demo (maintain) = %v, %v; want write", p, err)
	}
	tok, err := tr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := strings.Replace(info.Installations[0].Clone[0], "://", "://x-access-token:"+tok+"@", 1)
	cmd := exec.Command("git", "clone", "-q", u, t.TempDir()+"/c")
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clone: %v: %s", err, out)
	}
	resp, err := http.Get(info.URL + githubtest.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	var state githubtest.State
	err = json.NewDecoder(resp.Body).Decode(&state)
	resp.Body.Close()
	if err != nil || len(state.Violations) != 0 || state.Deliveries == nil {
		t.Errorf("state = %+v, %v", state, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if strings.Contains(stderr.String(), "violation") {
		t.Errorf("violations logged: %s", stderr.String())
	}
	for _, secret := range []string{info.WebhookSecret, tok} {
		if strings.Contains(stderr.String(), secret) {
			t.Error("a secret reached the log")
		}
	}
}

func TestStandaloneBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-repo", "noslash"}, {"-repo", "a/b/c"}, {"extra"}, {"-role", "a/b:c"},
		{"-repo", "a/b", "-role", "a/b:c=owner"}, {"-role", "a/nope:c=read"}} {
		var stderr bytes.Buffer
		if err := run(context.Background(), args, io.Discard, &stderr); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}
