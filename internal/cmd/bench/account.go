package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pushvault/pushvault/githubapp/githubtest"
)

// benchHTTP is the benchmark's client for serve, the stand-in and Vault:
// no request of it waits more than 30 s (the events long poll waits 2 s).
var benchHTTP = &http.Client{Timeout: 30 * time.Second}

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// every Linux this runs on).
const clockTick = 10 * time.Millisecond

// cpuTimes is a process's CPU time: its own (user + system) and its
// waited-for children's (serve's git processes); and switches, how often
// its threads were switched out (voluntary and involuntary context
// switches, summed over /proc/PID/task: a thread that has exited no longer
// counts, which Go's threads seldom do). Unlike CPU time, which moves with
// how dear the machine makes each switch and system call that day, the
// count moves only with what the program does.
type cpuTimes struct {
	self, children time.Duration
	switches       float64
}

// cpu reads the process's CPU times from /proc/PID/stat.
func (c *child) cpu() (cpuTimes, error) { return processCPU(c.cmd.Process.Pid) }

// processCPU reads process pid's CPU times from /proc/PID/stat.
func processCPU(pid int) (cpuTimes, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuTimes{}, err
	}
	// The command name (field 2) may hold spaces; fields count from
	// after its closing parenthesis, which is field 3 (state).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return cpuTimes{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return cpuTimes{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	tick := func(k int) time.Duration { // k: stat field number (utime is 14)
		n, _ := strconv.ParseInt(f[k-3], 10, 64)
		return time.Duration(n) * clockTick
	}
	return cpuTimes{self: tick(14) + tick(15), children: tick(16) + tick(17), switches: threadSwitches(pid)}, nil
}

// threadSwitches sums the context switches of process pid's threads (0
// when /proc does not say).
func threadSwitches(pid int) float64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var n float64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread exited meanwhile
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				c, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				n += c
			} else if v, ok := strings.CutPrefix(line, "nonvoluntary_ctxt_switches:"); ok {
				c, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				n += c
			}
		}
	}
	return n
}

func (a cpuTimes) sub(b cpuTimes) cpuTimes {
	return cpuTimes{self: a.self - b.self, children: a.children - b.children, switches: a.switches - b.switches}
}

// serveSample is what serve has done so far, read from its own accounting:
// CPU from the kernel, the rest from /metrics.
type serveSample struct {
	cpu         cpuTimes
	phases      map[string]float64 // pushvault_phase_seconds_sum by phase
	pushSeconds float64            // pushvault_event_processing_seconds_sum{event="push"}
	queued      float64            // pushvault_queue_pending + pushvault_queue_in_flight
	github      float64            // pushvault_github_requests_total, all labels
	vault       map[string]int     // requests in Vault's audit log, by operation and path kind
}

