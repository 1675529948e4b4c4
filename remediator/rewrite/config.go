package rewrite

import (
	"bytes"
	"fmt"
	pathpkg "path"
	"sort"
	"strings"
)

// configFormat returns the config format for path (slash-separated), or
// nil. The file name alone decides: dotenv (.env, .env.*, *.env), Dockerfile
// (Dockerfile, Dockerfile.*, *.dockerfile, Containerfile), docker-compose
// (docker-compose*.y*ml, compose*.y*ml), YAML, JSON, TOML, INI
// (.ini/.cfg/.conf), Java .properties, npm's .npmrc, Yarn's .yarnrc.yml, Maven's settings.xml,
// XML (.xml/.config) and HCL (.hcl/.tf/.tfvars).
func configFormat(path string) format {
	base := strings.ToLower(pathpkg.Base(path))
	ext := pathpkg.Ext(base)
	var s configSyntax
	switch {
	case base == ".env" || strings.HasPrefix(base, ".env.") || ext == ".env":
		s = dotenvSyntax{}
	case base == "dockerfile" || strings.HasPrefix(base, "dockerfile.") || ext == ".dockerfile" ||
		base == "containerfile" || strings.HasPrefix(base, "containerfile."):
		s = dockerfileSyntax{}
	case base == ".yarnrc.yml" || base == ".yarnrc.yaml":
		s = yarnrcSyntax{}
	case (ext == ".yaml" || ext == ".yml") &&
		(strings.HasPrefix(base, "docker-compose") || strings.HasPrefix(base, "compose")):
		s = yamlSyntax{compose: true}
	case ext == ".yaml" || ext == ".yml":
		s = yamlSyntax{}
	case ext == ".json":
		s = jsonSyntax{}
	case ext == ".toml":
		s = tomlSyntax{}
	case ext == ".ini" || ext == ".cfg" || ext == ".conf":
		s = iniSyntax{}
	case ext == ".properties":
		s = propertiesSyntax{}
	case base == ".npmrc":
		s = npmrcSyntax{}
	case base == "settings.xml":
		s = mavenSettingsSyntax{}
	case ext == ".xml" || ext == ".config":
		s = xmlSyntax{}
	case ext == ".hcl" || ext == ".tf" || ext == ".tfvars":
		s = hclSyntax{}
	default:
		return nil
	}
	return &configFile{syntax: s}
}

// configSyntax is what one config format knows about its own text: how to
// parse it with the real parser, where its string values are, and how to
// write a string value back. configFile does the rest (matching literals,
// editing, proving the edit safe), the same way for every format.
type configSyntax interface {
	// name is the format's name for messages ("YAML").
	name() string
	// parse reports whether content parses with the format's parser. The
	// error is never shown to anyone: parsers quote the offending text,
	// which may be the secret.
	parse(content []byte) error
	// scalars lists the string values of content (which parses), in any
	// order, with their spans and decoded values.
	scalars(content []byte) ([]scalar, error)
	// render returns the text of a complete value token holding v, in sc's
	// quoting where that can hold v; false when v can't be written there.
	render(sc scalar, v string, d dollars) (string, bool)
	// escape returns s as it is written inside sc's token, for replacing
	// part of a value in place; false when it can't be written there.
	escape(sc scalar, s string, d dollars) (string, bool)
}

// valueChecker is implemented by formats whose scanner is hand-written: it
// reads the value at sc's path back with the format's real parser.
type valueChecker interface {
	checkValue(content []byte, sc scalar, want string) bool
}

// envResolver is implemented by the files of a tool that expands
// environment variables itself (npm's .npmrc, Yarn's .yarnrc.yml, Maven's settings.xml) and
// reads no vault reference: there every reference is that tool's variable,
// envRef(NAME), mapped to the vault reference in vault.env for pushvault
// exec to fill, whatever the repository's fix.style.
type envResolver interface {
	envRef(name string) string
}

// inliner is implemented by formats that need the inline reference (a
// reference inside a larger string) written differently.
type inliner interface {
	inline(r Replacement, s Style) string
}

