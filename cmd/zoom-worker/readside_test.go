package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// svcRequest asks the read service; code is "" for an answer, else the
// micro error code.
func (e *e2e) svcRequest(subject, body string) (code string, answer []byte) {
	e.t.Helper()
	m, err := e.nc.Request(subject, []byte(body), 5*time.Second)
	if err != nil {
		e.t.Fatalf("request %s: %v", subject, err)
	}
	return m.Header.Get(micro.ErrorCodeHeader), m.Data
}

// TestServiceDiscoverable: the read side answers what `nats micro ls` and
// `nats micro info zoom-worker` ask, and its endpoints answer.
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

// Issue 12.7: job.status says "deferred" (with until, without an old
// error) for a job waiting on its host's daily limit, and finds an invalid
// job in ZOOM_DLQ rather than answering 404.
func TestJobStatusDeferredAndDeadLettered(t *testing.T) {
	e := newE2E(t, zoomtest.Options{DailyMeetingLimit: 1})
	e.startProc()

	e.publish(messages.SubjectMeetingCreate, meetingJob("d-1"), "")
	e.waitEvent("d-1", messages.SubjectMeetingCreated, 20*time.Second)
	e.publish(messages.SubjectMeetingCreate, meetingJob("d-2"), "")
	e.waitEvent("d-2", messages.SubjectJobDeferred, 20*time.Second)
	waitFor(t, "d-2 reported deferred", 20*time.Second, func() string {
		code, b := e.svcRequest("zoom.svc.job.status", `{"job_id":"d-2"}`)
		var r struct {
			Job struct {
				State string          `json:"state"`
				Until string          `json:"until"`
				Error json.RawMessage `json:"error"`
			} `json:"job"`
		}
		_ = json.Unmarshal(b, &r)
		if code != "" || r.Job.State != "deferred" || r.Job.Until == "" || r.Job.Error != nil {
			return fmt.Sprintf("%s %s", code, b)
		}
		return ""
	})

	e.publish(messages.SubjectMeetingCreate, `this is not JSON`, "bad-1")
	e.waitEvent("bad-1", messages.SubjectJobFailed, 20*time.Second)
	waitFor(t, "bad-1 found in ZOOM_DLQ", 20*time.Second, func() string {
		code, b := e.svcRequest("zoom.svc.job.status", `{"job_id":"bad-1"}`)
		if code != "" || !strings.Contains(string(b), `"state":"failed"`) || !strings.Contains(string(b), `"invalid_job"`) ||
			!strings.Contains(string(b), `"dead_letter":{"stream":"ZOOM_DLQ"`) {
			return fmt.Sprintf("%s %s", code, b)
		}
		return ""
	})
}

// A Zoom webhook end to end through the binary: the fake Zoom signs and
// sends it to ZOOMW_WEBHOOK_ADDR, the receiver stores it in ZOOM_WEBHOOKS,
// and the read cache follows the change made "in Zoom's portal".
func TestWebhookEndToEnd(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	addr := freeAddr(t)
	const secret = "e2e-webhook-secret-token"
	p := e.startProc("ZOOMW_WEBHOOK_ADDR="+addr, "ZOOM_WEBHOOK_SECRET_TOKEN="+secret)
	t.Cleanup(e.fake.Close)
	e.fake.SetWebhook("http://"+addr+"/zoom/webhook", secret)
	if err := e.fake.ValidateWebhookURL(t.Context()); err != nil {
		t.Fatalf("Zoom's URL validation: %v", err)
	}

	e.publish(messages.SubjectMeetingCreate, meetingJob("w-1"), "")
	ev := e.waitEvent("w-1", messages.SubjectMeetingCreated, 20*time.Second)
	var created messages.MeetingCreated
	if err := json.Unmarshal(ev.Data, &created); err != nil {
		t.Fatal(err)
	}
	id := created.Meeting.ID
	if err := e.fake.SimUpdateMeeting(id, "", map[string]any{"topic": "Edited in the portal"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the read side answers the portal's topic", 20*time.Second, func() string {
		code, b := e.svcRequest("zoom.svc.meeting.get", `{"meeting_id":`+strconv.FormatInt(id, 10)+`}`)
		if code != "" || !strings.Contains(string(b), "Edited in the portal") {
			return fmt.Sprintf("%s %s", code, b)
		}
		return ""
	})
	if n := testenv.StreamCount(t, e.js, "ZOOM_WEBHOOKS", "zoom.webhooks.meeting.updated"); n != 1 {
		t.Errorf("%d meeting.updated webhooks stored, want 1", n)
	}
	if strings.Contains(p.logs.String(), secret) {
		t.Error("the log shows the webhook secret")
	}
	if !strings.Contains(p.logs.String(), `"msg":"webhook receiver listening"`) {
		t.Errorf("no start line for the receiver")
	}
}

func TestWebhookAddrWithoutSecretExits2(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	env := map[string]string{}
	for _, kv := range e.env("ZOOMW_WEBHOOK_ADDR=127.0.0.1:0") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var stdout, stderr strings.Builder
	code := run(t.Context(), []string{"run"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "ZOOM_WEBHOOK_SECRET_TOKEN") {
		t.Errorf("exit %d, stderr %q; want 2 naming ZOOM_WEBHOOK_SECRET_TOKEN", code, stderr.String())
	}
}
