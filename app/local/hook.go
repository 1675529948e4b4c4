package local

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/app/secretstore"
	"github.com/pushvault/pushvault/internal/gitcli"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

// DefaultHookBudget leaves GHES's 5 s for all hooks some room.
const DefaultHookBudget = 4 * time.Second

// Policies for a hook that runs out of time.
const (
	OnTimeoutReject = "reject"
	OnTimeoutAccept = "accept"
)

// HookOptions are the inputs of `pushvault hook pre-receive`. Zero fields
// are filled by ResolveHookOptions.
type HookOptions struct {
	// Dir is the repository receiving the push (git runs hooks in it).
	Dir string
	// Budget bounds the whole hook: settings, scan and Vault.
	Budget time.Duration
	// OnTimeout is OnTimeoutReject or OnTimeoutAccept.
	OnTimeout string
	// Repository is owner/repo for Vault paths.
	Repository string
	// PushOptions are the client's `git push -o` values.
	PushOptions []string
	// Ledger is the evidence ledger a skip is recorded in (with Vault
	// configured); default DefaultLedgerPath.
	Ledger string
	// Pusher names who pushed, from the server's environment, for records
	// ("alice (GL_USERNAME)"); PusherID is the bare identity the server's
	// skip_allowed list is matched against ("alice").
	Pusher, PusherID string
	// SkipAllowed are the identities the server lets skip the scan with
	// `git push -o pushvault.skip=REASON`; empty: nobody.
	SkipAllowed []string
	// AuditLog is where skips and inline allows are recorded when Vault is
	// not configured (default: pushvault-audit.jsonl next to the hook).
	AuditLog string
	// RepositoryMaySet lists the keys of the repository's settings file
	// that apply (policy.Server); nil: policy.DefaultMaySet.
	RepositoryMaySet []string
	// AllowOversize lets through a push that adds a file too large to scan
	// (scan.max_file_size), with a warning naming it. Off by default: a
	// secret in an unscanned file would pass unseen.
	AllowOversize bool
	// InlineAllow is what an inline "pushvault:allow" comment does (the
	// server's inline_allow; default policy.DefaultInlineAllow).
	InlineAllow policy.InlineAllow
	// GenericSecrets is what generic secrets get (the server's
	// generic_secrets: report, fix or off; default
	// scanner.DefaultGenericMode). A repository's scan.generic applies
	// only when RepositoryMaySet grants it.
	GenericSecrets scanner.GenericMode
	// Store is where a blocked push's secrets are pushed (the server's
	// store: section of HookConfigFile, what it leaves empty from
	// PUSHVAULT_STORE_*, as scan --fix reads them); zero: Vault's KV v2.
	Store secretstore.Config
}

// HookConfigFile is the optional settings file next to the hook, read from
// the repository's hooks directory: budget, on_timeout, repository, ledger,
// skip_allowed, allow_oversize, inline_allow, generic_secrets,
// repository_may_set, store.
const HookConfigFile = "pushvault.yml"

// hookFileSettings is HookConfigFile's content.
type hookFileSettings struct {
	Budget        string   `yaml:"budget"`
	OnTimeout     string   `yaml:"on_timeout"`
	Repository    string   `yaml:"repository"`
	Ledger        string   `yaml:"ledger"`
	SkipAllowed   []string `yaml:"skip_allowed"`
	AllowOversize string   `yaml:"allow_oversize"`
	InlineAllow   string   `yaml:"inline_allow"`
	// GenericSecrets: see HookOptions.GenericSecrets.
	GenericSecrets string `yaml:"generic_secrets"`
	// RepositoryMaySet: see HookOptions.RepositoryMaySet.
	RepositoryMaySet []string `yaml:"repository_may_set"`
	// Store: see HookOptions.Store.
	Store secretstore.Config `yaml:"store"`
}

// hooksDir is the repository's hooks directory ("" when git can't say).
func hooksDir(ctx context.Context, dir string) string {
	hooks, err := gitcli.Run(ctx, dir, nil, nil, "rev-parse", "--git-path", "hooks")
	if err != nil {
		return ""
	}
	if !filepath.IsAbs(hooks) {
		hooks = filepath.Join(dir, hooks)
	}
	return hooks
}

