package main

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

func TestHealthReadinessAndMetrics(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	_, base := e.startServing()

	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d; want 200", code)
	}
	if code, body := httpGet(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q; want 200", code, body)
	}
	e.publish(messages.SubjectMeetingCreate, meetingJob("metrics-1"), "")
	e.waitEvent("metrics-1", messages.SubjectMeetingCreated, 20*time.Second)
	// The event can reach the test before the worker, still settling the
	// job, counts it (it acks and counts after the publish's ack): scrape
	// until every series is there.
	wants := []string{
		`zoomworker_jobs_total{outcome="succeeded",subject="zoom.jobs.meeting.create"} 1`,
		`zoomworker_zoom_requests_total{account="default",operation="create_meeting",status="2xx"} 1`,
		`zoomworker_job_duration_seconds_bucket`,
		`zoomworker_zoom_request_duration_seconds_bucket`,
		`zoomworker_jobs_in_flight 0`,
		`zoomworker_events_published_total{subject="zoom.events.meeting.created"} 1`,
		`zoomworker_store_up 1`,
	}
	var missing []string
	for scrape := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, metrics := httpGet(t, base+"/metrics")
		missing = missing[:0]
		for _, want := range wants {
			if !strings.Contains(metrics, want) {
				missing = append(missing, want)
			}
		}
		if len(missing) == 0 || time.Now().After(scrape) {
			break
		}
	}
	for _, want := range missing {
		t.Errorf("/metrics lacks %s", want)
	}

	e.redis.Stop()
	waitReadyz(t, base, 503, 10*time.Second, "redis")
	e.redis.Restart(t)
	waitReadyz(t, base, 200, 10*time.Second)
}

// series is the set of metric series (name and labels) a scrape shows.
func series(body string) map[string]bool {
	s := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "zoomworker_") {
			if i := strings.LastIndexByte(line, ' '); i > 0 {
				s[line[:i]] = true
			}
		}
	}
	return s
}

// TestMetricLabelsAreBounded: jobs on subjects the contract does not name
// count as subject="other", so publishing to ever new subjects adds no
// series.
func TestMetricLabelsAreBounded(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	_, base := e.startServing()

	e.publish("zoom.jobs.x29555.y", `{"job_id":"odd-1"}`, "")
	e.waitEvent("odd-1", messages.SubjectJobFailed, 20*time.Second)
	_, before := httpGet(t, base+"/metrics")
	if !strings.Contains(before, `subject="other"`) {
		t.Errorf("/metrics has no subject=\"other\" series after a job on an unknown subject:\n%s", before)
	}
	e.publish("zoom.jobs.x29556.y", `{"job_id":"odd-2"}`, "")
	e.waitEvent("odd-2", messages.SubjectJobFailed, 20*time.Second)
	_, after := httpGet(t, base+"/metrics")
	if strings.Contains(after, "x2955") {
		t.Errorf("/metrics carries a publisher's subject as a label value")
	}
	for s := range series(after) {
		if !series(before)[s] {
			t.Errorf("a job on a new unknown subject added the series %s", s)
		}
	}
}

// TestMetricsOfferOpenMetrics: a scraper that asks for OpenMetrics gets it.
func TestMetricsOfferOpenMetrics(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	_, base := e.startServing()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("Content-Type = %q; want application/openmetrics-text", ct)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(b)), "# EOF") {
		t.Errorf("the body does not end with # EOF as OpenMetrics does")
	}
}

// TestEveryLineIsJSONWhileRedisIsDown: with Redis not answering, run's
// output (the worker's lines, go-redis's own, the exit line) is one JSON
// object per line; in text mode one logfmt line each.
func TestEveryLineIsJSONWhileRedisIsDown(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	nothing := freeAddr(t)
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			p := e.spawn("run", "REDIS_URL=redis://"+nothing+"/0", "ZOOMW_LOG_FORMAT="+format)
			// Long enough for the health check and go-redis to fail dials
			// several times.
			deadline := time.Now().Add(30 * time.Second)
			for strings.Count(p.logs.String(), "\n") < 8 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(2 * time.Second)
			p.term(t, 30*time.Second)
			out := strings.TrimRight(p.logs.String(), "\n")
			lines := strings.Split(out, "\n")
			if len(lines) < 3 {
				t.Fatalf("only %d lines:\n%s", len(lines), out)
			}
			for i, line := range lines {
				switch format {
				case "json":
					var obj map[string]any
					if err := json.Unmarshal([]byte(line), &obj); err != nil {
						t.Errorf("line %d is not one JSON object: %q", i+1, line)
					} else if _, ok := obj["error"]; ok {
						t.Errorf("line %d has key \"error\"; the log's key for errors is \"err\": %q", i+1, line)
					}
				case "text":
					if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=") {
						t.Errorf("line %d is not a text log line: %q", i+1, line)
					}
				}
			}
		})
	}
}

// TestLogKeyForErrorsIsErr keeps one key for errors in every log line of
// every package: "err" (a query over logs then finds them all).
func TestLogKeyForErrorsIsErr(t *testing.T) {
	// [^()]* also spans the lines of a call wrapped before its "error" key.
	call := regexp.MustCompile(`\.(Debug|Info|Warn|Error|Log)(Context)?\([^()]*?"error",`)
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, at := range call.FindAllIndex(b, -1) {
			line := 1 + strings.Count(string(b[:at[0]]), "\n")
			t.Errorf("%s:%d logs an error under the key \"error\"; use \"err\": %s", path, line, b[at[0]:at[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
