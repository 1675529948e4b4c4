package child_test

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/pushvault/pushvault/internal/child"
)

// A child started from a goroutine whose thread then ends (the goroutine
// exits locked to it) lives on; started from that thread directly with a
// parent-death signal, as before, it is killed with it.
func TestChildOutlivesTheStartingThread(t *testing.T) {
	start := func(direct bool) (*exec.Cmd, <-chan error) {
		cmd := exec.Command("sleep", "30")
		var exited <-chan error
		ready := make(chan error, 1)
		go func() {
			runtime.LockOSThread() // exiting locked ends the thread
			if direct {
				done := make(chan error, 1)
				cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
				err := cmd.Start()
				if err == nil {
					go func() { done <- cmd.Wait() }()
				}
				exited = done
				ready <- err
				return
			}
			var err error
			exited, err = child.Start(cmd)
			ready <- err
		}()
		if err := <-ready; err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return cmd, exited
	}

	_, exited := start(false)
	select {
	case err := <-exited:
		t.Fatalf("the child died with the thread that asked for it: %v", err)
	case <-time.After(500 * time.Millisecond):
	}

	_, exited = start(true)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Error("started directly from the thread that ended, the child lived on: the hazard this package avoids did not show")
	}
}
