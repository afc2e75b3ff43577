package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestCrashLostRecord kills the worker with SIGKILL after Zoom made the
// job's object, then empties Redis (FLUSHALL: a failover to a replica that
// missed the writes, a restart without persistence), then starts a second
// worker. JetStream redelivers the job with no record of it anywhere: the
// worker must reconcile (adopt the meeting, see the user is its own), not
// create again.
func TestCrashLostRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: slow; make test runs it")
	}
	tests := []struct{ name, subject, event, body string }{
		{"meeting", messages.SubjectMeetingCreate, messages.SubjectMeetingCreated, meetingJob("lost-m")},
		{"user", messages.SubjectUserCreate, messages.SubjectUserCreated,
			`{"job_id":"lost-u","user_info":{"email":"lost-u@bond.com","type":1,"first_name":"L"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, zoomtest.Options{})
			var job struct {
				JobID string `json:"job_id"`
			}
			_ = json.Unmarshal([]byte(tt.body), &job)
			first := e.startProc("ZOOMW_TEST_FAILPOINT=after_zoom:" + job.JobID)
			e.publish(tt.subject, tt.body, "")
			if code := first.wait(t, 20*time.Second); code != -1 {
				t.Fatalf("first worker exit code = %d; want it killed after Zoom answered", code)
			}
			opts, err := redis.ParseURL(e.redis.URL)
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opts)
			defer rdb.Close()
			if err := rdb.FlushAll(t.Context()).Err(); err != nil {
				t.Fatal(err)
			}

			e.startProc()
			msg := e.waitEvent(job.JobID, tt.event, 30*time.Second)
			time.Sleep(300 * time.Millisecond) // let any duplicate surface
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
			if got := e.storedEvents(tt.event); got != 1 {
				t.Errorf("ZOOM_EVENTS holds %d %s events; want 1", got, tt.event)
			}
		})
	}
}
