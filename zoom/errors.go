package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

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
	// HTTP date or a timestamp; for a 429 without it, X-RateLimit-Reset);
	// zero when it did not say.
	RetryAfter time.Time
	// RateLimitType is the X-RateLimit-Type header ("QPS", "Daily-limit", ...).
	RateLimitType string
	// DailyLimit is true for a 429 (or Zoom's code 300 answer) saying the
	// per-user daily meeting create/update limit is reached; RetryAfter is then
	// the next 00:00 UTC.
	DailyLimit bool
	// UserBusy is true for a 429 saying another request for the same user is
	// in progress ("a request to ... this user has already been made"): Zoom
	// serializes some operations per user. Classify makes it RetrySoon; it
	// says nothing about the account's quota.
	UserBusy bool
	// RegistrantLimit is true for a daily 429 of adding a registrant: Zoom
	// takes 3 registrations a day (UTC) of the same registrant for the same
	// meeting. RetryAfter is when Zoom said to retry, else the next 00:00
	// UTC. It holds for that registrant only.
	RegistrantLimit bool
	// TrackingID is Zoom's x-zm-trackingid of the answer ("" when not sent):
	// Zoom support asks for it to trace a request.
	TrackingID string
}

// Error reads "zoom: <op>: <status> (code <code>): <message>", followed by
// the field errors of a validation answer in brackets and Zoom's tracking id
// as "(tracking id <id>)". The code and tracking id parts are left out when
// Zoom sent none.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("zoom: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	if msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if len(e.Errors) > 0 {
		b.WriteString(" [")
		for i, fe := range e.Errors {
			if i > 0 {
				b.WriteString("; ")
			}
			if fe.Field != "" {
				b.WriteString(fe.Field)
				b.WriteString(": ")
			}
			b.WriteString(fe.Message)
		}
		b.WriteString("]")
	}
	if e.TrackingID != "" {
		b.WriteString(" (tracking id ")
		b.WriteString(e.TrackingID)
		b.WriteString(")")
	}
	return b.String()
}

// Class says what a caller should do about an error.
type Class int

const (
	// Permanent: a retry cannot fix it (most 4xx).
	Permanent Class = iota
	// RetrySoon: transient (network error, 5xx, 429 without a time); retry with backoff.
	RetrySoon
	// RetryLater: retry no earlier than the time Classify returns.
	RetryLater
	// AccountFault: the token endpoint rejected the account's app (see
	// IsCredentialsRejected). Not the job's fault: it must not fail; it
	// waits until (*Client).CheckCredentials succeeds again.
	AccountFault
)

// String returns "permanent", "retry_soon", "retry_later" or "account_fault".
func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case RetrySoon:
		return "retry_soon"
	case RetryLater:
		return "retry_later"
	case AccountFault:
		return "account_fault"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Zoom error codes (APIError.Code) this package gives meaning to.
const (
	CodeInvalidAccessToken = 124  // "Invalid access token." (401): the client refreshes once
	CodeInvalidParameter   = 300  // also used for the per-user daily meeting create/update limit
	CodeUserNotFound       = 1001 // "User does not exist: {userId}"
	CodeUserExists         = 1005 // "Email {email} has already been used" (409)
	CodeMeetingNotFound    = 3001 // "Meeting {meetingId} is not found or has expired"
)

// Bounds on what an APIError keeps of an answer.
const (
	maxErrorMessageRunes    = 1024
	maxErrorFieldErrorCount = 50
)

