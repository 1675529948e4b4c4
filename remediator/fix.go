package remediator

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/store"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

// SecretStore is where secrets go: HashiCorp Vault KV v2 (*vault.Store,
// the default) or AWS Secrets Manager (*awssm.Store). The rotation keeps its
// state in the same store through rotate.Store.
type SecretStore interface {
	// Put stores item once: a retry, a rerun or a second process finds
	// it stored (by fingerprint) and writes nothing more.
	Put(ctx context.Context, item store.Item) (store.Stored, error)
	// Mount names the store in locations (ledger, reports): the KV v2
	// mount, or aws-secretsmanager:REGION.
	Mount() string
	// Ref is the reference a fix writes for key of the secret at path.
	Ref(path, key string) rewrite.Ref
	// Name names the store for people in every report, PR, comment and
	// message: "Vault", "AWS Secrets Manager".
	Name() string
}

var _ SecretStore = (*vault.Store)(nil)

// FileReader reads a file of the commit being fixed; ok is false when the
// file does not exist there.
type FileReader func(ctx context.Context, path string) (data []byte, ok bool, err error)

// Fixer vaults findings and computes the rewrites that replace them.
type Fixer struct {
	store SecretStore
	style rewrite.Style
}

// NewFixer returns a Fixer writing to store, with references in style
// (default rewrite.StyleVault) for config files.
func NewFixer(store SecretStore, style rewrite.Style) *Fixer {
	if style == "" {
		style = rewrite.StyleVault
	}
	return &Fixer{store: store, style: style}
}

// Vaulted is what happened to one finding.
type Vaulted struct {
	Finding *scanner.Finding
	Name    string
	Stored  store.Stored
	// Refs are the references by data key ("value", "password",
	// "access_key_id", ...).
	Refs map[string]rewrite.Ref
	// Edits are the places rewritten: "path:line -> replacement".
	Edits []Edit
	// Manual are the steps a person must take where no safe edit exists.
	Manual []Manual
	// Store names the store the value was written to, for people
	// (SecretStore.Name).
	Store string

	mount string // the store's mount the value was written to
	// external: the store is not Vault's KV (its references are External).
	external bool
}

// Edit is one rewritten occurrence.
type Edit struct {
	Path    string
	Line    int
	EnvName string
	Ref     rewrite.Ref
	Deleted bool // the file was the secret and is deleted
}

// Manual is a step left to a person.
type Manual struct {
	Path   string
	Line   int
	Reason string
	Step   string
	// Message, when set, is the commit or tag message the step is about
	// (Path is then ""): no file holds the secret there.
	Message *scanner.Location
}

// Where names what the step is about: "path:line", or the message.
func (m Manual) Where() string {
	if m.Message != nil {
		return m.Message.Where()
	}
	return fmt.Sprintf("%s:%d", m.Path, m.Line)
}

// Plan is what the pipeline vaulted and rewrote: what was vaulted, and the new contents of the
// files to commit (vault.env included). A nil content deletes the file: a
// file that holds nothing but the secret (a PEM key file) is removed, its
// value exposed to the application through vault.env instead.
type Plan struct {
	Secrets []*Vaulted
	Files   map[string][]byte
}

// Store names the store the plan's secrets went to, for people: the first
// secret's (one run writes to one store), else Vault.
func (p *Plan) Store() string {
	for _, v := range p.Secrets {
		if v.Store != "" {
			return v.Store
		}
	}
	return DefaultStoreName
}

// DefaultStoreName is the store a text names when it knows of none: the
// default store, Vault's KV v2.
const DefaultStoreName = "Vault"

// vaultConcurrency bounds the store writes one Vault step has in flight.
// A backfill vaults hundreds of secrets; each is three requests waited
// on one after another (see vault.Store.Put), so a few at once keep
// the store busy rather than the round trips.
const vaultConcurrency = 4