// readHookFile reads the settings file next to the hook; absent is empty.
func readHookFile(ctx context.Context, dir string) (hookFileSettings, string, error) {
	var hs hookFileSettings
	hooks := hooksDir(ctx, dir)
	if hooks == "" {
		return hs, "", nil
	}
	path := filepath.Join(hooks, HookConfigFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return hs, "", nil
	}
	if err != nil {
		return hs, path, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&hs); err != nil && !errors.Is(err, io.EOF) {
		return hs, path, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return hs, path, nil
}

// pusher names who pushed, from what git servers put in a hook's
// environment: GHES, GitLab, Gitea, HTTP authentication, then the OS user.
// It returns the name for records and the bare identity.
func pusher(getenv func(string) string) (display, id string) {
	for _, k := range []string{"GITHUB_USER_LOGIN", "GL_USERNAME", "GITEA_PUSHER_NAME", "REMOTE_USER", "USER"} {
		if v := getenv(k); v != "" {
			return v + " (" + k + ")", v
		}
	}
	return "unknown pusher", ""
}

// ResolveHookOptions fills what the command line left empty from the
// environment (PUSHVAULT_HOOK_BUDGET, PUSHVAULT_HOOK_ON_TIMEOUT,
// PUSHVAULT_REPOSITORY, PUSHVAULT_HOOK_ALLOW_OVERSIZE,
// PUSHVAULT_HOOK_INLINE_ALLOW, PUSHVAULT_HOOK_GENERIC_SECRETS...), then
// HookConfigFile, then git config (pushvault.budget, pushvault.onTimeout,
// pushvault.repository, pushvault.allowOversize, pushvault.inlineAllow,
// pushvault.genericSecrets...), then defaults; and
// reads the push options git passes in GIT_PUSH_OPTION_*. It returns every invalid
// setting at once, named as the user wrote it.
func ResolveHookOptions(ctx context.Context, o HookOptions, getenv func(string) string) (HookOptions, error) {
	var errs []error
	file, filePath, err := readHookFile(ctx, o.Dir)
	if err != nil {
		errs = append(errs, err)
	}
	fromFile := map[string]string{"pushvault.budget": file.Budget, "pushvault.onTimeout": file.OnTimeout,
		"pushvault.repository": file.Repository, "pushvault.ledger": file.Ledger, "pushvault.allowOversize": file.AllowOversize,
		"pushvault.inlineAllow": file.InlineAllow, "pushvault.genericSecrets": file.GenericSecrets}
	setting := func(cur, env, key string) (string, string) {
		if cur != "" {
			return cur, "flag"
		}
		if v := getenv(env); v != "" {
			return v, env
		}
		if v := fromFile[key]; v != "" {
			return v, filePath
		}
		if v, err := gitcli.Run(ctx, o.Dir, nil, nil, "config", "--get", key); err == nil && v != "" {
			return v, "git config " + key
		}
		return "", ""
	}
	budget := ""
	if o.Budget != 0 {
		budget = o.Budget.String()
	}
	if v, src := setting(budget, "PUSHVAULT_HOOK_BUDGET", "pushvault.budget"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: budget %q: want a positive duration such as 4s or 1500ms", src, v))
		}
		o.Budget = d
	} else {
		o.Budget = DefaultHookBudget
	}
	if v, src := setting(o.OnTimeout, "PUSHVAULT_HOOK_ON_TIMEOUT", "pushvault.onTimeout"); v != "" {
		if v != OnTimeoutReject && v != OnTimeoutAccept {
			errs = append(errs, fmt.Errorf("%s: onTimeout %q: want reject or accept", src, v))
		}
		o.OnTimeout = v
	} else {
		o.OnTimeout = OnTimeoutReject
	}
	if v, src := setting(o.Repository, "PUSHVAULT_REPOSITORY", "pushvault.repository"); v != "" {
		if owner, repo, ok := strings.Cut(strings.Trim(v, "/"), "/"); !ok || owner == "" || repo == "" {
			errs = append(errs, fmt.Errorf("%s: repository %q: want OWNER/REPO", src, v))
		}
		o.Repository = strings.Trim(v, "/")
	} else {
		abs, err := filepath.Abs(o.Dir)
		if err != nil {
			abs = o.Dir
		}
		o.Repository = "local/" + strings.TrimSuffix(filepath.Base(abs), ".git")
	}
	if v, _ := setting(o.Ledger, "PUSHVAULT_LEDGER", "pushvault.ledger"); v != "" {
		o.Ledger = v
	}
	if !o.AllowOversize {
		if v, src := setting("", "PUSHVAULT_HOOK_ALLOW_OVERSIZE", "pushvault.allowOversize"); v != "" {
			allow, ok := parseBool(v)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: allowOversize %q: want true or false", src, v))
			}
			o.AllowOversize = allow
		}
	}
	if o.Pusher == "" {
		o.Pusher, o.PusherID = pusher(getenv)
	}
	if o.SkipAllowed == nil {
		list, _ := setting("", "PUSHVAULT_HOOK_SKIP_ALLOWED", "pushvault.skipAllowed")
		o.SkipAllowed = splitList(list)
		if len(o.SkipAllowed) == 0 {
			o.SkipAllowed = file.SkipAllowed
		}
	}
	if o.RepositoryMaySet == nil {
		if list, src := setting("", "PUSHVAULT_HOOK_REPOSITORY_MAY_SET", "pushvault.repositoryMaySet"); list != "" {
			o.RepositoryMaySet = splitList(list)
			if err := policy.ValidateMaySet(src, o.RepositoryMaySet); err != nil {
				errs = append(errs, err)
			}
		} else if file.RepositoryMaySet != nil {
			o.RepositoryMaySet = file.RepositoryMaySet
			if err := policy.ValidateMaySet(filePath+": repository_may_set", o.RepositoryMaySet); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if v, src := setting(string(o.InlineAllow), "PUSHVAULT_HOOK_INLINE_ALLOW", "pushvault.inlineAllow"); v != "" {
		mode, err := policy.ParseInlineAllow(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: inline_allow %w", src, err))
		}
		o.InlineAllow = mode
	} else {
		o.InlineAllow = policy.DefaultInlineAllow
	}
	if v, src := setting(string(o.GenericSecrets), "PUSHVAULT_HOOK_GENERIC_SECRETS", "pushvault.genericSecrets"); v != "" {
		mode, ok := scanner.ParseGenericMode(v)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: generic_secrets %q: want report, fix or off", src, v))
		}
		o.GenericSecrets = mode
	}
	if o.Store.Type == "" {
		o.Store = file.Store
	}
	if sc, err := secretstore.FromEnv(o.Store, getenv); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", cmp.Or(filePath, "PUSHVAULT_STORE_*"), err))
	} else {
		o.Store = sc
	}
	if o.AuditLog == "" {
		if hooks := hooksDir(ctx, o.Dir); hooks != "" {
			o.AuditLog = filepath.Join(hooks, "pushvault-audit.jsonl")
		}
	}
	if o.PushOptions == nil {
		n, _ := strconv.Atoi(getenv("GIT_PUSH_OPTION_COUNT"))
		for i := range n {
			o.PushOptions = append(o.PushOptions, getenv("GIT_PUSH_OPTION_"+strconv.Itoa(i)))
		}
	}
	return o, errors.Join(errs...)
}