// Classify sorts any error from a Client call or a TokenSource. For
// RetryLater, at is when a retry may go. Context cancellation is RetrySoon
// (the job was not finished).
//
//   - A Held (the request never went; a limiter said when it may) is
//     RetryLater at its RetryAt.
//   - *APIError: 429 with a time (Retry-After, else X-RateLimit-Reset, or
//     the daily limit's next 00:00 UTC) is RetryLater; 429 without one is RetrySoon; the daily
//     meeting limit answered as code 300 is RetryLater; 5xx and 408 are
//     RetrySoon (RetryLater when Zoom sent Retry-After); a 429 saying another
//     request for the user is in progress (UserBusy) is RetrySoon; 401 code
//     124 (the token was rejected even after one refresh) is RetrySoon;
//     other statuses are Permanent.
//   - *TokenError: a Rejected one (the endpoint answered a 4xx other than
//     408 and 429: invalid_client, invalid_grant, a wrong account id, an app
//     not enabled) is AccountFault: only new credentials fix it, for all of
//     the account's jobs alike; otherwise by the status as above.
//   - Network errors (net.Error, connection reset or refused, broken pipe,
//     io.EOF, io.ErrUnexpectedEOF) and context.Canceled/DeadlineExceeded
//     are RetrySoon, and so is a failed Options.Limiter.
//   - Anything else (an unmarshalable body, an oversized or undecodable
//     answer) is Permanent.
//
// Callers handle a nil error (success) before classifying; Classify(nil)
// reports Permanent with a zero time, which is never what a caller wants.
func Classify(err error) (c Class, at time.Time) {
	if err == nil {
		return Permanent, time.Time{}
	}
	if h, ok := AsHeld(err); ok {
		return RetryLater, h.RetryAt()
	}
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.UserBusy && !ae.DailyLimit {
			return RetrySoon, time.Time{}
		}
		return classifyStatus(ae.StatusCode, ae.Code, ae.RetryAfter, ae.DailyLimit)
	}
	var te *TokenError
	if errors.As(err, &te) {
		if te.Rejected {
			return AccountFault, time.Time{}
		}
		if te.StatusCode == 0 {
			if isTransient(te.Err) {
				return RetrySoon, time.Time{}
			}
			return Permanent, time.Time{}
		}
		return classifyStatus(te.StatusCode, 0, te.RetryAfter, false)
	}
	if isTransient(err) {
		return RetrySoon, time.Time{}
	}
	return Permanent, time.Time{}
}

func classifyStatus(status, code int, retryAfter time.Time, daily bool) (Class, time.Time) {
	switch {
	case daily:
		return RetryLater, retryAfter
	case status == http.StatusTooManyRequests,
		status == http.StatusRequestTimeout,
		status >= 500:
		if !retryAfter.IsZero() {
			return RetryLater, retryAfter
		}
		return RetrySoon, time.Time{}
	case status == http.StatusUnauthorized && code == CodeInvalidAccessToken:
		return RetrySoon, time.Time{}
	}
	return Permanent, time.Time{}
}

// isTransient reports whether err is a network failure, a cancelled or
// timed-out context, or a failed rate limiter.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	var te *transientError
	var ne net.Error
	return errors.As(err, &te) ||
		errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) ||
		errors.As(err, &ne)
}

// transientError marks an error Classify reports as RetrySoon whatever it
// wraps (a failed rate limiter, say).
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// IsNotFound reports whether err is Zoom saying the user or meeting does not
// exist: a 404, or Zoom's code 1001 (user) or 3001 (meeting) whatever the
// status.
func IsNotFound(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.StatusCode == http.StatusNotFound ||
		ae.Code == CodeUserNotFound || ae.Code == CodeMeetingNotFound
}

// IsUserExists reports whether err is Zoom's answer to creating a user whose
// email is already in the account: 409 with code 1005.
func IsUserExists(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusConflict && ae.Code == CodeUserExists
}

// zoomErrorBody is the body of Zoom's error answers.
type zoomErrorBody struct {
	Code    json.RawMessage `json:"code"` // a number; tolerated as a string
	Message string          `json:"message"`
	Errors  []FieldError    `json:"errors"`
}

