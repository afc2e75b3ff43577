// Package testenv starts the real infrastructure zoom-worker's tests run
// against: an embedded NATS server with JetStream (the real server as a
// library, on a temporary directory and a free port) and a real redis-server
// process on a free port. Nothing here is a mock, and nothing depends on the
// NATS or Redis that may already run on the machine.
package testenv
