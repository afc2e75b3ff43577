package main

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestCrashRecovery kills the worker with SIGKILL at each recovery point of
// a job and proves that a second worker finishes it with exactly one Zoom
// object and one event.
func TestCrashRecovery(t *testing.T) {
	tests := []struct {
		name      string
		subject   string
		failpoint string // ZOOMW_TEST_FAILPOINT; "" means kill during the held Zoom call
		holdAfter bool   // with no failpoint: hold after Zoom created the meeting (else before)
	}{
		{name: "meeting: before the Zoom call", subject: messages.SubjectMeetingCreate, failpoint: "before_zoom"},
		{name: "meeting: during the call, before Zoom acted", subject: messages.SubjectMeetingCreate},
		{name: "meeting: during the call, after Zoom created it", subject: messages.SubjectMeetingCreate, holdAfter: true},
		{name: "meeting: after Zoom answered, before the record", subject: messages.SubjectMeetingCreate, failpoint: "after_zoom"},
		{name: "meeting: after the record, before the event", subject: messages.SubjectMeetingCreate, failpoint: "after_record"},
		{name: "meeting: after the event, before the ack", subject: messages.SubjectMeetingCreate, failpoint: "after_publish"},
		{name: "user: after Zoom answered, before the record", subject: messages.SubjectUserCreate, failpoint: "after_zoom"},
		{name: "user: after the record, before the event", subject: messages.SubjectUserCreate, failpoint: "after_record"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSlowE2E(t, "crash test", zoomtest.Options{})
			jobID := fmt.Sprintf("crash-%d", i)
			body := meetingJob(jobID)
			event := messages.SubjectMeetingCreated
			if tt.subject == messages.SubjectUserCreate {
				body = `{"job_id":"` + jobID + `","user_info":{"email":"` + jobID + `@bond.com","type":1,"first_name":"C"}}`
				event = messages.SubjectUserCreated
			}

			if tt.failpoint != "" {
				e.crashAt(tt.failpoint, tt.subject, jobID, body)
			} else {
				var hold *zoomtest.Hold
				if tt.holdAfter {
					hold = e.fake.HoldMeetingCreates()
				} else {
					hold = e.fake.HoldMeetingCreatesBefore()
				}
				first := e.startProc()
				e.publish(tt.subject, body, "")
				select {
				case <-hold.Arrived():
				case <-time.After(20 * time.Second):
					t.Fatal("the Zoom call never arrived")
				}
				_ = first.cmd.Process.Signal(syscall.SIGKILL)
				first.wait(t, 10*time.Second)
				hold.Release()
			}

			msg := e.recoverJob(jobID, event)
			st := e.fake.Stats()
			if tt.subject == messages.SubjectMeetingCreate {
				if st.MeetingsCreated != 1 {
					t.Errorf("meetings created at Zoom = %d; want exactly 1", st.MeetingsCreated)
				}
			} else {
				if st.UsersCreated != 1 {
					t.Errorf("users created at Zoom = %d; want exactly 1", st.UsersCreated)
				}
				var ev messages.UserCreated
				if err := json.Unmarshal(msg.Data, &ev); err != nil || ev.Existing {
					t.Errorf("user.created = %s; want existing: false (the user is the job's own)", msg.Data)
				}
			}
		})
	}
}

