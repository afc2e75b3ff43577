package worker_test

import (
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// The first wave of jobs does not wait for the token: the worker has it
// before it takes a job, and the jobs use that one.
func TestTokenFetchedBeforeTheFirstJob(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	if got := e.Fake.Stats().TokensIssued; got != 1 {
		t.Errorf("tokens issued once started, before any job = %d; want 1", got)
	}
	e.publish(messages.SubjectMeetingCreate, contractMeetingJob, "")
	e.waitEvent("m-7", messages.SubjectMeetingCreated, 1)
	if got := e.Fake.Stats().TokensIssued; got != 1 {
		t.Errorf("tokens issued after the first job = %d; want 1 (the one fetched at start)", got)
	}
}