// Vault is the pipeline's vault step: it vaults each finding (idempotently)
// and returns the plan without file contents, so a rotation can run before
// the rewrite (and change references, see Rewrite). On a store error the
// plan holds what was vaulted (in the findings' order), nothing new is
// started, and the error of the first finding that failed is returned.
//
// Names are chosen first, one finding after another (read need not be safe
// for concurrent use); the writes then run up to vaultConcurrency at once,
// the findings sharing a name one after another in the findings' order,
// so that which of them keeps the name and which gets a suffix is decided
// as it would be one at a time, never by a race between two writes.
func (f *Fixer) Vault(ctx context.Context, owner, repo string, findings []*scanner.Finding, read FileReader) (*Plan, error) {
	plan := &Plan{Files: map[string][]byte{}}
	read = decodingReader(read).Read // names read from UTF-16/32 files too
	byName := map[string][]int{}
	var names []string
	for i, fd := range findings {
		name := f.name(ctx, fd, read)
		if _, ok := byName[name]; !ok {
			names = append(names, name)
		}
		byName[name] = append(byName[name], i)
	}
	vaulted := make([]*Vaulted, len(findings))
	errs := make([]error, len(findings))
	var (
		failed atomic.Bool
		wg     sync.WaitGroup
		slots  = make(chan struct{}, vaultConcurrency)
	)
	for _, name := range names {
		slots <- struct{}{}
		if failed.Load() {
			<-slots
			break
		}
		wg.Add(1)
		go func(name string, idx []int) {
			defer wg.Done()
			defer func() { <-slots }()
			for _, i := range idx {
				if failed.Load() {
					return
				}
				v, err := f.vault(ctx, owner, repo, findings[i], name)
				if err != nil {
					errs[i] = err
					failed.Store(true)
					return
				}
				vaulted[i] = v
			}
		}(name, byName[name])
	}
	wg.Wait()
	for _, v := range vaulted {
		if v != nil {
			plan.Secrets = append(plan.Secrets, v)
		}
	}
	for _, err := range errs {
		if err != nil {
			return plan, err
		}
	}
	return plan, nil
}

// Rewrite is the pipeline's rewrite step: it computes the new contents of the files
// holding the plan's secrets, using each Vaulted's Refs as they are then (a
// rotation may have pointed some at another engine).
func (f *Fixer) Rewrite(ctx context.Context, plan *Plan, read FileReader) error {
	return f.rewrite(ctx, plan, read)
}

// Mount is the store's mount the secret was written to (rotation may point
// the references at another engine; this stays where the value was vaulted).
func (v *Vaulted) Mount() string {
	if v.mount != "" {
		return v.mount
	}
	for _, r := range v.Refs {
		if r.Mount != "" {
			return r.Mount
		}
	}
	return ""
}

// Location is where the secret's value lives in the store: mount/path
// (without KV v2's data/).
func (v *Vaulted) Location() string { return v.Mount() + "/" + v.Stored.Path }

// APIPath is where the secret's value is read: KV v2's mount/data/path, or
// Location in a store other than Vault's KV.
func (v *Vaulted) APIPath() string {
	if v.external {
		return v.Location()
	}
	return v.Mount() + "/data/" + v.Stored.Path
}

// Data returns the finding's values as vaulted, by data key ("value";
// "username" and "password" for connection URIs; the parts of multi-part
// credentials).
func (v *Vaulted) Data() map[string]scanner.Secret { return secretData(v.Finding) }

// name is the name fd is vaulted under: the identifier its file gives it
// (read at the scanned head), else its detector's.
func (f *Fixer) name(ctx context.Context, fd *scanner.Finding, read FileReader) string {
	name := ""
	if file, ok := firstFile(fd); ok && fd.Parts == nil {
		if data, ok, err := read(ctx, file.Path); err == nil && ok {
			name = rewrite.Identifier(file.Path, data, lineOf(data, literalsFor(fd, data)), fd.Secret.Reveal())
		}
	}
	if name == "" || genericName(name) || holdsSecret(name, fd) || scanner.HoldsCredential(ctx, name) {
		// A name that is (part of) this secret, another credential or
		// random-looking data would carry it into the vault path and from
		// there into every message: the detector's name instead.
		name = defaultName(fd.Detector)
	}
	return rewrite.Qualify(name, serviceOf(fd.Detector))
}

