package gitexec

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Both ways of running a command (memfds and the pipes kept for kernels
// without them) pass input and return output and errors alike.
func TestOutput(t *testing.T) {
	big := bytes.Repeat([]byte("pushvault\n"), 100_000) // past a pipe's 64 KiB
	for name, run := range map[string]func(*exec.Cmd, []byte) ([]byte, []byte, error){
		"memfd": Output,
		"pipes": pipeOutput,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
				t.Fatalf("git init: %v\n%s", err, out)
			}
			ctx := context.Background()
			out, _, err := run(Command(ctx, "-C", dir, "hash-object", "--stdin"), big)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("git", "-C", dir, "hash-object", "--stdin")
			cmd.Stdin = bytes.NewReader(big)
			want, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(want) {
				t.Errorf("hash of the input: %q, git says %q", out, want)
			}
			if _, _, err := run(Command(ctx, "-C", dir, "cat-file", "-p", strings.TrimSpace(string(out))), nil); err == nil {
				t.Fatal("reading an object never written should fail")
			}
			_, stderr, err := run(Command(ctx, "-C", dir, "rev-parse", "--verify", "no-such-ref"), nil)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || !strings.Contains(string(stderr), "fatal") {
				t.Errorf("a failing git: err %v, stderr %q; want an exit error and git's message", err, stderr)
			}
			out, _, err = run(Command(ctx, "-C", dir, "hash-object", "-w", "--stdin"), big)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := run(Command(ctx, "-C", dir, "cat-file", "blob", strings.TrimSpace(string(out))), nil)
			if err != nil || !bytes.Equal(got, big) {
				t.Errorf("reading back %d bytes: got %d, err %v", len(big), len(got), err)
			}
		})
	}
}

// awaitExit returns when the process has exited, not before, and leaves
// it for Wait to reap with its status.
func TestAwaitExit(t *testing.T) {
	if fd, err := unix.PidfdOpen(os.Getpid(), 0); err != nil {
		t.Skipf("no pidfds on this kernel (%v): awaitExit leaves the waiting to Wait", err)
	} else {
		unix.Close(fd)
	}
	cmd := exec.Command("sh", "-c", "sleep 0.3; exit 3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	awaitExit(cmd.Process)
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("awaitExit returned after %v, before the process exited", waited)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("Wait after awaitExit: %v, want exit status 3", err)
	}
}

// Stdout is cmd.Output: git's output, and on failure an *exec.ExitError
// holding what git wrote to stderr. A command's stdin is /dev/null unless
// set: git reading it sees nothing.
func TestStdout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	out, err := Stdout(Command(ctx, "-C", dir, "hash-object", "--stdin"))
	if err != nil || strings.TrimSpace(string(out)) != "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391" {
		t.Errorf("hash-object of /dev/null: %q, %v; want the empty blob", out, err)
	}
	_, err = Stdout(Command(ctx, "-C", dir, "rev-parse", "--verify", "no-such-ref"))
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(string(ee.Stderr), "fatal") {
		t.Errorf("a failing git: %v (stderr %q), want an *exec.ExitError with git's message", err, stderrOf(ee))
	}
}

func stderrOf(ee *exec.ExitError) []byte {
	if ee == nil {
		return nil
	}
	return ee.Stderr
}