// dollars says how the '$' characters of a value being written are meant,
// for formats that expand variables (Dockerfile): as literal characters, as
// variable references (${NAME} in the env style), or unknown (a value
// re-rendered after part of it was replaced).
type dollars int

const (
	dollarsLiteral dollars = iota
	dollarsExpand
	dollarsMixed
)

// scalar is one string value in a config file.
type scalar struct {
	start, end int    // byte span of the value's token, quotes included
	value      string // decoded value
	// prefix is a leading part of value that is not the value proper: the
	// "KEY=" of a docker-compose environment list item.
	prefix string
	key    string     // innermost name of the value, "" if none
	path   []pathElem // where the format's parser finds the value
	style  int        // format-specific quoting style
	indent int        // YAML block scalars: indentation of the content lines
	flow   bool       // YAML: inside a flow collection
	quote  byte       // INI/XML attributes: the quote character, if any
	// encoded: the token holds value base64-encoded (a Kubernetes
	// Secret's data); a new value is encoded the same way.
	encoded bool
	// trailer is text kept after a rewritten token (a YAML block scalar
	// header's comment).
	trailer string

	line, endLine int // 1-based lines of the first and last byte
}

// pathElem is one step to a value: a key, or an index when key is "" and
// index >= 0.
type pathElem struct {
	key   string
	index int
}

func keyElem(k string) pathElem { return pathElem{key: k, index: -1} }
func indexElem(i int) pathElem  { return pathElem{index: i} }

// nearLines is how far (in lines) from the reported line a value may start
// and still be taken as the reported one: scanners count lines of the
// pushed commit, and a multi-line value may be reported by any of its lines.
const nearLines = 3

// configFile is the format for every config syntax.
type configFile struct {
	syntax configSyntax
}

func (c *configFile) name() string { return c.syntax.name() }

// configEdit is the edit of one value, with what the value must read back
// as once the edit is made.
type configEdit struct {
	edit
	want   string // decoded value the token must read back as
	rep    int    // index of the replacement that caused it
	scalar scalar // the value as it was
	at     int    // where the new token starts in the edited file
}

// configMatch is a replacement's literal found in a scalar.
type configMatch struct {
	rep     int
	variant string // the form of the literal found in the value
	whole   bool   // the value is the literal (surrounding space aside)
	exact   bool   // variant is a substring of the value
}

// apply finds each replacement's literal among the file's values, plans
// one edit per value holding literals, applies the edits and proves the
// result: it parses, every edited value reads back as planned, and no
// literal is left anywhere in the file.
func (c *configFile) apply(path string, content []byte, reps []Replacement, opts Options) (*Result, error) {
	j := &configJob{c: c, path: path, content: content, reps: reps, style: opts.Style}
	if _, ok := c.syntax.(envResolver); ok {
		j.style = StyleEnv
	}
	if j.style == "" {
		j.style = StyleVault
	}
	if err := j.checkParses(); err != nil {
		return nil, err
	}
	if len(reps) == 0 {
		return &Result{Content: content}, nil
	}
	if err := j.checkReplacements(); err != nil {
		return nil, err
	}
	if err := j.findValues(); err != nil {
		return nil, err
	}
	matches := j.matchLiterals()
	if err := j.checkEachLiteralPlaced(matches); err != nil {
		return nil, err
	}
	edits, err := j.planEdits(matches)
	if err != nil {
		return nil, err
	}
	next, err := j.applyEdits(edits)
	if err != nil {
		return nil, err
	}
	after, err := j.checkReadsBack(next, edits)
	if err != nil {
		return nil, err
	}
	if err := j.checkNoLiteralLeft(next, after, edits); err != nil {
		return nil, err
	}
	return j.result(next), nil
}

// configJob is one call of configFile.apply: its inputs and what the
// phases learn about them.
type configJob struct {
	c       *configFile
	path    string
	content []byte
	reps    []Replacement
	style   Style
	vars    [][]string // each replacement's literalVariants
	lines   lineIndex  // of content
	scs     []scalar   // content's values, by start
}

