package githubapp

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"gopkg.in/yaml.v3"
)

// Manifest is a GitHub App manifest, in the shape GitHub's manifest flow
// accepts (POST to /settings/apps/new with a "manifest" form field).
type Manifest struct {
	Name               string            `yaml:"name" json:"name"`
	URL                string            `yaml:"url" json:"url"`
	Description        string            `yaml:"description,omitempty" json:"description,omitempty"`
	HookAttributes     HookAttributes    `yaml:"hook_attributes" json:"hook_attributes"`
	RedirectURL        string            `yaml:"redirect_url,omitempty" json:"redirect_url,omitempty"`
	CallbackURLs       []string          `yaml:"callback_urls,omitempty" json:"callback_urls,omitempty"`
	SetupURL           string            `yaml:"setup_url,omitempty" json:"setup_url,omitempty"`
	Public             bool              `yaml:"public" json:"public"`
	DefaultPermissions map[string]string `yaml:"default_permissions" json:"default_permissions"`
	DefaultEvents      []string          `yaml:"default_events" json:"default_events"`
}

// HookAttributes is where GitHub delivers webhooks.
type HookAttributes struct {
	URL    string `yaml:"url" json:"url"`
	Active bool   `yaml:"active" json:"active"`
}

// RequiredPermissions are what pushvault needs; a manifest granting less is
// rejected by Validate.
var RequiredPermissions = map[string]string{
	"contents":      "write",
	"pull_requests": "write",
	"checks":        "write",
	"issues":        "write",
	"metadata":      "read",
}

// RequiredEvents are the webhook events pushvault subscribes to (GitHub
// sends installation events and ping to every App unasked). check_suite
// carries "Re-run all checks"; issue_comment the commands people comment
// on a repository's "Exposed in history" issue (githubapp.ParseCommand).
var RequiredEvents = []string{"push", "pull_request", "check_run", "check_suite", "issue_comment"}

// ParseManifest decodes app.yml strictly and validates it.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("app.yml: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate reports every problem with the manifest at once.
func (m *Manifest) Validate() error {
	var errs []error
	if m.Name == "" {
		errs = append(errs, errors.New("app.yml: name is required"))
	}
	for field, v := range map[string]string{"url": m.URL, "hook_attributes.url": m.HookAttributes.URL} {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("app.yml: %s must be an http(s) URL, got %q", field, v))
		}
	}
	for perm, level := range RequiredPermissions {
		got := m.DefaultPermissions[perm]
		if got != level && !(level == "read" && got == "write") {
			errs = append(errs, fmt.Errorf("app.yml: default_permissions.%s must be %s, got %q", perm, level, got))
		}
	}
	for _, ev := range RequiredEvents {
		if !slices.Contains(m.DefaultEvents, ev) {
			errs = append(errs, fmt.Errorf("app.yml: default_events must include %s", ev))
		}
	}
	return errors.Join(errs...)
}
