// Package policy owns pushvault's settings file, .github/pushvault.yml:
// where it is read from for each entry point and how its sections reach
// the scanner and the remediation pipeline.
package policy

import (
	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/scanner"
)

// Rotation decodes the settings file's rotation section.
func Rotation(s *scanner.Settings, source string) (rotate.Settings, error) {
	if s == nil || s.Rotation == nil {
		return rotate.Settings{}, nil
	}
	if source == "" {
		source = scanner.SettingsPath
	}
	return rotate.ParseSettings(source, s.Rotation)
}

// Style is how the settings write references into config files.
func Style(s *scanner.Settings) rewrite.Style {
	if s == nil || s.FixStyle == "" {
		return rewrite.StyleVault
	}
	return rewrite.Style(s.FixStyle)
}
