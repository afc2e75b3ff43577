// Package worker is zoom-worker's pipeline: it fetches jobs from the
// ZOOM_JOBS stream, decides what each needs, calls Zoom, records the outcome
// in the shared store, publishes the event and acknowledges the job.
//
// For each job:
//
//	decode and validate ─┬─ invalid ─────────────────────────────► dead-letter, job.failed, Term
//	                     └─ Store.Begin (the idempotency record, one round trip)
//	                         ├─ already succeeded ───────────────► publish the same event again, Ack
//	                         ├─ held by a live attempt elsewhere ► NakWithDelay(until its lease ends)
//	                         ├─ host at its daily limit ─────────► job.deferred, NakWithDelay(00:00 UTC)
//	                         └─ started ─► (reconcile if an earlier attempt's outcome is unknown)
//	                                      call Zoom, retrying transient errors with backoff
//	                                      ├─ success ────────────► Store.Finish, publish event, Ack
//	                                      ├─ transient, budget left ► NakWithDelay(backoff)
//	                                      └─ permanent or out of attempts ► dead-letter, job.failed, Term
//
// In code the walk is one-way (handle.go): prepare (decode, account, order,
// Store.Begin) → the job's kind (kinds.go: a result or an error) → decide
// (decide.go: one pure function from result, error and the attempt's facts
// to an outcome that carries the record, the event and the NAK delay) →
// settle (settle.go: record, publish, then Ack, Nak or Term).
//
// The worker declares the small interfaces it needs (ZoomAPI, Store, Cache)
// and never builds a concrete client: cmd/zoom-worker wires them.
package worker
