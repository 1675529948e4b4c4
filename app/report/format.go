package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats are the formats Write knows.
var Formats = []string{"text", "json", "csv"}

// Write writes r to w as text (a table for people), json (the Report
// document, indented) or csv (CSVHeader, one row per repository, then the
// overall row).
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case "text":
		return writeText(w, r)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return writeCSV(w, r)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// CSVHeader is the csv format's first row. "row" is "repository" or
// "overall"; times are RFC 3339 (UTC), durations and ages in seconds; a
// cell with nothing to say (no open secret, no secret rotated yet) is
// empty.
var CSVHeader = []string{
	"row", "repository", "coverage", "found", "vaulted", "rotated", "waiting_for_person", "closed", "open",
	"oldest_open_finding_id", "oldest_open_repository", "oldest_open_detected_at", "oldest_open_age_seconds",
	"vaulted_count", "time_to_vaulted_p50_seconds", "time_to_vaulted_p90_seconds",
	"rotated_count", "time_to_rotated_p50_seconds", "time_to_rotated_p90_seconds",
	"closed_count", "time_to_closed_p50_seconds", "time_to_closed_p90_seconds",
	"as_of",
}

func writeCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	rows := append([]*Figures{}, r.Repositories...)
	rows = append(rows, r.Overall)
	for i, f := range rows {
		kind := "repository"
		if i == len(rows)-1 {
			kind = "overall"
		}
		rec := []string{kind, f.Repository, f.Coverage, itoa(f.Found), itoa(f.Vaulted), itoa(f.Rotated),
			itoa(f.WaitingForPerson), itoa(f.Closed), itoa(f.Open)}
		if o := f.OldestOpen; o != nil {
			rec = append(rec, o.FindingID, o.Repository, o.DetectedAt.Format(time.RFC3339Nano), ftoa(&o.AgeSeconds))
		} else {
			rec = append(rec, "", "", "", "")
		}
		for _, d := range []Durations{f.ToVaulted, f.ToRotated, f.ToClosed} {
			rec = append(rec, itoa(d.Count), ftoa(d.P50), ftoa(d.P90))
		}
		rec = append(rec, r.AsOf.Format(time.RFC3339Nano))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func itoa(n int) string { return strconv.Itoa(n) }

func ftoa(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func writeText(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "pushvault report: %s, as of %s\n\n", r.Scope(), r.AsOf.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "REPOSITORY\tFOUND\tVAULTED\tROTATED\tWAITING\tCLOSED\tOPEN\tOLDEST OPEN\tTO VAULTED p50/p90\tTO ROTATED p50/p90\tTO CLOSED p50/p90\t\n")
	rows := append([]*Figures{}, r.Repositories...)
	rows = append(rows, r.Overall)
	for i, f := range rows {
		name := f.Repository
		if i == len(rows)-1 {
			name = "(all)"
		} else if f.Coverage == "removed" {
			name += " (removed)"
		}
		oldest := "-"
		if f.OldestOpen != nil {
			oldest = Age(dur(f.OldestOpen.AgeSeconds)) + " " + f.OldestOpen.FindingID
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", name, f.Found, f.Vaulted, f.Rotated,
			f.WaitingForPerson, f.Closed, f.Open, oldest, pair(f.ToVaulted), pair(f.ToRotated), pair(f.ToClosed))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(w, "\nWAITING: open secrets whose rotation waits for a person (manual, or held for approval).\n"+
		"OLDEST OPEN: the longest-known open secret, its age since detection. Times run from detection.\n")
	return nil
}

// pair is "p50/p90", or "-" with no sample.
func pair(d Durations) string {
	if d.Count == 0 {
		return "-"
	}
	return Age(dur(*d.P50)) + "/" + Age(dur(*d.P90))
}

// dur is s seconds as a duration.
func dur(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// Age writes d for people, to two units: "3d4h", "2h05m", "7m30s", "12s",
// "0.4s".
func Age(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%s%dd%dh", neg, d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%s%dh%02dm", neg, d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%s%dm%02ds", neg, d/time.Minute, (d%time.Minute)/time.Second)
	case d >= time.Second:
		return fmt.Sprintf("%s%ds", neg, d/time.Second)
	}
	return fmt.Sprintf("%s%.1fs", neg, d.Seconds())
}
