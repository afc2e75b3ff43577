package messages_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
)

// nested returns a create-meeting job whose settings nest depth-2 levels,
// so that the whole body nests depth levels.
func nested(depth int) string {
	return meetingBody(`"settings":` + strings.Repeat(`{"a":`, depth-2) + `1` + strings.Repeat(`}`, depth-2))
}

func TestDecodeJobRejectsMalformedBodies(t *testing.T) {
	tests := []struct {
		name       string
		subject    string
		body       []byte
		wantReason string
	}{
		{"empty", cm, nil, "empty"},
		{"only spaces", cm, []byte(" \n\t "), "empty"},
		{"not JSON", cm, []byte("user_id=me"), "not valid JSON"},
		{"cut JSON", cm, []byte(`{"user_id":"me"`), "not valid JSON"},
		{"trailing data", cm, []byte(`{"user_id":"me"} x`), "after top-level value"},
		{"two objects", cm, []byte(`{"user_id":"me"}{"user_id":"me"}`), "after top-level value"},
		{"invalid UTF-8", cm, []byte("{\"user_id\":\"me\",\"meeting\":{\"topic\":\"\xff\"}}"), "not valid UTF-8 (first bad byte at offset 36)"},
		{"overlong UTF-8 encoding", cm, []byte("{\"user_id\":\"m\xc0\xafe\"}"), "not valid UTF-8"},
		{"an array", cm, []byte(`[{"user_id":"me"}]`), "must be a JSON object, got an array"},
		{"a string", cm, []byte(`"me"`), "got a string"},
		{"a number", cm, []byte(` 42 `), "got a number"},
		{"null", cm, []byte(`null`), "got null"},
		{"too deep", cm, []byte(nested(messages.MaxJSONDepth + 1)), "33 deep, more than 32"},
		{"too deep in an array", cm, []byte(`{"user_id":"me","meeting":{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}`), "10002 deep"},
		{"too large", cm, []byte(meetingBody(`"agenda":"` + strings.Repeat(" ", messages.MaxJobBytes) + `"`)), "more than the 65536"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job, err := messages.DecodeJob(tc.subject, tc.body)
			if err == nil {
				t.Fatalf("DecodeJob = %+v, nil; want an error", job)
			}
			var ve *messages.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
			}
			if ve.Field != "" {
				t.Errorf("Field = %q, want \"\" (the whole body)", ve.Field)
			}
			if !strings.Contains(ve.Reason, tc.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", ve.Reason, tc.wantReason)
			}
		})
	}
}

func TestDecodeJobLimits(t *testing.T) {
	deepest := []byte(nested(messages.MaxJSONDepth))
	if _, err := messages.DecodeJob(cm, deepest); err != nil {
		t.Errorf("DecodeJob of a body nested %d deep = %v, want it accepted", messages.MaxJSONDepth, err)
	}
	// Brackets inside strings do not nest.
	brackets := []byte(meetingBody(`"topic":"` + strings.Repeat("{[", 50) + `\"{"`))
	if _, err := messages.DecodeJob(cm, brackets); err != nil {
		t.Errorf("DecodeJob with brackets in a string = %v, want it accepted", err)
	}
	largest := []byte(meetingBody(`"x":""`))
	largest = append(largest[:len(largest)-4], bytes.Repeat([]byte(" "), messages.MaxJobBytes-len(largest))...)
	largest = append(largest, `""}}`...)
	if len(largest) != messages.MaxJobBytes {
		t.Fatalf("test body is %d bytes, want %d", len(largest), messages.MaxJobBytes)
	}
	if _, err := messages.DecodeJob(cm, largest); err != nil {
		t.Errorf("DecodeJob of a body of MaxJobBytes = %v, want it accepted", err)
	}
}

// TestJobSubjectsAreTheDecodedOnes: JobSubjects lists exactly the subjects
// DecodeJob takes, each once, and each job type names its own subject.
func TestJobSubjectsAreTheDecodedOnes(t *testing.T) {
	decoded := messages.DecodedSubjects()
	listed := messages.JobSubjects()
	seen := map[string]bool{}
	for _, s := range listed {
		if seen[s] {
			t.Errorf("JobSubjects lists %s twice", s)
		}
		seen[s] = true
		named, ok := decoded[s]
		if !ok {
			t.Errorf("JobSubjects lists %s, which DecodeJob does not take", s)
		} else if named != s {
			t.Errorf("the job type of %s says its subject is %s", s, named)
		}
	}
	if len(listed) != len(decoded) {
		t.Errorf("JobSubjects = %v; DecodeJob takes %d subjects", listed, len(decoded))
	}
}