// TestCrashRecoveryUpdateAndDelete kills the worker after Zoom applied an
// update or a delete and before the worker recorded it.
func TestCrashRecoveryUpdateAndDelete(t *testing.T) {
	tests := []struct {
		name, subject, event, body string
	}{
		{"update", messages.SubjectMeetingUpdate, messages.SubjectMeetingUpdated, `{"job_id":"%s","meeting_id":%d,"meeting":{"topic":"After the crash"}}`},
		{"delete", messages.SubjectMeetingDelete, messages.SubjectMeetingDeleted, `{"job_id":"%s","meeting_id":%d}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSlowE2E(t, "crash test", zoomtest.Options{})
			client, err := zoom.NewClient(zoom.Options{BaseURL: e.zoomURL + "/v2", Tokens: zoom.StaticToken(e.fake.IssueToken())})
			if err != nil {
				t.Fatal(err)
			}
			m, err := client.CreateMeeting(t.Context(), "james@bond.com", map[string]any{"topic": "Before", "type": 2})
			if err != nil {
				t.Fatal(err)
			}
			jobID := "crash-" + tt.name
			e.crashAt("after_zoom", tt.subject, jobID, fmt.Sprintf(tt.body, jobID, m.ID))
			msg := e.recoverJob(jobID, tt.event)
			switch tt.subject {
			case messages.SubjectMeetingUpdate:
				var ev messages.MeetingUpdated
				_ = json.Unmarshal(msg.Data, &ev)
				if ev.Meeting.Topic != "After the crash" {
					t.Errorf("meeting.updated = %s; want the new topic", msg.Data)
				}
			case messages.SubjectMeetingDelete:
				var ev messages.MeetingDeleted
				_ = json.Unmarshal(msg.Data, &ev)
				if ev.AlreadyGone || e.fake.Stats().MeetingsDeleted != 1 {
					t.Errorf("meeting.deleted = %s, deletes at Zoom %d; want already_gone false and 1 delete", msg.Data, e.fake.Stats().MeetingsDeleted)
				}
			}
		})
	}
}

// TestCrashLostRecord kills the worker with SIGKILL after Zoom made the
// job's object, then empties Redis (FLUSHALL: a failover to a replica that
// missed the writes, a restart without persistence), then starts a second
// worker. JetStream redelivers the job with no record of it anywhere: the
// worker must reconcile (adopt the meeting, see the user is its own), not
// create again.
func TestCrashLostRecord(t *testing.T) {
	tests := []struct{ name, subject, event, body string }{
		{"meeting", messages.SubjectMeetingCreate, messages.SubjectMeetingCreated, meetingJob("lost-m")},
		{"user", messages.SubjectUserCreate, messages.SubjectUserCreated,
			`{"job_id":"lost-u","user_info":{"email":"lost-u@bond.com","type":1,"first_name":"L"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSlowE2E(t, "crash test", zoomtest.Options{})
			var job struct {
				JobID string `json:"job_id"`
			}
			_ = json.Unmarshal([]byte(tt.body), &job)
			e.crashAt("after_zoom", tt.subject, job.JobID, tt.body)
			if err := redisClient(t, e.redis).FlushAll(t.Context()).Err(); err != nil {
				t.Fatal(err)
			}

			msg := e.recoverJob(job.JobID, tt.event)
			st := e.fake.Stats()
			switch tt.subject {
			case messages.SubjectMeetingCreate:
				if st.MeetingsCreated != 1 {
					t.Errorf("meetings created at Zoom = %d; want exactly 1 (the lost attempt's, adopted)", st.MeetingsCreated)
				}
			case messages.SubjectUserCreate:
				var ev messages.UserCreated
				if err := json.Unmarshal(msg.Data, &ev); err != nil || ev.Existing || st.UsersCreated != 1 {
					t.Errorf("user.created = %s, users created %d; want existing: false and 1 user", msg.Data, st.UsersCreated)
				}
			}
		})
	}
}

// crashAt starts a worker armed to kill itself (SIGKILL) at failpoint while
// it works on job jobID, publishes the job, and waits until it is dead.
func (e *e2e) crashAt(failpoint, subject, jobID, body string) {
	e.t.Helper()
	p := e.startProc("ZOOMW_TEST_FAILPOINT=" + failpoint + ":" + jobID)
	e.publish(subject, body, "")
	if code := p.wait(e.t, 20*time.Second); code != -1 {
		e.t.Fatalf("first worker exit code = %d; want it killed at %s", code, failpoint)
	}
}

// recoverJob starts a second worker after a crash and returns jobID's
// event; given a moment for a duplicate to surface, ZOOM_EVENTS must hold
// exactly one event of its kind.
func (e *e2e) recoverJob(jobID, event string) *nats.Msg {
	e.t.Helper()
	e.startProc()
	msg := e.waitEvent(jobID, event, 30*time.Second)
	time.Sleep(300 * time.Millisecond) // let any duplicate surface
	if got := e.storedEvents(event); got != 1 {
		e.t.Errorf("ZOOM_EVENTS holds %d %s events; want 1", got, event)
	}
	return msg
}
