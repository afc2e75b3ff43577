package worker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestRejectedCredentialsWaitForTheAccount: while Zoom's token endpoint
// refuses the app (401 invalid_client, as after a rotated secret), jobs are
// not failed: the worker reports not ready naming the account, hands the
// jobs back without using their attempts and without calling Zoom, probes
// the token endpoint, and runs them all once it accepts the app again.
func TestRejectedCredentialsWaitForTheAccount(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.MaxAttempts = 2 })
	m := worker.NewMetrics(nil)
	e.cfg.Metrics = m
	e.fake.RejectCredentials(true)
	run := e.start()

	const n = 20
	e.publishMeetings("cred-", n)
	run.waitNotReady(20 * time.Second)
	err := run.w.Ready()
	if err == nil || !strings.Contains(err.Error(), `"default"`) || strings.Contains(err.Error(), "secret\"") {
		t.Fatalf("Ready() = %v with the credentials rejected; want not ready naming account \"default\"", err)
	}
	if got := testutil.ToFloat64(m.CredentialsOK.WithLabelValues(worker.DefaultAccount)); got != 0 {
		t.Errorf("credentials_ok = %v while rejected; want 0", got)
	}
	// Longer than MaxAttempts redeliveries would take: nothing may fail.
	time.Sleep(3 * time.Second)
	if got := e.streamCount(messages.StreamDeadLetters, ">"); got != 0 {
		t.Fatalf("ZOOM_DLQ holds %d jobs while the credentials were rejected; want 0", got)
	}
	if got := e.fake.Stats().MeetingsCreated; got != 0 {
		t.Fatalf("meetings created without a token = %d", got)
	}

	e.fake.RejectCredentials(false)
	for i := range n {
		e.events.Wait(t, fmt.Sprintf("cred-%d", i), messages.SubjectMeetingCreated, 1, 60*time.Second)
	}
	e.waitIdle()
	if err := run.w.Ready(); err != nil {
		t.Errorf("Ready() = %v after the credentials work again; want nil", err)
	}
	if got := testutil.ToFloat64(m.CredentialsOK.WithLabelValues(worker.DefaultAccount)); got != 1 {
		t.Errorf("credentials_ok = %v after recovery; want 1", got)
	}
	if got := e.fake.Stats().MeetingsCreated; got != n {
		t.Errorf("meetings created = %d; want %d", got, n)
	}
	if got := e.streamCount(messages.StreamDeadLetters, ">"); got != 0 {
		t.Errorf("ZOOM_DLQ holds %d jobs; want 0", got)
	}
	if got := e.streamCount(messages.StreamEvents, messages.SubjectJobFailed); got != 0 {
		t.Errorf("%d job.failed events; want 0", got)
	}
}
