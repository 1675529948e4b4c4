package local

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/app/ledger"
	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// QueueSource is where `pushvault backfill` finds the queue of `pushvault
// serve`: the NATS server at NATS (with NATSCreds), or the embedded
// server's files under DataDir (serve must be stopped: the store is held
// by one process at a time; jobs queued there wait for serve to start).
type QueueSource struct {
	NATS      string
	NATSCreds string
	DataDir   string
}

func (s QueueSource) open(ctx context.Context) (jetstream.JetStream, *queue.Backfills, func(), error) {
	if (s.NATS == "") == (s.DataDir == "") {
		return nil, nil, nil, fmt.Errorf("%w: give --nats URL (a running serve's queue) or --data-dir DIR (serve stopped)", ErrUsage)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	js, closeJS, err := queue.ConnectJetStream(ctx, log, queue.Config{URL: s.NATS, CredsFile: s.NATSCreds}, s.DataDir)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := js.Stream(ctx, queue.BackfillStream); err != nil {
		closeJS()
		return nil, nil, nil, fmt.Errorf("no backfill stream %s on this queue (has a pushvault serve with backfill run on it?): %w", queue.BackfillStream, err)
	}
	b, err := queue.ExistingBackfills(ctx, js)
	if err != nil {
		closeJS()
		return nil, nil, nil, err
	}
	return js, b, closeJS, nil
}

// BackfillRequest names what to backfill: every repository the ledger
// says Installation covers, or one repository (OWNER/REPO).
type BackfillRequest struct {
	Installation int64
	Repo         string
}

// QueueBackfill queues the backfills req names on serve's backfill stream
// and returns the jobs. serve's backfill workers run them (each request
// scans again, even a repository backfilled before); a repository given
// without its installation has it looked up when the job runs.
func QueueBackfill(ctx context.Context, src QueueSource, req BackfillRequest, now time.Time) ([]queue.BackfillJob, error) {
	if (req.Installation == 0) == (req.Repo == "") {
		return nil, fmt.Errorf("%w: give --installation ID or --repo OWNER/REPO", ErrUsage)
	}
	js, b, release, err := src.open(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	request := "cli:" + strconv.FormatInt(now.UnixNano(), 36)
	var repos []string
	if req.Repo != "" {
		repos = []string{req.Repo}
	} else {
		recs, err := evidence.New(evidence.OpenJetStream(js), nil).Records(ctx)
		if err != nil {
			return nil, fmt.Errorf("evidence ledger: %w", err)
		}
		if repos = ledger.Covered(recs, req.Installation); len(repos) == 0 {
			return nil, fmt.Errorf("the ledger records no repository covered by installation %d (serve records them from installation webhooks)", req.Installation)
		}
	}
	var jobs []queue.BackfillJob
	for _, repo := range repos {
		owner, name, ok := strings.Cut(repo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return jobs, fmt.Errorf("%w: %q is not OWNER/REPO", ErrUsage, repo)
		}
		job := queue.BackfillJob{Installation: req.Installation, Owner: owner, Repo: name, Request: request, RequestedBy: "cli"}
		if err := queue.EnqueueBackfill(ctx, js, b, job); err != nil {
			return jobs, err
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

// BackfillStatus writes where each repository's latest backfill request
// stands (a later request replaces an earlier one's line), read from the
// queue's backfill bucket: a table (format text) or JSON Lines (format
// json), each with the request's id, who asked, and when it was queued,
// started or finished.
func BackfillStatus(ctx context.Context, src QueueSource, format string, w io.Writer) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("%w: unknown format %q (want text or json)", ErrUsage, format)
	}
	_, b, release, err := src.open(ctx)
	if err != nil {
		return err
	}
	defer release()
	list, err := b.List(ctx)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, st := range list {
			if err := enc.Encode(st); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tSTATE\tCOMMITS\tSLICES\tAT HEAD\tIN HISTORY\tPR\tISSUE\tSCANS\tSINCE\tREQUEST\tBY\tERROR")
	count := map[string]int{}
	commits := 0
	for _, st := range list {
		count[st.State]++
		commits += st.Commits
		since := st.QueuedAt
		switch st.State {
		case queue.BackfillScanning:
			since = st.StartedAt
		case queue.BackfillDone, queue.BackfillFailed:
			since = st.FinishedAt
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", st.Repository, st.State, progress(st), st.Slices, st.AtHead, st.InHistory,
			number(st.PR), number(st.Issue), st.Scans, since.UTC().Format(time.RFC3339), st.Request, cmp.Or(st.RequestedBy, "-"), errorCell(st.Error))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, s := range queue.BackfillStates {
		parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
	}
	_, err = fmt.Fprintf(w, "%d repositories: %s; %d commits scanned\n", len(list), strings.Join(parts, ", "), commits)
	return err
}

func progress(st queue.BackfillState) string {
	if st.State == queue.BackfillScanning && st.Total > 0 {
		return fmt.Sprintf("%d/%d", st.Commits, st.Total)
	}
	return strconv.Itoa(st.Commits)
}

func number(n int) string {
	if n == 0 {
		return "-"
	}
	return "#" + strconv.Itoa(n)
}

func errorCell(s string) string {
	s = strings.NewReplacer("\n", " ", "\t", " ").Replace(s)
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
