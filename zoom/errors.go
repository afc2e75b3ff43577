package zoom

import "time"

// FieldError is one entry of the "errors" array of a Zoom 400 answer.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// APIError is an error answer from Zoom. errors.As reaches it through wrapping.
// Its message never contains a token.
type APIError struct {
	// Op names the operation, e.g. "create meeting".
	Op         string
	StatusCode int
	// Code is Zoom's error code from the body (0 when there was none).
	Code    int
	Message string
	Errors  []FieldError
	// RetryAfter is when Zoom said to retry (from Retry-After as seconds, an
	// HTTP date or a timestamp); zero when it did not say.
	RetryAfter time.Time
	// RateLimitType is the X-RateLimit-Type header ("QPS", "Daily-limit", ...).
	RateLimitType string
	// DailyLimit is true for a 429 (or Zoom's code 300 answer) saying the
	// per-user daily meeting create/update limit is reached; RetryAfter is then
	// the next 00:00 UTC.
	DailyLimit bool
}

// Error reads "zoom: <op>: <status> (code <code>): <message>".
func (e *APIError) Error() string { panic("TODO") }

// Class says what a caller should do about an error.
type Class int

const (
	// Permanent: a retry cannot fix it (most 4xx).
	Permanent Class = iota
	// RetrySoon: transient (network error, 5xx, 429 without a time); retry with backoff.
	RetrySoon
	// RetryAfter: retry no earlier than the time Classify returns.
	RetryLater
)

// Classify sorts any error from a Client call. For RetryLater, at is when a
// retry may go. Context cancellation is RetrySoon (the job was not finished).
func Classify(err error) (c Class, at time.Time) { panic("TODO") }
