package messages_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/zoomworker/zoom-worker/messages"
)

// The worker decodes each job with DecodeJob and switches on its type.
func ExampleDecodeJob() {
	body := []byte(`{"job_id": "m-7", "user_id": "james@bond.com",
 "meeting": {"topic": "Demo Meeting 1", "type": 2, "start_time": "2026-12-05T12:00:00Z", "duration": 45,
             "timezone": "America/Los_Angeles", "password": "Hey123", "agenda": "This is the meeting description",
             "settings": {"host_video": false, "participant_video": false, "join_before_host": false,
                          "mute_upon_entry": true, "use_pmi": false, "approval_type": 0}}}`)

	job, err := messages.DecodeJob(messages.SubjectMeetingCreate, body)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch j := job.(type) {
	case *messages.CreateMeetingJob:
		fmt.Println(j.ID(), "for host", j.UserID+":", j.Meeting.Topic, j.Meeting.StartTime, j.Meeting.Duration, "minutes")
		fmt.Println("settings:", string(j.Meeting.Settings)[:19], "...")
	}
	// Output:
	// m-7 for host james@bond.com: Demo Meeting 1 2026-12-05T12:00:00Z 45 minutes
	// settings: {"host_video":false ...
}

// A body that is not a valid job gives a *ValidationError naming the field;
// the worker reports it in a job-failed event of kind invalid_job.
func ExampleDecodeJob_invalid() {
	body := []byte(`{"job_id": "m-8", "user_id": "james@bond.com", "meeting": {"type": 2, "duration": "45"}}`)

	_, err := messages.DecodeJob(messages.SubjectMeetingCreate, body)
	var ve *messages.ValidationError
	if errors.As(err, &ve) {
		fmt.Println("field:", ve.Field)
		fmt.Println(err)
	}
	// Output:
	// field: meeting.duration
	// invalid job: meeting.duration: must be an integer, got string
}

// A Go publisher builds a job, checks it and publishes its JSON. Fields the
// worker has no name for go in Extra and reach Zoom unchanged.
func ExampleCreateMeetingJob() {
	job := &messages.CreateMeetingJob{
		JobHeader: messages.JobHeader{JobID: "m-7"},
		UserID:    "james@bond.com",
		Meeting: messages.MeetingSpec{
			Topic:     "Demo Meeting 1",
			Type:      2,
			StartTime: "2026-12-05T12:00:00Z",
			Duration:  45,
			Settings:  json.RawMessage(`{"mute_upon_entry": true}`),
			Extra:     map[string]json.RawMessage{"default_password": json.RawMessage(`false`)},
		},
	}
	if err := job.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	body, _ := json.Marshal(job)
	fmt.Println(job.Subject())
	fmt.Println(string(body))
	// Output:
	// zoom.jobs.meeting.create
	// {"job_id":"m-7","user_id":"james@bond.com","meeting":{"topic":"Demo Meeting 1","type":2,"start_time":"2026-12-05T12:00:00Z","duration":45,"settings":{"mute_upon_entry":true},"default_password":false}}
}

// The worker fills a job-failed event's copy of the body with FailedJobBody.
func ExampleFailedJobBody() {
	for _, body := range [][]byte{[]byte(`{"user_id": "me"}`), []byte("user_id=me")} {
		ev := messages.JobFailed{
			JobRef: messages.JobRef{JobID: "m-9"}, Subject: messages.SubjectMeetingCreate, Attempts: 1,
			Error: messages.FailError{Kind: messages.KindInvalidJob, Message: "invalid job"},
		}
		ev.JobBody = messages.FailedJobBody(body)
		b, _ := json.Marshal(ev)
		fmt.Println(string(b))
	}
	// Output:
	// {"job_id":"m-9","subject":"zoom.jobs.meeting.create","attempts":1,"error":{"kind":"invalid_job","message":"invalid job"},"job":{"user_id":"me"}}
	// {"job_id":"m-9","subject":"zoom.jobs.meeting.create","attempts":1,"error":{"kind":"invalid_job","message":"invalid job"},"job_raw":"dXNlcl9pZD1tZQ=="}
}

func ExampleEventMsgID() {
	fmt.Println(messages.EventMsgID("m-7", messages.SubjectMeetingCreated))
	// Output: m-7:meeting.created
}

// Publishers in other languages validate their bodies with the embedded
// JSON Schemas, which are also in the repository under messages/schema.
func ExampleSchemaFile() {
	name := messages.SchemaFile(messages.SubjectUserCreate)
	b, _ := messages.Schemas.ReadFile(name)
	var schema struct {
		Title string `json:"title"`
	}
	_ = json.Unmarshal(b, &schema)
	fmt.Println(name, "-", schema.Title)
	// Output: schema/create-user-job.json - create-user job
}
