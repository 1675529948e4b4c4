package serve

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/scanner"
)

// Metrics are `pushvault serve`'s Prometheus series, in their own registry
// (no globals). The pipeline records scans, findings and remediations
// through ObserveScan, Finding and Remediation. Safe for concurrent use.
type Metrics struct {
	Registry *prometheus.Registry

	webhooks          *prometheus.CounterVec
	processed         *prometheus.CounterVec
	processSeconds    *prometheus.HistogramVec
	deadLetters       *prometheus.CounterVec
	redeliveries      *prometheus.CounterVec
	scanSeconds       prometheus.Histogram
	phaseSeconds      *prometheus.HistogramVec
	scanBytes         prometheus.Counter
	findings          *prometheus.CounterVec
	remediations      *prometheus.CounterVec
	githubCalls       *prometheus.CounterVec
	rateRemaining     *prometheus.GaugeVec
	rateWaits         *prometheus.CounterVec
	budgetWaits       prometheus.Counter
	budgetWaitSeconds prometheus.Counter
	yieldSeconds      prometheus.Counter
}

var (
	_ githubapp.WebhookObserver = (*Metrics)(nil)
	_ githubapp.CallObserver    = (*Metrics)(nil)
	_ queue.WorkObserver        = (*Metrics)(nil)
)

// NewMetrics registers every series. depth, when not nil, is asked for the
// queue's depth at each scrape (pushvault_queue_pending,
// pushvault_queue_in_flight, pushvault_dead_letter_messages).
func NewMetrics(depth func(context.Context) (queue.Depth, error)) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pushvault_webhooks_total", Help: "Webhook deliveries received, by event (\"other\" for events nothing handles) and outcome (accepted, duplicate, ignored, bad_signature, malformed, bad_content_type, too_large, busy, queue_error).",
		}, []string{"event", "outcome"}),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pushvault_events_processed_total", Help: "Processing attempts by event and outcome (success, retry, dead_letter).",
		}, []string{"event", "outcome"}),
		processSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pushvault_event_processing_seconds", Help: "Time spent processing one delivery attempt.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 9),
		}, []string{"event"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pushvault_dead_letters_total", Help: "Deliveries moved to the dead-letter stream by this process, by event and reason (undecodable, unfinished, permanent, retries_exhausted).",
		}, []string{"event", "reason"}),
		redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pushvault_redeliveries_total", Help: "Deliveries this process's workers took that the queue had delivered before, by event: retries, deferrals, and deliveries whose worker or replica died or stalled past queue.ack_wait.",
		}, []string{"event"}),
		scanSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pushvault_scan_duration_seconds", Help: "Time to scan one push.",
			Buckets: prometheus.ExponentialBuckets(0.05, 3, 9),
		}),
		phaseSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pushvault_phase_seconds", Help: "Time a push spends in each phase of the pipeline (settings, fetch, scan, vault, rotate, rewrite, fix_commit, pull_request, check_run, ledger), each timed on its own.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"phase"}),
		scanBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pushvault_scan_bytes_total", Help: "Bytes of diff scanned.",
		}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pushvault_findings_total", Help: "Secrets found, by detector.",
		}, []string{"detector"}),
		remediations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pushvault_remediations_total", Help: "Remediation outcomes (vaulted, rotated, rotation_manual, fix_proposed, failed...).",
		}, []string{"outcome"}),
		githubCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pushvault_github_requests_total", Help: "GitHub API responses by method and status code (0: no response).",
		}, []string{"method", "code"}),
		rateRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pushvault_github_rate_limit_remaining", Help: "X-RateLimit-Remaining of the last GitHub response, by resource.",
		}, []string{"resource"}),
		rateWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pushvault_github_rate_limit_waits_total", Help: "Waits for a GitHub rate limit, by kind (primary, secondary).",
		}, []string{"kind"}),
		budgetWaits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pushvault_backfill_budget_waits_total", Help: "Waits of a backfill for an installation's GitHub budget to come back over backfill.github_reserve.",
		}),
		budgetWaitSeconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pushvault_backfill_budget_wait_seconds_total", Help: "Time backfills spent waiting for GitHub budget over backfill.github_reserve.",
		}),
		yieldSeconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pushvault_backfill_yield_seconds_total", Help: "Time backfills' history scans spent stepped aside for pushes this process was handling.",
		}),
	}
	m.Registry.MustRegister(m.webhooks, m.processed, m.processSeconds, m.deadLetters, m.redeliveries, m.scanSeconds, m.phaseSeconds, m.scanBytes,
		m.findings, m.remediations, m.githubCalls, m.rateRemaining, m.rateWaits, m.budgetWaits, m.budgetWaitSeconds, m.yieldSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if depth != nil {
		m.Registry.MustRegister(&depthCollector{depth: depth})
	}
	return m
}

// Webhook implements githubapp.WebhookObserver.
func (m *Metrics) Webhook(event, outcome string) {
	m.webhooks.WithLabelValues(event, outcome).Inc()
}

