// Package timerslack widens the timer slack of the Go runtime's monitor
// thread (sysmon) in a long-running process, where each of its wake-ups is
// dear.
//
// sysmon sleeps 20 µs at a time while any goroutine runs, and whenever a
// system call wakes it from its deep sleep it starts over at 20 µs for at
// least a millisecond. A server that waits on others (git, Vault, GitHub)
// goes idle and busy again dozens of times a request, so on a virtual
// machine, where a context switch costs tens of microseconds, sysmon's
// sleeps were half of pushvault serve's context switches and a fifth of
// its CPU (measured on the App benchmark: see the README). A timer slack
// of a few milliseconds lets the kernel end those sleeps when it likes
// within that margin; sysmon's own longest sleep is 10 ms, so its duties
// (taking a processor back from a blocked system call, preempting a
// goroutine after 10 ms, polling the network) stay within its design.
//
// A thread's timer slack can only be set by the thread itself (or with
// CAP_SYS_NICE), and sysmon starts before any of the program's code runs;
// new threads inherit their creator's. So Monitor sets the slack on the
// calling thread and re-executes the program, whose threads all start with
// it. In the re-executed process Monitor puts the calling thread back to
// the standard slack, and Start gives every thread that starts a child
// process the standard slack first, so that git and the like do not
// inherit the wider one (their poll loops would slow down).
package timerslack

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// envStandard marks the re-executed process and carries the standard slack
// (ns) to restore; it is removed from the environment at once.
const envStandard = "PUSHVAULT_TIMERSLACK_STANDARD"

// standard is the slack (ns) threads starting children get; 0 when
// Monitor has not re-executed this process.
var standard atomic.Uint64

// Monitor gives this process's threads, sysmon among them, timer slack d
// by re-executing the program (/proc/self/exe, the same arguments and
// environment): it does not return then. In the process it re-executed, it
// restores the calling thread's slack, records the standard one for Start
// and returns nil. d <= 0 does nothing. An error says why the slack could
// not be set; the process runs on unchanged.
func Monitor(d time.Duration) error {
	if v, ok := os.LookupEnv(envStandard); ok {
		os.Unsetenv(envStandard)
		ns, err := strconv.ParseUint(v, 10, 64)
		if err != nil || ns == 0 {
			return fmt.Errorf("timer slack: bad %s=%q", envStandard, v)
		}
		standard.Store(ns)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		return setSlack(ns)
	}
	if d <= 0 {
		return nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread() // reached only when the exec failed
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("timer slack: %w", err)
	}
	if err := setSlack(uint64(d.Nanoseconds())); err != nil {
		return err
	}
	env := append(os.Environ(), envStandard+"="+strconv.Itoa(cur))
	err = syscall.Exec("/proc/self/exe", os.Args, env)
	_ = setSlack(uint64(cur))
	return fmt.Errorf("timer slack: re-executing %s: %w", os.Args[0], err)
}

// Active says whether this process was re-executed by Monitor.
func Active() bool { return standard.Load() != 0 }

// Start is cmd.Start, from a thread with the standard timer slack when
// Monitor widened this process's: a child inherits the slack of the thread
// that starts it.
func Start(cmd *exec.Cmd) error {
	ns := standard.Load()
	if ns == 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := setSlack(ns); err != nil {
		return err
	}
	return cmd.Start()
}

// setSlack sets the calling thread's timer slack to ns.
func setSlack(ns uint64) error {
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ns), 0, 0, 0); err != nil {
		return fmt.Errorf("timer slack: %w", err)
	}
	return nil
}
