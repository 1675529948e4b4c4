package report

import (
	"encoding/json"
	"io"

	"github.com/pushvault/pushvault/scanner"
)

// JSONFinding is one finding in the JSON report. Locations lists every place
// the secret was added, the first introduction first; commit, author, path
// and line repeat the first (message too: a secret in a commit's or tag's
// message has no path).
type JSONFinding struct {
	ID          string              `json:"id"`
	Detector    string              `json:"detector"`
	Commit      string              `json:"commit"`
	Author      string              `json:"author"`
	Path        string              `json:"path"`
	Line        int                 `json:"line"`
	Message     scanner.MessageKind `json:"message,omitempty"`
	Redacted    string              `json:"redacted"`
	Verified    scanner.Verified    `json:"verified"`
	Fingerprint string              `json:"fingerprint,omitempty"`
	// ReportOnly: shown, neither vaulted nor fixed (scan.generic: report).
	ReportOnly bool               `json:"report_only,omitempty"`
	Locations  []scanner.Location `json:"locations"`
}

// JSONReport is the document `pushvault scan --format json` prints.
type JSONReport struct {
	Findings []JSONFinding `json:"findings"`
	Stats    scanner.Stats `json:"stats"`
	// Unreadable are the files git could not read (reason "unreadable",
	// with the object's id), not scanned.
	Unreadable []scanner.SkippedFile `json:"unreadable,omitempty"`
}

// NewJSON converts a scan result.
func NewJSON(res *scanner.Result) JSONReport {
	r := JSONReport{Findings: []JSONFinding{}, Stats: res.Stats, Unreadable: Unreadable(res)}
	for _, f := range res.Findings {
		first := f.First()
		r.Findings = append(r.Findings, JSONFinding{
			ID:          f.ID,
			Detector:    f.Detector,
			Commit:      first.Commit,
			Author:      first.Author,
			Path:        first.Path,
			Line:        first.Line,
			Message:     first.Message,
			Redacted:    f.Redacted,
			Verified:    f.Verified,
			Fingerprint: string(f.Fingerprint),
			ReportOnly:  f.ReportOnly,
			Locations:   f.Locations,
		})
	}
	return r
}

// WriteJSON writes the JSON report, indented, with a trailing newline.
func WriteJSON(w io.Writer, res *scanner.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(NewJSON(res))
}
