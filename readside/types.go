package readside

import (
	"encoding/json"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
)

// Service identity and subjects.
const (
	// Name is the micro service name, as `nats micro ls` lists it.
	Name = "zoom-worker"
	// SubjectPrefix starts every endpoint's subject.
	SubjectPrefix = "zoom.svc"

	SubjectJobStatus  = SubjectPrefix + ".job.status"
	SubjectMeetingGet = SubjectPrefix + ".meeting.get"
	SubjectUserGet    = SubjectPrefix + ".user.get"
	// SubjectMeetingSDKSignature answers a Meeting SDK signature (JWT).
	SubjectMeetingSDKSignature = SubjectPrefix + ".meeting.sdk_signature"
)

// Where an answer came from (the "source" field).
const (
	// SourceStore: the shared job store in Redis.
	SourceStore = "store"
	// SourceCache: the worker's cache of the users and meetings its jobs made.
	SourceCache = "cache"
	// SourceZoom: Zoom's API, asked because the cache had nothing.
	SourceZoom = "zoom"
)

// Error codes of the micro errors the endpoints answer with.
const (
	CodeBadRequest  = "400"
	CodeNotFound    = "404"
	CodeInternal    = "500"
	CodeZoomError   = "502"
	CodeUnavailable = "503"
	CodeTimeout     = "504"
)

// JobStatusRequest is the body of a zoom.svc.job.status request: the job's
// id and its account ("" means the default account), as events name a job.
type JobStatusRequest = messages.JobRef

// MeetingRequest is the body of a zoom.svc.meeting.get request. The
// endpoint also takes meeting_id as a string of digits.
type MeetingRequest struct {
	MeetingID int64 `json:"meeting_id"`
	// Account "" means the default account.
	Account string `json:"account,omitempty"`
}

// UserRequest is the body of a zoom.svc.user.get request.
type UserRequest struct {
	// UserID is a Zoom user id or an email address.
	UserID string `json:"user_id"`
	// Account "" means the default account.
	Account string `json:"account,omitempty"`
}

// JobStatus is what the store records of a job.
type JobStatus struct {
	JobID   string `json:"job_id"`
	Account string `json:"account"`
	// Subject is the job's subject (zoom.jobs.meeting.create, ...).
	Subject string `json:"subject,omitempty"`
	// State is running, retrying, deferred, succeeded or failed.
	State string `json:"state"`
	// Attempts counts the attempts begun so far.
	Attempts int `json:"attempts"`
	// FirstStarted and UpdatedAt are nil where the store has no time.
	FirstStarted *time.Time `json:"first_started,omitempty"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`
	// EventSubject and Event are the success event, as published (without
	// start_url unless the service is set to include it).
	EventSubject string              `json:"event_subject,omitempty"`
	Event        json.RawMessage     `json:"event,omitempty"`
	Error        *messages.FailError `json:"error,omitempty"`
	// Until is when a deferred job (State "deferred") runs again.
	Until *time.Time `json:"until,omitempty"`
	// DeadLetter is where a failed job sits in ZOOM_DLQ (to list or replay
	// it with `zoom-worker dlq`), while it is there.
	DeadLetter *DeadLetterRef `json:"dead_letter,omitempty"`
}

// DeadLetterRef names one message of the dead-letter stream.
type DeadLetterRef struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
}

// JobStatusResponse answers zoom.svc.job.status.
type JobStatusResponse struct {
	Source string     `json:"source"` // SourceStore
	Job    *JobStatus `json:"job"`
}

// MeetingResponse answers zoom.svc.meeting.get.
type MeetingResponse struct {
	Source string `json:"source"` // SourceCache or SourceZoom
	// Stale is true for a cached copy that may be out of date: a webhook
	// said the meeting changed (or its start_url is too old), and Zoom could
	// not be asked again in time. Such a copy carries no start_url.
	Stale   bool              `json:"stale,omitempty"`
	Meeting *messages.Meeting `json:"meeting"`
}

// UserResponse answers zoom.svc.user.get.
type UserResponse struct {
	Source string `json:"source"` // SourceCache or SourceZoom
	// Stale is as in MeetingResponse.
	Stale bool           `json:"stale,omitempty"`
	User  *messages.User `json:"user"`
}

// ErrorResponse is the body of an error answer; the same code and
// description are in the micro error headers.
type ErrorResponse struct {
	Error struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
}