// fail is the *UnsafeError for replacement ri (see configFile.unsafe).
func (j *configJob) fail(ri, line int, reason, manual string) error {
	return j.c.unsafe(j.path, j.reps, ri, line, reason, manual, j.style)
}

// unparsable is the refusal of a file that does not parse to begin with.
func (j *configJob) unparsable() error {
	var r Replacement
	if len(j.reps) > 0 {
		r = j.reps[0]
	}
	c := j.c
	return j.fail(0, 0, fmt.Sprintf("the file does not parse as %s before the edit", c.name()),
		fmt.Sprintf("%s does not parse as %s: fix it and run the fix again, or edit line %d by hand: %s",
			j.path, c.name(), r.Line, c.setStep(r, "", false, j.style)))
}

// checkParses refuses a file the format's parser rejects.
func (j *configJob) checkParses() error {
	if err := j.c.syntax.parse(j.content); err != nil {
		return j.unparsable()
	}
	return nil
}

// checkReplacements refuses replacements with nothing to look for, or,
// in the env style, without a usable variable name; it notes each
// literal's variants.
func (j *configJob) checkReplacements() error {
	j.vars = make([][]string, len(j.reps))
	for i, r := range j.reps {
		if strings.TrimSpace(r.Literal) == "" {
			return j.fail(i, 0, "the finding has no secret text to look for", "")
		}
		if j.style == StyleEnv && !envNamePat.MatchString(r.EnvName) {
			return j.fail(i, 0, "the env style needs an environment variable name, and the finding has none that is valid",
				j.c.manualFor(j.path, r, "", false, StyleVault))
		}
		j.vars[i] = literalVariants(r.Literal)
	}
	return nil
}

// findValues lists the file's values.
func (j *configJob) findValues() error {
	j.lines = newLineIndex(j.content)
	scs, err := j.c.scan(j.content, j.lines)
	if err != nil {
		return j.unparsable()
	}
	j.scs = scs
	return nil
}

// canon is replacement ri's literal in its canonical form.
func (j *configJob) canon(ri int) string { return j.vars[ri][len(j.vars[ri])-1] }

// matchLiterals finds, for each value, the literals it holds. A literal
// shared by several replacements belongs, in each value, to the
// replacement reported nearest to it.
func (j *configJob) matchLiterals() [][]configMatch {
	matches := make([][]configMatch, len(j.scs))
	for si, sc := range j.scs {
		vp := sc.value[len(sc.prefix):]
		owner := map[string]int{}
		for ri := range j.reps {
			m, ok := configMatchValue(vp, j.vars[ri])
			if !ok {
				continue
			}
			m.rep = ri
			if prev, seen := owner[j.canon(ri)]; seen {
				pm := &matches[si][prev]
				if lineDistance(sc, j.reps[ri].Line) < lineDistance(sc, j.reps[pm.rep].Line) {
					*pm = m
				}
				continue
			}
			owner[j.canon(ri)] = len(matches[si])
			matches[si] = append(matches[si], m)
		}
	}
	return matches
}

// checkEachLiteralPlaced refuses a replacement whose literal is in no value,
// or only in values far from the line it was reported on.
func (j *configJob) checkEachLiteralPlaced(matches [][]configMatch) error {
	c := j.c
	for ri, r := range j.reps {
		best, bestLine := -1, 0
		for si, ms := range matches {
			for _, m := range ms {
				if j.canon(m.rep) != j.canon(ri) {
					continue
				}
				if d := lineDistance(j.scs[si], r.Line); best < 0 || d < best {
					best, bestLine = d, j.scs[si].line
				}
			}
		}
		if best < 0 {
			if off, ok := configRemains(j.content, j.scs, j.vars[ri]); ok {
				return j.fail(ri, 0, fmt.Sprintf("the secret is on line %d, but not in any %s value pushvault can edit (it may be in a comment, a key, or an unsupported kind of value)", j.lines.line(off), c.name()), "")
			}
			if line, ok := EncodedLine(j.content, r.Literal); ok {
				return j.fail(ri, line, fmt.Sprintf("the secret is base64-encoded on line %d, where pushvault does not decode (it edits encoded values only in a Kubernetes Secret's data)", line), "")
			}
			return j.fail(ri, 0, "the secret was not found in the file (it may have changed since the scan)", "")
		}
		if best > nearLines {
			return j.fail(ri, 0, fmt.Sprintf("the secret is not in any %s value on or near line %d (the nearest value holding it is on line %d)", c.name(), r.Line, bestLine),
				fmt.Sprintf("check line %d of %s (the secret was reported on line %d) and edit it by hand: %s", bestLine, j.path, r.Line, c.setStep(r, "", false, j.style)))
		}
	}
	return nil
}

