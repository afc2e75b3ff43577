package worker_test

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// createMeeting runs a create job and returns the meeting's id.
func (e *testEnv) createMeeting(jobID string) int64 {
	e.t.Helper()
	e.publish(messages.SubjectMeetingCreate, meetingJob(jobID), "")
	ev := decode[messages.MeetingCreated](e.t, e.waitEvent(jobID, messages.SubjectMeetingCreated, 1))
	return ev.Meeting.ID
}

func TestUpdateMeeting(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	id := e.createMeeting("c-1")
	e.publish(messages.SubjectMeetingUpdate, fmt.Sprintf(`{"job_id":"up-1","meeting_id":%d,"meeting":{"topic":"Moved","duration":90}}`, id), "")
	ev := decode[messages.MeetingUpdated](t, e.waitEvent("up-1", messages.SubjectMeetingUpdated, 1))
	if ev.MeetingID != id || ev.Meeting.Topic != "Moved" || ev.Meeting.Duration != 90 {
		t.Errorf("meeting.updated = %+v; want topic Moved, duration 90", ev)
	}
	e.waitIdle()
	m, _ := e.store.CachedMeeting(t.Context(), "", id)
	if m == nil || m.Topic != "Moved" {
		t.Errorf("cache after update = %+v; want the updated meeting", m)
	}
	// The same update again reaches Zoom no more.
	before := e.fake.Stats().MeetingsUpdated
	e.publish(messages.SubjectMeetingUpdate, fmt.Sprintf(`{"job_id":"up-1","meeting_id":%d,"meeting":{"topic":"Moved","duration":90}}`, id), "")
	e.waitEvent("up-1", messages.SubjectMeetingUpdated, 2)
	if got := e.fake.Stats().MeetingsUpdated - before; got != 0 {
		t.Errorf("a repeated update job reached Zoom %d more times; want 0", got)
	}
}

func TestDeleteMeetingAndUser(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	id := e.createMeeting("c-2")
	e.publish(messages.SubjectMeetingDelete, fmt.Sprintf(`{"job_id":"del-1","meeting_id":%d,"cancel_meeting_reminder":true}`, id), "")
	ev := decode[messages.MeetingDeleted](t, e.waitEvent("del-1", messages.SubjectMeetingDeleted, 1))
	if ev.MeetingID != id || ev.AlreadyGone {
		t.Errorf("meeting.deleted = %+v; want already_gone false", ev)
	}
	e.waitIdle()
	if m, _ := e.store.CachedMeeting(t.Context(), "", id); m != nil {
		t.Errorf("a deleted meeting is still cached")
	}
	// Deleting what is already gone succeeds.
	e.publish(messages.SubjectMeetingDelete, fmt.Sprintf(`{"job_id":"del-2","meeting_id":%d}`, id), "")
	ev = decode[messages.MeetingDeleted](t, e.waitEvent("del-2", messages.SubjectMeetingDeleted, 1))
	if !ev.AlreadyGone {
		t.Errorf("second delete = %+v; want already_gone true", ev)
	}

	u := e.fake.AddUser("leaver@bond.com", "Lea", "Ver", 1)
	e.publish(messages.SubjectUserDelete, `{"job_id":"ud-1","user_id":"leaver@bond.com","action":"delete"}`, "")
	uev := decode[messages.UserDeleted](t, e.waitEvent("ud-1", messages.SubjectUserDeleted, 1))
	if uev.UserID != "leaver@bond.com" || uev.Action != "delete" || uev.AlreadyGone {
		t.Errorf("user.deleted = %+v", uev)
	}
	e.publish(messages.SubjectUserDelete, `{"job_id":"ud-2","user_id":"`+u.ID+`"}`, "")
	uev = decode[messages.UserDeleted](t, e.waitEvent("ud-2", messages.SubjectUserDeleted, 1))
	if !uev.AlreadyGone || uev.Action != "disassociate" {
		t.Errorf("user.deleted of a gone user = %+v; want already_gone, action disassociate", uev)
	}
}

func TestRecurringMeetingCarriesOccurrences(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	e.publish(messages.SubjectMeetingCreate, `{"job_id":"rec-1","user_id":"james@bond.com","meeting":{"topic":"Weekly","type":8,`+
		`"start_time":"2026-12-07T09:00:00Z","duration":30,"recurrence":{"type":2,"repeat_interval":1,"weekly_days":"2","end_times":4}}}`, "")
	ev := decode[messages.MeetingCreated](t, e.waitEvent("rec-1", messages.SubjectMeetingCreated, 1))
	var occ []map[string]any
	if err := jsonUnmarshal(ev.Meeting.Occurrences, &occ); err != nil || len(occ) != 4 {
		t.Errorf("occurrences = %s; want 4", ev.Meeting.Occurrences)
	}
}