// vault stores fd under name (or name with a suffix when another secret
// holds it).
func (f *Fixer) vault(ctx context.Context, owner, repo string, fd *scanner.Finding, name string) (*Vaulted, error) {
	first := fd.First()
	data := secretData(fd)
	st, err := f.store.Put(ctx, store.Item{
		Owner: owner, Repo: repo, Name: name, Fingerprint: fd.Fingerprint, Data: data,
		Source: store.Source{Repository: owner + "/" + repo, Commit: first.Commit, Path: first.Path, Line: first.Line, Detector: fd.Detector},
	})
	if err != nil {
		return nil, fmt.Errorf("vaulting %s finding %s (%s:%d): %w", fd.Detector, fd.ID, first.Path, first.Line, err)
	}
	v := &Vaulted{Finding: fd, Name: name, Stored: st, Refs: map[string]rewrite.Ref{}, Store: f.store.Name(), mount: f.store.Mount(), Manual: messageSteps(fd)}
	for k := range data {
		v.Refs[k] = f.store.Ref(st.Path, k)
		v.external = v.Refs[k].External != ""
	}
	return v, nil
}

// readCommand is the command that prints the value ref points at: the vault
// CLI's for KV v2, vals's for a reference of another store.
func readCommand(ref rewrite.Ref) string {
	if ref.External != "" {
		return "`vals get " + ref.External + "`"
	}
	return fmt.Sprintf("`vault kv get -field=%s %s/%s`", ref.Key, ref.Mount, ref.Path)
}

// defaultNames name secrets whose code gives no useful identifier.
var defaultNames = map[string]string{
	"Github": "github_token", "GitHubOauth2": "github_oauth", "Slack": "slack_token", "Stripe": "stripe_api_key",
	"SendGrid": "sendgrid_api_key", "NpmToken": "npm_token", "NpmTokenV2": "npm_token", "Postgres": "database_url",
	"PrivateKey": "private_key", "VaultToken": "vault_token", "AWS": "aws", "SlackWebhook": "slack_webhook_url",
	"PyPI": "pypi_token",
}

func defaultName(detector string) string {
	if n, ok := defaultNames[detector]; ok {
		return n
	}
	return rewrite.Normalize(detector)
}

// serviceOf is whose credentials a detector finds, normalised: the
// leading words of its default name up to the first generic one ("stripe"
// from stripe_api_key, "github" from github_oauth); "" for a detector of a
// kind of secret rather than a service's (private_key, uri).
func serviceOf(detector string) string {
	var words []string
	for _, w := range strings.Split(defaultName(detector), "_") {
		if rewrite.GenericWord(w) {
			break
		}
		words = append(words, w)
	}
	return strings.Join(words, "_")
}

// genericName: identifiers that say nothing about the secret.
func genericName(n string) bool {
	switch n {
	case "value", "key", "secret", "token", "password", "auth", "data", "v":
		return true
	}
	return false
}

// secretWindow is the length of the pieces of a secret a name must not
// contain: long enough that ordinary words in a name ("password", "api_key")
// do not trip it against a random value, short enough that a name holding
// any part of the secret does.
const secretWindow = 8

// holdsSecret says whether name (an identifier taken from the file) holds
// the secret or a piece of it — a YAML or JSON mapping whose key is the
// secret. Such a name would put the secret in the vault path, and from there
// into every annotation, PR, commit message, hook message and ledger record.
func holdsSecret(name string, fd *scanner.Finding) bool {
	n := rewrite.Normalize(name)
	data := secretData(fd)
	values := []scanner.Secret{data["value"]}
	if pw, ok := data["password"]; ok {
		values = []scanner.Secret{pw} // a URI's scheme and host are no secret
	}
	if len(fd.Parts) > 0 {
		values = values[:0]
		for _, v := range fd.Parts {
			values = append(values, v)
		}
	}
	for _, v := range values {
		sv := rewrite.Normalize(v.Reveal())
		if len(sv) < secretWindow {
			if sv != "" && strings.Contains(n, sv) {
				return true
			}
			continue
		}
		for i := 0; i+secretWindow <= len(sv); i++ {
			if strings.Contains(n, sv[i:i+secretWindow]) {
				return true
			}
		}
	}
	return false
}

// secretData splits a finding into the keys stored in Vault.
func secretData(fd *scanner.Finding) map[string]scanner.Secret {
	if len(fd.Parts) > 0 {
		return fd.Parts
	}
	data := map[string]scanner.Secret{"value": fd.Secret}
	// Connection strings: the password apart, as the rewrite replaces it
	// alone (SQL Server's value already is the password).
	if user, pw, ok := fd.Credential(); ok && pw.Reveal() != fd.Secret.Reveal() {
		data["password"] = pw
		data["username"] = user
	}
	return data
}

