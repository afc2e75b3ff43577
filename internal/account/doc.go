// Package account builds the worker's view of one Zoom account from its
// credentials: a token source whose token is shared through Redis, the
// shared rate limiter, and a Zoom client that passes it. It is wiring, kept
// out of worker/ (which never imports a concrete client) and out of main,
// so cmd/zoom-worker, the tests and the bench build an account the same way.
package account