func TestDecodeJobUnknownSubject(t *testing.T) {
	for _, subject := range []string{"", "zoom.jobs.webinar.create", "zoom.events.user.created", "zoom.jobs.user.create.x"} {
		job, err := messages.DecodeJob(subject, []byte(`{"user_id":"me"}`))
		if err == nil {
			t.Fatalf("DecodeJob(%q) = %+v, nil; want an error", subject, job)
		}
		if !errors.Is(err, messages.ErrUnknownSubject) {
			t.Errorf("DecodeJob(%q) error %v does not match ErrUnknownSubject", subject, err)
		}
		var ve *messages.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "unknown job subject") {
			t.Errorf("DecodeJob(%q) error %v is not a *ValidationError naming the subject", subject, err)
		}
	}
}

func TestValidationErrorMessage(t *testing.T) {
	tests := []struct {
		err  *messages.ValidationError
		want string
	}{
		{&messages.ValidationError{Field: "meeting.topic", Reason: "must be at most 200 characters, got 201"}, "invalid job: meeting.topic: must be at most 200 characters, got 201"},
		{&messages.ValidationError{Reason: "body is empty, want a JSON object"}, "invalid job: body is empty, want a JSON object"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestDecodeJobClipsLongValuesInReasons(t *testing.T) {
	_, err := messages.DecodeJob(cm, []byte(meetingBody(`"start_time":"`+strings.Repeat("9", 5000)+`"`)))
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("error = %.400v (%d bytes), want a short one", err, len(err.Error()))
	}
	_, err = messages.DecodeJob(cm, []byte(`{"user_id":"me","meeting":{"type":1`+strings.Repeat("0", 5000)+`}}`))
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("error = %.400v (%d bytes), want a short one", err, len(err.Error()))
	}
}

// TestDecodeJobReturnsConcreteTypes checks what the worker switches on.
func TestDecodeJobReturnsConcreteTypes(t *testing.T) {
	job, err := messages.DecodeJob(um, []byte(`{"job_id":"u-9","account":"eu","meeting_id":85746065432,"occurrence_id":"1648194360000","meeting":{"topic":"New","x":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := job.(*messages.UpdateMeetingJob)
	if !ok {
		t.Fatalf("DecodeJob returned %T, want *messages.UpdateMeetingJob", job)
	}
	if u.ID() != "u-9" || u.AccountName() != "eu" || u.MeetingID != 85746065432 || u.OccurrenceID != "1648194360000" ||
		u.Meeting.Topic != "New" || string(u.Meeting.Extra["x"]) != "1" {
		t.Errorf("decoded %+v", u)
	}

	job, err = messages.DecodeJob(du, []byte(`{"user_id":"me","transfer_meeting":false}`))
	if err != nil {
		t.Fatal(err)
	}
	d := job.(*messages.DeleteUserJob)
	if d.TransferMeeting == nil || *d.TransferMeeting || d.TransferWebinar != nil {
		t.Errorf("transfer flags = %v, %v; want false, nil", d.TransferMeeting, d.TransferWebinar)
	}
}

// TestDecodedJobEncodesAsSent checks that the pass-through reaches Zoom: a
// decoded job encodes to the same JSON value it was decoded from.
func TestDecodedJobEncodesAsSent(t *testing.T) {
	for _, tc := range validJobs {
		t.Run(tc.name, func(t *testing.T) {
			job, err := messages.DecodeJob(tc.subject, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(job)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			_ = json.Unmarshal([]byte(tc.body), &want)
			// user_info.type and user_id are always written; meeting too.
			if _, ok := want["meeting"]; !ok && (tc.subject == cm) {
				want["meeting"] = map[string]any{}
			}
			wantJSON, _ := json.Marshal(want)
			if !jsonEqual(t, got, wantJSON) {
				t.Errorf("encoded\n %s\nwant\n %s", got, wantJSON)
			}
		})
	}
}
