package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestRejectedCredentialsReadiness runs the binary while Zoom's token
// endpoint refuses the app (401 invalid_client) and later accepts it:
// /readyz is 503 naming the account (never the secret), no job is
// dead-lettered, and every job is done once the credentials work.
func TestRejectedCredentialsReadiness(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: make test runs it")
	}
	e := newE2E(t, zoomtest.Options{})
	e.fake.RejectCredentials(true)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := e.startProc(fmt.Sprintf("ZOOMW_HTTP_ADDR=127.0.0.1:%d", port))

	const n = 5
	for i := range n {
		e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("rc-%d", i)), "")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := httpGet(t, base+"/readyz")
		if code == 503 && strings.Contains(body, `"default"`) {
			if strings.Contains(body, testSecret) {
				t.Errorf("/readyz shows the client secret: %q", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %q with the credentials rejected; want 503 naming account \"default\"", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, metrics := httpGet(t, base+"/metrics")
	if !strings.Contains(metrics, `zoomworker_account_credentials_ok{account="default"} 0`) {
		t.Errorf("/metrics lacks zoomworker_account_credentials_ok 0 for the default account")
	}

	e.fake.RejectCredentials(false)
	for i := range n {
		e.waitEvent(fmt.Sprintf("rc-%d", i), messages.SubjectMeetingCreated, 60*time.Second)
	}
	deadline = time.Now().Add(30 * time.Second)
	for code, body := httpGet(t, base+"/readyz"); code != 200; code, body = httpGet(t, base+"/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %q after the credentials work again; want 200", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := e.storedEvents(messages.SubjectJobFailed); got != 0 {
		t.Errorf("%d job.failed events; want 0", got)
	}
	if got := e.fake.Stats().MeetingsCreated; got != n {
		t.Errorf("meetings created = %d; want %d", got, n)
	}
	e.checkNoSecrets(p.logs.String())
}
