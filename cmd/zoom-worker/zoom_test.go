package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// Without ZOOM_API_URL the worker calls the host its token answer names
// (Zoom's regional api_url), not api.zoom.us.
func TestAPIHostFromTheTokenAnswer(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	var calls atomic.Int32
	region := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		e.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(region.Close)
	e.fake.SetAPIURL(region.URL)
	e.startProc("ZOOM_API_URL=")
	e.publish(messages.SubjectMeetingCreate, `{"job_id":"eu-1","user_id":"james@bond.com","meeting":{"topic":"Regional",`+
		`"start_time":"2026-12-05T12:00:00Z","duration":30}}`, "")
	e.waitEvent("eu-1", messages.SubjectMeetingCreated, 20*time.Second)
	if calls.Load() == 0 {
		t.Errorf("no API request reached the token answer's api_url")
	}
}

func TestSubmitRegistrant(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	p := e.startProc()
	getenv := e.natsOnly
	// The meeting from submit meeting --registration takes registrants.
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"submit", "meeting", "--job-id", "reg-host", "--user", "james@bond.com", "--topic", "Open day",
		"--start", "2026-12-05T12:00:00Z", "--duration", "30", "--registration", "--wait"}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("submit meeting --registration: exit %d, err %q", code, errOut.String())
	}
	var created messages.MeetingCreated
	if err := json.Unmarshal(out.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code := run(t.Context(), []string{"submit", "registrant", "--job-id", "cli-reg", "--meeting", fmt.Sprint(created.Meeting.ID),
		"--email", "jill@example.com", "--first", "Jill", "--wait"}, getenv, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), `"join_url"`) || !strings.Contains(out.String(), `"registrant_id"`) {
		t.Fatalf("submit registrant --wait: exit %d, out %q, err %q; want 0 and registrant.added", code, out.String(), errOut.String())
	}
	// A meeting Zoom does not have: job.failed, with Zoom's tracking id in
	// the event and in the worker's log line.
	out.Reset()
	code = run(t.Context(), []string{"submit", "registrant", "--job-id", "cli-reg-2", "--meeting", "85746065499",
		"--email", "jill@example.com", "--first", "Jill", "--wait"}, getenv, &out, &errOut)
	var failed messages.JobFailed
	if code != 1 || json.Unmarshal(out.Bytes(), &failed) != nil || !strings.HasPrefix(failed.Error.ZoomTrackingID, "v=2.0;") {
		t.Fatalf("submit registrant for a missing meeting: exit %d, out %q; want 1 and job.failed with zoom_tracking_id", code, out.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logs.String(), failed.Error.ZoomTrackingID) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker's log does not name the tracking id %s", failed.Error.ZoomTrackingID)
		}
		time.Sleep(20 * time.Millisecond)
	}

	out.Reset()
	errOut.Reset()
	if code := run(t.Context(), []string{"submit", "registrant", "--meeting", "1", "--first", "Jill"}, getenv, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "registrant.email") {
		t.Errorf("submit registrant without --email: exit %d, err %q; want 2 naming registrant.email", code, errOut.String())
	}
}
