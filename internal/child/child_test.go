package child_test

import (
	"errors"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/pushvault/pushvault/internal/child"
)

// errMainThread says a goroutine ran on the process's main thread, which
// the runtime never ends (a goroutine exiting locked to it wedges it
// instead), so the hazard cannot show from there.
var errMainThread = errors.New("on the main thread")

// A child started from a goroutine whose thread then ends (the goroutine
// exits locked to it) lives on; started from that thread directly with a
// parent-death signal, as before, it is killed with it.
func TestChildOutlivesTheStartingThread(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })

	startOnce := func(direct bool) (<-chan error, error) {
		cmd := exec.Command("sleep", "30")
		var exited <-chan error
		ready := make(chan error, 1)
		go func() {
			runtime.LockOSThread() // exiting locked ends the thread, unless it is the main one
			if syscall.Gettid() == syscall.Getpid() {
				ready <- errMainThread
				<-release // hold the main thread so the next try runs elsewhere
				runtime.UnlockOSThread()
				return
			}
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
			return nil, err
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return exited, nil
	}
	start := func(direct bool) <-chan error {
		for range 3 {
			exited, err := startOnce(direct)
			if errors.Is(err, errMainThread) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			return exited
		}
		t.Fatal("every try ran on the main thread")
		return nil
	}

	exited := start(false)
	select {
	case err := <-exited:
		t.Fatalf("the child died with the thread that asked for it: %v", err)
	case <-time.After(500 * time.Millisecond):
	}

	exited = start(true)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Error("started directly from a thread that ended, the child lived on: the hazard this package avoids did not show")
	}
}
