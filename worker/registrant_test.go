package worker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

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
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	id := e.registrationMeeting("reg-m1")

	e.publish(messages.SubjectRegistrantAdd, registrantJob("reg-1", id, "jill@example.com"), "")
	ev := decode[messages.RegistrantAdded](t, e.waitEvent("reg-1", messages.SubjectRegistrantAdded, 1))
	r := ev.Registrant
	if ev.MeetingID != id || ev.Existing || r.ID != id || r.RegistrantID == "" || r.Email != "jill@example.com" ||
		r.FirstName != "Jill" || r.Topic != "Open day" || r.StartTime != "2026-12-05T12:00:00Z" ||
		!strings.Contains(r.JoinURL, fmt.Sprint(id)) || !strings.Contains(r.JoinURL, "tk=") {
		t.Errorf("registrant.added = %+v; want the registrant's own join_url for meeting %d", ev, id)
	}
	if got := e.fake.Registrants(id); len(got) != 1 || got[0].Email != "jill@example.com" || got[0].ID != r.RegistrantID {
		t.Errorf("Zoom's registrants = %+v; want jill@example.com as %s", got, r.RegistrantID)
	}

	// The same job again (a publisher's retry outside the duplicate
	// window): the same event, no second registration at Zoom.
	requests := e.fake.Stats().Requests
	e.publish(messages.SubjectRegistrantAdd, registrantJob("reg-1", id, "jill@example.com"), "reg-1-again")
	again := e.waitEvent("reg-1", messages.SubjectRegistrantAdded, 2)
	if first := e.waitEvent("reg-1", messages.SubjectRegistrantAdded, 1); string(again.Data) != string(first.Data) {
		t.Errorf("repeated event = %s; want the first one's body %s", again.Data, first.Data)
	}
	if n := e.fake.Stats().Requests - requests; n != 0 {
		t.Errorf("the repeated job made %d requests to Zoom; want 0", n)
	}
}

// An email already registered for the meeting ends as a success with that
// registration, and so does one whose 3 registrations of the day are spent.
func TestAddRegistrantAlreadyRegistered(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{})
	e.start()
	id := e.registrationMeeting("reg-m2")

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
	if st := e.fake.Stats(); st.RegistrantsAdded != 1 || st.RateLimited != 1 {
		t.Errorf("registrants, 429s at Zoom = %d, %d; want 1, 1", st.RegistrantsAdded, st.RateLimited)
	}
	if got := e.fake.Registrants(id); len(got) != 1 {
		t.Errorf("Zoom's registrants = %v; want one", got)
	}
	if n := len(e.eventsFor("reg-d")); n != 1 {
		t.Errorf("reg-d has %d events; want only registrant.added (not deferred, not failed)", n)
	}
}

// A registration whose answer was lost is found again by email: the next
// attempt adopts it instead of registering a second time.
func TestAddRegistrantAfterALostAnswer(t *testing.T) {
	e := newTestEnv(t, zoomtest.Options{}, func(c *worker.Config) { c.AttemptTimeout, c.RetryBudget = 2*time.Second, 500*time.Millisecond })
	e.start()
	id := e.registrationMeeting("reg-m3")

	// Zoom registers, but its answer never comes: every add is held after
	// it was carried out, so a second add would never end either.
	hold := e.fake.HoldRegistrantCreates()
	t.Cleanup(hold.Release)
	e.publish(messages.SubjectRegistrantAdd, registrantJob("reg-lost", id, "leon@example.com"), "")

	ev := decode[messages.RegistrantAdded](t, e.waitEvent("reg-lost", messages.SubjectRegistrantAdded, 1))
	if ev.Existing || ev.Registrant.RegistrantID == "" || ev.Registrant.JoinURL == "" || ev.Registrant.Email != "leon@example.com" {
		t.Errorf("registrant.added = %+v; want the adopted registration, existing false (this job made it)", ev)
	}
	if n := len(hold.Arrived()); n != 1 {
		t.Errorf("add-registrant requests at Zoom = %d; want 1", n)
	}
	if got := e.fake.Registrants(id); len(got) != 1 || got[0].ID != ev.Registrant.RegistrantID {
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
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	s, err := e.js.Stream(ctx, messages.StreamDeadLetters)
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
	list, err := worker.ListDeadLetters(ctx, e.js)
	if err != nil || len(list) != 1 || list[0].ZoomTrackingID != fe.ZoomTrackingID {
		t.Errorf("ListDeadLetters = %+v, %v; want the one dead letter with tracking id %s", list, err, fe.ZoomTrackingID)
	}
}
