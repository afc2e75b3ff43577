package worker_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestJobIDReusedWithAnotherBody: a job id is an idempotency key. The
// first body runs; a second, different body with the same id is never run,
// and the publisher hears of it on zoom.events.job.conflict. The same body
// again (spaced differently) is a plain repeat.
func TestJobIDReusedWithAnotherBody(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	m := worker.NewMetrics(nil)
	e.cfg.Metrics = m
	e.start()
	e.publish(messages.SubjectMeetingCreate, contractMeetingJob, "")
	first := decode[messages.MeetingCreated](t, e.waitEvent("m-7", messages.SubjectMeetingCreated, 1))
	e.waitIdle()

	other := strings.Replace(contractMeetingJob, "Demo Meeting 1", "Another meeting", 1)
	e.publish(messages.SubjectMeetingCreate, other, "")
	ev := decode[messages.JobConflict](t, e.waitEvent("m-7", messages.SubjectJobConflict, 1))
	if ev.FirstState != string(worker.StateSucceeded) || ev.FirstEvent != messages.SubjectMeetingCreated ||
		ev.Subject != messages.SubjectMeetingCreate || !strings.Contains(string(ev.Job), "Another meeting") {
		t.Errorf("job.conflict = %+v; want the first job succeeded with meeting.created, and the refused body", ev)
	}
	e.waitIdle()

	// The same job as the first, with other spacing: repeated, no conflict.
	e.publish(messages.SubjectMeetingCreate, strings.ReplaceAll(contractMeetingJob, ": ", ":"), "")
	again := decode[messages.MeetingCreated](t, e.waitEvent("m-7", messages.SubjectMeetingCreated, 2))
	e.waitIdle()
	if again.Meeting.ID != first.Meeting.ID {
		t.Errorf("the repeat names meeting %d; want the first job's %d", again.Meeting.ID, first.Meeting.ID)
	}

	if got := e.fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created = %d; want 1 (the second body never ran)", got)
	}
	if got := e.streamCount(messages.StreamDeadLetters, ">"); got != 0 {
		t.Errorf("ZOOM_DLQ holds %d jobs; want 0 (a conflict is not a failure of the first job)", got)
	}
	if got := e.streamCount(messages.StreamEvents, messages.SubjectJobConflict); got != 1 {
		t.Errorf("ZOOM_EVENTS holds %d job.conflict events; want 1", got)
	}
	if got := testutil.ToFloat64(m.Jobs.WithLabelValues(messages.SubjectMeetingCreate, string(worker.OutcomeConflict))); got != 1 {
		t.Errorf("jobs_total{outcome=conflict} = %v; want 1", got)
	}
}