func TestUpdatesOfOneMeetingRunInOrder(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.Concurrency = 32 })
	e.start()
	id := e.createMeeting("c-3")
	// Slow Zoom down so that many updates are in flight at once.
	e.fake.SetLatency(30 * time.Millisecond)
	const n = 12
	for i := range n {
		e.publish(messages.SubjectMeetingUpdate, fmt.Sprintf(`{"job_id":"ord-%d","meeting_id":%d,"meeting":{"agenda":"step %d"}}`, i, id, i), "")
	}
	e.publish(messages.SubjectMeetingDelete, fmt.Sprintf(`{"job_id":"ord-del","meeting_id":%d}`, id), "")
	for i := range n {
		ev := decode[messages.MeetingUpdated](t, e.waitEvent(fmt.Sprintf("ord-%d", i), messages.SubjectMeetingUpdated, 1))
		if want := "step " + strconv.Itoa(i); ev.Meeting.Agenda != want {
			t.Errorf("update %d saw agenda %q; want %q (updates ran out of order)", i, ev.Meeting.Agenda, want)
		}
	}
	del := decode[messages.MeetingDeleted](t, e.waitEvent("ord-del", messages.SubjectMeetingDeleted, 1))
	if del.AlreadyGone {
		t.Errorf("the delete ran before the updates")
	}
}

func TestTwoAccountsOneRateLimited(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	// A second Zoom account, with its own fake Zoom that allows 2 requests/s.
	slow := zoomtest.New(zoomtest.Options{AccountID: "acct-b", ClientID: "client-b", ClientSecret: "secret-b", RateLimit: 2})
	slow.AddUser("james@bond.com", "James", "Bond", 1)
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)
	b, err := account.New(account.Spec{Name: "school-b", AccountID: "acct-b", ClientID: "client-b", ClientSecret: "secret-b",
		APIURL: srv.URL + "/v2", TokenURL: srv.URL + "/oauth/token", Limits: redisstore.Limits{PerSecond: 2}}, e.store)
	if err != nil {
		t.Fatal(err)
	}
	e.startWith(map[string]worker.Account{
		worker.DefaultAccount: e.account(&redisstore.Limits{PerSecond: 1000}),
		"school-b":            b,
	})
	const n = 10
	for i := range n {
		e.publish(messages.SubjectMeetingCreate, `{"job_id":"b-`+strconv.Itoa(i)+`","account":"school-b","user_id":"james@bond.com","meeting":{"topic":"B"}}`, "")
	}
	for i := range n {
		e.publish(messages.SubjectMeetingCreate, meetingJob("a-"+strconv.Itoa(i)), "")
	}
	for i := range n {
		e.waitEvent("a-"+strconv.Itoa(i), messages.SubjectMeetingCreated, 1)
	}
	// The default account did not wait for the rate-limited one: at 2/s
	// its 10 jobs take over 4 s, and they are not all done yet. (A count,
	// not a clock: the order in which the two accounts' jobs end.)
	if got := slow.Stats().MeetingsCreated; got >= n {
		t.Errorf("all %d of school-b's meetings were made before the default account's %d jobs ended; want the default account not to wait for school-b", got, n)
	}
	// The rate-limited account's jobs finish too, at its own pace.
	for i := range n {
		ev := decode[messages.MeetingCreated](t, e.waitEvent("b-"+strconv.Itoa(i), messages.SubjectMeetingCreated, 1))
		if ev.Account != "school-b" {
			t.Errorf("event account = %q; want school-b", ev.Account)
		}
	}
	if got := e.fake.Stats().MeetingsCreated; got != n+0 {
		t.Errorf("default account meetings = %d; want %d", got, n)
	}
	if got := slow.Stats().MeetingsCreated; got != n {
		t.Errorf("school-b meetings = %d; want %d", got, n)
	}
	if got := slow.Stats().RateLimited; got > 1 {
		t.Errorf("school-b's Zoom answered %d requests with 429; want (almost) none", got)
	}
}