// sample reads serve's CPU, its metrics and Vault's audit log.
func sample(serve *child, metricsURL, auditLog string) (serveSample, error) {
	s := serveSample{phases: map[string]float64{}}
	var err error
	if s.cpu, err = serve.cpu(); err != nil {
		return s, err
	}
	resp, err := benchHTTP.Get(metricsURL)
	if err != nil {
		return s, fmt.Errorf("serve metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, labels, value, ok := metricLine(sc.Text())
		if !ok {
			continue
		}
		switch name {
		case "pushvault_phase_seconds_sum":
			s.phases[labels["phase"]] += value
		case "pushvault_event_processing_seconds_sum":
			if labels["event"] == "push" {
				s.pushSeconds += value
			}
		case "pushvault_queue_pending", "pushvault_queue_in_flight":
			s.queued += value
		case "pushvault_github_requests_total":
			s.github += value
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("serve metrics: %w", err)
	}
	s.vault, err = auditRequests(auditLog)
	return s, err
}

// settled samples serve once its queue is empty (a push's check run and
// PR are out before its delivery is done, and GitHub's events about them
// follow), or after 30 s.
func settled(serve *child, metricsURL, auditLog string) (serveSample, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := sample(serve, metricsURL, auditLog)
		if err != nil || s.queued == 0 || time.Now().After(deadline) {
			return s, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// profileCPU asks serve's profiler (debug_listen) for a CPU profile of
// the next d (at least 5 s) and writes it to path.
func profileCPU(debugAddr, path string, d time.Duration) <-chan error {
	errc := make(chan error, 1)
	go func() {
		secs := max(5, int(d.Seconds()))
		client := &http.Client{Timeout: time.Duration(secs)*time.Second + 30*time.Second}
		resp, err := client.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, secs))
		if err != nil {
			errc <- fmt.Errorf("serve profile: %w", err)
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s", resp.Status)
		}
		if err == nil {
			err = os.WriteFile(path, b, 0o644)
		}
		if err != nil {
			err = fmt.Errorf("serve profile: %w", err)
		}
		errc <- err
	}()
	return errc
}

// metricLine parses one sample line of Prometheus' text format.
func metricLine(l string) (name string, labels map[string]string, value float64, ok bool) {
	if l == "" || l[0] == '#' {
		return "", nil, 0, false
	}
	sp := strings.LastIndexByte(l, ' ')
	if sp < 0 {
		return "", nil, 0, false
	}
	v, err := strconv.ParseFloat(l[sp+1:], 64)
	if err != nil {
		return "", nil, 0, false
	}
	head := l[:sp]
	labels = map[string]string{}
	if i := strings.IndexByte(head, '{'); i >= 0 {
		for _, kv := range strings.Split(strings.TrimSuffix(head[i+1:], "}"), ",") {
			if k, q, ok := strings.Cut(kv, "="); ok {
				labels[k] = strings.Trim(q, `"`)
			}
		}
		head = head[:i]
	}
	return head, labels, v, true
}

// auditRequests counts the requests in Vault's file audit log by
// operation and the first two segments of the path ("update transit/hmac",
// "create secret/data").
func auditRequests(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("vault audit log: %w", err)
	}
	defer f.Close()
	n := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 256<<10), 16<<20)
	for sc.Scan() {
		var e struct {
			Type    string `json:"type"`
			Request struct {
				Operation string `json:"operation"`
				Path      string `json:"path"`
			} `json:"request"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Type != "request" {
			continue
		}
		segs := strings.SplitN(e.Request.Path, "/", 3)
		n[e.Request.Operation+" "+strings.Join(segs[:min(2, len(segs))], "/")]++
	}
	return n, sc.Err()
}

// enableAudit turns on Vault's file audit device, writing to path: the
// count of Vault calls comes from Vault itself. The device logs HMACs of
// secret values, never the values.
func enableAudit(vaultAddr, path string) error {
	body, _ := json.Marshal(map[string]any{"type": "file", "options": map[string]string{"file_path": path}})
	req, err := http.NewRequest(http.MethodPut, vaultAddr+"/v1/sys/audit/bench", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Vault-Token", benchVaultToken)
	resp, err := benchHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("vault audit: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("vault audit: %s: %s", resp.Status, b)
	}
	return nil
}

// perPush is the difference between two samples, divided over n pushes.
func perPush(before, after serveSample, n int) (cpu cpuTimes, phases map[string]float64, total, github float64, vault map[string]float64) {
	d := after.cpu.sub(before.cpu)
	cpu = cpuTimes{self: d.self / time.Duration(n), children: d.children / time.Duration(n), switches: d.switches / float64(n)}
	phases = map[string]float64{}
	for k, v := range after.phases {
		phases[k] = (v - before.phases[k]) / float64(n)
	}
	total = (after.pushSeconds - before.pushSeconds) / float64(n)
	github = (after.github - before.github) / float64(n)
	vault = map[string]float64{}
	for k, v := range after.vault {
		if d := v - before.vault[k]; d > 0 {
			vault[k] = float64(d) / float64(n)
		}
	}
	return cpu, phases, total, github, vault
}

// printPerPush prints what serve spent on each push of a phase of the
// benchmark: CPU from the kernel's accounting, wall time by pipeline
// phase from serve's metrics, and the calls it made.
func printPerPush(title string, before, after serveSample, n int) {
	cpu, phases, total, github, vault := perPush(before, after, n)
	fmt.Printf("\nserve, per push (%s, %d pushes)\n", title, n)
	perCore := 0.0
	if cpu.self > 0 {
		perCore = time.Minute.Seconds() / cpu.self.Seconds()
	}
	fmt.Printf("  CPU: serve %.1f ms, its git processes %.1f ms -> %.0f pushes per minute per serve CPU core (%.0f with git)\n",
		ms(cpu.self), ms(cpu.children), perCore, time.Minute.Seconds()/(cpu.self+cpu.children).Seconds())
	fmt.Printf("  serve's threads switched out %.0f times a push (context switches)\n", cpu.switches)
	var vaultAll float64
	for _, v := range vault {
		vaultAll += v
	}
	fmt.Printf("  calls: %.1f GitHub API, %.1f Vault (%s)\n", github, vaultAll, byCount(vault, "%.1f"))
	names := make([]string, 0, len(phases))
	var sum float64
	for k, v := range phases {
		names = append(names, k)
		sum += v
	}
	sort.Slice(names, func(i, j int) bool { return phases[names[i]] > phases[names[j]] })
	fmt.Printf("  wall by phase (processing %.0f ms):", total*1000)
	for _, k := range names {
		fmt.Printf(" %s %.0f", k, phases[k]*1000)
	}
	fmt.Printf(", other %.0f ms\n", (total-sum)*1000)
}

// byCount lists m's entries, largest first.
func byCount(m map[string]float64, format string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + fmt.Sprintf(format, m[k])
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// eventWaiter follows the stand-in's event stream (githubtest.EventsPath)
// to see pushes done, with the stand-in's own timestamps.
type eventWaiter struct {
	url    string
	after  int
	checks map[string]githubtest.Event // by head SHA, pushvault's check runs
	prs    map[string]time.Time        // by head branch
	polls  int
}

func newEventWaiter(standinURL string) *eventWaiter {
	return &eventWaiter{url: standinURL + githubtest.EventsPath, checks: map[string]githubtest.Event{}, prs: map[string]time.Time{}}
}

// next folds in the events after the last seen, waiting up to 2 s for one.
func (w *eventWaiter) next() error {
	resp, err := benchHTTP.Get(w.url + "?wait=2s&after=" + strconv.Itoa(w.after))
	if err != nil {
		return fmt.Errorf("stand-in events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("stand-in events: %s", resp.Status)
	}
	var evs githubtest.Events
	if err := json.NewDecoder(resp.Body).Decode(&evs); err != nil {
		return fmt.Errorf("stand-in events: %w", err)
	}
	w.polls++
	for _, e := range evs.Events {
		w.after = max(w.after, e.Seq)
		switch {
		case e.Kind == "check_run.completed" && e.Name == "pushvault":
			if _, seen := w.checks[e.HeadSHA]; !seen {
				w.checks[e.HeadSHA] = e
			}
		case e.Kind == "pull_request.opened":
			if _, seen := w.prs[e.Head]; !seen {
				w.prs[e.Head] = e.At
			}
		}
	}
	return nil
}

// waitAll waits until every push has its completed check run and its fix
// PR. A check run that completes with any conclusion but action_required,
// or without annotations, is an error: serve failed that push.
func (w *eventWaiter) waitAll(ps []*push, deadline time.Time) ([]done, error) {
	ds := make([]done, len(ps))
	for {
		left := 0
		for i, p := range ps {
			if e, ok := w.checks[p.sha]; ok && ds[i].check.IsZero() {
				if e.Conclusion != "action_required" {
					return nil, fmt.Errorf("check run for %s concluded %q", p.sha[:7], e.Conclusion)
				}
				if e.Annotations == 0 {
					return nil, fmt.Errorf("check run for %s completed without annotations (%d secrets planted)", p.sha[:7], plantedPerPush)
				}
				ds[i].found, ds[i].check = e.Annotations, e.At
			}
			if at, ok := w.prs["pushvault/fix-"+p.sha[:7]]; ok {
				ds[i].pr = at
			}
			if ds[i].check.IsZero() || ds[i].pr.IsZero() {
				left++
			}
		}
		if left == 0 {
			return ds, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d pushes not done (check run completed and fix PR opened) in time", left, len(ps))
		}
		if err := w.next(); err != nil {
			return nil, err
		}
	}
}

func (w *eventWaiter) waitOne(p *push) (done, error) {
	d, err := w.waitAll([]*push{p}, time.Now().Add(appTimeout))
	if err != nil {
		return done{}, err
	}
	return d[0], nil
}
