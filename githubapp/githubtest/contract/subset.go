package contract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pushvault/pushvault/internal/npmfixture"
)

// subsetFormat changes whenever the derivation changes, so that files
// derived by an older version are derived again.
const subsetFormat = "2"

// sourceField is the top-level extension of a derived subset recording
// where it came from.
const sourceField = "x-pushvault-source"

// source records the package, version and checksum a subset was derived
// from, the roots (operations or webhook events) it was derived for, and the
// cache key those make.
type source struct {
	Package string   `json:"package"`
	Version string   `json:"version"`
	SHA256  string   `json:"sha256"`
	File    string   `json:"file"`
	Roots   []string `json:"roots"`
	Key     string   `json:"key"`
}

func newSource(pkg npmfixture.Package, file string, roots []string) source {
	sorted := append([]string(nil), roots...)
	sort.Strings(sorted)
	h := sha256.New()
	fmt.Fprintf(h, "format %s\n%s\n%s\n%s\n%s\n", subsetFormat, pkg.Name, pkg.Version, pkg.SHA256, file)
	for _, r := range sorted {
		fmt.Fprintf(h, "%s\n", r)
	}
	return source{
		Package: pkg.Name,
		Version: pkg.Version,
		SHA256:  pkg.SHA256,
		File:    file,
		Roots:   sorted,
		Key:     hex.EncodeToString(h.Sum(nil)),
	}
}

// path is where the subset for src is cached.
func (src source) path(kind string) string {
	return filepath.Join(npmfixture.CacheDir(), "contract",
		fmt.Sprintf("%s-%s-%s.json", kind, src.Version, src.Key[:16]))
}

// deriveFunc cuts a subset for roots out of a full description.
type deriveFunc func(full map[string]any, roots []string) (map[string]any, error)

// cachedSubset returns the subset of pkg's file for roots: read from the
// cache when a file there records the same key, else derived from the
// package (fetched once by npmfixture) and written to the cache atomically,
// so that test binaries running side by side never read a partial file.
func cachedSubset(kind string, pkg npmfixture.Package, file string, roots []string, derive deriveFunc) ([]byte, source, error) {
	src := newSource(pkg, file, roots)
	path := src.path(kind)
	if data, err := os.ReadFile(path); err == nil {
		var rec struct {
			Source source `json:"x-pushvault-source"`
		}
		if json.Unmarshal(data, &rec) == nil && rec.Source.Key == src.Key &&
			rec.Source.Version == src.Version && rec.Source.SHA256 == src.SHA256 {
			return data, src, nil
		}
	}
	raw, err := pkg.File(file)
	if err != nil {
		return nil, src, fmt.Errorf("contract: %s: %w", kind, err)
	}
	full, err := decodeJSON(raw)
	if err != nil {
		return nil, src, fmt.Errorf("contract: %s@%s %s: %w", pkg.Name, pkg.Version, file, err)
	}
	sub, err := derive(full, roots)
	if err != nil {
		return nil, src, fmt.Errorf("contract: %s@%s: %w", pkg.Name, pkg.Version, err)
	}
	sub[sourceField] = src
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sub); err != nil {
		return nil, src, fmt.Errorf("contract: encode %s subset: %w", kind, err)
	}
	data := buf.Bytes()
	if err := writeAtomic(path, data); err != nil {
		return nil, src, fmt.Errorf("contract: cache %s subset: %w", kind, err)
	}
	return data, src, nil
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// decodeJSON decodes an object keeping numbers as written.
func decodeJSON(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// deriveREST keeps the served operations (and their path items'
// parameters) and every component they reference, transitively. Examples
// referenced from the operations are components too and are kept: the
// subset is GitHub's description, only smaller.
func deriveREST(full map[string]any, served []string) (map[string]any, error) {
	paths, _ := full["paths"].(map[string]any)
	outPaths := map[string]any{}
	for _, line := range served {
		method, tmpl, err := splitServed(line)
		if err != nil {
			return nil, err
		}
		item, ok := paths[tmpl].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("served %q: the description has no path %s", line, tmpl)
		}
		op, ok := item[strings.ToLower(method)]
		if !ok {
			return nil, fmt.Errorf("served %q: the description has no %s operation on %s", line, method, tmpl)
		}
		out, _ := outPaths[tmpl].(map[string]any)
		if out == nil {
			out = map[string]any{}
			if p, ok := item["parameters"]; ok {
				out["parameters"] = p
			}
			outPaths[tmpl] = out
		}
		out[strings.ToLower(method)] = op
	}
	sub := map[string]any{
		"openapi": full["openapi"],
		"info":    full["info"],
		"paths":   outPaths,
	}
	if s, ok := full["servers"]; ok {
		sub["servers"] = s
	}
	// basic-error is kept even when no served operation references it: it
	// checks the responses StatusExceptions allows.
	roots := []any{outPaths, map[string]any{"$ref": "#/components/schemas/basic-error"}}
	comps, err := referencedComponents(full, roots)
	if err != nil {
		return nil, err
	}
	sub["components"] = comps
	return sub, nil
}