// literal is one piece of text to replace and the data key it maps to.
type literal struct {
	text string
	key  string
}

var pemBlock = regexp.MustCompile(`-----BEGIN[ A-Z0-9_-]*PRIVATE KEY-----[\s\S]*?-----END[ A-Z0-9_-]*PRIVATE KEY-----`)

// literalsFor returns the texts in data that hold the finding's secret, as
// they appear there.
func literalsFor(fd *scanner.Finding, data []byte) []literal {
	switch {
	case len(fd.Parts) > 0:
		var out []literal
		for k, v := range fd.Parts {
			if holds(data, v.Reveal()) {
				out = append(out, literal{v.Reveal(), k})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
		return out
	case fd.Detector == "PrivateKey":
		if strings.Contains(string(data), fd.Secret.Reveal()) {
			return []literal{{fd.Secret.Reveal(), "value"}} // as written: a PuTTY key, a PEM key kept verbatim
		}
		want := strings.Join(strings.Fields(fd.Secret.Reveal()), "")
		for _, m := range pemBlock.FindAll(data, -1) {
			text := string(m)
			// The file may hold the key with escaped line breaks ("\n").
			norm := strings.NewReplacer(`\n`, "", `\r`, "").Replace(text)
			if strings.Join(strings.Fields(norm), "") == want || strings.Contains(strings.Join(strings.Fields(norm), ""), want[20:len(want)-20]) {
				return []literal{{text, "value"}}
			}
		}
		return nil
	}
	// Connection URIs: only the password is replaced, wherever the URI's
	// other parts are written differently than the detector normalised them.
	if pw := secretData(fd)["password"].Reveal(); pw != "" {
		if holds(data, pw) {
			return []literal{{pw, "password"}}
		}
		return nil
	}
	if holds(data, fd.Secret.Reveal()) {
		return []literal{{fd.Secret.Reveal(), "value"}}
	}
	return nil
}

// encodedPassword is the manual step for a connection string whose
// password the file writes percent-encoded (p%40ss for p@ss): the reference
// would put the decoded password back into the URI, which then means
// something else, so the edit is left to a person; ok is false when the
// file does not hold the password that way.
func encodedPassword(path string, data []byte, v *Vaulted) (Manual, bool) {
	pw, ok := v.Data()["password"]
	if !ok {
		return Manual{}, false
	}
	for _, enc := range []string{url.QueryEscape(pw.Reveal()), url.PathEscape(pw.Reveal())} {
		if enc == pw.Reveal() || !strings.Contains(string(data), enc) {
			continue
		}
		line := lineOf(data, []literal{{text: enc}})
		return Manual{Path: path, Line: line,
			Reason: "the password is percent-encoded in the connection string, and a reference would put it back decoded",
			Step: fmt.Sprintf("edit line %d of %s by hand: the password is at %s; have the application percent-encode it into the connection string, or keep the whole string in Vault and reference that",
				line, path, v.Refs["password"].Vault())}, true
	}
	return Manual{}, false
}

// holds reports whether data holds text as it is, or base64-encoded (the
// scanner decodes base64, so a secret in a Kubernetes Secret's data is
// reported decoded).
func holds(data []byte, text string) bool {
	if strings.Contains(string(data), text) {
		return true
	}
	_, ok := rewrite.EncodedLine(data, text)
	return ok
}

func lineOf(data []byte, lits []literal) int {
	if len(lits) == 0 {
		return 0
	}
	i := strings.Index(string(data), lits[0].text)
	if i < 0 {
		line, _ := rewrite.EncodedLine(data, lits[0].text)
		return line
	}
	return strings.Count(string(data[:i]), "\n") + 1
}

// rewrite computes the new contents of every file holding a vaulted secret.
func (f *Fixer) rewrite(ctx context.Context, plan *Plan, read FileReader) error {
	text := decodingReader(read)
	read = text.Read
	type fileReps struct {
		reps   []rewrite.Replacement
		owners []*Vaulted // owners[i]: the finding reps[i] replaces
	}
	files := map[string]*fileReps{}
	var order []string
	contents := map[string][]byte{}
	names, err := newEnvNames(ctx, read)
	if err != nil {
		return err
	}
	for _, v := range plan.Secrets {
		seen := map[string]bool{}
		for _, loc := range v.Finding.Locations {
			if seen[loc.Path] || loc.InMessage() {
				continue // a message has no file to fix (see messageSteps)
			}
			seen[loc.Path] = true
			data, ok, err := read(ctx, loc.Path)
			if err != nil {
				return err
			}
			if !ok {
				continue // deleted since: nothing to rewrite
			}
			contents[loc.Path] = data
			lits := literalsFor(v.Finding, data)
			if len(lits) == 0 {
				if m, ok := encodedPassword(loc.Path, data, v); ok {
					v.Manual = append(v.Manual, m)
				}
				continue // the secret is no longer in this file
			}
			fr := files[loc.Path]
			if fr == nil {
				fr = &fileReps{}
				files[loc.Path] = fr
				order = append(order, loc.Path)
			}
			for _, l := range lits {
				line := lineOf(data, []literal{l})
				env := names.claim(envNameFor(loc.Path, data, line, l, v), v.Refs[l.key])
				fr.reps = append(fr.reps, rewrite.Replacement{Line: line, Literal: l.text, EnvName: env, Ref: v.Refs[l.key],
					Encoded: !strings.Contains(string(data), l.text)})
				fr.owners = append(fr.owners, v)
			}
		}
	}
	sort.Strings(order)
	env := map[string]string{}
	for _, path := range order {
		fr := files[path]
		if len(fr.reps) == 1 && strings.TrimSpace(string(contents[path])) == strings.TrimSpace(fr.reps[0].Literal) {
			// The file is the secret: delete it, map its value in vault.env.
			r := fr.reps[0]
			name := names.claim(rewrite.EnvName(rewrite.Normalize(strings.ReplaceAll(filepathBase(path), ".", "_"))), r.Ref)
			plan.Files[path] = nil
			env[name] = r.Ref.Vault()
			for _, v := range fr.owners {
				v.Edits = append(v.Edits, Edit{Path: path, Line: r.Line, EnvName: name, Ref: r.Ref, Deleted: true})
				v.Manual = append(v.Manual, Manual{Path: path, Line: r.Line,
					Reason: "the file holds nothing but the secret, so the fix deletes it",
					Step: fmt.Sprintf("where the application needs the file, write it from Vault at start-up: $%s under `pushvault exec --env-file vault.env`, or %s",
						name, readCommand(r.Ref))})
			}
			continue
		}
		res, refused := applyEach(path, contents[path], fr.reps, fr.owners, rewrite.Options{Style: f.style})
		stepped := map[*Vaulted]bool{} // one manual step per finding and file
		for i, err := range refused {
			if v := fr.owners[i]; err != nil && !stepped[v] {
				stepped[v] = true
				v.Manual = append(v.Manual, manualFor(path, fr.reps[i], err))
			}
		}
		if res == nil {
			continue
		}
		content, err := text.encode(path, res.Content)
		if err != nil {
			return fmt.Errorf("%s: writing the fix back in the file's encoding: %w", path, err)
		}
		plan.Files[path] = content
		for k, ref := range res.Env {
			env[k] = ref
		}
		for i, r := range fr.reps {
			if refused[i] == nil {
				fr.owners[i].Edits = append(fr.owners[i].Edits, Edit{Path: path, Line: r.Line, EnvName: r.EnvName, Ref: r.Ref})
			}
		}
	}
	if len(env) > 0 {
		existing, _, err := read(ctx, "vault.env")
		if err != nil {
			return err
		}
		if cur, ok := plan.Files["vault.env"]; ok {
			existing = cur
		}
		plan.Files["vault.env"] = rewrite.MergeEnvFile(existing, env)
	}
	return nil
}

// firstFile is the first location of fd in a file (not a message).
func firstFile(fd *scanner.Finding) (scanner.Location, bool) {
	for _, l := range fd.Locations {
		if !l.InMessage() {
			return l, true
		}
	}
	return scanner.Location{}, false
}

// messageSteps are the manual steps for the secret's places in commit and
// tag messages. No fix commit can change a message: only rewriting history
// removes it, and until then rotation is what makes it harmless. They do
// not hold the rotation back (unreplacedUses): no application reads a
// secret from a commit message.
func messageSteps(fd *scanner.Finding) []Manual {
	var out []Manual
	for _, l := range fd.Locations {
		if !l.InMessage() {
			continue
		}
		m := Manual{Line: l.Line, Message: &l,
			Reason: "the secret is in the " + l.Where() + ", not in a file: no fix commit can change a message"}
		switch l.Message {
		case scanner.MessageTag:
			m.Step = fmt.Sprintf("only replacing the tag removes it: delete tag %s (`git push --delete origin %s`) and create it again with a clean message; "+
				"clones and forks that fetched it keep it, so rotating the value (see the rotation outcome) is what makes it harmless", l.Tag, l.Tag)
		default:
			m.Step = fmt.Sprintf("only rewriting history removes it: reword commit %s (`git rebase -i %s^`, mark it \"reword\"; or `git filter-repo --message-callback`) and force-push; "+
				"clones, forks and caches keep the old commit, so rotating the value (see the rotation outcome) is what makes it harmless", l.Commit[:min(len(l.Commit), 12)], l.Commit[:min(len(l.Commit), 12)])
		}
		out = append(out, m)
	}
	return out
}

// applyEach rewrites path with every finding's replacements the format
// can make: all of them when it accepts them together; otherwise finding by
// finding (owners[i] is the finding of reps[i]; a multi-part credential's
// replacements go together), each that it accepts beside those already
// accepted. One occurrence the format cannot edit (a secret in a comment of
// a Helm values file, beside the real values) must not keep the others in
// the file. It returns the rewrite of the accepted ones (nil when none is),
// and for each replacement its finding's refusal, or nil: the refusal of
// that finding's replacements alone when there is one, so its line and
// manual step are its own.
func applyEach(path string, content []byte, reps []rewrite.Replacement, owners []*Vaulted, opts rewrite.Options) (*rewrite.Result, []error) {
	refused := make([]error, len(reps))
	res, err := rewrite.Apply(path, content, reps, opts)
	if err == nil {
		return res, refused
	}
	var order []*Vaulted
	group := map[*Vaulted][]int{}
	for i, v := range owners {
		if group[v] == nil {
			order = append(order, v)
		}
		group[v] = append(group[v], i)
	}
	if len(order) == 1 {
		for i := range refused {
			refused[i] = err
		}
		return nil, refused
	}
	var kept []rewrite.Replacement
	res = nil
	for _, v := range order {
		var mine []rewrite.Replacement
		for _, i := range group[v] {
			mine = append(mine, reps[i])
		}
		next, err := rewrite.Apply(path, content, append(slices.Clip(kept), mine...), opts)
		if err != nil {
			if _, alone := rewrite.Apply(path, content, mine, opts); alone != nil {
				err = alone
			}
			for _, i := range group[v] {
				refused[i] = err
			}
			continue
		}
		kept, res = append(kept, mine...), next
	}
	return res, refused
}

// manualFor is the manual step for a replacement the rewrite refused.
func manualFor(path string, r rewrite.Replacement, err error) Manual {
	var unsafe *rewrite.UnsafeError
	if errors.As(err, &unsafe) {
		return Manual{Path: path, Line: unsafe.Line, Reason: unsafe.Reason, Step: unsafe.Manual}
	}
	return Manual{Path: path, Line: r.Line, Reason: err.Error(),
		Step: fmt.Sprintf("replace the secret on line %d of %s with %s by hand", r.Line, path, r.Ref.Vault())}
}

// envNameFor picks the environment variable a code reference reads: the
// identifier on that line, else the secret's name (plus the key for
// multi-part secrets and passwords).
func envNameFor(path string, data []byte, line int, l literal, v *Vaulted) string {
	id := rewrite.Identifier(path, data, line, l.text)
	if id != "" && !genericName(id) {
		id = rewrite.Qualify(id, serviceOf(v.Finding.Detector))
	}
	if id != "" && !genericName(id) && (l.key == "value" || len(v.Finding.Parts) > 0) {
		return rewrite.EnvName(id)
	}
	base := v.Name
	if l.key != "value" && !strings.HasSuffix(base, "_"+l.key) {
		if id != "" && !genericName(id) {
			base = id
		}
		base += "_" + l.key
	}
	return rewrite.EnvName(rewrite.Normalize(base))
}

func filepathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