// planEdits builds one edit per value holding literals, sorted by start,
// and refuses edits that overlap.
func (j *configJob) planEdits(matches [][]configMatch) ([]configEdit, error) {
	var edits []configEdit
	for si, ms := range matches {
		if len(ms) == 0 {
			continue
		}
		e, err := j.editFor(j.scs[si], ms)
		if err != nil {
			return nil, err
		}
		e.scalar = j.scs[si]
		edits = append(edits, e)
	}
	sort.Slice(edits, func(i, k int) bool { return edits[i].start < edits[k].start })
	for i := 1; i < len(edits); i++ {
		if edits[i].start < edits[i-1].end {
			return nil, j.fail(edits[i].rep, edits[i].scalar.line, "two values to replace overlap", "")
		}
	}
	return edits, nil
}

// applyEdits makes the edits (sorted, apart) with the code formats'
// applyEdits and notes where each new token starts.
func (j *configJob) applyEdits(edits []configEdit) ([]byte, error) {
	plain := make([]edit, len(edits))
	for i, e := range edits {
		plain[i] = e.edit
	}
	next, at, err := applyEdits(j.content, plain)
	if err != nil {
		return nil, j.fail(edits[0].rep, edits[0].scalar.line, "two values to replace overlap", "")
	}
	for i := range edits {
		edits[i].at = at[i]
	}
	return next, nil
}

// checkReadsBack proves the edited file parses and each edited value reads
// back, with the format's parser, as the value planned. It returns the
// edited file's values.
func (j *configJob) checkReadsBack(next []byte, edits []configEdit) ([]scalar, error) {
	notParsed := func() error {
		return j.fail(edits[0].rep, edits[0].scalar.line, fmt.Sprintf("the edited file would not parse as %s", j.c.name()), "")
	}
	if err := j.c.syntax.parse(next); err != nil {
		return nil, notParsed()
	}
	after, err := j.c.scan(next, newLineIndex(next))
	if err != nil {
		return nil, notParsed()
	}
	byStart := map[int]scalar{}
	for _, sc := range after {
		byStart[sc.start] = sc
	}
	checker, _ := j.c.syntax.(valueChecker)
	for _, e := range edits {
		sc, ok := byStart[e.at]
		if !ok || sc.value != e.want || (checker != nil && !checker.checkValue(next, sc, e.want)) {
			return nil, j.fail(e.rep, e.scalar.line, fmt.Sprintf("after the edit, the value on line %d would not read back as the reference", e.scalar.line), "")
		}
	}
	return after, nil
}

// checkNoLiteralLeft refuses an edited file that still holds a literal
// (in a comment, a key, a value pushvault can't edit), naming the line in
// the file as it is now.
func (j *configJob) checkNoLiteralLeft(next []byte, after []scalar, edits []configEdit) error {
	for ri, r := range j.reps {
		off, ok := configRemains(next, after, j.vars[ri])
		if !ok {
			continue
		}
		for i := len(edits) - 1; i >= 0; i-- {
			if edits[i].at < off {
				off -= len(edits[i].text) - (edits[i].end - edits[i].start)
			}
		}
		line := j.lines.line(off)
		return j.fail(ri, line, fmt.Sprintf("the secret also appears on line %d, outside any value pushvault can edit (for example in a comment)", line),
			fmt.Sprintf("remove the secret from line %d of %s by hand (it is not in a value pushvault can edit); on line %d, %s", line, j.path, r.Line, j.c.setStep(r, "", false, j.style)))
	}
	return nil
}