// newAPIError builds the APIError for a non-2xx answer. redact lists strings
// (the bearer token) that must not appear in the message.
func newAPIError(op string, resp *http.Response, body []byte, now time.Time, redact ...string) *APIError {
	e := &APIError{
		Op:            op,
		StatusCode:    resp.StatusCode,
		RateLimitType: resp.Header.Get("X-RateLimit-Type"),
		RetryAfter:    parseRetryAfter(resp.Header.Get("Retry-After"), now),
		TrackingID:    trackingID(resp.Header),
	}
	var zb zoomErrorBody
	if err := json.Unmarshal(body, &zb); err == nil {
		if n, err := strconv.Atoi(strings.Trim(string(zb.Code), `"`)); err == nil {
			e.Code = n
		}
		e.Message = zb.Message
		e.Errors = zb.Errors
		if len(e.Errors) > maxErrorFieldErrorCount {
			e.Errors = e.Errors[:maxErrorFieldErrorCount]
		}
	} else {
		// Not Zoom's JSON (a proxy's HTML page, say): keep a short text.
		e.Message = strings.Join(strings.Fields(string(body)), " ")
	}
	e.Message = clip(redactAll(e.Message, redact), maxErrorMessageRunes)
	for i := range e.Errors {
		e.Errors[i].Field = clip(redactAll(e.Errors[i].Field, redact), maxErrorMessageRunes)
		e.Errors[i].Message = clip(redactAll(e.Errors[i].Message, redact), maxErrorMessageRunes)
	}

	e.UserBusy = e.StatusCode == http.StatusTooManyRequests && isUserBusy(e.Message)
	if e.StatusCode == http.StatusTooManyRequests && e.RetryAfter.IsZero() {
		// Zoom's per-second 429 says when in X-RateLimit-Reset, not Retry-After.
		e.RetryAfter = parseRetryAfter(resp.Header.Get("X-RateLimit-Reset"), now)
	}
	switch {
	case isDailyMeetingLimit(e):
		e.DailyLimit = true
		if e.RetryAfter.IsZero() {
			e.RetryAfter = nextMidnightUTC(now)
		}
	case op == opAddRegistrant && e.StatusCode == http.StatusTooManyRequests && !e.UserBusy &&
		(strings.Contains(strings.ToLower(e.RateLimitType), "daily") || isDailyWording(e.Message)):
		// Add registrant is Light, which has no daily pool on paid plans:
		// a daily 429 there is the per-registrant limit.
		e.RegistrantLimit = true
		if e.RetryAfter.IsZero() {
			e.RetryAfter = nextMidnightUTC(now)
		}
	case e.StatusCode == http.StatusTooManyRequests && e.RetryAfter.IsZero() &&
		(strings.Contains(strings.ToLower(e.RateLimitType), "daily") ||
			strings.Contains(strings.ToLower(e.Message), "daily")):
		// Another daily quota (user invites for the account, an account's
		// daily limit): it resets at 00:00 UTC as well.
		e.RetryAfter = nextMidnightUTC(now)
	}
	return e
}

// isDailyMeetingLimit recognises the per-user daily meeting create/update
// limit (100 a day per host, reset at 00:00 UTC). Zoom words it in several
// ways and has answered it as 429 and as code 300:
//
//	You have reached the maximum daily meeting create/update limit for this user.
//	You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for ...
//	A maximum of 100 meetings can be created/updated for a single user in one day.
func isDailyMeetingLimit(e *APIError) bool {
	if e.StatusCode != http.StatusTooManyRequests && e.Code != CodeInvalidParameter &&
		e.StatusCode != http.StatusMultipleChoices {
		return false
	}
	m := strings.ToLower(e.Message)
	daily := isDailyWording(m)
	meeting := strings.Contains(m, "meeting")
	createUpdate := strings.Contains(m, "create") || strings.Contains(m, "update")
	return daily && meeting && createUpdate
}

// isDailyWording reports whether a message speaks of a daily limit.
func isDailyWording(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "daily") || strings.Contains(m, "one day") || strings.Contains(m, "per day")
}

// isUserBusy recognises Zoom's 429 for a request on a user that another
// request on the same user holds up (Zoom allows one DELETE at a time per
// user, and a POST /users blocks the other operations on that user):
//
//	A request to delete this user has already been made. Please wait for the previous request to complete.
//	Too many concurrent requests for this user.
func isUserBusy(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "has already been made") ||
		strings.Contains(m, "already in progress") ||
		(strings.Contains(m, "concurrent") && strings.Contains(m, "user"))
}

// trackingID reads x-zm-trackingid, cut to a sane length and to printable
// ASCII: it goes into logs and events.
func trackingID(h http.Header) string {
	v := h.Get("X-Zm-Trackingid")
	if len(v) > 128 {
		v = v[:128]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return -1
		}
		return r
	}, v)
}

// parseRetryAfter reads a Retry-After value: delay seconds, an HTTP date, a
// Unix timestamp (seconds or milliseconds) or an RFC 3339 time. It returns
// zero for an empty or unreadable value.
func parseRetryAfter(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		switch {
		case n < 0:
			return time.Time{}
		case n >= 1_000_000_000_000: // Unix milliseconds
			return time.UnixMilli(n).UTC()
		case n >= 1_000_000_000: // Unix seconds (after 2001-09-09)
			return time.Unix(n, 0).UTC()
		default:
			return now.Add(time.Duration(n) * time.Second)
		}
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// nextMidnightUTC is the 00:00 UTC that follows now, when Zoom's daily
// limits reset.
func nextMidnightUTC(now time.Time) time.Time {
	u := now.UTC()
	return time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
}

func redactAll(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
