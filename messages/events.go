package messages

import "encoding/json"

// User is a Zoom user as events report it: what Zoom answered. Fields the
// worker does not know are kept in Extra.
type User struct {
	ID        string                     `json:"id"`
	Email     string                     `json:"email,omitempty"`
	FirstName string                     `json:"first_name,omitempty"`
	LastName  string                     `json:"last_name,omitempty"`
	Type      int                        `json:"type,omitempty"`
	Extra     map[string]json.RawMessage `json:"-"`
}

// Meeting is a Zoom meeting as events report it: what Zoom answered, without
// start_url unless the worker is set to include it. Fields Zoom did not send
// are left out; fields the worker does not know are kept in Extra.
type Meeting struct {
	ID        int64  `json:"id"`
	UUID      string `json:"uuid,omitempty"`
	HostID    string `json:"host_id,omitempty"`
	Topic     string `json:"topic,omitempty"`
	Type      int    `json:"type,omitempty"`
	StartTime string `json:"start_time,omitempty"`
	Duration  int    `json:"duration,omitempty"`
	Timezone  string `json:"timezone,omitempty"`
	JoinURL   string `json:"join_url,omitempty"`
	StartURL  string `json:"start_url,omitempty"`
	Password  string `json:"password,omitempty"`
	Agenda    string `json:"agenda,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
	// Occurrences lists a recurring meeting's occurrences, as Zoom sends them.
	Occurrences json.RawMessage            `json:"occurrences,omitempty"`
	Settings    json.RawMessage            `json:"settings,omitempty"`
	Extra       map[string]json.RawMessage `json:"-"`
}

// JobRef names a job: its job id and its account. Every event type embeds
// it, so job_id and account are top-level fields of the event's JSON; in an
// event the job id is always set (the worker derives one for a job that has
// none).
type JobRef struct {
	JobID string `json:"job_id"`
	// Account is the job's account; "" is the default account.
	Account string `json:"account,omitempty"`
}

// UserCreated is the body of zoom.events.user.created.
type UserCreated struct {
	JobRef
	// Existing is true where the email was already in the account and the
	// worker looked the user up instead of creating one.
	Existing bool `json:"existing"`
	User     User `json:"user"`
}

// MeetingCreated is the body of zoom.events.meeting.created.
type MeetingCreated struct {
	JobRef
	UserID  string  `json:"user_id"`
	Meeting Meeting `json:"meeting"`
}

// MeetingUpdated is the body of zoom.events.meeting.updated.
type MeetingUpdated struct {
	JobRef
	MeetingID int64   `json:"meeting_id"`
	Meeting   Meeting `json:"meeting"`
}

// MeetingDeleted is the body of zoom.events.meeting.deleted.
type MeetingDeleted struct {
	JobRef
	MeetingID   int64 `json:"meeting_id"`
	AlreadyGone bool  `json:"already_gone"`
}

// UserDeleted is the body of zoom.events.user.deleted.
type UserDeleted struct {
	JobRef
	UserID      string `json:"user_id"`
	Action      string `json:"action"`
	AlreadyGone bool   `json:"already_gone"`
}

// Registrant is a meeting registrant as events report it, in the shape of
// Zoom's add-registrant answer: ID is the meeting's id, RegistrantID the
// registrant's, JoinURL the registrant's own link. Fields the worker does
// not know are kept in Extra.
type Registrant struct {
	ID           int64  `json:"id,omitempty"`
	RegistrantID string `json:"registrant_id"`
	// Email, FirstName and LastName are the job's (Zoom's answer leaves them out).
	Email     string `json:"email,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	// JoinURL is left out while a manually approved registration is pending.
	JoinURL   string `json:"join_url,omitempty"`
	Topic     string `json:"topic,omitempty"`
	StartTime string `json:"start_time,omitempty"`
	// Status is approved, pending or denied where the worker adopted a
	// registrant it found in Zoom's listing.
	Status             string                     `json:"status,omitempty"`
	ParticipantPinCode int64                      `json:"participant_pin_code,omitempty"`
	Occurrences        json.RawMessage            `json:"occurrences,omitempty"`
	Extra              map[string]json.RawMessage `json:"-"`
}

// RegistrantAdded is the body of zoom.events.meeting.registrant.added.
type RegistrantAdded struct {
	JobRef
	MeetingID int64 `json:"meeting_id"`
	// Existing is true where the email was already registered for the
	// meeting (by someone else, or before this job) and the worker adopted
	// that registration instead of making one.
	Existing   bool       `json:"existing"`
	Registrant Registrant `json:"registrant"`
}

// Failure kinds of a JobFailed event.
const (
	KindInvalidJob       = "invalid_job"
	KindZoomRejected     = "zoom_rejected"
	KindRetriesExhausted = "retries_exhausted"
)

// JobFailed is the body of zoom.events.job.failed, published once for each
// job that will not be retried.
type JobFailed struct {
	JobRef
	Subject  string    `json:"subject"`
	Attempts int       `json:"attempts"`
	Error    FailError `json:"error"`
	JobBody
}

// JobBody is a job's original body as JobFailed and JobConflict carry it;
// FailedJobBody makes it.
type JobBody struct {
	// Job is the original body where it was JSON (cut bodies are not).
	Job json.RawMessage `json:"job,omitempty"`
	// JobRaw is the original body, base64-encoded, where it was not JSON.
	JobRaw []byte `json:"job_raw,omitempty"`
	// JobTruncated says Job or JobRaw holds only the first MaxJobBytes bytes.
	JobTruncated bool `json:"job_truncated,omitempty"`
}

// FailError says why a job failed.
type FailError struct {
	Kind       string `json:"kind"`
	Message    string `json:"message"`
	Field      string `json:"field,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	ZoomCode   int    `json:"zoom_code,omitempty"`
	// ZoomTrackingID is the x-zm-trackingid of Zoom's answer, for Zoom
	// support; left out where Zoom sent none.
	ZoomTrackingID string `json:"zoom_tracking_id,omitempty"`
}

// JobConflict is the body of zoom.events.job.conflict: a job came with a
// job id that an earlier job with a different body already used. A job id
// is an idempotency key, so the worker kept the first job and its outcome
// and did not run this one (it is not retried, and not dead-lettered).
type JobConflict struct {
	JobRef
	// Subject is the refused job's subject.
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
	// FirstState is what became of the first job so far: running,
	// retrying, succeeded or failed.
	FirstState string `json:"first_state"`
	// FirstEvent is the subject of the event the first job ended with,
	// where it succeeded.
	FirstEvent string `json:"first_event,omitempty"`
	// JobBody holds the refused body.
	JobBody
}

// JobDeferred is the body of zoom.events.job.deferred: the job waits in
// ZOOM_JOBS until Until (the per-host daily limit); it is not a failure.
type JobDeferred struct {
	JobRef
	Subject string `json:"subject"`
	Until   string `json:"until"`
	Reason  string `json:"reason"`
}
