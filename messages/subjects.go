package messages

// Stream, consumer and subject names fixed by the public contract.
const (
	// StreamJobs is the work-queue stream that holds jobs until a worker acks them.
	StreamJobs = "ZOOM_JOBS"
	// StreamEvents is the limits-retention stream subscribers replay events from.
	StreamEvents = "ZOOM_EVENTS"
	// StreamDeadLetters keeps every job that ended in a job.failed event, so it
	// can be listed and re-submitted (zoom-worker dlq).
	StreamDeadLetters = "ZOOM_DLQ"
	// ConsumerName is the durable pull consumer on StreamJobs shared by every worker.
	ConsumerName = "zoom-worker"

	// SubjectJobsAll, SubjectEventsAll and SubjectDeadLettersAll are the
	// subjects of StreamJobs, StreamEvents and StreamDeadLetters.
	SubjectJobsAll        = "zoom.jobs.>"
	SubjectEventsAll      = "zoom.events.>"
	SubjectDeadLettersAll = "zoom.dlq.>"

	// Job subjects: DecodeJob takes a body from each of them.
	SubjectUserCreate    = "zoom.jobs.user.create"
	SubjectMeetingCreate = "zoom.jobs.meeting.create"
	SubjectMeetingUpdate = "zoom.jobs.meeting.update"
	SubjectMeetingDelete = "zoom.jobs.meeting.delete"
	SubjectUserDelete    = "zoom.jobs.user.delete"
	// SubjectRegistrantAdd registers someone for a meeting.
	SubjectRegistrantAdd = "zoom.jobs.meeting.registrant.add"

	// Event subjects: the worker publishes there; Schemas describes each body.
	SubjectUserCreated    = "zoom.events.user.created"
	SubjectMeetingCreated = "zoom.events.meeting.created"
	SubjectMeetingUpdated = "zoom.events.meeting.updated"
	SubjectMeetingDeleted = "zoom.events.meeting.deleted"
	SubjectUserDeleted    = "zoom.events.user.deleted"
	SubjectJobFailed      = "zoom.events.job.failed"
	SubjectJobDeferred    = "zoom.events.job.deferred"
	// SubjectRegistrantAdded carries the registrant's own join_url.
	SubjectRegistrantAdded = "zoom.events.meeting.registrant.added"
	// SubjectJobConflict: a job id came again with a different body; that job was not run.
	SubjectJobConflict = "zoom.events.job.conflict"

	// HeaderMsgID is JetStream's de-duplication header. Jobs may carry the job
	// id in it; events carry "<job_id>:<event name>".
	HeaderMsgID = "Nats-Msg-Id"
)

// DeadLetterSubject is the subject a failed job is kept under in
// StreamDeadLetters: "zoom.dlq." followed by the job subject's tail, for
// example zoom.dlq.meeting.create.
func DeadLetterSubject(jobSubject string) string {
	const prefix = "zoom.jobs."
	if len(jobSubject) > len(prefix) && jobSubject[:len(prefix)] == prefix {
		return "zoom.dlq." + jobSubject[len(prefix):]
	}
	return "zoom.dlq.unknown"
}

// EventName is the event subject without "zoom.events." ("meeting.created",
// "meeting.registrant.added"),
// used in the Nats-Msg-Id of events.
func EventName(eventSubject string) string {
	const prefix = "zoom.events."
	if len(eventSubject) > len(prefix) && eventSubject[:len(prefix)] == prefix {
		return eventSubject[len(prefix):]
	}
	return eventSubject
}

// EventMsgID is the Nats-Msg-Id of the event on eventSubject for the job
// jobID: "<job_id>:<event name>", for example "m-7:meeting.created". A
// re-published event then carries the same id and JetStream drops it within
// its duplicate window.
func EventMsgID(jobID, eventSubject string) string {
	return jobID + ":" + EventName(eventSubject)
}
