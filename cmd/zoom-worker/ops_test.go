package main

import (
	"bytes"
	"encoding/json"
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

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	e.startProc(fmt.Sprintf("ZOOMW_HTTP_ADDR=127.0.0.1:%d", port))

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
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := httpGet(t, base+"/readyz")
		if code == 503 && strings.Contains(body, "redis") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %q with Redis down; want 503 naming redis", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.redis.Restart(t)
	deadline = time.Now().Add(10 * time.Second)
	for {
		if code, _ := httpGet(t, base+"/readyz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover after Redis came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestServiceDiscoverable(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	e.startProc()
	// What `nats micro ls` and `nats micro info zoom-worker` ask.
	msg, err := e.nc.Request("$SRV.INFO.zoom-worker", nil, 5*time.Second)
	if err != nil {
		t.Fatalf("$SRV.INFO.zoom-worker: %v", err)
	}
	var info struct {
		Name      string `json:"name"`
		Endpoints []struct {
			Subject string `json:"subject"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, ep := range info.Endpoints {
		subjects = append(subjects, ep.Subject)
	}
	got := strings.Join(subjects, " ")
	for _, want := range []string{"zoom.svc.job.status", "zoom.svc.meeting.get", "zoom.svc.user.get"} {
		if !strings.Contains(got, want) {
			t.Errorf("service endpoints %q lack %s", got, want)
		}
	}
	e.publish(messages.SubjectMeetingCreate, meetingJob("svc-1"), "")
	e.waitEvent("svc-1", messages.SubjectMeetingCreated, 20*time.Second)
	resp, err := e.nc.Request("zoom.svc.job.status", []byte(`{"job_id":"svc-1"}`), 5*time.Second)
	if err != nil || !strings.Contains(string(resp.Data), `"state":"succeeded"`) {
		t.Errorf("job.status = %s, %v; want succeeded", resp.Data, err)
	}
}

func TestSubmitAndDLQCommands(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	e.startProc()
	getenv := e.natsOnly
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"submit", "meeting", "--job-id", "cli-1", "--user", "james@bond.com",
		"--topic", "From the CLI", "--start", "2026-12-05T12:00:00Z", "--duration", "30", "--wait"}, getenv, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), `"join_url"`) {
		t.Fatalf("submit meeting --wait: exit %d, out %q, err %q; want 0 and the event", code, out.String(), errOut.String())
	}

	out.Reset()
	code = run(t.Context(), []string{"submit", "meeting", "--job-id", "cli-2", "--user", "ghost@bond.com", "--topic", "x",
		"--start", "2026-12-05T12:00:00Z", "--duration", "30", "--wait"}, getenv, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), `"zoom_rejected"`) {
		t.Fatalf("submit for an unknown host: exit %d, out %q; want 1 and job.failed", code, out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"submit", "meeting", "--user", "james@bond.com", "--topic", strings.Repeat("x", 201),
		"--start", "2026-12-05T12:00:00Z", "--duration", "30"}, getenv, &out, &errOut); code != 2 {
		t.Errorf("submit of an invalid job: exit %d; want 2", code)
	}

	out.Reset()
	if code := run(t.Context(), []string{"dlq", "list"}, getenv, &out, &errOut); code != 0 || !strings.Contains(out.String(), "cli-2") {
		t.Fatalf("dlq list: exit %d, out %q; want cli-2 listed", code, out.String())
	}
	errOut.Reset()
	if code := run(t.Context(), []string{"dlq", "replay", "--seq", "999"}, getenv, &out, &errOut); code != 1 ||
		strings.TrimSpace(errOut.String()) != "zoom-worker: dlq replay: no dead letter at sequence 999 (zoom-worker dlq list shows them)" {
		t.Errorf("dlq replay --seq 999: exit %d, stderr %q; want 1 and one line saying there is none", code, errOut.String())
	}
	// Fix the cause, replay, and the job succeeds.
	e.fake.AddUser("ghost@bond.com", "Ghost", "Host", 1)
	out.Reset()
	if code := run(t.Context(), []string{"dlq", "replay", "--all"}, getenv, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "replayed 1 dead letter(s), removed from ZOOM_DLQ; 0 left in ZOOM_DLQ") {
		t.Fatalf("dlq replay --all: exit %d, out %q, err %q; want 0 and a summary", code, out.String(), errOut.String())
	}
	e.waitEvent("cli-2", messages.SubjectMeetingCreated, 20*time.Second)
	out.Reset()
	run(t.Context(), []string{"dlq", "list"}, getenv, &out, &errOut)
	if !strings.Contains(out.String(), "no dead-lettered jobs") {
		t.Errorf("dlq list after replay = %q; want it empty", out.String())
	}
}

// A job id used again: within the duplicate window the server drops the
// second body and submit says so; after it, the worker answers job.conflict
// and submit --wait must show that (not the first job's event) and exit 1.
func TestSubmitTheSameJobIDAgain(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	e.startProc()
	getenv := e.natsOnly
	submit := func(topic string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), []string{"submit", "meeting", "--job-id", "again-1", "--user", "james@bond.com",
			"--topic", topic, "--start", "2026-12-05T12:00:00Z", "--duration", "30", "--wait"}, getenv, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := submit("A"); code != 0 || !strings.Contains(out, `"join_url"`) {
		t.Fatalf("submit A: exit %d, out %q, err %q; want 0 and meeting.created", code, out, errOut)
	}
	if code, _, errOut := submit("B"); code != 0 || !strings.Contains(errOut, "duplicate of an earlier publish") {
		t.Fatalf("submit B within the duplicate window: exit %d, err %q; want it called a duplicate of an earlier publish", code, errOut)
	}
	// Let the duplicate window pass quickly: the server purges its ids
	// when the window changes.
	ctx := t.Context()
	s, err := e.js.Stream(ctx, messages.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.Duplicates = time.Second
	if _, err := e.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	code, out, errOut := submit("B")
	if code != 1 || strings.Contains(out, `"join_url"`) || !strings.Contains(errOut, "job.conflict") {
		t.Fatalf("submit B after the duplicate window: exit %d, out %q, err %q; want 1, job.conflict and not A's event", code, out, errOut)
	}
}
