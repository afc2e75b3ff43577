package worker_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

const contractUserJob = `{"job_id": "u-42", "action": "custCreate",
 "user_info": {"email": "new.user@bond.com", "type": 1, "first_name": "James", "last_name": "Bond"}}`

func TestCreateMeeting(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	e.publish(messages.SubjectMeetingCreate, contractMeetingJob, "")

	msg := e.waitEvent("m-7", messages.SubjectMeetingCreated, 1)
	ev := decode[messages.MeetingCreated](t, msg)
	if ev.JobID != "m-7" || ev.UserID != "james@bond.com" {
		t.Errorf("event job_id, user_id = %q, %q; want m-7, james@bond.com", ev.JobID, ev.UserID)
	}
	if ev.Meeting.ID == 0 || !strings.Contains(ev.Meeting.JoinURL, "/j/") || ev.Meeting.Topic != "Demo Meeting 1" {
		t.Errorf("event meeting = %+v; want an id, a join URL and the topic", ev.Meeting)
	}
	if strings.Contains(string(msg.Data), "start_url") {
		t.Errorf("event carries start_url without ZOOMW_EVENTS_INCLUDE_START_URL: %s", msg.Data)
	}
	if got, want := msg.Header.Get(messages.HeaderMsgID), "m-7:meeting.created"; got != want {
		t.Errorf("Nats-Msg-Id = %q; want %q", got, want)
	}
	for h, want := range map[string]string{
		"ce-specversion": "1.0", "ce-type": worker.CETypePrefix + "meeting.created", "ce-subject": "m-7",
		"ce-source": worker.DefaultEventSource, "Content-Type": "application/json",
	} {
		if got := msg.Header.Get(h); got != want {
			t.Errorf("header %s = %q; want %q", h, got, want)
		}
	}
	if got := e.Fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created at Zoom = %d; want 1", got)
	}
	e.waitIdle()
	m, err := e.store.CachedMeeting(t.Context(), "", ev.Meeting.ID)
	if err != nil || m == nil || m.JoinURL != ev.Meeting.JoinURL {
		t.Errorf("cached meeting = %+v, %v; want the event's meeting", m, err)
	}
	if m != nil && m.StartURL != "" {
		t.Errorf("cache holds start_url without ZOOMW_EVENTS_INCLUDE_START_URL")
	}
}

func TestCreateMeetingIncludesStartURLWhenSet(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.IncludeStartURL = true })
	e.start()
	e.publish(messages.SubjectMeetingCreate, contractMeetingJob, "")
	ev := decode[messages.MeetingCreated](t, e.waitEvent("m-7", messages.SubjectMeetingCreated, 1))
	if !strings.Contains(ev.Meeting.StartURL, "/s/") {
		t.Errorf("start_url = %q; want Zoom's start URL", ev.Meeting.StartURL)
	}
}

func TestCreateUser(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	e.publish(messages.SubjectUserCreate, contractUserJob, "u-42")
	ev := decode[messages.UserCreated](t, e.waitEvent("u-42", messages.SubjectUserCreated, 1))
	if ev.Existing || ev.User.ID == "" || ev.User.Email != "new.user@bond.com" || ev.User.FirstName != "James" {
		t.Errorf("event = %+v; want a new user with an id", ev)
	}
	if got := e.Fake.Stats().UsersCreated; got != 1 {
		t.Errorf("users created = %d; want 1", got)
	}
	e.waitIdle()
	u, err := e.store.CachedUser(t.Context(), "", "New.User@bond.com")
	if err != nil || u == nil || u.ID != ev.User.ID {
		t.Errorf("cached user by email = %+v, %v; want id %s", u, err, ev.User.ID)
	}
}

func TestCreateUserThatExists(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	existing := e.Fake.AddUser("taken@bond.com", "Taken", "User", 1)
	e.start()
	e.publish(messages.SubjectUserCreate, `{"job_id":"u-1","user_info":{"email":"taken@bond.com","type":1}}`, "")
	ev := decode[messages.UserCreated](t, e.waitEvent("u-1", messages.SubjectUserCreated, 1))
	if !ev.Existing || ev.User.ID != existing.ID {
		t.Errorf("event = %+v; want existing: true and user id %s", ev, existing.ID)
	}
	if got := e.Fake.Stats().UsersCreated; got != 0 {
		t.Errorf("users created = %d; want 0", got)
	}
}

