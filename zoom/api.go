package zoom

// This file fixes the exported API of package zoom. Bodies are filled in by
// the implementation files.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
)

// Category is Zoom's rate-limit category of an API operation.
type Category string

const (
	Light  Category = "light"  // e.g. GET /users/{id}, POST /users, GET/PATCH/DELETE /meetings/{id}
	Medium Category = "medium" // e.g. POST /users/{id}/meetings, GET /users/{id}/meetings (list)
	Heavy  Category = "heavy"
	// ResourceIntensive shares its daily pool with Heavy.
	ResourceIntensive Category = "resource-intensive"
)

// Limiter is asked before every API request (not token requests). Wait blocks
// until the request may go, or returns ctx's error. Nil means no limit.
type Limiter interface {
	Wait(ctx context.Context, cat Category) error
}

// QuotaObserver may be implemented by a Limiter: then the client tells it
// what each API answer said about the account's quota, so the limiter owns
// both the wait before a request and the pause after a 429. ObserveQuota is
// called after every answer that carries a rate-limit header or is a 429
// (Quota.Known), before the call returns; it should be quick and must not
// block on ctx longer than the call itself would.
type QuotaObserver interface {
	ObserveQuota(ctx context.Context, q Quota)
}

// Quota is what one answer of Zoom said about the account's rate limits,
// from its headers (Zoom sends them where it has them, not on every answer).
type Quota struct {
	// Op names the operation ("create meeting"); Category is its
	// rate-limit category from this package's table, the one Limiter.Wait got.
	Op       string
	Category Category
	// ZoomCategory is X-RateLimit-Category as Zoom named it, lower-cased
	// ("light", "medium", "heavy", "resource-intensive"); "" when not sent.
	ZoomCategory Category
	// Type is X-RateLimit-Type: "QPS" (per second) or "Daily-limit"; "" when not sent.
	Type string
	// Limit is X-RateLimit-Limit; 0 when not sent.
	Limit int
	// Remaining is X-RateLimit-Remaining; -1 when not sent.
	Remaining int
	// Reset is X-RateLimit-Reset (when the quota refills); zero when not sent.
	Reset time.Time
	// RetryAfter is Retry-After; zero when not sent. For a daily limit
	// without one it is the next 00:00 UTC.
	RetryAfter time.Time
	// Status is the answer's HTTP status.
	Status int
	// Limited is true for a 429 of the account's quota (per second or a
	// daily pool): every request of Category should wait until RetryAfter
	// (a second when zero). False for the 429s that hold for one user or
	// one meeting only (UserBusy, PerUser).
	Limited bool
	// UserBusy is true for Zoom's 429 saying another request for the same
	// user is in progress ("a request to ... this user has already been
	// made"): only that call should be retried soon; the account is not
	// over its quota.
	UserBusy bool
	// PerUser is true for a per-user or per-resource daily limit (a host's
	// 100 meeting creates and updates a day, a registrant's 3 registrations
	// a day for one meeting): a 429 of one, or a Daily-limit count in the
	// answer of an operation that has one. It holds for that user only.
	PerUser bool
}

// Known reports whether the answer said anything about the quota: a
// rate-limit header, Retry-After, or status 429.
func (q Quota) Known() bool {
	return q.ZoomCategory != "" || q.Type != "" || q.Limit > 0 || q.Remaining >= 0 ||
		!q.Reset.IsZero() || !q.RetryAfter.IsZero() || q.Status == 429
}

// Daily reports whether the quota is a daily one (X-RateLimit-Type Daily-limit).
func (q Quota) Daily() bool { return strings.Contains(strings.ToLower(q.Type), "daily") }

