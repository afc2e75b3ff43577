package worker

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom"
)

// Metrics are the worker's Prometheus metrics. Build them with NewMetrics and
// pass them in Config; nil records nothing.
type Metrics struct {
	Jobs          *prometheus.CounterVec   // zoomworker_jobs_total{subject,outcome}: outcome is an Outcome
	JobDuration   *prometheus.HistogramVec // zoomworker_job_duration_seconds{subject,outcome}
	InFlight      prometheus.Gauge         // zoomworker_jobs_in_flight
	Retries       *prometheus.CounterVec   // zoomworker_job_retries_total{subject,where}: in_process or redelivery
	DeadLettered  *prometheus.CounterVec   // zoomworker_jobs_dead_lettered_total{subject,kind}
	ZoomRequests  *prometheus.CounterVec   // zoomworker_zoom_requests_total{account,operation,status}
	ZoomHeld      *prometheus.CounterVec   // zoomworker_zoom_requests_held_total{account,operation}: never sent
	ZoomLatency   *prometheus.HistogramVec // zoomworker_zoom_request_duration_seconds{operation}
	RateLimited   *prometheus.CounterVec   // zoomworker_zoom_rate_limited_total{account,type}
	RateLimitWait prometheus.Histogram     // zoomworker_rate_limit_wait_seconds
	Events        *prometheus.CounterVec   // zoomworker_events_published_total{subject}
	StoreUp       prometheus.Gauge         // zoomworker_store_up
	CredentialsOK *prometheus.GaugeVec     // zoomworker_account_credentials_ok{account}
}

// NewMetrics creates the metrics and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Jobs: prometheus.V2.NewCounterVec(prometheus.CounterVecOpts{CounterOpts: prometheus.CounterOpts{
			Name: "zoomworker_jobs_total", Help: "Jobs handled, by subject and outcome.",
		}, VariableLabels: subjectAnd("outcome")}),
		JobDuration: prometheus.V2.NewHistogramVec(prometheus.HistogramVecOpts{HistogramOpts: prometheus.HistogramOpts{
			Name: "zoomworker_job_duration_seconds", Help: "Time from a job's delivery to its ack, nak or term.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, VariableLabels: subjectAnd("outcome")}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "zoomworker_jobs_in_flight", Help: "Jobs this process is working on now.",
		}),
		Retries: prometheus.V2.NewCounterVec(prometheus.CounterVecOpts{CounterOpts: prometheus.CounterOpts{
			Name: "zoomworker_job_retries_total", Help: "Retries of transient failures, in process or by redelivery.",
		}, VariableLabels: subjectAnd("where")}),
		DeadLettered: prometheus.V2.NewCounterVec(prometheus.CounterVecOpts{CounterOpts: prometheus.CounterOpts{
			Name: "zoomworker_jobs_dead_lettered_total", Help: "Jobs that failed for good and were kept in ZOOM_DLQ.",
		}, VariableLabels: subjectAnd("kind")}),
		ZoomRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zoomworker_zoom_requests_total", Help: "Zoom API calls by operation and HTTP status (\"error\" without one, \"canceled\" when stopped first).",
		}, []string{"account", "operation", "status"}),
		ZoomHeld: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zoomworker_zoom_requests_held_total", Help: "Zoom API calls the shared rate limiter held back: never sent, retried later without using an attempt.",
		}, []string{"account", "operation"}),
		ZoomLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "zoomworker_zoom_request_duration_seconds", Help: "Zoom API call latency, rate-limit waits included.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zoomworker_zoom_rate_limited_total", Help: "429 answers from Zoom, by limit type.",
		}, []string{"account", "type"}),
		RateLimitWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "zoomworker_rate_limit_wait_seconds", Help: "Time requests waited for the shared rate limiter.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		Events: prometheus.V2.NewCounterVec(prometheus.CounterVecOpts{CounterOpts: prometheus.CounterOpts{
			Name: "zoomworker_events_published_total", Help: "Events published, by subject.",
		}, VariableLabels: subjectAnd()}),
		StoreUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "zoomworker_store_up", Help: "1 when Redis answers, 0 while it does not.",
		}),
		CredentialsOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "zoomworker_account_credentials_ok", Help: "0 while Zoom's token endpoint rejects the account's credentials (its jobs wait), else 1.",
		}, []string{"account"}),
	}
	if reg != nil {
		reg.MustRegister(m.Jobs, m.JobDuration, m.InFlight, m.Retries, m.DeadLettered,
			m.ZoomRequests, m.ZoomHeld, m.ZoomLatency, m.RateLimited, m.RateLimitWait, m.Events, m.StoreUp, m.CredentialsOK)
	}
	return m
}

func (m *Metrics) job(subject string, outcome Outcome, d time.Duration) {
	if m == nil {
		return
	}
	m.Jobs.WithLabelValues(subject, string(outcome)).Inc()
	m.JobDuration.WithLabelValues(subject, string(outcome)).Observe(d.Seconds())
}

func (m *Metrics) zoomCall(account, op string, d time.Duration, err error) {
	if m == nil {
		return
	}
	if _, held := zoom.AsHeld(err); held {
		// The limiter answered; Zoom never saw the request.
		m.ZoomHeld.WithLabelValues(account, op).Inc()
		return
	}
	status := "ok"
	var ae *zoom.APIError
	switch {
	case err == nil:
		status = "2xx"
	case errors.As(err, &ae):
		status = strconv.Itoa(ae.StatusCode)
		if ae.StatusCode == 429 {
			typ := ae.RateLimitType
			if ae.DailyLimit {
				typ = "daily"
			} else if typ == "" {
				typ = "unknown"
			}
			m.RateLimited.WithLabelValues(account, typ).Inc()
		}
	case errors.Is(err, context.Canceled):
		status = "canceled"
	default:
		status = "error"
	}
	m.ZoomRequests.WithLabelValues(account, op, status).Inc()
	m.ZoomLatency.WithLabelValues(op).Observe(d.Seconds())
}

// ObserveRateLimitWait records one wait for the shared limiter.
func (m *Metrics) ObserveRateLimitWait(d time.Duration) {
	if m != nil {
		m.RateLimitWait.Observe(d.Seconds())
	}
}

// subjectAnd is the label set "subject" plus names. Subject values are
// bounded: a subject the contract does not name (anyone may publish to
// zoom.jobs.x29556.y) is counted as "other", so publishers cannot grow the
// number of series.
func subjectAnd(names ...string) prometheus.ConstrainedLabels {
	labels := prometheus.ConstrainedLabels{{Name: "subject", Constraint: SubjectLabel}}
	for _, n := range names {
		labels = append(labels, prometheus.ConstrainedLabel{Name: n})
	}
	return labels
}

// SubjectLabel is the value of a "subject" label: the subject when the
// contract names it, else "other".
func SubjectLabel(subject string) string {
	if messages.SchemaFile(subject) != "" {
		return subject
	}
	return "other"
}
