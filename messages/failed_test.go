package messages_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
)

func TestFailedJobBody(t *testing.T) {
	large := []byte(`{"job_id":"m-1","user_id":"me","meeting":{"agenda":"` + strings.Repeat("a", messages.MaxJobBytes) + `"}}`)
	tests := []struct {
		name          string
		body          []byte
		wantJob       string
		wantRaw       []byte
		wantTruncated bool
	}{
		{"JSON job", []byte(`{"job_id":"m-9","user_id":"nobody@example.com","meeting":{"topic":"x"}}`), `{"job_id":"m-9","user_id":"nobody@example.com","meeting":{"topic":"x"}}`, nil, false},
		{"JSON that is not a job", []byte(` [1, "two"] `), ` [1, "two"] `, nil, false},
		{"not JSON", []byte("user_id=me"), "", []byte("user_id=me"), false},
		{"JSON with invalid UTF-8", []byte("{\"a\":\"\xff\"}"), "", []byte("{\"a\":\"\xff\"}"), false},
		{"empty", []byte{}, "", []byte{}, false},
		{"too large", large, "", large[:messages.MaxJobBytes], true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := messages.FailedJobBody(tc.body)
			if string(got.Job) != tc.wantJob || !bytes.Equal(got.JobRaw, tc.wantRaw) || got.JobTruncated != tc.wantTruncated {
				t.Errorf("FailedJobBody = (%.60q, %.60q, %v), want (%.60q, %.60q, %v)",
					got.Job, got.JobRaw, got.JobTruncated, tc.wantJob, tc.wantRaw, tc.wantTruncated)
			}
		})
	}
}

func TestFailedJobBodyCopies(t *testing.T) {
	body := []byte(`{"a":1}`)
	job := messages.FailedJobBody(body).Job
	body[5] = '2'
	if string(job) != `{"a":1}` {
		t.Errorf("job changed with the body: %s", job)
	}
}

// TestFailedJobBodyInEvent checks the event a subscriber sees.
func TestFailedJobBodyInEvent(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"JSON", []byte(`{"user_id":"me"}`), `"job":{"user_id":"me"}`},
		{"not JSON", []byte("hi!"), `"job_raw":"aGkh"`},
		{"empty", nil, `"error":{"kind":"invalid_job","message":"m"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := messages.JobFailed{JobRef: messages.JobRef{JobID: "j"}, Subject: messages.SubjectMeetingCreate, Attempts: 1,
				Error: messages.FailError{Kind: messages.KindInvalidJob, Message: "m"}}
			ev.JobBody = messages.FailedJobBody(tc.body)
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("event %s, want it to contain %s", b, tc.want)
			}
		})
	}
}

func TestEventMsgID(t *testing.T) {
	tests := []struct {
		jobID, subject, want string
	}{
		{"m-7", messages.SubjectMeetingCreated, "m-7:meeting.created"},
		{"u-42", messages.SubjectUserCreated, "u-42:user.created"},
		{"m-9", messages.SubjectJobFailed, "m-9:job.failed"},
		{"m-12", messages.SubjectJobDeferred, "m-12:job.deferred"},
	}
	for _, tc := range tests {
		if got := messages.EventMsgID(tc.jobID, tc.subject); got != tc.want {
			t.Errorf("EventMsgID(%q, %q) = %q, want %q", tc.jobID, tc.subject, got, tc.want)
		}
	}
}
