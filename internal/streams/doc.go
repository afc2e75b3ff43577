// Package streams sets up JetStream streams the way every part of
// zoom-worker needs them: created when missing, updated only when the
// configuration this process wants differs from the stream's.
//
// A fleet restarting together must not update the same streams once per
// process: an update is a cluster-wide proposal, and nats-server 2.15
// races an update of a stream against a consumer being added to it (the
// race detector reports it in the server's file store). Comparing first
// makes the common start — the streams already as wanted — read-only.
package streams