// result is the edited file, with the vault.env mappings in the env style.
func (j *configJob) result(next []byte) *Result {
	res := &Result{Content: next}
	if j.style == StyleEnv {
		res.Env = map[string]string{}
		for _, r := range j.reps {
			if r.Encoded {
				continue // written as base64 of the vault reference: no variable
			}
			res.Env[r.EnvName] = r.Ref.Vault()
		}
	}
	return res
}

// editFor builds the edit of one value holding one or more literals.
func (j *configJob) editFor(sc scalar, ms []configMatch) (configEdit, error) {
	c, reps, style := j.c, j.reps, j.style
	fail := func(ri int, reason string) (configEdit, error) {
		return configEdit{}, j.fail(ri, sc.line, reason, c.manualFor(j.path, reps[ri], sc.key, !ms[0].whole, style))
	}
	if sc.encoded {
		// Only bank-vaults' webhook reads a reference out of a Secret's
		// base64 data; ${NAME} or ref+vault:// there resolve nowhere.
		style = StyleVault
	}
	mode := dollarsLiteral
	if style == StyleEnv {
		mode = dollarsExpand
	}
	vp := sc.value[len(sc.prefix):]
	for _, m := range ms {
		if m.whole && sc.prefix == "" {
			// the value is this literal; others inside it go with it
			ms = []configMatch{m}
			break
		}
	}
	m := ms[0]
	if m.whole && sc.prefix == "" {
		r := reps[m.rep]
		ref := c.ref(r, style)
		tok, ok := c.syntax.render(sc, ref, mode)
		if !ok {
			return fail(m.rep, fmt.Sprintf("the reference cannot be written safely as the %s value on line %d", c.name(), sc.line))
		}
		return configEdit{edit: edit{sc.start, sc.end, tok + sc.trailer}, want: ref, rep: m.rep}, nil
	}

	// Part of the value (or the value after a "KEY=" prefix): replace each
	// literal in place, keeping the rest of the token byte for byte; if the
	// literal's spelling in the token can't be found, write the whole token
	// again.
	raw := string(j.content[sc.start:sc.end])
	spliced := true
	newVP := vp
	for _, m := range ms {
		if !m.exact {
			return fail(m.rep, fmt.Sprintf("the secret is only part of the multi-line %s value on line %d; pushvault replaces such a value only as a whole", c.name(), sc.line))
		}
		if syntax, ok := enclosingPlaceholder(vp, m.variant); ok {
			return fail(m.rep, fmt.Sprintf("the secret is inside a %s placeholder on line %d (a default or expression of Spring, shell, Helm, Ruby or another templating syntax); a reference written there would be read as part of that placeholder, so pushvault leaves it", syntax, sc.line))
		}
		r := reps[m.rep]
		to := c.inline(r, style)
		if m.whole {
			// a docker-compose "KEY=secret" item: the value proper is whole
			to = c.ref(r, style)
		}
		n := strings.Count(newVP, m.variant)
		newVP = strings.ReplaceAll(newVP, m.variant, to)
		if !spliced {
			continue
		}
		escTo, ok := c.syntax.escape(sc, to, mode)
		if !ok {
			spliced = false
			continue
		}
		found := false
		for _, d := range []dollars{dollarsLiteral, dollarsExpand} {
			from, ok := c.syntax.escape(sc, m.variant, d)
			if ok && from != "" && strings.Count(raw, from) == n {
				raw = strings.ReplaceAll(raw, from, escTo)
				found = true
				break
			}
		}
		if !found {
			spliced = false
		}
	}
	want := sc.prefix + newVP
	if !spliced {
		tok, ok := c.syntax.render(sc, want, dollarsMixed)
		if !ok {
			return fail(ms[0].rep, fmt.Sprintf("pushvault cannot rewrite part of the %s value on line %d safely", c.name(), sc.line))
		}
		raw = tok + sc.trailer
	}
	return configEdit{edit: edit{sc.start, sc.end, raw}, want: want, rep: ms[0].rep}, nil
}