// splitList splits a comma-separated setting, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// parseBool reads a boolean as git config writes one.
func parseBool(v string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

// RefUpdate is one line of a pre-receive hook's input.
type RefUpdate struct {
	Old, New, Ref string
}

func isZero(id string) bool { return strings.Trim(id, "0") == "" }

// ParseRefUpdates reads `<old> <new> <ref>` lines.
func ParseRefUpdates(r io.Reader) ([]RefUpdate, error) {
	var out []RefUpdate
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("pre-receive input: bad line %q: want <old> <new> <ref>", line)
		}
		out = append(out, RefUpdate{Old: f[0], New: f[1], Ref: f[2]})
	}
	return out, sc.Err()
}

// target is what an update adds: nothing for a deletion, the commits no
// existing ref reaches for a new ref (branch or tag; the new ref does not
// exist yet while the hook runs), old..new for an update.
func (u RefUpdate) target() (scanner.Target, bool) {
	switch {
	case isZero(u.New):
		return scanner.Target{}, false
	case isZero(u.Old):
		return scanner.NewBranch(u.Ref, u.New), true
	}
	return scanner.Range(u.Old, u.New), true
}

// HookVerdict is what the hook decided.
type HookVerdict struct {
	Accept   bool
	Findings int
	TimedOut bool
	Skipped  string // the skip reason, when the push option was used
	// Oversize are the files too large to scan; they reject the push
	// unless HookOptions.AllowOversize.
	Oversize []scanner.SkippedFile
}

// hookFinding is a finding with the ref it was pushed on and, with Vault,
// where its value now is.
type hookFinding struct {
	ref     string
	finding *scanner.Finding
	vaulted *remediator.Vaulted
}

