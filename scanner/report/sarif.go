package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"

	"github.com/pushvault/pushvault/scanner"
)

// SARIF 2.1.0 types: only what the report uses.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     []sarifResult     `json:"results"`
}

// sarifInvocation says what the run could not do: the files git could not
// read, as notifications.
type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri,omitempty"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	Name             string       `json:"name"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifMessage      `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

// sarifLocation is a file's place (physicalLocation) or, for a secret in a
// commit's or tag's message, the message as a logical location: no file
// holds it.
type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	Message          *sarifMessage  `json:"message,omitempty"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

// WriteSARIF writes a SARIF 2.1.0 log: one rule per detector, one result per
// finding with every location. version is pushvault's version.
func WriteSARIF(w io.Writer, res *scanner.Result, version string) error {
	rules := map[string]int{}
	var names []string
	desc := map[string]string{}
	for _, f := range res.Findings {
		if _, ok := rules[f.Detector]; !ok {
			rules[f.Detector] = 0
			names = append(names, f.Detector)
			desc[f.Detector] = f.Description
		}
	}
	sort.Strings(names)
	driver := sarifDriver{Name: "pushvault", Version: version, Rules: []sarifRule{}}
	for i, n := range names {
		rules[n] = i
		d := desc[n]
		if d == "" {
			d = n + " secret"
		}
		driver.Rules = append(driver.Rules, sarifRule{ID: n, Name: n, ShortDescription: sarifMessage{Text: d}})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	for _, f := range res.Findings {
		r := sarifResult{
			RuleID:              f.Detector,
			RuleIndex:           rules[f.Detector],
			Level:               "error",
			Message:             sarifMessage{Text: f.Detector + " secret " + f.Redacted + " committed in " + short(f.First().Commit)},
			PartialFingerprints: map[string]string{"pushvaultFindingId/v1": f.ID},
			Properties: map[string]any{
				"commit":   f.First().Commit,
				"author":   f.First().Author,
				"verified": string(f.Verified),
			},
		}
		for _, l := range f.Locations {
			r.Locations = append(r.Locations, sarifLocationOf(l))
		}
		run.Results = append(run.Results, r)
	}
	if unreadable := Unreadable(res); len(unreadable) > 0 {
		inv := sarifInvocation{ExecutionSuccessful: true}
		for _, u := range unreadable {
			n := sarifNotification{Level: "warning", Message: sarifMessage{Text: fmt.Sprintf(
				"not scanned, git cannot read it: %s in commit %s (object %s)", u.Where(), u.Commit, orNone(u.Object))}}
			if u.Path != "" {
				n.Locations = []sarifLocation{{PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifArtifact{URI: (&url.URL{Path: u.Path}).String()}}}}
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
		}
		run.Invocations = []sarifInvocation{inv}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}

// sarifLocationOf is a finding's location in SARIF: the file and line, or
// the message it is in as a logical location ("commit-message" or
// "tag-message", named by the object's id).
func sarifLocationOf(l scanner.Location) sarifLocation {
	if l.InMessage() {
		return sarifLocation{
			LogicalLocations: []sarifLogical{{Name: l.Commit, FullyQualifiedName: l.Where(), Kind: string(l.Message) + "-message"}},
			Message:          &sarifMessage{Text: fmt.Sprintf("%s, line %d", l.Where(), l.Line)},
		}
	}
	return sarifLocation{PhysicalLocation: &sarifPhysical{
		ArtifactLocation: sarifArtifact{URI: (&url.URL{Path: l.Path}).String()},
		Region:           &sarifRegion{StartLine: max(l.Line, 1)},
	}}
}