func TestSameJobTwiceCreatesOneMeeting(t *testing.T) {
	tests := []struct {
		name  string
		msgID string
	}{
		{"with Nats-Msg-Id", "m-7"},
		{"without Nats-Msg-Id", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, zoomtest.Options{})
			e.start()
			e.publish(messages.SubjectMeetingCreate, contractMeetingJob, tt.msgID)
			first := e.waitEvent("m-7", messages.SubjectMeetingCreated, 1)
			e.waitIdle()
			e.publish(messages.SubjectMeetingCreate, contractMeetingJob, tt.msgID)
			if tt.msgID == "" {
				second := e.waitEvent("m-7", messages.SubjectMeetingCreated, 2)
				if string(second.Data) != string(first.Data) {
					t.Errorf("second event body differs:\n got %s\nwant %s", second.Data, first.Data)
				}
			}
			e.waitIdle()
			if got := e.Fake.Stats().MeetingsCreated; got != 1 {
				t.Errorf("meetings created = %d; want 1", got)
			}
			if got := e.streamCount(messages.StreamEvents, messages.SubjectMeetingCreated); got != 1 {
				t.Errorf("ZOOM_EVENTS holds %d meeting.created events; want 1", got)
			}
		})
	}
}

func TestJobsThatCannotSucceedFailOnce(t *testing.T) {
	tests := []struct {
		name, subject, body string
		jobID               string
		kind, field         string
		status, code        int
	}{
		{name: "not JSON", subject: messages.SubjectMeetingCreate, body: `{"job_id":"bad-1",`, jobID: "", kind: messages.KindInvalidJob},
		{name: "missing user_id", subject: messages.SubjectMeetingCreate, body: `{"job_id":"bad-2","meeting":{"topic":"x"}}`, jobID: "bad-2", kind: messages.KindInvalidJob, field: "user_id"},
		{name: "malformed email", subject: messages.SubjectUserCreate, body: `{"job_id":"bad-3","user_info":{"email":"not-an-email","type":1}}`, jobID: "bad-3", kind: messages.KindInvalidJob, field: "user_info.email"},
		{name: "password too long", subject: messages.SubjectMeetingCreate, body: `{"job_id":"bad-4","user_id":"james@bond.com","meeting":{"topic":"x","password":"12345678901"}}`, jobID: "bad-4", kind: messages.KindInvalidJob, field: "meeting.password"},
		{name: "unknown host", subject: messages.SubjectMeetingCreate, body: `{"job_id":"bad-5","user_id":"nobody@example.com","meeting":{"topic":"x"}}`, jobID: "bad-5", kind: messages.KindZoomRejected, status: 404, code: 1001},
		{name: "unknown account", subject: messages.SubjectMeetingCreate, body: `{"job_id":"bad-6","account":"nope","user_id":"james@bond.com","meeting":{"topic":"x"}}`, jobID: "bad-6", kind: messages.KindInvalidJob, field: "account"},
	}
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.jobID
			if id == "" {
				id = "hdr-" + tt.name[:3]
			}
			msgID := ""
			if tt.jobID == "" {
				msgID = id
			}
			e.publish(tt.subject, tt.body, msgID)
			msg := e.waitEvent(id, messages.SubjectJobFailed, 1)
			ev := decode[messages.JobFailed](t, msg)
			if ev.Error.Kind != tt.kind || ev.Subject != tt.subject || ev.Attempts < 1 {
				t.Errorf("job.failed = %+v; want kind %s on %s", ev, tt.kind, tt.subject)
			}
			if tt.field != "" && ev.Error.Field != tt.field {
				t.Errorf("error field = %q; want %q (message %q)", ev.Error.Field, tt.field, ev.Error.Message)
			}
			if ev.Error.HTTPStatus != tt.status || ev.Error.ZoomCode != tt.code {
				t.Errorf("http_status, zoom_code = %d, %d; want %d, %d", ev.Error.HTTPStatus, ev.Error.ZoomCode, tt.status, tt.code)
			}
			if ev.Error.Message == "" {
				t.Errorf("job.failed has no message")
			}
			if json.Valid([]byte(tt.body)) && len(ev.Job) == 0 || !json.Valid([]byte(tt.body)) && len(ev.JobRaw) == 0 {
				t.Errorf("job.failed does not carry the job: %s", msg.Data)
			}
			// The next good job still succeeds.
			good := strings.Replace(contractMeetingJob, `"m-7"`, `"good-`+string(rune('a'+i))+`"`, 1)
			e.publish(messages.SubjectMeetingCreate, good, "")
			e.waitEvent("good-"+string(rune('a'+i)), messages.SubjectMeetingCreated, 1)
		})
	}
	e.waitIdle()
	list, err := worker.ListDeadLetters(t.Context(), e.JS)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(tests) {
		t.Errorf("dead letters = %d; want %d", len(list), len(tests))
	}
	if got := len(e.eventsFor("bad-5")); got != 1 {
		t.Errorf("job bad-5 has %d events; want exactly one job.failed", got)
	}
}