func TestUpdateIsSentOnceWhenReadingBackFails(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	id := e.createMeeting("c-4")
	before := e.fake.Stats().MeetingsUpdated
	// The PATCH succeeds; the GET that reads the meeting back fails twice.
	e.fake.FailNextAfter(1, 2, 503)
	e.publish(messages.SubjectMeetingUpdate, fmt.Sprintf(`{"job_id":"up-once","meeting_id":%d,"meeting":{"topic":"Once"}}`, id), "")
	ev := decode[messages.MeetingUpdated](t, e.waitEvent("up-once", messages.SubjectMeetingUpdated, 1))
	if ev.Meeting.Topic != "Once" {
		t.Errorf("meeting.updated topic = %q; want Once", ev.Meeting.Topic)
	}
	if got := e.fake.Stats().MeetingsUpdated - before; got != 1 {
		t.Errorf("PATCH reached Zoom %d times; want 1", got)
	}
}

func TestLifecycleJobsSurviveTransientFailures(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	id := e.createMeeting("c-5")
	e.fake.AddUser("temp@bond.com", "Temp", "User", 1)
	tests := []struct {
		name, subject, body, event string
	}{
		{"update", messages.SubjectMeetingUpdate, fmt.Sprintf(`{"job_id":"tr-up","meeting_id":%d,"meeting":{"duration":15}}`, id), messages.SubjectMeetingUpdated},
		{"delete meeting", messages.SubjectMeetingDelete, fmt.Sprintf(`{"job_id":"tr-del","meeting_id":%d}`, id), messages.SubjectMeetingDeleted},
		{"delete user", messages.SubjectUserDelete, `{"job_id":"tr-ud","user_id":"temp@bond.com"}`, messages.SubjectUserDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.fake.FailNext(2, 503)
			var jobID string
			_ = jsonUnmarshal([]byte(tt.body), &struct {
				JobID *string `json:"job_id"`
			}{&jobID})
			e.publish(tt.subject, tt.body, "")
			e.waitEvent(jobID, tt.event, 1)
			// A repeat of the same job id reaches Zoom no more and yields the same event.
			before := e.fake.Stats().Requests
			e.publish(tt.subject, tt.body, "")
			again := e.waitEvent(jobID, tt.event, 2)
			if first := e.waitEvent(jobID, tt.event, 1); string(first.Data) != string(again.Data) {
				t.Errorf("repeated event differs:\n %s\n %s", first.Data, again.Data)
			}
			if got := e.fake.Stats().Requests - before; got != 0 {
				t.Errorf("a repeated %s job made %d Zoom requests; want 0", tt.name, got)
			}
		})
	}
}

// TestJobsOfOneUserRunInOrder: create and delete jobs of one user run one
// at a time, in the order they were published, however many are in flight
// (Zoom answers 429 to a second write to a user while one runs).
func TestJobsOfOneUserRunInOrder(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.Concurrency = 32 })
	e.start()
	e.fake.SetOpLatency("userCreate", 300*time.Millisecond)
	e.fake.SetOpLatency("userDelete", 100*time.Millisecond)
	create := `{"job_id":"uo-%d","user_info":{"email":"Order@Bond.com","type":1,"first_name":"O"}}`
	del := `{"job_id":"uo-%d","user_id":"order@bond.com","action":"delete"}`
	for i := range 4 {
		if i%2 == 0 {
			e.publish(messages.SubjectUserCreate, fmt.Sprintf(create, i), "")
		} else {
			e.publish(messages.SubjectUserDelete, fmt.Sprintf(del, i), "")
		}
	}
	for i := range 4 {
		id := fmt.Sprintf("uo-%d", i)
		if i%2 == 0 {
			ev := decode[messages.UserCreated](t, e.waitEvent(id, messages.SubjectUserCreated, 1))
			if ev.Existing {
				t.Errorf("%s: existing = true; want a new user (the delete before it ran first)", id)
			}
		} else {
			ev := decode[messages.UserDeleted](t, e.waitEvent(id, messages.SubjectUserDeleted, 1))
			if ev.AlreadyGone {
				t.Errorf("%s: already_gone = true; want it to delete the user the create before it made", id)
			}
		}
	}
	e.waitIdle()
	for _, u := range e.fake.Users() {
		if strings.EqualFold(u.Email, "order@bond.com") {
			t.Errorf("the user exists at the end; want it deleted (the last job is a delete)")
		}
	}
	if st := e.fake.Stats(); st.UsersCreated != 2 || st.UsersDeleted != 2 {
		t.Errorf("users created %d, deleted %d; want 2 and 2", st.UsersCreated, st.UsersDeleted)
	}
}
