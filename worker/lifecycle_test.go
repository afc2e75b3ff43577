package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// withMeeting is the start of every test of a meeting's later life: a
// worker running on a fresh env (tweak edits its settings) and a meeting
// create made through it for job jobID, whose id it returns.
func withMeeting(t *testing.T, create func(e *testEnv, jobID string) int64, jobID string, tweak ...func(*worker.Config)) (*testEnv, int64) {
	t.Helper()
	e := newTestEnv(t, zoomtest.Options{}, tweak...)
	e.start()
	return e, create(e, jobID)
}

// createMeeting runs a create job and returns the meeting's id.
func (e *testEnv) createMeeting(jobID string) int64 {
	e.t.Helper()
	e.publish(messages.SubjectMeetingCreate, meetingJob(jobID), "")
	ev := decode[messages.MeetingCreated](e.t, e.waitEvent(jobID, messages.SubjectMeetingCreated, 1))
	return ev.Meeting.ID
}

func TestUpdateMeeting(t *testing.T) {
	e, id := withMeeting(t, (*testEnv).createMeeting, "c-1")
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
	before := e.Fake.Stats().MeetingsUpdated
	e.publish(messages.SubjectMeetingUpdate, fmt.Sprintf(`{"job_id":"up-1","meeting_id":%d,"meeting":{"topic":"Moved","duration":90}}`, id), "")
	e.waitEvent("up-1", messages.SubjectMeetingUpdated, 2)
	if got := e.Fake.Stats().MeetingsUpdated - before; got != 0 {
		t.Errorf("a repeated update job reached Zoom %d more times; want 0", got)
	}
}

func TestDeleteMeetingAndUser(t *testing.T) {
	e, id := withMeeting(t, (*testEnv).createMeeting, "c-2")
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

	u := e.Fake.AddUser("leaver@bond.com", "Lea", "Ver", 1)
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
	if err := json.Unmarshal(ev.Meeting.Occurrences, &occ); err != nil || len(occ) != 4 {
		t.Errorf("occurrences = %s; want 4", ev.Meeting.Occurrences)
	}
}

