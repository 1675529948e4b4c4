// Package gitexec starts the git CLI for pushvault as cheaply as the kernel
// allows. A push through the App runs about twenty git commands, and in a
// long-running `serve` each start was dearer in serve's own CPU than it
// needed to be: the binary was looked up in PATH every time, and each
// command's input and output went through pipes that a goroutine apiece
// copied. Here the binary is looked up once, and a command's input and
// output are memory-backed files (memfd) that git reads and writes
// directly; serve reads the output once git has exited, which it awaits
// on a pidfd in the network poller rather than in a thread blocked in
// waitid (see awaitExit). On a kernel without memfd the output goes
// through pipes as before; without pidfds, Wait waits as before.
//
// For commands whose output is streamed (git log -p, cat-file --batch),
// use Command and pipes as usual, starting them with Start (or Stdout for
// cmd.Output): in serve, a git process must not inherit the wider timer
// slack of the runtime's threads (internal/timerslack).
package gitexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/pushvault/pushvault/internal/timerslack"
)

// path is where git is, looked up in PATH once; "git" when the lookup
// failed, so that starting it fails with the lookup's error.
var path = sync.OnceValue(func() string {
	p, err := exec.LookPath("git")
	if err != nil {
		return "git"
	}
	return p
})

// devNull is /dev/null, opened once for every command's unset stdin:
// os/exec would open (and try to register with the poller, and close) a
// /dev/null of its own for each command. nil when it cannot be opened, and
// then os/exec does.
var devNull = sync.OnceValue(func() *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		return nil
	}
	return f
})

// Command is exec.CommandContext for git with args, without a PATH lookup.
// Its stdin is /dev/null, as os/exec's default, unless the caller sets
// another.
func Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path(), args...)
	cmd.Args[0] = "git"
	if f := devNull(); f != nil {
		cmd.Stdin = f
	}
	return cmd
}

// Start is cmd.Start for a command made by Command. In a process whose
// timer slack timerslack.Monitor widened, git is started from a thread
// with the standard slack, not to inherit the wider one.
func Start(cmd *exec.Cmd) error { return timerslack.Start(cmd) }

// Stdout is cmd.Output for a command made by Command: its standard output,
// and git's standard error in the *exec.ExitError when it fails and
// cmd.Stderr is unset.
func Stdout(cmd *exec.Cmd) ([]byte, error) {
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	captured := cmd.Stderr == nil
	if captured {
		cmd.Stderr = &errb
	}
	err := Start(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	var ee *exec.ExitError
	if captured && errors.As(err, &ee) {
		ee.Stderr = errb.Bytes()
	}
	return out.Bytes(), err
}

// Output runs cmd, made by Command with no Stdout or Stderr set, with
// stdin (nil: none, which leaves cmd's) as its input, and returns what it
// wrote to stdout and to stderr. err is cmd's error (an *exec.ExitError
// when git failed).
func Output(cmd *exec.Cmd, stdin []byte) (stdout, stderr []byte, err error) {
	in, out, errf, ok := memFiles(stdin)
	if !ok {
		return pipeOutput(cmd, stdin)
	}
	defer func() {
		for _, f := range []*os.File{in, out, errf} {
			if f != nil {
				f.Close()
			}
		}
	}()
	if in != nil {
		cmd.Stdin = in
	}
	cmd.Stdout, cmd.Stderr = out, errf
	if err := Start(cmd); err != nil {
		return nil, nil, err
	}
	awaitExit(cmd.Process)
	err = cmd.Wait()
	stdout, rerr := readAll(out)
	if rerr != nil && err == nil {
		err = rerr
	}
	stderr, _ = readAll(errf)
	return stdout, stderr, err
}

// awaitExit returns when process p has exited, without reaping it, by
// polling a pidfd of it in the runtime's network poller: the goroutine
// parks and no thread sits in a wait system call. A thread blocked in
// Wait for a git fetch of a tenth of a second makes the Go scheduler's
// monitor take its processor back and then poll every 20 µs for a while;
// with a score of git commands a push, that polling cost serve more CPU
// than anything else it did (perf, on the App benchmark). Wait then reaps
// the exited process at once. If the pidfd cannot be had, it returns at
// once and Wait waits as usual.
func awaitExit(p *os.Process) {
	fd, err := unix.PidfdOpen(p.Pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		// WNOWAIT: look, leave the process for Wait to reap.
		if err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil); err != nil {
			return true // Wait will say what is wrong
		}
		return info.Signo != 0
	})
}

// memFiles returns memfds for a command's stdout and stderr, and for its
// stdin holding stdin's bytes (nil when stdin is nil); ok is false when
// the kernel has no memfd.
func memFiles(stdin []byte) (in, out, errf *os.File, ok bool) {
	files := make([]*os.File, 0, 3)
	fail := func() (in, out, errf *os.File, ok bool) {
		for _, f := range files {
			f.Close()
		}
		return nil, nil, nil, false
	}
	for i := 0; i < 3; i++ {
		if i == 0 && stdin == nil {
			files = append(files, nil)
			continue
		}
		fd, err := unix.MemfdCreate("git", unix.MFD_CLOEXEC)
		if err != nil {
			return fail()
		}
		files = append(files, os.NewFile(uintptr(fd), "git"))
	}
	if stdin != nil {
		if _, err := files[0].Write(stdin); err != nil {
			return fail()
		}
		if _, err := files[0].Seek(0, io.SeekStart); err != nil {
			return fail()
		}
	}
	return files[0], files[1], files[2], true
}

// readAll reads a memfd a command wrote, from its start.
func readAll(f *os.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading git's output: %w", err)
	}
	return b, nil
}

// pipeOutput is Output through pipes.
func pipeOutput(cmd *exec.Cmd, stdin []byte) (stdout, stderr []byte, err error) {
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err = Start(cmd); err == nil {
		err = cmd.Wait()
	}
	return out.Bytes(), errb.Bytes(), err
}