// Processed implements WorkObserver.
func (m *Metrics) Processed(event, outcome string, d time.Duration) {
	m.processed.WithLabelValues(event, outcome).Inc()
	m.processSeconds.WithLabelValues(event).Observe(d.Seconds())
}

// DeadLettered implements WorkObserver.
func (m *Metrics) DeadLettered(event, reason string) {
	m.deadLetters.WithLabelValues(event, reason).Inc()
}

// Redelivered implements WorkObserver.
func (m *Metrics) Redelivered(event string) {
	m.redeliveries.WithLabelValues(event).Inc()
}

// GitHubCall implements githubapp.CallObserver.
func (m *Metrics) GitHubCall(method string, status int) {
	m.githubCalls.WithLabelValues(method, strconv.Itoa(status)).Inc()
}

// RateLimitRemaining implements githubapp.CallObserver.
func (m *Metrics) RateLimitRemaining(resource string, remaining int) {
	m.rateRemaining.WithLabelValues(resource).Set(float64(remaining))
}

// RateLimitWait implements githubapp.CallObserver.
func (m *Metrics) RateLimitWait(kind string, _ time.Duration) {
	m.rateWaits.WithLabelValues(kind).Inc()
}

// BackfillBudgetWait implements handler.BackfillObserver.
func (m *Metrics) BackfillBudgetWait(d time.Duration) {
	m.budgetWaits.Inc()
	m.budgetWaitSeconds.Add(d.Seconds())
}

// BackfillYield implements handler.BackfillObserver.
func (m *Metrics) BackfillYield(d time.Duration) { m.yieldSeconds.Add(d.Seconds()) }

// ObservePhase records the time one push spent in one phase (package
// phase names them: a bounded label set).
func (m *Metrics) ObservePhase(name string, d time.Duration) {
	m.phaseSeconds.WithLabelValues(name).Observe(d.Seconds())
}

// ObserveScan records one push's scan.
func (m *Metrics) ObserveScan(d time.Duration, bytes int64) {
	m.scanSeconds.Observe(d.Seconds())
	m.scanBytes.Add(float64(bytes))
}

// Finding counts one finding of detector. Custom detectors are named by
// whoever writes the settings, a repository's included, so a name that is
// not a built-in detector's counts as "custom": the label set stays as
// bounded as the built-in list, whatever a pusher names a detector.
func (m *Metrics) Finding(detector string) {
	if !scanner.KnownDetector(detector) {
		detector = "custom"
	}
	m.findings.WithLabelValues(detector).Inc()
}

// Remediation counts one remediation outcome.
func (m *Metrics) Remediation(outcome string) { m.remediations.WithLabelValues(outcome).Inc() }

var (
	pendingDesc  = prometheus.NewDesc("pushvault_queue_pending", "Deliveries waiting for a worker.", nil, nil)
	inFlightDesc = prometheus.NewDesc("pushvault_queue_in_flight", "Deliveries being worked on (delivered, not yet acknowledged).", nil, nil)
	deadDesc     = prometheus.NewDesc("pushvault_dead_letter_messages", "Messages in the dead-letter stream "+queue.DeadLetterStream+".", nil, nil)
)

// depthCollector asks the queue at scrape time.
type depthCollector struct {
	depth func(context.Context) (queue.Depth, error)
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- inFlightDesc
	ch <- deadDesc
}

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	d, err := c.depth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(pendingDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(d.Pending))
	ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(d.InFlight))
	ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, float64(d.DeadLetters))
}

var (
	backfillReposDesc = prometheus.NewDesc("pushvault_backfill_repositories", "Repositories by the state of their latest history backfill (queued, scanning, done, failed), from the queue's "+queue.BackfillBucket+" bucket: the same for every replica.", []string{"state"}, nil)
	backfillCommits   = prometheus.NewDesc("pushvault_backfill_commits_scanned", "Commits the latest backfill of each repository has read, summed (it grows while a backfill scans).", nil, nil)
	backfillPending   = prometheus.NewDesc("pushvault_backfill_queue_pending", "Backfill jobs waiting for a backfill worker.", nil, nil)
	backfillInFlight  = prometheus.NewDesc("pushvault_backfill_queue_in_flight", "Backfill jobs being worked on.", nil, nil)
)

// backfillCollector asks the queue's backfill bucket and stream at scrape
// time.
type backfillCollector struct{ q *queue.Queue }

func (c *backfillCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backfillReposDesc
	ch <- backfillCommits
	ch <- backfillPending
	ch <- backfillInFlight
}

func (c *backfillCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.q.Backfills().Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backfillReposDesc, err)
		return
	}
	for _, state := range queue.BackfillStates {
		ch <- prometheus.MustNewConstMetric(backfillReposDesc, prometheus.GaugeValue, float64(counts.Repositories[state]), state)
	}
	ch <- prometheus.MustNewConstMetric(backfillCommits, prometheus.GaugeValue, float64(counts.Commits))
	pending, inFlight, err := c.q.BackfillDepth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backfillPending, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(backfillPending, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(backfillInFlight, prometheus.GaugeValue, float64(inFlight))
}