func TestUpdatesOfOneMeetingRunInOrder(t *testing.T) {
	e, id := withMeeting(t, (*testEnv).createMeeting, "c-3", func(c *worker.Config) { c.Concurrency = 32 })
	// Slow Zoom down so that many updates are in flight at once.
	e.Fake.SetLatency(30 * time.Millisecond)
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

func TestUpdateIsSentOnceWhenReadingBackFails(t *testing.T) {
	e, id := withMeeting(t, (*testEnv).createMeeting, "c-4")
	before := e.Fake.Stats().MeetingsUpdated
	// The PATCH succeeds; the GET that reads the meeting back fails twice.
	e.Fake.FailNextAfter(1, 2, 503)
	e.publish(messages.SubjectMeetingUpdate, fmt.Sprintf(`{"job_id":"up-once","meeting_id":%d,"meeting":{"topic":"Once"}}`, id), "")
	ev := decode[messages.MeetingUpdated](t, e.waitEvent("up-once", messages.SubjectMeetingUpdated, 1))
	if ev.Meeting.Topic != "Once" {
		t.Errorf("meeting.updated topic = %q; want Once", ev.Meeting.Topic)
	}
	if got := e.Fake.Stats().MeetingsUpdated - before; got != 1 {
		t.Errorf("PATCH reached Zoom %d times; want 1", got)
	}
}

func TestLifecycleJobsSurviveTransientFailures(t *testing.T) {
	e, id := withMeeting(t, (*testEnv).createMeeting, "c-5")
	e.Fake.AddUser("temp@bond.com", "Temp", "User", 1)
	tests := []struct {
		name, subject, body, event string
	}{
		{"update", messages.SubjectMeetingUpdate, fmt.Sprintf(`{"job_id":"tr-up","meeting_id":%d,"meeting":{"duration":15}}`, id), messages.SubjectMeetingUpdated},
		{"delete meeting", messages.SubjectMeetingDelete, fmt.Sprintf(`{"job_id":"tr-del","meeting_id":%d}`, id), messages.SubjectMeetingDeleted},
		{"delete user", messages.SubjectUserDelete, `{"job_id":"tr-ud","user_id":"temp@bond.com"}`, messages.SubjectUserDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Fake.FailNext(2, 503)
			var jobID string
			_ = json.Unmarshal([]byte(tt.body), &struct {
				JobID *string `json:"job_id"`
			}{&jobID})
			e.publish(tt.subject, tt.body, "")
			e.waitEvent(jobID, tt.event, 1)
			// A repeat of the same job id reaches Zoom no more and yields the same event.
			before := e.Fake.Stats().Requests
			e.publish(tt.subject, tt.body, "")
			again := e.waitEvent(jobID, tt.event, 2)
			if first := e.waitEvent(jobID, tt.event, 1); string(first.Data) != string(again.Data) {
				t.Errorf("repeated event differs:\n %s\n %s", first.Data, again.Data)
			}
			if got := e.Fake.Stats().Requests - before; got != 0 {
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
	e.Fake.SetOpLatency("userCreate", 300*time.Millisecond)
	e.Fake.SetOpLatency("userDelete", 100*time.Millisecond)
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
	for _, u := range e.Fake.Users() {
		if strings.EqualFold(u.Email, "order@bond.com") {
			t.Errorf("the user exists at the end; want it deleted (the last job is a delete)")
		}
	}
	if st := e.Fake.Stats(); st.UsersCreated != 2 || st.UsersDeleted != 2 {
		t.Errorf("users created %d, deleted %d; want 2 and 2", st.UsersCreated, st.UsersDeleted)
	}
}

// registrationMeeting creates a meeting that takes registration
// (approval_type 0: approved at once) and returns its id.
func (e *testEnv) registrationMeeting(jobID string) int64 {
	e.t.Helper()
	e.publish(messages.SubjectMeetingCreate, `{"job_id":"`+jobID+`","user_id":"james@bond.com","meeting":{"topic":"Open day","type":2,`+
		`"start_time":"2026-12-05T12:00:00Z","duration":60,"settings":{"approval_type":0}}}`, "")
	ev := decode[messages.MeetingCreated](e.t, e.waitEvent(jobID, messages.SubjectMeetingCreated, 1))
	return ev.Meeting.ID
}

func registrantJob(jobID string, meetingID int64, email string) string {
	return fmt.Sprintf(`{"job_id":%q,"meeting_id":%d,"registrant":{"email":%q,"first_name":"Jill","last_name":"Valentine","org":"S.T.A.R.S."}}`,
		jobID, meetingID, email)
}

func TestAddRegistrant(t *testing.T) {
	e, id := withMeeting(t, (*testEnv).registrationMeeting, "reg-m1")

	e.publish(messages.SubjectRegistrantAdd, registrantJob("reg-1", id, "jill@example.com"), "")
	ev := decode[messages.RegistrantAdded](t, e.waitEvent("reg-1", messages.SubjectRegistrantAdded, 1))
	r := ev.Registrant
	if ev.MeetingID != id || ev.Existing || r.ID != id || r.RegistrantID == "" || r.Email != "jill@example.com" ||
		r.FirstName != "Jill" || r.Topic != "Open day" || r.StartTime != "2026-12-05T12:00:00Z" ||
		!strings.Contains(r.JoinURL, fmt.Sprint(id)) || !strings.Contains(r.JoinURL, "tk=") {
		t.Errorf("registrant.added = %+v; want the registrant's own join_url for meeting %d", ev, id)
	}
	if got := e.Fake.Registrants(id); len(got) != 1 || got[0].Email != "jill@example.com" || got[0].ID != r.RegistrantID {
		t.Errorf("Zoom's registrants = %+v; want jill@example.com as %s", got, r.RegistrantID)
	}

	// The same job again (a publisher's retry outside the duplicate
	// window): the same event, no second registration at Zoom.
	requests := e.Fake.Stats().Requests
	e.publish(messages.SubjectRegistrantAdd, registrantJob("reg-1", id, "jill@example.com"), "reg-1-again")
	again := e.waitEvent("reg-1", messages.SubjectRegistrantAdded, 2)
	if first := e.waitEvent("reg-1", messages.SubjectRegistrantAdded, 1); string(again.Data) != string(first.Data) {
		t.Errorf("repeated event = %s; want the first one's body %s", again.Data, first.Data)
	}
	if n := e.Fake.Stats().Requests - requests; n != 0 {
		t.Errorf("the repeated job made %d requests to Zoom; want 0", n)
	}
}

// An email already registered for the meeting ends as a success with that
// registration, and so does one whose 3 registrations of the day are spent.
func TestAddRegistrantAlreadyRegistered(t *testing.T) {
	e, id := withMeeting(t, (*testEnv).registrationMeeting, "reg-m2")

	var first string
	for i, job := range []string{"reg-a", "reg-b", "reg-c"} {
		email := "chris@example.com"
		if i > 0 {
			email = "Chris@Example.com" // Zoom matches emails without case
		}
		e.publish(messages.SubjectRegistrantAdd, registrantJob(job, id, email), "")
		ev := decode[messages.RegistrantAdded](t, e.waitEvent(job, messages.SubjectRegistrantAdded, 1))
		if i == 0 {
			first = ev.Registrant.RegistrantID
		}
		if ev.Registrant.RegistrantID != first || ev.Registrant.JoinURL == "" {
			t.Errorf("%s: registrant %+v; want the registration %s", job, ev.Registrant, first)
		}
	}
	// Zoom took three registrations of chris today; a fourth is refused
	// (429, daily), and the worker adopts the registration it finds.
	e.publish(messages.SubjectRegistrantAdd, registrantJob("reg-d", id, "chris@example.com"), "")
	ev := decode[messages.RegistrantAdded](t, e.waitEvent("reg-d", messages.SubjectRegistrantAdded, 1))
	if !ev.Existing || ev.Registrant.RegistrantID != first || ev.Registrant.Status != "approved" || ev.Registrant.JoinURL == "" {
		t.Errorf("fourth registration: %+v; want existing: true with registration %s", ev, first)
	}
	if st := e.Fake.Stats(); st.RegistrantsAdded != 1 || st.RateLimited != 1 {
		t.Errorf("registrants, 429s at Zoom = %d, %d; want 1, 1", st.RegistrantsAdded, st.RateLimited)
	}
	if got := e.Fake.Registrants(id); len(got) != 1 {
		t.Errorf("Zoom's registrants = %v; want one", got)
	}
	if n := len(e.eventsFor("reg-d")); n != 1 {
		t.Errorf("reg-d has %d events; want only registrant.added (not deferred, not failed)", n)
	}
}

// A registration whose answer was lost is found again by email: the next
// attempt adopts it instead of registering a second time.
func TestAddRegistrantAfterALostAnswer(t *testing.T) {
	e, id := withMeeting(t, (*testEnv).registrationMeeting, "reg-m3", func(c *worker.Config) { c.AttemptTimeout, c.RetryBudget = 2*time.Second, 500*time.Millisecond })

	// Zoom registers, but its answer never comes: every add is held after
	// it was carried out, so a second add would never end either.
	hold := e.Fake.HoldRegistrantCreates()
	t.Cleanup(hold.Release)
	e.publish(messages.SubjectRegistrantAdd, registrantJob("reg-lost", id, "leon@example.com"), "")

	ev := decode[messages.RegistrantAdded](t, e.waitEvent("reg-lost", messages.SubjectRegistrantAdded, 1))
	if ev.Existing || ev.Registrant.RegistrantID == "" || ev.Registrant.JoinURL == "" || ev.Registrant.Email != "leon@example.com" {
		t.Errorf("registrant.added = %+v; want the adopted registration, existing false (this job made it)", ev)
	}
	if n := len(hold.Arrived()); n != 1 {
		t.Errorf("add-registrant requests at Zoom = %d; want 1", n)
	}
	if got := e.Fake.Registrants(id); len(got) != 1 || got[0].ID != ev.Registrant.RegistrantID {
		t.Errorf("Zoom's registrants = %+v; want the one adopted", got)
	}
}

// A registration Zoom refuses fails with Zoom's tracking id in job.failed
// and in the dead letter's headers.
func TestAddRegistrantRefusedCarriesZoomsTrackingID(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	e.publish(messages.SubjectRegistrantAdd, registrantJob("reg-nope", 85746065499, "ada@example.com"), "")
	ev := decode[messages.JobFailed](t, e.waitEvent("reg-nope", messages.SubjectJobFailed, 1))
	fe := ev.Error
	if fe.Kind != messages.KindZoomRejected || fe.HTTPStatus != 404 || fe.ZoomCode != 3001 || !strings.HasPrefix(fe.ZoomTrackingID, "v=2.0;") {
		t.Errorf("job.failed error = %+v; want zoom_rejected 404/3001 with Zoom's tracking id", fe)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := e.JS.Stream(ctx, messages.StreamDeadLetters)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := s.GetLastMsgForSubject(ctx, messages.DeadLetterSubject(messages.SubjectRegistrantAdd))
	if err != nil {
		t.Fatal(err)
	}
	if got := dl.Header.Get(worker.HeaderZoomTrackingID); got != fe.ZoomTrackingID {
		t.Errorf("dead letter %s = %q; want %q", worker.HeaderZoomTrackingID, got, fe.ZoomTrackingID)
	}
	// zoom-worker dlq list --json shows it.
	list, err := worker.ListDeadLetters(ctx, e.JS)
	if err != nil || len(list) != 1 || list[0].ZoomTrackingID != fe.ZoomTrackingID {
		t.Errorf("ListDeadLetters = %+v, %v; want the one dead letter with tracking id %s", list, err, fe.ZoomTrackingID)
	}
}
