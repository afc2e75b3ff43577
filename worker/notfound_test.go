package worker_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestNotFoundAboutAnotherObjectIsNoSuccess: a delete whose 404 is not
// about the job's own user or meeting fails the job (zoom_rejected): it is
// not "already gone".
func TestNotFoundAboutAnotherObjectIsNoSuccess(t *testing.T) {
	t.Run("user delete: transfer_email does not exist", func(t *testing.T) {
		e := newTestEnv(t, zoomtest.Options{})
		e.start()
		e.fake.AddUser("leaver@bond.com", "Lea", "Ver", 1)
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
		for _, u := range e.fake.Users() {
			found = found || u.Email == "leaver@bond.com"
		}
		if !found {
			t.Error("the user is gone at Zoom; want it kept")
		}
	})
	t.Run("meeting delete: a 404 that is not 3001", func(t *testing.T) {
		e := newTestEnv(t, zoomtest.Options{})
		e.start()
		id := e.createMeeting("c-nf")
		e.waitIdle()
		e.fake.FailNext(1, http.StatusNotFound) // code 404, not 3001 (meeting not found)
		e.publish(messages.SubjectMeetingDelete, fmt.Sprintf(`{"job_id":"md-nf","meeting_id":%d}`, id), "")
		ev := decode[messages.JobFailed](t, e.waitEvent("md-nf", messages.SubjectJobFailed, 1))
		if ev.Error.Kind != messages.KindZoomRejected || ev.Error.HTTPStatus != http.StatusNotFound {
			t.Errorf("job.failed error = %+v; want zoom_rejected 404", ev.Error)
		}
		if _, ok := e.fake.Meeting(id); !ok {
			t.Error("the meeting is gone at Zoom; want it kept")
		}
	})
}
