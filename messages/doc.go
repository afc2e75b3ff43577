// Package messages is zoom-worker's public contract in Go: the jobs other
// systems publish, the events the worker publishes back, the NATS subjects and
// stream names they travel on, and the validation every job passes before the
// worker calls Zoom.
//
// It imports no NATS, Redis or HTTP package, so any Go publisher can depend on
// it. Non-Go publishers read the same contract in the JSON Schemas under
// messages/schema and in docs/asyncapi.yaml.
package messages
