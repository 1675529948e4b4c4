// Package child starts the helper processes the tests and benchmarks run
// (Vault, nats-server, mariadbd, serve and the stand-ins) so that they die
// with the process that started them, and not before.
package child

import (
	"os/exec"
	"runtime"
	"syscall"
)

// Start starts cmd with SIGKILL as its parent-death signal and returns a
// channel that receives cmd.Wait's error once the process has exited.
//
// Linux sends the parent-death signal when the thread that forked the
// child ends, not when the process does (golang/go#27505), and a Go
// program's threads end: one whose goroutine exits while locked to it goes
// with it. A child started from an ordinary goroutine could so be killed
// in the middle of a test — a test's Vault refusing connections minutes
// after it started. Here the child is started and waited for on a
// goroutine locked to its thread, so that the thread lives exactly as
// long as the child.
func Start(cmd *exec.Cmd) (<-chan error, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	started := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine, after the child
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return exited, nil
}
