// Package zoomtest is a fake Zoom: an http.Handler that serves the token
// endpoint and the REST API v2 endpoints zoom-worker uses, the way Zoom's
// documentation says Zoom answers them. Tests and `zoom-worker dev` use it.
package zoomtest

import (
	"net/http"
	"time"
)

// Options configures a fake Zoom. The zero value is a fast, faultless Zoom
// that accepts any credentials.
type Options struct {
	// AccountID, ClientID, ClientSecret: when ClientID is set, the token
	// endpoint accepts only these (Basic auth, grant_type=account_credentials).
	AccountID, ClientID, ClientSecret string
	// APIKey, APISecret: when set, HS256 JWTs with iss=APIKey signed with
	// APISecret are accepted as bearer tokens too.
	APIKey, APISecret string
	// TokenTTL is the lifetime of issued tokens; 0 means 1 hour.
	TokenTTL time.Duration
	// Latency is added to every API answer (not token answers).
	Latency time.Duration
	// FailRate in [0,1] answers that share of API requests with a 5xx.
	FailRate float64
	// ResetRate in [0,1] drops that share of API connections without an answer.
	ResetRate float64
	// RateLimit is requests per second per account that Zoom allows
	// (429 with Retry-After beyond it); 0 means no limit.
	RateLimit float64
	// DailyMeetingLimit is meeting creates/updates per host per UTC day; 0 means 100.
	DailyMeetingLimit int
	// Now nil means time.Now.
	Now func() time.Time
	// Seed for the random faults; 0 means a fixed default.
	Seed int64
}

// Stats counts what the fake served.
type Stats struct {
	TokensIssued    int
	UsersCreated    int
	MeetingsCreated int
	MeetingsUpdated int
	MeetingsDeleted int
	UsersDeleted    int
	Requests        int // API requests, all outcomes
	RateLimited     int // 429 answers
	ServerErrors    int // injected 5xx answers
	Resets          int // injected connection resets
	Unauthorized    int // 401 answers
}

// Server is the fake Zoom. Its methods are safe for concurrent use.
type Server struct{}

// New returns a fake Zoom.
func New(opts Options) *Server { panic("TODO") }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { panic("TODO") }
