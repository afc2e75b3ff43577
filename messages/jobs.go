package messages

import "encoding/json"

// MaxJobBytes is the largest job body the worker accepts. A larger body is an
// invalid_job; its job-failed event carries the first MaxJobBytes bytes.
const MaxJobBytes = 64 << 10

// Job is implemented by every job type. Subject is the subject it is
// published on; ID its job_id (may be empty: the worker then derives one).
// Every job type embeds a JobHeader, which gives it ID and AccountName.
type Job interface {
	Subject() string
	ID() string
	// AccountName is the configured Zoom account the job names; "" is the default.
	AccountName() string
	// Validate reports the first problem with the job as a *ValidationError
	// naming the field, or nil.
	Validate() error
}

// JobHeader is what every job carries besides its own fields: the job id
// and the account. Each job type embeds it, so job_id and account are
// top-level fields of the job's JSON.
type JobHeader struct {
	// JobID is the job's idempotency key; "" lets the worker derive one
	// from the message.
	JobID string `json:"job_id,omitempty"`
	// Account names the configured Zoom account to use; "" is the default.
	Account string `json:"account,omitempty"`
}

// ID returns the job's job_id; "" where the body has none.
func (h *JobHeader) ID() string { return h.JobID }

// AccountName returns the job's account; "" means the default account.
func (h *JobHeader) AccountName() string { return h.Account }

// CreateUserJob is the body of zoom.jobs.user.create.
type CreateUserJob struct {
	JobHeader
	// Action is Zoom's: create, autoCreate, custCreate or ssoCreate. Empty means custCreate.
	Action   string   `json:"action,omitempty"`
	UserInfo UserInfo `json:"user_info"`
}

// UserInfo is Zoom's user_info object of the create-user request. Fields the
// worker does not know are kept in Extra and passed through to Zoom unchanged.
type UserInfo struct {
	Email string `json:"email"`
	// Type is Zoom's user type, required: 1 basic, 2 licensed, 4 unassigned
	// without meetings basic, 99 none (only with action ssoCreate).
	Type        int    `json:"type"`
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Password    string `json:"password,omitempty"`
	// Extra holds every other field, passed through unchanged.
	Extra map[string]json.RawMessage `json:"-"`
}

// CreateMeetingJob is the body of zoom.jobs.meeting.create.
type CreateMeetingJob struct {
	JobHeader
	// UserID is the host: a Zoom user id or email, as Zoom's path parameter takes it.
	UserID  string      `json:"user_id"`
	Meeting MeetingSpec `json:"meeting"`
}

// MeetingSpec is Zoom's create-meeting (and update-meeting) request body.
// Fields the worker does not know are kept in Extra and passed through.
//
// Empty fields are left out of the JSON, so Zoom applies its defaults (type 2,
// scheduled). An update therefore cannot set a field to an empty value.
type MeetingSpec struct {
	Topic string `json:"topic,omitempty"`
	// Type is 1 instant, 2 scheduled, 3 recurring with no fixed time,
	// 8 recurring with fixed time (with Recurrence) or 10 screen share only.
	Type int `json:"type,omitempty"`
	// StartTime is "yyyy-MM-ddTHH:mm:ssZ" (UTC), or "yyyy-MM-ddTHH:mm:ss"
	// (local time in Timezone, which is then required).
	StartTime  string          `json:"start_time,omitempty"`
	Duration   int             `json:"duration,omitempty"`
	Timezone   string          `json:"timezone,omitempty"`
	Password   string          `json:"password,omitempty"`
	Agenda     string          `json:"agenda,omitempty"`
	Recurrence json.RawMessage `json:"recurrence,omitempty"`
	Settings   json.RawMessage `json:"settings,omitempty"`
	// Extra holds every other field, passed through unchanged.
	Extra map[string]json.RawMessage `json:"-"`
}

// UpdateMeetingJob is the body of zoom.jobs.meeting.update.
type UpdateMeetingJob struct {
	JobHeader
	MeetingID    int64       `json:"meeting_id"`
	OccurrenceID string      `json:"occurrence_id,omitempty"`
	Meeting      MeetingSpec `json:"meeting"`
}

// DeleteMeetingJob is the body of zoom.jobs.meeting.delete.
type DeleteMeetingJob struct {
	JobHeader
	MeetingID             int64  `json:"meeting_id"`
	OccurrenceID          string `json:"occurrence_id,omitempty"`
	ScheduleForReminder   *bool  `json:"schedule_for_reminder,omitempty"`
	CancelMeetingReminder *bool  `json:"cancel_meeting_reminder,omitempty"`
}

// AddRegistrantJob is the body of zoom.jobs.meeting.registrant.add: register
// someone for a meeting that takes registration (Zoom's POST
// /meetings/{meetingId}/registrants).
type AddRegistrantJob struct {
	JobHeader
	MeetingID int64 `json:"meeting_id"`
	// OccurrenceIDs is Zoom's comma-separated list of the occurrences to
	// register for; empty means all of them.
	OccurrenceIDs string         `json:"occurrence_ids,omitempty"`
	Registrant    RegistrantSpec `json:"registrant"`
}

// RegistrantSpec is Zoom's add-registrant request body. Fields the worker
// does not know (address, custom_questions, language, auto_approve, ...) are
// kept in Extra and passed through to Zoom unchanged.
type RegistrantSpec struct {
	// Email is required; the worker finds a registrant again by it.
	Email string `json:"email"`
	// FirstName is required by Zoom.
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	// Extra holds every other field, passed through unchanged.
	Extra map[string]json.RawMessage `json:"-"`
}

// DeleteUserJob is the body of zoom.jobs.user.delete.
type DeleteUserJob struct {
	JobHeader
	UserID string `json:"user_id"`
	// Action is disassociate (the default when empty) or delete.
	Action            string `json:"action,omitempty"`
	TransferEmail     string `json:"transfer_email,omitempty"`
	TransferMeeting   *bool  `json:"transfer_meeting,omitempty"`
	TransferWebinar   *bool  `json:"transfer_webinar,omitempty"`
	TransferRecording *bool  `json:"transfer_recording,omitempty"`
}