// ref is the reference written as a whole value.
func (c *configFile) ref(r Replacement, s Style) string {
	if er, ok := c.syntax.(envResolver); ok {
		return er.envRef(r.EnvName)
	}
	return r.Ref.In(s, r.EnvName)
}

// inline is the reference written inside a larger string.
func (c *configFile) inline(r Replacement, s Style) string {
	if er, ok := c.syntax.(envResolver); ok {
		return er.envRef(r.EnvName)
	}
	if in, ok := c.syntax.(inliner); ok {
		return in.inline(r, s)
	}
	if s == StyleEnv {
		return "${" + r.EnvName + "}"
	}
	return r.Ref.Inline()
}

// scan lists content's scalars with their lines filled in.
func (c *configFile) scan(content []byte, lines lineIndex) ([]scalar, error) {
	scs, err := c.syntax.scalars(content)
	if err != nil {
		return nil, err
	}
	for i := range scs {
		scs[i].line = lines.line(scs[i].start)
		last := scs[i].end - 1
		if last < scs[i].start {
			last = scs[i].start
		}
		scs[i].endLine = lines.line(last)
	}
	sort.SliceStable(scs, func(i, j int) bool { return scs[i].start < scs[j].start })
	return scs, nil
}

func (c *configFile) identifier(content []byte, line int, literal string) string {
	scs, err := c.scan(content, newLineIndex(content))
	if err != nil {
		return ""
	}
	if strings.TrimSpace(literal) != "" {
		vars := literalVariants(literal)
		best, key := -1, ""
		for _, sc := range scs {
			if _, ok := configMatchValue(sc.value[len(sc.prefix):], vars); !ok {
				continue
			}
			if d := lineDistance(sc, line); d <= nearLines && (best < 0 || d < best) {
				best, key = d, sc.key
			}
		}
		if best >= 0 {
			return key
		}
	}
	for _, sc := range scs {
		if lineDistance(sc, line) == 0 {
			return sc.key
		}
	}
	return ""
}

// unsafe builds the UnsafeError for replacement ri. Line 0 means the
// replacement's reported line; an empty manual step means the generic one.
// Nothing in it may hold the secret: a message that would is replaced by
// a generic one.
func (c *configFile) unsafe(path string, reps []Replacement, ri, line int, reason, manual string, style Style) error {
	var r Replacement
	if ri < len(reps) {
		r = reps[ri]
	}
	if line == 0 {
		line = r.Line
	}
	if manual == "" {
		manual = c.manualFor(path, r, "", false, style)
	}
	for _, rep := range reps {
		if configLeaks(reason, rep.Literal) {
			reason = "pushvault could not prove an edit safe"
		}
		if configLeaks(manual, rep.Literal) {
			manual = manualStep(path, reps)
		}
	}
	return &UnsafeError{Path: path, Line: line, Reason: reason, Manual: manual}
}

// manualFor is the step a person takes instead: which line, which value,
// and the exact reference to write.
func (c *configFile) manualFor(path string, r Replacement, key string, part bool, style Style) string {
	return fmt.Sprintf("edit line %d of %s by hand: %s", r.Line, path, c.setStep(r, key, part, style))
}

// setStep says what to write: "set the value of "api_key" to vault:...,
// keeping the file valid YAML", and for the env style the vault.env line.
func (c *configFile) setStep(r Replacement, key string, part bool, style Style) string {
	if style == "" {
		style = StyleVault
	}
	what := "the secret's value"
	if key != "" {
		what = fmt.Sprintf("the value of %q", key)
	}
	var step string
	switch {
	case r.Encoded:
		step = encodedStep(what, r, part)
	case part:
		step = fmt.Sprintf("in %s, replace the secret (only that part) with %s", what, c.inline(r, style))
	default:
		step = fmt.Sprintf("set %s to %s", what, c.ref(r, style))
	}
	step += fmt.Sprintf(", keeping the file valid %s", c.name())
	if style == StyleEnv && !r.Encoded {
		step += fmt.Sprintf("; then add %s=%s to vault.env at the repository root", r.EnvName, r.Ref.Vault())
	}
	return step
}

