package messages

import "embed"

// Schemas holds the JSON Schemas (draft 2020-12) of every job and event
// body, one file each under "schema/": create-user-job.json,
// create-meeting-job.json, update-meeting-job.json, delete-meeting-job.json,
// delete-user-job.json, add-registrant-job.json, and user-created.json,
// meeting-created.json, meeting-updated.json, meeting-deleted.json,
// user-deleted.json, registrant-added.json, job-failed.json,
// job-deferred.json, job-conflict.json. Each is self-contained (no external
// $ref); its $id ends in its file name.
//
// The job schemas and DecodeJob follow the same rules, and the tests run
// one table of good and bad bodies through both. DecodeJob checks a little
// more than a schema can: that the timezone is in the time zone database,
// that start_time is a real date, that an email address reads as Go's
// net/mail reads it (no quoted local part), and that an update does not
// name a field with an empty value it would drop. It is more lenient in one
// way: it reads null, "" and 0 as a field left out. Event schemas leave
// additional properties open: events may gain fields.
//
//go:embed schema/*.json
var Schemas embed.FS

// SchemaFile returns the name of the file in Schemas that describes the body
// of subject, for example "schema/create-meeting-job.json" for
// zoom.jobs.meeting.create, or "" for a subject without one.
func SchemaFile(subject string) string {
	name, ok := schemaNames[subject]
	if !ok {
		return ""
	}
	return "schema/" + name + ".json"
}

var schemaNames = map[string]string{
	SubjectUserCreate:      "create-user-job",
	SubjectMeetingCreate:   "create-meeting-job",
	SubjectMeetingUpdate:   "update-meeting-job",
	SubjectMeetingDelete:   "delete-meeting-job",
	SubjectUserDelete:      "delete-user-job",
	SubjectRegistrantAdd:   "add-registrant-job",
	SubjectUserCreated:     "user-created",
	SubjectMeetingCreated:  "meeting-created",
	SubjectMeetingUpdated:  "meeting-updated",
	SubjectMeetingDeleted:  "meeting-deleted",
	SubjectUserDeleted:     "user-deleted",
	SubjectJobFailed:       "job-failed",
	SubjectJobDeferred:     "job-deferred",
	SubjectJobConflict:     "job-conflict",
	SubjectRegistrantAdded: "registrant-added",
}