// deriveWebhooks keeps the webhooks for the events named in events
// ("event" or "event.action") and every component they reference.
func deriveWebhooks(full map[string]any, events []string) (map[string]any, error) {
	hooks, _ := full["webhooks"].(map[string]any)
	index := webhookIndex(hooks)
	out := map[string]any{}
	for _, e := range events {
		key, ok := index[normalizeEvent(e)]
		if !ok {
			return nil, fmt.Errorf("webhook event %q: the description has no such webhook", e)
		}
		out[key] = hooks[key]
	}
	sub := map[string]any{
		"openapi":  full["openapi"],
		"info":     full["info"],
		"webhooks": out,
	}
	comps, err := referencedComponents(full, out)
	if err != nil {
		return nil, err
	}
	sub["components"] = comps
	return sub, nil
}

// webhookIndex maps a normalized "event.action" (or "event") to the key
// of its webhook, from each webhook's operationId ("pull-request/closed").
func webhookIndex(hooks map[string]any) map[string]string {
	index := map[string]string{}
	for key, v := range hooks {
		item, _ := v.(map[string]any)
		post, _ := item["post"].(map[string]any)
		id, _ := post["operationId"].(string)
		if id == "" {
			continue
		}
		index[normalizeEvent(strings.Replace(id, "/", ".", 1))] = key
	}
	return index
}

// normalizeEvent spells an event the way the webhooks description's
// operation ids do: X-GitHub-Event "pull_request" with action
// "requested_action" becomes "pull-request.requested-action".
func normalizeEvent(e string) string {
	return strings.ReplaceAll(e, "_", "-")
}

// referencedComponents returns the components (schemas, parameters,
// responses, headers, examples, ...) referenced from root, transitively.
func referencedComponents(full map[string]any, root any) (map[string]any, error) {
	comps, _ := full["components"].(map[string]any)
	out := map[string]any{}
	seen := map[string]bool{}
	var queue []string
	collectRefs(root, &queue)
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
		if !strings.HasPrefix(ref, "#/components/") || len(parts) < 3 {
			return nil, fmt.Errorf("reference %q is not to a component", ref)
		}
		section, name := unescapePointer(parts[1]), unescapePointer(parts[2])
		id := section + "/" + name
		if seen[id] {
			continue
		}
		seen[id] = true
		sec, _ := comps[section].(map[string]any)
		v, ok := sec[name]
		if !ok {
			return nil, fmt.Errorf("reference %q names no component", ref)
		}
		o, _ := out[section].(map[string]any)
		if o == nil {
			o = map[string]any{}
			out[section] = o
		}
		o[name] = v
		collectRefs(v, &queue)
	}
	return out, nil
}

func collectRefs(v any, queue *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "$ref" {
				*queue = append(*queue, s)
				continue
			}
			collectRefs(e, queue)
		}
	case []any:
		for _, e := range v {
			collectRefs(e, queue)
		}
	}
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// splitServed splits "METHOD /path" into its method and path template.
func splitServed(line string) (method, tmpl string, err error) {
	method, tmpl, ok := strings.Cut(strings.TrimSpace(line), " ")
	tmpl = strings.TrimSpace(tmpl)
	if !ok || method == "" || !strings.HasPrefix(tmpl, "/") || method != strings.ToUpper(method) {
		return "", "", fmt.Errorf("served %q: want \"METHOD /path\"", line)
	}
	return method, tmpl, nil
}
