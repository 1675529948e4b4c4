package timerslack

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const helperEnv = "TIMERSLACK_TEST_HELPER"

// report is what the helper process says about itself once Monitor
// returned in it.
type report struct {
	Pid       int
	Reexec    bool   // Active: Monitor re-executed the process
	Marker    bool   // the marker is still in the environment
	Threads   []int  // every thread's timer slack (ns)
	Child     string // what a child started with Start reads as its slack
	MonitorOK string // Monitor's error, "" when none
}

// helper runs in the process the test starts: Monitor, then the report.
func helper() {
	err := Monitor(5 * time.Millisecond)
	r := report{Pid: os.Getpid(), Reexec: Active()}
	if err != nil {
		r.MonitorOK = err.Error()
	}
	_, r.Marker = os.LookupEnv(envStandard)
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc", filepath.Base(t), "timerslack_ns"))
		if err != nil {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		r.Threads = append(r.Threads, n)
	}
	cmd := exec.Command("cat", "/proc/self/timerslack_ns")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := Start(cmd); err == nil && cmd.Wait() == nil {
		r.Child = strings.TrimSpace(out.String())
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		helper()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Monitor re-executes the process in place (same pid) with its threads at
// the wider slack — the runtime's monitor keeps it, being never handed
// back — puts the calling thread back, takes its marker out of the
// environment, and a child started with Start has the standard slack.
func TestMonitor(t *testing.T) {
	std, err := os.ReadFile("/proc/self/timerslack_ns")
	if err != nil {
		t.Skip("no /proc/self/timerslack_ns:", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v\n%s", err, stderr.String())
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("helper's report %q: %v", out.String(), err)
	}
	if r.MonitorOK != "" || !r.Reexec || r.Marker {
		t.Fatalf("Monitor: error %q, re-executed %v, marker left %v", r.MonitorOK, r.Reexec, r.Marker)
	}
	if r.Pid != pid {
		t.Errorf("re-executed as pid %d, want the same process (%d)", r.Pid, pid)
	}
	wide := 0
	for _, n := range r.Threads {
		if n == int((5 * time.Millisecond).Nanoseconds()) {
			wide++
		}
	}
	if wide == 0 {
		t.Errorf("no thread at 5 ms slack: %v", r.Threads)
	}
	if want := strings.TrimSpace(string(std)); r.Child != want {
		t.Errorf("a child started with Start has slack %q, want the standard %s", r.Child, want)
	}
	t.Logf("threads' slack: %v", r.Threads)
}

// Without Monitor, Start is cmd.Start and Monitor(0) does nothing.
func TestStartWithoutMonitor(t *testing.T) {
	if err := Monitor(0); err != nil || Active() {
		t.Fatalf("Monitor(0): %v, active %v", err, Active())
	}
	cmd := exec.Command("true")
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}