// PreReceive runs the pre-receive hook: it reads the ref updates from in,
// scans what each adds within the budget, vaults what it finds when Vault
// is configured (VAULT_ADDR), and writes the message for the pusher to msg.
// Any finding on any ref rejects the whole push. The error is for failures
// of the hook itself (the caller rejects the push on it). Running out of
// budget is not an error: with no finding so far the verdict follows
// o.OnTimeout; with findings the push is rejected and the message says which
// refs were left unscanned.
func PreReceive(ctx context.Context, log *slog.Logger, o HookOptions, in io.Reader, msg io.Writer) (HookVerdict, error) {
	updates, err := ParseRefUpdates(in)
	if err != nil {
		return HookVerdict{}, err
	}
	if reason, ok := skipReason(o.PushOptions); ok {
		if !slices.Contains(o.SkipAllowed, o.PusherID) || o.PusherID == "" {
			// Not the server's to grant to this pusher: recorded, and the
			// push is scanned as any other.
			log.WarnContext(ctx, "skip refused", slog.String("pusher", o.Pusher))
			if err := recordSkip(ctx, o, updates, reason, evidence.ScanSkipRefused, msg); err != nil {
				fmt.Fprintf(msg, "pushvault: the refused skip could not be recorded: %v\n", err)
			}
			fmt.Fprintf(msg, "pushvault: skip refused: %s may not skip the scan (the server's skip_allowed); scanning as usual.\n", o.Pusher)
		} else {
			log.InfoContext(ctx, "hook skipped by push option", slog.String("reason", reason))
			if err := recordSkip(ctx, o, updates, reason, evidence.ScanSkipped, msg); err != nil {
				// A skip that can't be recorded is not granted: the escape
				// hatch must leave evidence.
				fmt.Fprintf(msg, "pushvault: push rejected: the skip could not be recorded: %v\n", err)
				return HookVerdict{}, nil
			}
			fmt.Fprintf(msg, "pushvault: scan skipped by push option pushvault.skip (reason: %s)\n", oneLine(reason))
			return HookVerdict{Accept: true, Skipped: reason}, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Budget)
	defer cancel()
	timedOut := func(err error) bool { return err != nil && ctx.Err() != nil }

	// Detection is offline and touches nothing but git: a clean push never
	// waits for Vault, and a Vault outage never blocks one.
	var (
		found     []hookFinding
		allowed   []hookFinding // let through by inline comments, to record
		leaky     []refScan
		seen      = map[string]bool{}
		oversize  []oversized
		seenFile  = map[scanner.SkippedFile]bool{}
		scanned   int
		outOfTime bool
	)
	// The settings that govern the push are those on the default branch
	// before it (trust model): nothing in the pushed commits can weaken
	// their own scan.
	settings, err := policy.DefaultBranch(ctx, o.Dir, policy.Server{MaySet: o.RepositoryMaySet, Generic: o.GenericSecrets})
	if timedOut(err) {
		return timeoutVerdict(o, msg, 0, len(updates)), nil
	}
	if err != nil {
		return HookVerdict{}, fmt.Errorf("settings: %w", err)
	}
	for _, u := range updates {
		target, ok := u.target()
		if !ok {
			scanned++
			continue
		}
		// The hook's own environment (GIT_QUARANTINE_PATH,
		// GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES) reaches git
		// as inherited; nothing to add.
		res, err := scanner.New(scanner.WithSettings(settings.Scan), scanner.WithLogger(log)).ScanEnv(ctx, o.Dir, nil, target)
		if timedOut(err) {
			outOfTime = true
			break
		}
		if err != nil {
			return HookVerdict{}, fmt.Errorf("scanning %s: %w", u.Ref, err)
		}
		scanned++
		toRecord := o.InlineAllow.Apply(res)
		log.DebugContext(ctx, "ref scanned", slog.String("ref", u.Ref), slog.String("target", target.String()),
			slog.Int("findings", len(res.Findings)), slog.Int("inline_allowed", len(res.InlineAllowed)), slog.Int("commits", res.Stats.Commits))
		rs := refScan{update: u, target: target}
		for _, f := range res.Findings {
			if seen[f.ID] {
				continue
			}
			seen[f.ID] = true
			rs.findings = append(rs.findings, f)
			found = append(found, hookFinding{ref: u.Ref, finding: f})
		}
		for _, f := range toRecord {
			if !seen["inline\x00"+f.ID] {
				seen["inline\x00"+f.ID] = true
				allowed = append(allowed, hookFinding{ref: u.Ref, finding: f})
			}
		}
		if len(rs.findings) > 0 {
			leaky = append(leaky, rs)
		}
		for _, sf := range res.Skipped {
			if sf.Reason == scanner.SkipTooLarge && !seenFile[sf] {
				seenFile[sf] = true
				oversize = append(oversize, oversized{ref: u.Ref, file: sf})
			}
		}
	}
	found, reported := splitReportOnly(found)
	writeReported(msg, reported)
	if len(found) == 0 {
		v := HookVerdict{Accept: true}
		switch {
		case outOfTime:
			v = timeoutVerdict(o, msg, scanned, len(updates))
		case len(oversize) > 0:
			v = oversizeVerdict(o, msg, oversize, settings)
		}
		if v.Accept && len(allowed) > 0 {
			return acceptInlineAllowed(ctx, o, allowed, v, msg), nil
		}
		return v, nil
	}
	vaulted := false
	if vault.FromEnv(vault.Config{}).Address != "" {
		vaulted = vaultFindings(ctx, log, o, settings, leaky, found, msg)
	}
	writeRejection(msg, found, vaulted, settings, o.InlineAllow)
	if len(oversize) > 0 && !o.AllowOversize {
		fmt.Fprintln(msg)
		writeOversize(msg, oversize, settings)
	}
	if outOfTime {
		fmt.Fprintf(msg, "pushvault: the %s budget ran out after %d of %d refs; the others were not scanned.\n", o.Budget, scanned, len(updates))
	}
	return HookVerdict{Findings: len(found), TimedOut: outOfTime, Oversize: oversizeFiles(oversize)}, nil
}

// splitReportOnly separates the findings the server's scan.generic: report
// shows without acting on (scanner.Finding.ReportOnly) from those that
// reject the push: a guess from a name and a value's shape warns the
// pusher, it does not stop the push.
func splitReportOnly(found []hookFinding) (blocking, reported []hookFinding) {
	for _, hf := range found {
		if hf.finding.ReportOnly {
			reported = append(reported, hf)
		} else {
			blocking = append(blocking, hf)
		}
	}
	return blocking, reported
}

// writeReported warns the pusher of report-only findings, with where each
// was added.
func writeReported(w io.Writer, reported []hookFinding) {
	if len(reported) == 0 {
		return
	}
	fmt.Fprintf(w, "pushvault: %d possible secret%s (report only: not blocking, not vaulted); check %s:\n", len(reported), plural(len(reported)), pronoun(len(reported)))
	for _, hf := range reported {
		f := hf.finding
		fmt.Fprintf(w, "  %s %s (%s), id %s\n", f.Detector, f.Redacted, hf.ref, f.ID)
		for _, l := range f.Locations {
			fmt.Fprintf(w, "    added in %s at %s\n", short(l.Commit), hookWhere(l))
		}
	}
	fmt.Fprintln(w)
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// oversized is a file a pushed ref adds that is too large to scan.
type oversized struct {
	ref  string
	file scanner.SkippedFile
}

func oversizeFiles(list []oversized) []scanner.SkippedFile {
	out := make([]scanner.SkippedFile, len(list))
	for i, ov := range list {
		out[i] = ov.file
	}
	return out
}

// oversizeVerdict decides a push with no finding that adds files too large
// to scan: rejected, unless the server allows it (AllowOversize), and then
// accepted with the files named.
func oversizeVerdict(o HookOptions, msg io.Writer, list []oversized, settings *policy.Settings) HookVerdict {
	v := HookVerdict{Accept: o.AllowOversize, Oversize: oversizeFiles(list)}
	if o.AllowOversize {
		fmt.Fprintf(msg, "pushvault: WARNING: push accepted with %d file%s too large to scan (pushvault.allowOversize = true):\n", len(list), plural(len(list)))
		writeOversizeFiles(msg, list)
		fmt.Fprintln(msg, "Scan them yourself: pushvault scan --range OLD..NEW --config FILE, with scan.max_file_size raised in FILE.")
		return v
	}
	fmt.Fprintf(msg, "pushvault: push rejected: %d file%s too large to scan\n", len(list), plural(len(list)))
	writeOversize(msg, list, settings)
	return v
}

// writeOversize names the files too large to scan and says how to push.
func writeOversize(w io.Writer, list []oversized, settings *policy.Settings) {
	fmt.Fprintf(w, "These files add more than scan.max_file_size (%s) in one commit and were not scanned;\n"+
		"a secret in them would go through unseen:\n", scanner.FormatSize(int64(settings.Scan.MaxFileBytes)))
	writeOversizeFiles(w, list)
	fmt.Fprint(w, `To push:
  - keep large generated files, dumps and data out of git (Git LFS, an artifact store),
    or split the file; then push again;
  - or, when the files must be in git, scan them yourself
    (pushvault scan --range OLD..NEW --config FILE, with scan.max_file_size raised in FILE)
    and ask an administrator to let oversized files through for this repository
    (git config pushvault.allowOversize true, allow_oversize: true in the hook's pushvault.yml,
    or PUSHVAULT_HOOK_ALLOW_OVERSIZE=true).
`)
}

func writeOversizeFiles(w io.Writer, list []oversized) {
	for _, ov := range list {
		fmt.Fprintf(w, "  %s (%s, %s): adds %s\n", ov.file.Path, short(ov.file.Commit), ov.ref, scanner.FormatSize(ov.file.Bytes))
	}
}

// refScan is one leaky ref: what was scanned and what it added.
type refScan struct {
	update   RefUpdate
	target   scanner.Target
	findings []*scanner.Finding
}

// vaultFindings stores the value of every finding in Vault and attaches
// where it went to found. It is best effort: the push is rejected anyway,
// so a failure is reported to the pusher and the rest goes on. The leaky
// refs are scanned again with Vault's fingerprints, which Store.Put needs
// and the offline scan did not compute.
func vaultFindings(ctx context.Context, log *slog.Logger, o HookOptions, settings *policy.Settings, leaky []refScan, found []hookFinding, msg io.Writer) bool {
	vs, err := openVault(ctx, vault.Config{})
	if err != nil {
		log.WarnContext(ctx, "vault unavailable", slog.String("error", err.Error()))
		fmt.Fprintf(msg, "pushvault: could not reach Vault, nothing vaulted: %v\n", err)
		return false
	}
	led, err := openLedger(ctx, o.Ledger, vs.Transit)
	if err != nil {
		fmt.Fprintf(msg, "pushvault: could not open the evidence ledger, nothing vaulted: %v\n", err)
		return false
	}
	// The same pipeline as scan --fix and the App, without rotation (the
	// hook is offline and has seconds) and without writing a fix: the
	// rejection tells the pusher what to write instead.
	st, err := secretstore.Open(ctx, o.Store, vs)
	if err != nil {
		fmt.Fprintf(msg, "pushvault: could not open the secret store, nothing vaulted: %v\n", err)
		return false
	}
	pipeline := remediator.NewPipeline(st, led)
	actor := "pushvault (hook: push by " + o.Pusher + ")"
	owner, repo, _ := strings.Cut(o.Repository, "/")
	byID := map[string]*remediator.Vaulted{}
	ok := true
	for _, rs := range leaky {
		sc := scanner.New(scanner.WithSettings(settings.Scan), scanner.WithLogger(log),
			scanner.WithFingerprinter(vs.Transit.Fingerprinter(vault.FingerprintKey)))
		res, err := sc.ScanEnv(ctx, o.Dir, nil, rs.target)
		if err != nil {
			fmt.Fprintf(msg, "pushvault: could not vault the secrets of %s: %v\n", rs.update.Ref, err)
			ok = false
			continue
		}
		o.InlineAllow.Apply(res) // the same findings, with the same ids, as the first scan
		want := map[string]bool{}
		for _, f := range rs.findings {
			want[f.ID] = true
		}
		var todo []*scanner.Finding
		for _, f := range res.Findings {
			if want[f.ID] {
				todo = append(todo, f)
			}
		}
		commit := rs.update.New
		run, err := pipeline.Run(ctx, remediator.Job{
			Owner: owner, Repo: repo, Findings: todo, Style: settings.Style, Actor: actor,
			Read: gitcli.NewFiles(o.Dir, commit).Read,
		})
		for _, v := range run.Plan.Secrets {
			byID[v.Finding.ID] = v
		}
		if err != nil {
			log.WarnContext(ctx, "vaulting failed", slog.String("ref", rs.update.Ref), slog.String("error", err.Error()))
			fmt.Fprintf(msg, "pushvault: could not vault every secret of %s: %v\n", rs.update.Ref, err)
			ok = false
		}
	}
	for i := range found {
		found[i].vaulted = byID[found[i].finding.ID]
	}
	return ok && len(byID) > 0
}

func timeoutVerdict(o HookOptions, msg io.Writer, scanned, total int) HookVerdict {
	fmt.Fprintf(msg, "pushvault: the scan ran out of its %s budget after %d of %d ref%s; nothing was found in what was scanned.\n",
		o.Budget, scanned, total, plural(total))
	if o.OnTimeout == OnTimeoutAccept {
		fmt.Fprintln(msg, "pushvault: WARNING: push accepted unscanned (pushvault.onTimeout = accept). Scan it with `pushvault scan`.")
		return HookVerdict{Accept: true, TimedOut: true}
	}
	fmt.Fprintln(msg, "pushvault: push rejected (pushvault.onTimeout = reject). Push fewer commits at a time, or ask an administrator.")
	return HookVerdict{TimedOut: true}
}

// recordSkip records a skip (transition scan_skipped, or scan_skip_refused)
// per updated ref where the hook keeps its records (hookRecords).
func recordSkip(ctx context.Context, o HookOptions, updates []RefUpdate, reason, transition string, msg io.Writer) error {
	records := make([]evidence.Record, len(updates))
	for i, u := range updates {
		records[i] = evidence.Record{
			FindingID:  "push:" + u.Ref + "@" + u.New,
			Repository: o.Repository,
			Transition: transition,
			Actor:      o.Pusher,
			Detail:     map[string]string{"reason": oneLine(reason), "ref": u.Ref, "old": u.Old, "new": u.New},
		}
	}
	where, err := hookRecords(ctx, o, func(context.Context, scanner.Fingerprinter) ([]evidence.Record, error) { return records, nil })
	if err != nil {
		return err
	}
	fmt.Fprintf(msg, "pushvault: recorded in %s (%d ref%s).\n", where, len(updates), plural(len(updates)))
	return nil
}

// acceptInlineAllowed records the findings inline allow comments let
// through an otherwise accepted push (inline_allow: record) and tells the
// pusher. An inline allow that cannot be recorded is not granted: the
// verdict becomes a rejection that says why.
func acceptInlineAllowed(ctx context.Context, o HookOptions, allowed []hookFinding, v HookVerdict, msg io.Writer) HookVerdict {
	where, err := hookRecords(ctx, o, func(ctx context.Context, fp scanner.Fingerprinter) ([]evidence.Record, error) {
		findings := make([]*scanner.Finding, len(allowed))
		for i, a := range allowed {
			findings[i] = a.finding
		}
		if fp != nil {
			if err := scanner.FingerprintFindings(ctx, fp, findings); err != nil {
				return nil, err
			}
		}
		var records []evidence.Record
		for _, f := range findings {
			records = append(records, remediator.InlineAllowedRecords(o.Repository, f, o.Pusher)...)
		}
		return records, nil
	})
	n := len(allowed)
	if err != nil {
		fmt.Fprintf(msg, "pushvault: push rejected: %d finding%s marked \"pushvault:allow\" could not be recorded (the server's inline_allow: record): %v\n", n, plural(n), err)
		writeInlineAllowed(msg, allowed)
		return HookVerdict{Findings: n}
	}
	fmt.Fprintf(msg, "pushvault: %d finding%s let through by an inline allow comment (the server's inline_allow: record), pushed by %s; recorded in %s:\n",
		n, plural(n), o.Pusher, where)
	writeInlineAllowed(msg, allowed)
	return v
}

// writeInlineAllowed lists inline-allowed findings by detector, id and
// location: never a value or a preview of one.
func writeInlineAllowed(w io.Writer, allowed []hookFinding) {
	for _, a := range allowed {
		for _, l := range a.finding.Locations {
			fmt.Fprintf(w, "  %s, id %s, at %s (%s, %s)\n", a.finding.Detector, a.finding.ID, hookWhere(l), short(l.Commit), a.ref)
		}
	}
}

// hookRecords appends the records build makes where the hook keeps them:
// the evidence ledger when Vault is configured (VAULT_ADDR; build then gets
// a fingerprinter keyed in Vault), else the append-only audit log next to
// the hook (build gets nil). It returns where they went, for the pusher.
func hookRecords(ctx context.Context, o HookOptions, build func(context.Context, scanner.Fingerprinter) ([]evidence.Record, error)) (string, error) {
	if os.Getenv("VAULT_ADDR") == "" {
		records, err := build(ctx, nil)
		if err != nil {
			return "", err
		}
		if err := appendAudit(o.AuditLog, records); err != nil {
			return "", err
		}
		return "the audit log " + o.AuditLog, nil
	}
	ctx, cancel := context.WithTimeout(ctx, o.Budget)
	defer cancel()
	vs, err := openVault(ctx, vault.Config{})
	if err != nil {
		return "", err
	}
	led, err := openLedger(ctx, o.Ledger, vs.Transit)
	if err != nil {
		return "", err
	}
	records, err := build(ctx, vs.Transit.Fingerprinter(vault.FingerprintKey))
	if err != nil {
		return "", err
	}
	for _, r := range records {
		if err := led.Append(ctx, r); err != nil {
			return "", err
		}
	}
	return "the evidence ledger", nil
}

// appendAudit appends records, one JSON line each with the time, to the
// audit log at path: opened append-only, never rewritten, readable by its
// owner only.
func appendAudit(path string, records []evidence.Record) error {
	if path == "" {
		return errors.New("no audit log: the hooks directory is unknown")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	var buf bytes.Buffer
	for _, r := range records {
		r.Time = time.Now().UTC()
		line, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		buf.Write(append(line, '\n'))
	}
	// One write: concurrent hooks' appends do not interleave.
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: %w", path, err)
	}
	return f.Close()
}

// skipReason finds the push option pushvault.skip=<reason>.
func skipReason(opts []string) (string, bool) {
	for _, o := range opts {
		if reason, ok := strings.CutPrefix(o, "pushvault.skip="); ok {
			if reason == "" {
				reason = "none given"
			}
			return reason, true
		}
		if o == "pushvault.skip" {
			return "none given", true
		}
	}
	return "", false
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func short(id string) string {
	if len(id) > 7 {
		return id[:7]
	}
	return id
}

// inMessage reports whether any finding is in a commit's or tag's message.
func inMessage(found []hookFinding) bool {
	for _, hf := range found {
		for _, l := range hf.finding.Locations {
			if l.InMessage() {
				return true
			}
		}
	}
	return false
}

// hookWhere is a location for the pusher: "path:line", or the message and
// its line (a message has no file to edit: only rewording the commit, or
// re-creating the tag, takes the secret out of the push).
func hookWhere(l scanner.Location) string {
	if l.InMessage() {
		return fmt.Sprintf("line %d of the %s", l.Line, l.Where())
	}
	return l.Where()
}

// writeRejection writes what the pusher reads: each finding where it was
// added, where its value now is in Vault, and how to fix the push.
func writeRejection(w io.Writer, found []hookFinding, vaulted bool, settings *policy.Settings, inline policy.InlineAllow) {
	fmt.Fprintf(w, "pushvault: push rejected: %d secret%s found\n", len(found), plural(len(found)))
	fmt.Fprintf(w, "Settings: %s.\n", settings.Describe())
	for _, hf := range found {
		f := hf.finding
		fmt.Fprintf(w, "\n  %s %s (%s), id %s\n", f.Detector, f.Redacted, hf.ref, f.ID)
		for _, l := range f.Locations {
			fmt.Fprintf(w, "    added in %s at %s\n", short(l.Commit), hookWhere(l))
		}
		v := hf.vaulted
		if v == nil {
			continue
		}
		fmt.Fprintf(w, "    now in %s at %s (version %d)\n", cmp.Or(v.Store, remediator.DefaultStoreName), v.Location(), v.Stored.Version)
		keys := make([]string, 0, len(v.Refs))
		for k := range v.Refs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "    reference: %s\n", v.Refs[k].Vault())
		}
		for _, e := range v.Edits {
			if rewrite.IsCode(e.Path) {
				fmt.Fprintf(w, "    %s:%d: read environment variable %s instead,\n      with %s=%s in vault.env, run under `pushvault exec`\n",
					e.Path, e.Line, e.EnvName, e.EnvName, e.Ref.Vault())
				continue
			}
			fmt.Fprintf(w, "    %s:%d: write %s instead\n", e.Path, e.Line, e.Ref.In(settings.Style, e.EnvName))
		}
	}
	fmt.Fprint(w, `
To fix, take the secret out of the commits that add it, then push again:
  last commit:    edit the file, git add it, git commit --amend
  older commits:  git rebase -i <commit>^, mark the commit "edit", fix it,
                  git commit --amend, git rebase --continue
`)
	if inMessage(found) {
		fmt.Fprint(w, `  a commit message: reword the commit (git commit --amend for the last one;
                  git rebase -i <commit>^, mark it "reword", for older ones)
  a tag's message: delete the tag (git tag -d NAME) and create it again without it
`)
	}
	if inline == policy.InlineIgnore {
		fmt.Fprint(w, `Not a secret? Add its id to allowlist.findings in .github/pushvault.yml on
the default branch first (settings in the pushed commits do not apply to
their own push); this server does not honour "pushvault:allow" comments.
`)
	} else {
		fmt.Fprint(w, `Not a secret? Add "# pushvault:allow" to the line, or add its id to
allowlist.findings in .github/pushvault.yml on the default branch first
(settings in the pushed commits do not apply to their own push).
`)
	}
	if !vaulted {
		fmt.Fprintln(w, "If the value was ever shared, rotate it.")
	} else {
		store := remediator.DefaultStoreName
		for _, hf := range found {
			if hf.vaulted != nil && hf.vaulted.Store != "" {
				store = hf.vaulted.Store
				break
			}
		}
		fmt.Fprintf(w, "The value is in %s now; if it was ever shared, rotate it there.\n", store)
	}
}
