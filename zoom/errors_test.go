package zoom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fixedNow is the clock of the error tests: a Thursday afternoon, UTC.
var fixedNow = time.Date(2026, 11, 26, 20, 23, 25, 0, time.UTC)

func TestErrorAnswers(t *testing.T) {
	midnight := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name           string
		status         int
		header         map[string]string
		body           string
		wantCode       int
		wantMessage    string
		wantErrors     []FieldError
		wantRetryAfter time.Time
		wantDaily      bool
		wantRLType     string
		wantClass      Class
		wantAt         time.Time
		wantNotFound   bool
		wantUserExists bool
		wantString     string // "" means not checked
	}{
		{
			name: "user not found", status: 404, body: `{"code":1001,"message":"User does not exist: x."}`,
			wantCode: 1001, wantMessage: "User does not exist: x.", wantClass: Permanent, wantNotFound: true,
			wantString: "zoom: create meeting: 404 (code 1001): User does not exist: x.",
		},
		{
			name: "meeting not found", status: 404, body: `{"code":3001,"message":"Meeting 1 is not found or has expired."}`,
			wantCode: 3001, wantMessage: "Meeting 1 is not found or has expired.", wantClass: Permanent, wantNotFound: true,
		},
		{
			name: "user not found as 400", status: 400, body: `{"code":1001,"message":"User does not exist: x."}`,
			wantCode: 1001, wantMessage: "User does not exist: x.", wantClass: Permanent, wantNotFound: true,
		},
		{
			name: "code sent as a string", status: 404, body: `{"code":"1001","message":"User does not exist: x."}`,
			wantCode: 1001, wantMessage: "User does not exist: x.", wantClass: Permanent, wantNotFound: true,
		},
		{
			name: "user exists", status: 409, body: `{"code":1005,"message":"Email \"james@bond.com\" has already been used."}`,
			wantCode: 1005, wantMessage: `Email "james@bond.com" has already been used.`, wantClass: Permanent,
			wantUserExists: true,
		},
		{
			name: "validation failed with field errors", status: 400,
			body:     `{"code":300,"message":"Validation Failed.","errors":[{"field":"topic","message":"Topic is too long."},{"field":"duration","message":"Invalid."}]}`,
			wantCode: 300, wantMessage: "Validation Failed.", wantClass: Permanent,
			wantErrors: []FieldError{{"topic", "Topic is too long."}, {"duration", "Invalid."}},
			wantString: "zoom: create meeting: 400 (code 300): Validation Failed. [topic: Topic is too long.; duration: Invalid.]",
		},
		// The formats of Retry-After are TestParseRetryAfter's.
		{
			name: "429 retry-after seconds", status: 429, header: map[string]string{"Retry-After": "7", "X-RateLimit-Type": "QPS"},
			body:     `{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}`,
			wantCode: 429, wantMessage: "You have reached the maximum per-second rate limit for this API. Try again later.",
			wantRetryAfter: fixedNow.Add(7 * time.Second), wantRLType: "QPS",
			wantClass: RetryLater, wantAt: fixedNow.Add(7 * time.Second),
		},
		{
			name: "429 without retry-after", status: 429, body: `{"code":429,"message":"Too many requests."}`,
			wantCode: 429, wantMessage: "Too many requests.", wantClass: RetrySoon,
		},
		{
			name: "429 daily limit, brief's wording", status: 429,
			body:     `{"code":429,"message":"You have reached the maximum daily meeting create/update limit for this user."}`,
			wantCode: 429, wantMessage: "You have reached the maximum daily meeting create/update limit for this user.",
			wantDaily: true, wantRetryAfter: midnight, wantClass: RetryLater, wantAt: midnight,
		},
		{
			name: "429 daily limit, API request wording", status: 429,
			body:     `{"code":429,"message":"You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00."}`,
			wantCode: 429, wantMessage: "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00.",
			wantDaily: true, wantRetryAfter: midnight, wantClass: RetryLater, wantAt: midnight,
		},
		{
			name: "code 300 daily limit, spec wording", status: 400,
			body:     `{"code":300,"message":"A maximum of 100 meetings can be created/updated for a single user in one day."}`,
			wantCode: 300, wantMessage: "A maximum of 100 meetings can be created/updated for a single user in one day.",
			wantDaily: true, wantRetryAfter: midnight, wantClass: RetryLater, wantAt: midnight,
		},
		{
			name: "daily limit with Retry-After keeps Zoom's time", status: 429,
			header:   map[string]string{"Retry-After": "2026-11-27T00:00:05Z", "X-RateLimit-Type": "Daily-limit"},
			body:     `{"code":429,"message":"You have reached the maximum daily meeting create/update limit for this user."}`,
			wantCode: 429, wantMessage: "You have reached the maximum daily meeting create/update limit for this user.",
			wantDaily: true, wantRLType: "Daily-limit",
			wantRetryAfter: midnight.Add(5 * time.Second), wantClass: RetryLater, wantAt: midnight.Add(5 * time.Second),
		},
		{
			name: "429 account daily user-invite limit", status: 429,
			body:     `{"code":429,"message":"You have exceeded the daily rate limit (50) of user invite requests permitted for this account. You may resume these requests at GMT 00:00:00."}`,
			wantCode: 429, wantMessage: "You have exceeded the daily rate limit (50) of user invite requests permitted for this account. You may resume these requests at GMT 00:00:00.",
			wantRetryAfter: midnight, wantClass: RetryLater, wantAt: midnight,
		},
		{
			name: "code 300 other invalid parameter", status: 400, body: `{"code":300,"message":"Invalid parameter: password"}`,
			wantCode: 300, wantMessage: "Invalid parameter: password", wantClass: Permanent,
		},
		{
			name: "500", status: 500, body: `{"code":500,"message":"Internal error."}`,
			wantCode: 500, wantMessage: "Internal error.", wantClass: RetrySoon,
		},
		{
			name: "502 HTML from a proxy", status: 502, body: "<html>\n<body>Bad   Gateway</body></html>",
			wantMessage: "<html> <body>Bad Gateway</body></html>", wantClass: RetrySoon,
			wantString: "zoom: create meeting: 502: <html> <body>Bad Gateway</body></html>",
		},
		{
			name: "503 empty body", status: 503, body: "", wantClass: RetrySoon,
			wantString: "zoom: create meeting: 503: Service Unavailable",
		},
		{
			name: "503 with retry-after", status: 503, header: map[string]string{"Retry-After": "30"}, body: "",
			wantRetryAfter: fixedNow.Add(30 * time.Second), wantClass: RetryLater, wantAt: fixedNow.Add(30 * time.Second),
		},
		{
			name: "408", status: 408, body: "", wantClass: RetrySoon,
		},
		{
			name: "401 other than invalid token", status: 401, body: `{"code":200,"message":"No privilege."}`,
			wantCode: 200, wantMessage: "No privilege.", wantClass: Permanent,
		},
		{
			name: "403", status: 403, body: `{"code":104,"message":"Invalid access token, does not contain scopes:[meeting:write:admin]."}`,
			wantCode: 104, wantMessage: "Invalid access token, does not contain scopes:[meeting:write:admin].", wantClass: Permanent,
		},
		{
			name: "error echoing the token", status: 400,
			body:     `{"code":300,"message":"Bad header Authorization: Bearer ` + testToken + `","errors":[{"field":"` + testToken + `","message":"x"}]}`,
			wantCode: 300, wantMessage: "Bad header Authorization: Bearer [REDACTED]", wantClass: Permanent,
			wantErrors: []FieldError{{"[REDACTED]", "x"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, answering(tt.status, tt.header, tt.body))
			c := newTestClient(t, ts, func(o *Options) { o.Now = func() time.Time { return fixedNow } })
			_, err := c.CreateMeeting(context.Background(), "x", map[string]any{"topic": "t"})
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want an *APIError", err, err)
			}
			if ae.Op != "create meeting" || ae.StatusCode != tt.status {
				t.Errorf("Op, StatusCode = %q, %d, want %q, %d", ae.Op, ae.StatusCode, "create meeting", tt.status)
			}
			if ae.Code != tt.wantCode {
				t.Errorf("Code = %d, want %d", ae.Code, tt.wantCode)
			}
			if tt.wantMessage != "" && ae.Message != tt.wantMessage {
				t.Errorf("Message = %q, want %q", ae.Message, tt.wantMessage)
			}
			if !reflect.DeepEqual(ae.Errors, tt.wantErrors) {
				t.Errorf("Errors = %v, want %v", ae.Errors, tt.wantErrors)
			}
			if !ae.RetryAfter.Equal(tt.wantRetryAfter) {
				t.Errorf("RetryAfter = %v, want %v", ae.RetryAfter, tt.wantRetryAfter)
			}
			if ae.DailyLimit != tt.wantDaily {
				t.Errorf("DailyLimit = %v, want %v", ae.DailyLimit, tt.wantDaily)
			}
			if ae.RateLimitType != tt.wantRLType {
				t.Errorf("RateLimitType = %q, want %q", ae.RateLimitType, tt.wantRLType)
			}
			class, at := Classify(fmt.Errorf("create meeting for x: %w", err))
			if class != tt.wantClass || !at.Equal(tt.wantAt) {
				t.Errorf("Classify = %v, %v, want %v, %v", class, at, tt.wantClass, tt.wantAt)
			}
			if got := IsNotFound(err); got != tt.wantNotFound {
				t.Errorf("IsNotFound = %v, want %v", got, tt.wantNotFound)
			}
			if got := IsUserExists(err); got != tt.wantUserExists {
				t.Errorf("IsUserExists = %v, want %v", got, tt.wantUserExists)
			}
			if tt.wantString != "" && err.Error() != tt.wantString {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantString)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("Error() = %q contains the token", err.Error())
			}
		})
	}
}

func TestAPIErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *APIError
		want string
	}{
		{name: "full", err: &APIError{Op: "create meeting", StatusCode: 404, Code: 1001, Message: "User does not exist: x"},
			want: "zoom: create meeting: 404 (code 1001): User does not exist: x"},
		{name: "no code", err: &APIError{Op: "get user", StatusCode: 500, Message: "boom"},
			want: "zoom: get user: 500: boom"},
		{name: "no message", err: &APIError{Op: "get user", StatusCode: 429},
			want: "zoom: get user: 429: Too Many Requests"},
		{name: "no op", err: &APIError{StatusCode: 400, Code: 300, Message: "m"},
			want: "zoom: 400 (code 300): m"},
		{name: "field error without field", err: &APIError{Op: "o", StatusCode: 400, Code: 300, Message: "m",
			Errors: []FieldError{{Message: "bad"}}},
			want: "zoom: o: 400 (code 300): m [bad]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassifyOtherErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{name: "nil is reported as permanent", err: nil, want: Permanent},
		{name: "plain error", err: errors.New("something"), want: Permanent},
		{name: "context canceled", err: fmt.Errorf("x: %w", context.Canceled), want: RetrySoon},
		{name: "deadline exceeded", err: fmt.Errorf("x: %w", context.DeadlineExceeded), want: RetrySoon},
		{name: "unexpected EOF", err: fmt.Errorf("read: %w", io.ErrUnexpectedEOF), want: RetrySoon},
		{name: "EOF", err: fmt.Errorf("read: %w", io.EOF), want: RetrySoon},
		{name: "connection reset", err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}, want: RetrySoon},
		{name: "bare ECONNRESET", err: fmt.Errorf("x: %w", syscall.ECONNRESET), want: RetrySoon},
		{name: "connection refused", err: fmt.Errorf("x: %w", syscall.ECONNREFUSED), want: RetrySoon},
		{name: "net timeout", err: fmt.Errorf("x: %w", timeoutError{}), want: RetrySoon},
		{name: "token endpoint 500", err: &TokenError{StatusCode: 500}, want: RetrySoon},
		{name: "token endpoint 429", err: &TokenError{StatusCode: 429}, want: RetrySoon},
		{name: "token endpoint 401 invalid_client", err: &TokenError{StatusCode: 401, ErrorCode: "invalid_client"}, want: Permanent},
		{name: "token endpoint 400 invalid_request", err: &TokenError{StatusCode: 400, ErrorCode: "invalid_request"}, want: Permanent},
		{name: "token endpoint unreachable", err: &TokenError{Err: syscall.ECONNREFUSED}, want: RetrySoon},
		{name: "token source misconfigured", err: &TokenError{Err: errors.New("account id required")}, want: Permanent},
		{name: "token rejected twice", err: &APIError{StatusCode: 401, Code: 124}, want: RetrySoon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, at := Classify(tt.err)
			if got != tt.want {
				t.Errorf("Classify = %v, want %v", got, tt.want)
			}
			if !at.IsZero() {
				t.Errorf("at = %v, want zero", at)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := fixedNow
	tests := []struct {
		name string
		in   string
		want time.Time
	}{
		{name: "empty", in: "", want: time.Time{}},
		{name: "seconds", in: "120", want: now.Add(2 * time.Minute)},
		{name: "zero seconds", in: "0", want: now},
		{name: "negative", in: "-5", want: time.Time{}},
		{name: "HTTP date", in: "Fri, 27 Nov 2026 00:00:00 GMT", want: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		{name: "unix seconds", in: "1795737600", want: time.Unix(1795737600, 0).UTC()},
		{name: "unix milliseconds", in: "1795737600123", want: time.UnixMilli(1795737600123).UTC()},
		{name: "RFC 3339 with offset", in: "2026-11-27T01:00:00+01:00", want: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		{name: "garbage", in: "soon", want: time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.in, now); !got.Equal(tt.want) {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNextMidnightUTC(t *testing.T) {
	tests := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{name: "afternoon", now: fixedNow, want: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		{name: "exactly midnight", now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), want: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)},
		{name: "end of year", now: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), want: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "other zone", now: time.Date(2026, 11, 26, 20, 0, 0, 0, time.FixedZone("X", 8*3600)), want: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextMidnightUTC(tt.now); !got.Equal(tt.want) {
				t.Errorf("nextMidnightUTC(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

// TestConnectionFailures uses hijacked connections to fail the exchange the
// way a network does.
func TestConnectionFailures(t *testing.T) {
	tests := []struct {
		name    string
		kill    func(c net.Conn)
		wantErr error
	}{
		{name: "reset (RST)", kill: func(c net.Conn) {
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
		}, wantErr: syscall.ECONNRESET},
		{name: "closed without an answer", kill: func(c net.Conn) { _ = c.Close() }, wantErr: io.EOF},
		{name: "cut mid-body", kill: func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\":")
			_ = c.Close()
		}, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				tt.kill(conn)
			})
			_, err := newTestClient(t, ts).CreateMeeting(context.Background(), "me", map[string]any{"topic": "x"})
			if err == nil {
				t.Fatal("err = nil, want a network error")
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if class, _ := Classify(err); class != RetrySoon {
				t.Errorf("Classify(%v) = %v, want RetrySoon", err, class)
			}
			if !strings.HasPrefix(err.Error(), "zoom: create meeting: ") {
				t.Errorf("Error() = %q, want the zoom: create meeting: prefix", err.Error())
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("Error() = %q contains the token", err.Error())
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c, err := NewClient(Options{BaseURL: "http://" + addr + "/v2", Tokens: StaticToken(testToken)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background(), "x")
	if class, _ := Classify(err); class != RetrySoon {
		t.Errorf("Classify(%v) = %v, want RetrySoon", err, class)
	}
}