func TestTransientZoomFailuresRecover(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	e.Fake.FailNext(4, 503)
	e.publish(messages.SubjectMeetingCreate, contractMeetingJob, "")
	e.waitEvent("m-7", messages.SubjectMeetingCreated, 1)
	e.waitIdle()
	if got := e.Fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created = %d; want 1", got)
	}
	if got := e.Fake.Stats().ServerErrors; got < 4 {
		t.Errorf("fake served %d 5xx; want at least 4", got)
	}
}

func TestRetriesExhausted(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.MaxAttempts = 2 })
	e.start()
	e.Fake.SetFailRate(1)
	e.publish(messages.SubjectMeetingCreate, contractMeetingJob, "")
	ev := decode[messages.JobFailed](t, e.waitEvent("m-7", messages.SubjectJobFailed, 1))
	if ev.Error.Kind != messages.KindRetriesExhausted || ev.Attempts != 2 {
		t.Errorf("job.failed = %+v; want retries_exhausted after 2 attempts", ev)
	}
	e.waitIdle()
}

func TestExpiredTokenMidRun(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	e.publish(messages.SubjectMeetingCreate, contractMeetingJob, "")
	e.waitEvent("m-7", messages.SubjectMeetingCreated, 1)
	e.Fake.ExpireTokens()
	e.publish(messages.SubjectUserCreate, contractUserJob, "")
	e.waitEvent("u-42", messages.SubjectUserCreated, 1)
	if got := e.Fake.Stats().TokensIssued; got != 2 {
		t.Errorf("tokens issued = %d; want 2 (one, then one after expiry)", got)
	}
}

func TestGracefulShutdownLosesNothing(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{Latency: 300 * time.Millisecond}, func(c *worker.Config) {
		c.ShutdownTimeout = 100 * time.Millisecond // cancel in-flight calls: they must be handed back
	})
	run := e.start()
	const n = 40
	for i := range n {
		e.publish(messages.SubjectMeetingCreate, meetingJob("s-"+strconv.Itoa(i)), "") // topics differ: see meetingJob
	}
	// Stop while calls are in flight.
	deadline := time.Now().Add(10 * time.Second)
	for run.w.InFlight() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := run.stop(t); err != nil {
		t.Fatalf("Run returned %v after a stop; want nil", err)
	}
	e.start()
	for i := range n {
		e.waitEvent("s-"+strconv.Itoa(i), messages.SubjectMeetingCreated, 1)
	}
	e.waitIdle()
	if got := e.Fake.Stats().MeetingsCreated; got != n {
		t.Errorf("meetings created = %d; want %d (one per job)", got, n)
	}
	if got := len(e.Fake.MeetingsForHost("james@bond.com")); got != n {
		t.Errorf("host has %d meetings; want %d", got, n)
	}
}

