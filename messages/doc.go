// Package messages is zoom-worker's public contract in Go: the jobs other
// systems publish, the events the worker publishes back, the NATS subjects and
// stream names they travel on, and the validation every job passes before the
// worker calls Zoom.
//
// The worker reads each job with DecodeJob, which returns a *ValidationError
// naming the field for every body that is not a valid job (the job then fails
// as invalid_job, with no call to Zoom). A Go publisher can build a job type,
// call its Validate method, and publish its JSON. Every job type embeds a
// JobHeader (job_id, account) and every event type a JobRef, so those fields
// are written once and stay top-level in the JSON.
//
// Zoom's own objects pass through: UserInfo and MeetingSpec are Zoom's
// request bodies and User and Meeting what Zoom answers, and each keeps the
// fields it has no Go name for in Extra, so a field Zoom adds later reaches
// Zoom, or the event, unchanged. The worker's own fields are strict: an
// unknown top-level field of a job is an error.
//
// It imports no NATS, Redis or HTTP package, so any Go publisher can depend on
// it. Non-Go publishers read the same contract in the JSON Schemas under
// messages/schema (embedded as Schemas) and in docs/asyncapi.yaml.
package messages
