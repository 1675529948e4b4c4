package report

import (
	"encoding/json"
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
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
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

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
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
			r.Locations = append(r.Locations, sarifLocation{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: (&url.URL{Path: l.Path}).String()},
				Region:           sarifRegion{StartLine: max(l.Line, 1)},
			}})
		}
		run.Results = append(run.Results, r)
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
