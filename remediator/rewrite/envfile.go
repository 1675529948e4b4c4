package rewrite

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// EnvEntry is one NAME=value line of an env file.
type EnvEntry struct {
	Name  string
	Value string
	Line  int
}

var envNamePat = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseEnvFile reads a dotenv-style file: NAME=value lines, optional
// "export ", blank lines and # comments; values may be single- or
// double-quoted. Errors name the line, never the value.
func ParseEnvFile(name string, data []byte) ([]EnvEntry, error) {
	var out []EnvEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || !envNamePat.MatchString(k) {
			return nil, fmt.Errorf("%s:%d: want NAME=value", name, n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"') {
			u, err := strconv.Unquote(v)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: bad double-quoted value", name, n, k)
			}
			v = u
		} else if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
		}
		out = append(out, EnvEntry{Name: k, Value: v, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// MergeEnvFile adds env (NAME -> reference) to an existing env file's
// content: a name already present gets its value replaced in place, new
// names are appended in sorted order. Comments and other lines are kept.
// Merging the same env twice changes nothing.
func MergeEnvFile(existing []byte, env map[string]string) []byte {
	if len(env) == 0 {
		return existing
	}
	done := map[string]bool{}
	var b bytes.Buffer
	if len(existing) == 0 {
		b.WriteString("# Vault references for this repository's secrets, written by pushvault.\n")
		b.WriteString("# Run the application with: pushvault exec --env-file vault.env -- COMMAND\n")
	}
	lines := strings.SplitAfter(string(existing), "\n")
	for _, l := range lines {
		if l == "" {
			continue
		}
		trimmed := strings.TrimPrefix(strings.TrimSpace(l), "export ")
		if k, _, ok := strings.Cut(trimmed, "="); ok {
			k = strings.TrimSpace(k)
			if ref, want := env[k]; want && !done[k] {
				done[k] = true
				b.WriteString(k + "=" + ref + "\n")
				continue
			}
		}
		b.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			b.WriteByte('\n')
		}
	}
	names := make([]string, 0, len(env))
	for k := range env {
		if !done[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		b.WriteString(k + "=" + env[k] + "\n")
	}
	return b.Bytes()
}
