package zoom

// This file fixes the exported API of package zoom. Bodies are filled in by
// the implementation files.

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Category is Zoom's rate-limit category of an API operation.
type Category string

const (
	Light  Category = "light"  // e.g. GET /users/{id}, POST /users, GET/PATCH/DELETE /meetings/{id}
	Medium Category = "medium" // e.g. POST /users/{id}/meetings, GET /users/{id}/meetings (list)
	Heavy  Category = "heavy"
)

// Limiter is asked before every API request (not token requests). Wait blocks
// until the request may go, or returns ctx's error. Nil means no limit.
type Limiter interface {
	Wait(ctx context.Context, cat Category) error
}

// TokenCache shares access tokens between processes (Redis in the worker).
// Get returns ok=false when there is none. Nil means no sharing.
type TokenCache interface {
	GetToken(ctx context.Context, key string) (token string, expiry time.Time, ok bool, err error)
	SetToken(ctx context.Context, key string, token string, expiry time.Time) error
	// DeleteToken drops a token Zoom rejected, if it is still the cached one.
	DeleteToken(ctx context.Context, key string, token string) error
}

// TokenLocker may be implemented by a TokenCache: then one process at a
// time fetches a new token while the others wait for it in the cache, so a
// fleet starting together mints one token, not one per process. LockToken
// reports got=false when another process holds the lock.
type TokenLocker interface {
	LockToken(ctx context.Context, key string, ttl time.Duration) (unlock func(), got bool, err error)
}

// TokenSource hands out bearer tokens for API calls.
type TokenSource interface {
	// Token returns a valid token, fetching or signing one when needed.
	Token(ctx context.Context) (string, error)
	// Invalidate tells the source that Zoom rejected tok (401, code 124), so
	// the next Token call gets a fresh one.
	Invalidate(tok string)
}

// OAuthConfig is a Server-to-Server OAuth app.
type OAuthConfig struct {
	AccountID, ClientID, ClientSecret string
	// TokenURL defaults to DefaultTokenURL.
	TokenURL string
	// HTTPClient nil means a default pooled client.
	HTTPClient *http.Client
	// Cache nil means tokens are cached in this process only.
	Cache TokenCache
	// RefreshBefore is how long before expiry a token is replaced; 0 means 5 minutes.
	RefreshBefore time.Duration
	// Now nil means time.Now.
	Now func() time.Time
}

// JWTConfig is a legacy JWT app: HS256 tokens with iss = APIKey signed locally.
type JWTConfig struct {
	APIKey, APISecret string
	// TTL of each signed token; 0 means 1 hour. A token is re-signed before it expires.
	TTL time.Duration
	Now func() time.Time
}

const (
	DefaultBaseURL  = "https://api.zoom.us/v2"
	DefaultTokenURL = "https://zoom.us/oauth/token"
)

// Options configures a Client.
type Options struct {
	// BaseURL defaults to DefaultBaseURL ("/v2" included).
	BaseURL string
	Tokens  TokenSource
	// HTTPClient nil means a pooled client with a 30 s timeout.
	HTTPClient *http.Client
	Limiter    Limiter
	// Now nil means time.Now (used to read Retry-After and daily limits).
	Now func() time.Time
}

// User is a Zoom user as Zoom answers it. Raw is the whole JSON body.
type User struct {
	ID        string          `json:"id"`
	Email     string          `json:"email"`
	FirstName string          `json:"first_name,omitempty"`
	LastName  string          `json:"last_name,omitempty"`
	Type      int             `json:"type"`
	Status    string          `json:"status,omitempty"`
	Raw       json.RawMessage `json:"-"`
}

// Meeting is a Zoom meeting as Zoom answers it. Raw is the whole JSON body
// (for a listed meeting: its element of the list).
type Meeting struct {
	ID        int64           `json:"id"`
	UUID      string          `json:"uuid,omitempty"`
	HostID    string          `json:"host_id,omitempty"`
	Topic     string          `json:"topic,omitempty"`
	Type      int             `json:"type,omitempty"`
	StartTime string          `json:"start_time,omitempty"`
	Duration  int             `json:"duration,omitempty"`
	Timezone  string          `json:"timezone,omitempty"`
	JoinURL   string          `json:"join_url,omitempty"`
	StartURL  string          `json:"start_url,omitempty"`
	Password  string          `json:"password,omitempty"`
	Agenda    string          `json:"agenda,omitempty"`
	CreatedAt string          `json:"created_at,omitempty"`
	Raw       json.RawMessage `json:"-"`
}

// ListMeetingsOptions selects a page of a user's meetings.
type ListMeetingsOptions struct {
	// Type is Zoom's list type (scheduled, live, upcoming, ...); "" means scheduled.
	Type string
	// PageSize is 1..300; 0 means 300.
	PageSize      int
	NextPageToken string
}

// MeetingList is one page of a user's meetings.
type MeetingList struct {
	Meetings      []Meeting
	NextPageToken string
	TotalRecords  int
}

// DeleteMeetingOptions are the query parameters of DELETE /meetings/{id}.
type DeleteMeetingOptions struct {
	OccurrenceID          string
	ScheduleForReminder   *bool
	CancelMeetingReminder *bool
}

// DeleteUserOptions are the query parameters of DELETE /users/{id}.
type DeleteUserOptions struct {
	Action            string // disassociate (default) or delete
	TransferEmail     string
	TransferMeeting   *bool
	TransferWebinar   *bool
	TransferRecording *bool
}
