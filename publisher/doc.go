// Package publisher is for Go systems that hand jobs to zoom-worker: it
// publishes a job (any of package messages' job types: users, meetings,
// meeting registrants) on the right subject with the right headers
// (Nats-Msg-Id set to the job id, so a re-sent job is dropped by the server)
// and can wait for the event the job causes.
package publisher