// configLeaks reports whether msg holds the literal or a line of it.
func configLeaks(msg, literal string) bool {
	for _, v := range literalVariants(literal) {
		if strings.TrimSpace(v) == "" {
			continue
		}
		if strings.Contains(msg, v) {
			return true
		}
		for _, l := range strings.Split(v, "\n") {
			if l = strings.TrimSpace(l); len(l) >= 8 && strings.Contains(msg, l) {
				return true
			}
		}
	}
	return false
}

// literalVariants are the forms of a literal to look for in decoded values:
// as reported, with CRLF as LF, and with backslash escapes decoded (a
// scanner may report "\n" as it appears in a JSON string). The last one is
// the canonical form, used to tell literals apart.
func literalVariants(lit string) []string {
	out := []string{lit}
	add := func(s string) {
		if s == "" {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	lf := strings.ReplaceAll(lit, "\r\n", "\n")
	add(lf)
	add(configUnescape(lf))
	// canonical last
	canon := configUnescape(lf)
	if canon == "" {
		canon = lit
	}
	res := make([]string, 0, len(out))
	for _, o := range out {
		if o != canon {
			res = append(res, o)
		}
	}
	return append(res, canon)
}

// configUnescape decodes the backslash escapes most formats share.
func configUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\', '/', '\'':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// configMatchValue finds a literal (any of its variants) in a decoded value.
func configMatchValue(value string, variants []string) (configMatch, bool) {
	tv := strings.TrimSpace(value)
	for _, v := range variants {
		if tv != "" && tv == strings.TrimSpace(v) {
			return configMatch{variant: strings.TrimSpace(v), whole: true, exact: true}, true
		}
	}
	for _, v := range variants {
		if strings.Contains(v, "\n") && configNormLines(value) != "" && configNormLines(value) == configNormLines(v) {
			return configMatch{variant: v, whole: true}, true
		}
	}
	for _, v := range variants {
		if t := strings.TrimSpace(v); t != "" && strings.Contains(value, t) {
			return configMatch{variant: t, exact: true}, true
		}
	}
	for _, v := range variants {
		if strings.Contains(v, "\n") && configNormLines(v) != "" && strings.Contains(configNormLines(value), configNormLines(v)) {
			return configMatch{variant: v}, true
		}
	}
	return configMatch{}, false
}

// configNormLines is s with each line trimmed and blank lines dropped, for
// comparing multi-line values whose indentation the format keeps (XML
// text) or adds.
func configNormLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// configRemains reports the offset in the edited file where a literal (a
// variant, a common escaped spelling, or a line of a multi-line literal of
// 16+ characters) still appears.
func configRemains(content []byte, scs []scalar, variants []string) (int, bool) {
	var needles []string
	for _, v := range variants {
		needles = append(needles, v, jsonEscape(v), xmlEscape(v, '"'))
		if t := strings.TrimSpace(v); t != v {
			needles = append(needles, t)
		}
		if strings.Contains(v, "\n") {
			for _, l := range strings.Split(v, "\n") {
				l = strings.TrimSpace(l)
				// PEM armor ("-----BEGIN RSA PRIVATE KEY-----") is not
				// secret and may belong to another key in the file.
				if len(l) >= 16 && !strings.HasPrefix(l, "-----") {
					needles = append(needles, l)
				}
			}
		}
	}
	for _, n := range needles {
		if n == "" {
			continue
		}
		if i := bytes.Index(content, []byte(n)); i >= 0 {
			return i, true
		}
	}
	for _, sc := range scs {
		if _, ok := configMatchValue(sc.value, variants); ok {
			return sc.start, true
		}
	}
	return 0, false
}

// lineDistance is how many lines line is from sc's lines (0 when within them).
func lineDistance(sc scalar, line int) int {
	switch {
	case line < sc.line:
		return sc.line - line
	case line > sc.endLine:
		return line - sc.endLine
	}
	return 0
}
