package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

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
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	e.startProc(fmt.Sprintf("ZOOMW_HTTP_ADDR=127.0.0.1:%d", port))

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
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	e.startProc(fmt.Sprintf("ZOOMW_HTTP_ADDR=127.0.0.1:%d", port))
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/metrics", port), nil)
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