// APIURLSource may be implemented by a TokenSource whose token answer names
// the account's API host (OAuth's "api_url", e.g. "https://api-eu.zoom.us"):
// a Client with an empty Options.BaseURL sends its requests there. APIURL
// returns "" when the source knows none (yet).
type APIURLSource interface {
	APIURL() string
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
	// RefreshBefore is the most a token is replaced before its expiry; 0
	// means 5 minutes. A token is replaced no more than a twelfth of its
	// lifetime before it expires, so a short-lived one is not fetched anew
	// for every call.
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
	// BaseURL is Zoom's REST base URL, "/v2" included. "" means the
	// account's own host: the api_url of the token answer + "/v2" when
	// Tokens implements APIURLSource and knows one (Zoom's regional hosts:
	// api-eu, api-uk, ...), else DefaultBaseURL. An explicit BaseURL always wins.
	BaseURL string
	Tokens  TokenSource
	// HTTPClient nil means a pooled client with a 30 s timeout.
	HTTPClient *http.Client
	// Limiter nil means no limit. When it implements QuotaObserver it also
	// hears what each answer said about the quota.
	Limiter Limiter
	// Now nil means time.Now (used to read Retry-After and daily limits).
	Now func() time.Time
}

// User is a Zoom user as Zoom answers it: the domain's messages.User with
// the fields it names decoded, and Raw, the whole JSON body. Extra is left
// nil (Raw holds every field); Whole decodes the rest.
type User struct {
	messages.User
	Raw json.RawMessage `json:"-"`
}

// Meeting is a Zoom meeting as Zoom answers it: the domain's
// messages.Meeting with the fields it names decoded, and Raw, the whole JSON
// body (for a listed meeting: its element of the list). Extra is left nil
// (Raw holds every field); Whole decodes the rest. StartURL is Zoom's, with
// the host's ZAK in it: what the caller passes on is its choice.
type Meeting struct {
	messages.Meeting
	Raw json.RawMessage `json:"-"`
}

// Whole returns the user with every field Zoom sent: Raw decoded into a
// messages.User, the fields it has no name for in Extra. Without a Raw that
// decodes it is u.User.
func (u *User) Whole() messages.User { return whole(u.User, u.Raw) }

// Whole returns the meeting with every field Zoom sent, start_url included:
// Raw decoded into a messages.Meeting, the fields it has no name for in
// Extra. Without a Raw that decodes it is m.Meeting.
func (m *Meeting) Whole() messages.Meeting { return whole(m.Meeting, m.Raw) }

func whole[T any](decoded T, raw json.RawMessage) T {
	var all T
	if len(raw) == 0 || json.Unmarshal(raw, &all) != nil {
		return decoded
	}
	return all
}

// userFields and meetingFields are messages.User and messages.Meeting
// without their JSON methods: the client decodes an answer into them in one
// pass, since Raw keeps what Extra would (the worker passes Raw on as it is).
type (
	userFields    messages.User
	meetingFields messages.Meeting
)

func (u *User) fields() any                    { return (*userFields)(&u.User) }
func (m *Meeting) fields() any                 { return (*meetingFields)(&m.Meeting) }
func (u *User) keepRaw(raw json.RawMessage)    { u.Raw = raw }
func (m *Meeting) keepRaw(raw json.RawMessage) { m.Raw = raw }

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

// Registrant is a meeting registrant as Zoom answers it: the answer to
// adding one (POST /meetings/{meetingId}/registrants) or an element of the
// listing (GET). Raw is that JSON as Zoom sent it.
type Registrant struct {
	// RegistrantID is Zoom's registrant id: "registrant_id" of the add
	// answer, "id" of a listed registrant.
	RegistrantID string
	// MeetingID is the add answer's "id" (the meeting); 0 in a listing.
	MeetingID int64
	Email     string
	FirstName string
	LastName  string
	// Status is "approved", "pending" or "denied" (listing only).
	Status string
	// JoinURL is the registrant's own link; Zoom leaves it out while a
	// manually approved registration is pending.
	JoinURL            string
	Topic              string // add answer only
	StartTime          string // add answer only
	CreateTime         string // listing only
	ParticipantPinCode int64
	Raw                json.RawMessage
}

// Registrant statuses, as GET /meetings/{meetingId}/registrants?status= takes them.
const (
	RegistrantApproved = "approved"
	RegistrantPending  = "pending"
	RegistrantDenied   = "denied"
)