func TestLongZoomCallIsNotRedelivered(t *testing.T) {
	m := worker.NewMetrics(nil)
	// The call takes more than three ack waits. The ack wait is 2 s, not
	// less: a keep-alive every AckWait/3 then survives a stall of over a
	// second on a loaded machine under -race.
	e := newTestEnv(t, zoomtest.Options{Latency: 7 * time.Second}, func(c *worker.Config) {
		c.AckWait = 2 * time.Second
		c.AttemptTimeout = 12 * time.Second
		c.Metrics = m
	})
	e.start()
	e.publish(messages.SubjectMeetingCreate, contractMeetingJob, "")
	e.waitEvent("m-7", messages.SubjectMeetingCreated, 1)
	e.waitIdle()
	for _, outcome := range []worker.Outcome{worker.OutcomeHandedBack, worker.OutcomeRepeated, worker.OutcomeRetried} {
		if got := testutil.ToFloat64(m.Jobs.WithLabelValues(messages.SubjectMeetingCreate, string(outcome))); got != 0 {
			t.Errorf("jobs with outcome %s = %v; want 0 (the job must not be redelivered under its running call)", outcome, got)
		}
	}
	if got := e.Fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created = %d; want 1", got)
	}
}

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

	if got := e.Fake.Stats().MeetingsCreated; got != 1 {
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

// TestNotFoundAboutAnotherObjectIsNoSuccess: a delete whose 404 is not
// about the job's own user or meeting fails the job (zoom_rejected): it is
// not "already gone".
func TestNotFoundAboutAnotherObjectIsNoSuccess(t *testing.T) {
	t.Run("user delete: transfer_email does not exist", func(t *testing.T) {
		e := newTestEnv(t, zoomtest.Options{})
		e.start()
		e.Fake.AddUser("leaver@bond.com", "Lea", "Ver", 1)
		e.publish(messages.SubjectUserDelete, `{"job_id":"ud-t","user_id":"leaver@bond.com","action":"delete",`+
			`"transfer_email":"nobody@bond.com","transfer_meeting":true}`, "")
		ev := decode[messages.JobFailed](t, e.waitEvent("ud-t", messages.SubjectJobFailed, 1))
		if ev.Error.Kind != messages.KindZoomRejected || ev.Error.HTTPStatus != http.StatusNotFound ||
			ev.Error.ZoomCode != zoom.CodeUserNotFound || !strings.Contains(ev.Error.Message, "nobody@bond.com") {
			t.Errorf("job.failed error = %+v; want zoom_rejected 404/1001 naming the transfer target", ev.Error)
		}
		e.waitIdle()
		if got := e.streamCount(messages.StreamEvents, messages.SubjectUserDeleted); got != 0 {
			t.Errorf("%d user.deleted events; want 0 (nothing was deleted)", got)
		}
		found := false
		for _, u := range e.Fake.Users() {
			found = found || u.Email == "leaver@bond.com"
		}
		if !found {
			t.Error("the user is gone at Zoom; want it kept")
		}
	})
	t.Run("meeting delete: a 404 that is not 3001", func(t *testing.T) {
		e, id := withMeeting(t, (*testEnv).createMeeting, "c-nf")
		e.waitIdle()
		e.Fake.FailNext(1, http.StatusNotFound) // code 404, not 3001 (meeting not found)
		e.publish(messages.SubjectMeetingDelete, fmt.Sprintf(`{"job_id":"md-nf","meeting_id":%d}`, id), "")
		ev := decode[messages.JobFailed](t, e.waitEvent("md-nf", messages.SubjectJobFailed, 1))
		if ev.Error.Kind != messages.KindZoomRejected || ev.Error.HTTPStatus != http.StatusNotFound {
			t.Errorf("job.failed error = %+v; want zoom_rejected 404", ev.Error)
		}
		if _, ok := e.Fake.Meeting(id); !ok {
			t.Error("the meeting is gone at Zoom; want it kept")
		}
	})
}
