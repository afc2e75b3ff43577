package zoomtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

	// Added after the first cut of this API.

	// ResetAfterRate in [0,1] carries out that share of API requests (a
	// meeting is created, say) and then drops the connection instead of
	// answering, so the client cannot tell whether the request took effect.
	// 0 means never.
	ResetAfterRate float64
	// RetryAfterFormat is how the per-second rate limit's Retry-After header
	// is written: "seconds" (delay seconds, at least 1), "http-date" (an
	// RFC 1123 date in GMT), "rfc3339" (a UTC timestamp) or "none" (no
	// header). "" means "seconds".
	RetryAfterFormat string
	// DailyLimitAs300, when true, answers the per-host daily meeting limit the
	// way Zoom's API reference lists it (HTTP status 300, code 300, "A maximum
	// of 100 meetings can be created/updated for a single user in one day.")
	// instead of the 429 Zoom sends today. False means 429.
	DailyLimitAs300 bool
	// Logger receives one Debug record per answer (method, path, status); nil
	// means silent. Tokens and secrets are never logged.
	Logger *slog.Logger
	// APIURL is the token answer's api_url: the base URL (without "/v2") of
	// the account's regional API, which a client is to use instead of the
	// one it was configured with. "" means the URL the token request came
	// to ("http://" + its Host); "none" leaves the field out, as Zoom's
	// answers did before it had one. SetAPIURL changes it.
	APIURL string
	// WebhookURL and WebhookSecret: when WebhookURL is set, the fake sends
	// Zoom's event notifications for the changes it makes to that URL,
	// signed with the secret token (see SetWebhook).
	WebhookURL, WebhookSecret string
	// WebhookRetryDelays are the waits before each retry of a failed
	// delivery; nil means Zoom's 5, 20 and 60 minutes; empty (not nil)
	// means no retries.
	WebhookRetryDelays []time.Duration
	// WebhookTimeout is how long a delivery waits for the endpoint's
	// answer; 0 means Zoom's 3 seconds.
	WebhookTimeout time.Duration
	// Plan turns on the per-category rate limits of an account plan
	// (PlanPro, PlanBusiness; see SetPlan); PlanNone means none.
	Plan Plan
}

// Stats counts what the fake served.
type Stats struct {
	TokensIssued     int
	TokensRefused    int // token requests answered 401 invalid_client
	UsersCreated     int
	MeetingsCreated  int
	MeetingsUpdated  int
	MeetingsDeleted  int
	UsersDeleted     int
	UsersUpdated     int // PATCH /users/{userId} and status changes
	UserBusy         int // 429s for a write to a user another write holds
	RegistrantsAdded int // new registrants (an email registered again is not new)
	Requests         int // API requests, all outcomes
	RateLimited      int // 429 answers
	ServerErrors     int // injected 5xx answers
	Resets           int // injected connection resets
	Unauthorized     int // 401 answers
}

// Server is the fake Zoom. Its methods are safe for concurrent use.
//
// It serves the token endpoint at "/oauth/token" and the REST API under
// "/v2": a client's base URL is the server's URL + "/v2" and its token URL
// the server's URL + "/oauth/token".
type Server struct {
	opts Options // fixed at New; the knobs that change live below
	now  func() time.Time
	log  *slog.Logger

	mu sync.Mutex
	// Knobs that Set* methods change.
	latency        time.Duration
	failRate       float64
	resetRate      float64
	resetAfterRate float64
	rateLimit      float64
	tokenTTL       time.Duration
	apiURL         string
	rejectApp      bool // the token endpoint answers invalid_client
	rng            *rand.Rand
	stats          Stats

	// webhooks.go
	hooks *webhookSender
	// x-zm-trackingid: a random prefix and a counter make each one unique.
	trackPrefix string
	trackSeq    atomic.Uint64

	// auth.go
	tokens       map[string]time.Time // OAuth access token → expiry
	jwtSeen      map[string]bool      // JWTs accepted so far
	jwtRejected  map[string]bool      // JWTs seen before ExpireTokens
	tokensPruned time.Time

	// users.go
	users       []*user          // in creation order
	userByID    map[string]*user // by id
	userByEmail map[string]*user // by lower-cased email

	// meetings.go
	meetings   map[int64]*meeting
	meetingSeq int
	pages      map[string]*listing[int64] // next_page_token → the rest of a listing

	// registrants.go
	registrants    map[int64][]*registrant // by meeting, in the order they registered
	registrantAdds map[registrantKey]int   // add requests per registrant, meeting and UTC day
	regPages       map[string]*listing[string]

	// ratelimit.go
	tat       time.Time                // GCRA theoretical arrival time
	daily     map[dayKey]int           // creates+updates per host per UTC day
	quota     quotaState               // the plan's per-category limits
	busy      map[string]string        // lower-cased email → the operation in progress on that user
	opLatency map[string]time.Duration // by Zoom operationId

	// faults.go
	failNext []failBatch
	holds    map[holdPoint][]*Hold
}

// New returns a fake Zoom with no users; add hosts with AddUser or through
// POST /v2/users.
func New(opts Options) *Server {
	s := &Server{
		opts:           opts,
		now:            opts.Now,
		log:            opts.Logger,
		latency:        opts.Latency,
		failRate:       opts.FailRate,
		resetRate:      opts.ResetRate,
		resetAfterRate: opts.ResetAfterRate,
		rateLimit:      opts.RateLimit,
		tokenTTL:       opts.TokenTTL,
		apiURL:         opts.APIURL,
		tokens:         map[string]time.Time{},
		jwtSeen:        map[string]bool{},
		jwtRejected:    map[string]bool{},
		userByID:       map[string]*user{},
		userByEmail:    map[string]*user{},
		meetings:       map[int64]*meeting{},
		pages:          map[string]*listing[int64]{},
		registrants:    map[int64][]*registrant{},
		registrantAdds: map[registrantKey]int{},
		regPages:       map[string]*listing[string]{},
		daily:          map[dayKey]int{},
		quota:          quotaState{plan: opts.Plan, buckets: map[string]*bucket{}, other: map[string]float64{}},
		busy:           map[string]string{},
		opLatency:      map[string]time.Duration{},
		holds:          map[holdPoint][]*Hold{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.tokenTTL <= 0 {
		s.tokenTTL = time.Hour
	}
	if s.opts.DailyMeetingLimit <= 0 {
		s.opts.DailyMeetingLimit = 100
	}
	seed := uint64(opts.Seed)
	if seed == 0 {
		seed = 0x5eed
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.hooks = newWebhookSender(opts)
	s.trackPrefix = strconv.FormatUint(rand.Uint64(), 16) // not the seeded generator: ids differ across fakes
	return s
}

// Handler returns s as an http.Handler (for http.Server or httptest.NewServer).
func (s *Server) Handler() http.Handler { return s }

// setLocked sets the knob *p to v under s.mu: what every Set* method that
// only stores its argument does.
func setLocked[T any](s *Server, p *T, v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*p = v
}

// onPath takes s.mu, finds what the request's path names with find
// (userFromPathLocked, say, which answers Zoom's 404 when there is none)
// and answers op of it, still under the lock.
func onPath[T any](s *Server, c *call, find func(*call) (T, *answer), op func(T) answer) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, bad := find(c)
	if bad != nil {
		return *bad
	}
	return op(v)
}

// mapSlice is f of each of xs, in order.
func mapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ServeHTTP answers the token endpoint ("/oauth/token") and the REST API
// ("/v2/..."); any other path is a 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Zoom marks every answer with a tracking id its support can look up.
	w.Header().Set("x-zm-trackingid", s.newTrackingID())
	switch p := r.URL.Path; {
	case p == "/oauth/token":
		s.serveToken(w, r)
	case p == "/v2" || strings.HasPrefix(p, "/v2/"):
		s.serveAPI(w, r)
	case strings.HasPrefix(p, simPrefix+"/"):
		s.serveSim(w, r)
	default:
		writeAnswer(w, zoomError(http.StatusNotFound, http.StatusNotFound, "Not Found"))
	}
}

// serveAPI runs one API request through the fault injection, the checks
// Zoom makes and the operation, in this order: an injected reset or error
// (FailNext and ResetNext orders, then ResetRate and FailRate); the bearer
// token; the route; the per-second rate limit; a hold before the operation;
// the operation; a hold after it. Then the answer waits out the latency
// (the work is done: a client that gives up meanwhile does not know), and
// is written, or the connection is dropped (ResetAfterRate).
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	// Read the whole body first: only once a request's body is read does
	// net/http watch the connection and cancel the request's context when
	// the client goes away, which the latency and the holds wait on.
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ctx := r.Context()

	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()

	f := s.pickFault()
	if f.reset {
		resetConnection(w)
		return
	}
	a, ok := s.answerAPI(r, f)
	if !ok {
		return // the client went away while held
	}

	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return // the client is gone: nobody to answer
		}
	}
	if f.resetAfter {
		s.mu.Lock()
		s.stats.Resets++
		s.mu.Unlock()
		resetConnection(w)
		return
	}
	s.finish(w, r, a)
}

// answerAPI works out the answer to an API request. ok is false when the
// client went away while the request was held.
func (s *Server) answerAPI(r *http.Request, f fault) (a answer, ok bool) {
	if f.status != 0 {
		return injectedAnswer(f.status), true
	}
	if a, ok := s.authenticate(r); !ok {
		return a, true
	}
	rt, params, a := matchRoute(r)
	if rt == nil {
		return a, true
	}
	if a, limited := s.takeQPS(rt.category); limited {
		return a, true
	}
	quotaHeader, a, limited := s.takeQuota(rt.category)
	if limited {
		return a, true
	}
	if !s.waitHolds(r.Context(), rt.holdBefore) {
		return answer{}, false // nothing was done
	}
	c := &call{r: r, params: params}
	release, a, busy := s.lockUser(c, rt)
	if busy {
		return a, true
	}
	s.waitOpLatency(rt.op)
	a = rt.handle(s, c)
	release()
	if a.header == nil {
		a.header = http.Header{}
	}
	for k, v := range quotaHeader {
		if a.header.Get(k) == "" { // an operation's own (a host's daily limit) wins
			a.header[k] = v
		}
	}
	a.header.Set("X-RateLimit-Category", rt.category)
	if !s.waitHolds(r.Context(), rt.holdAfter) {
		return answer{}, false // done, but the client went away before the answer
	}
	return a, true
}

// finish counts a and writes it.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, a answer) {
	s.mu.Lock()
	switch a.status {
	case http.StatusUnauthorized:
		s.stats.Unauthorized++
	case http.StatusTooManyRequests:
		s.stats.RateLimited++
	}
	s.mu.Unlock()
	if s.log != nil {
		s.log.Debug("zoomtest: answered", "method", r.Method, "path", r.URL.Path, "status", a.status)
	}
	writeAnswer(w, a)
}

// Serve listens on addr ("127.0.0.1:0" picks a free port) and serves s with
// an http.Server until close is called. url is "http://host:port" (an
// unspecified host is given as 127.0.0.1): the client's base URL is
// url+"/v2" and its token URL url+"/oauth/token". close shuts the server
// down, dropping open connections (held requests end), and waits for the
// serving goroutine; it returns the first error the server met, if any.
func (s *Server) Serve(addr string) (url string, close func() error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	var once sync.Once
	var closeErr error
	closeFn := func() error {
		once.Do(func() {
			closeErr = srv.Close()
			if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) && closeErr == nil {
				closeErr = err
			}
		})
		return closeErr
	}
	return "http://" + net.JoinHostPort(host, port), closeFn, nil
}

// call is one routed API request.
type call struct {
	r      *http.Request
	params []string // the path's variable segments, unescaped
	// portal is true for a change made "in Zoom's web portal" (the
	// simulator): no API limits apply, Stats do not count it, and its
	// events name the host as operator.
	portal bool
}

// newTrackingID is an x-zm-trackingid value, unique per answer, shaped
// like Zoom's ("v=2.0;clid=us06;rid=WEB_...").
func (s *Server) newTrackingID() string {
	return fmt.Sprintf("v=2.0;clid=us06;rid=WEB_%s%012x", s.trackPrefix, s.trackSeq.Add(1))
}

// route is one API operation.
type route struct {
	method   string
	pattern  []string // "*" matches one segment
	op       string   // Zoom's operationId, for SetOpLatency
	category string   // Zoom's rate-limit label: "Light" or "Medium"
	handle   func(s *Server, c *call) answer
	// userWrite, when set, names the user the operation writes (a
	// lower-cased email) and what it does to it ("create", "delete", ...):
	// while it is in progress, other writes to that user are refused.
	userWrite func(s *Server, c *call) (email, verb string)
	// holdBefore and holdAfter name the hold points of the operation.
	holdBefore, holdAfter holdPoint
}

// routes are the operations the fake serves, below /v2.
var routes = []route{
	{method: http.MethodPost, pattern: []string{"users"}, op: "userCreate", category: "Light", handle: (*Server).createUser,
		holdBefore: holdUserCreateBefore, holdAfter: holdUserCreateAfter, userWrite: (*Server).createdUser},
	{method: http.MethodGet, pattern: []string{"users", "*"}, op: "user", category: "Light", handle: (*Server).getUser},
	{method: http.MethodDelete, pattern: []string{"users", "*"}, op: "userDelete", category: "Light", handle: (*Server).deleteUser,
		userWrite: (*Server).pathUser},
	{method: http.MethodPatch, pattern: []string{"users", "*"}, op: "userUpdate", category: "Light", handle: (*Server).updateUser,
		userWrite: (*Server).pathUser},
	{method: http.MethodPut, pattern: []string{"users", "*", "status"}, op: "userStatus", category: "Light", handle: (*Server).setUserStatus,
		userWrite: (*Server).pathUser},
	{method: http.MethodPost, pattern: []string{"users", "*", "meetings"}, op: "meetingCreate", category: "Medium", handle: (*Server).createMeeting,
		holdBefore: holdMeetingCreateBefore, holdAfter: holdMeetingCreateAfter},
	{method: http.MethodGet, pattern: []string{"users", "*", "meetings"}, op: "meetings", category: "Medium", handle: (*Server).listMeetings},
	{method: http.MethodGet, pattern: []string{"meetings", "*"}, op: "meeting", category: "Light", handle: (*Server).getMeeting},
	{method: http.MethodPatch, pattern: []string{"meetings", "*"}, op: "meetingUpdate", category: "Light", handle: (*Server).updateMeeting},
	{method: http.MethodDelete, pattern: []string{"meetings", "*"}, op: "meetingDelete", category: "Light", handle: (*Server).deleteMeeting},
	{method: http.MethodPost, pattern: []string{"meetings", "*", "registrants"}, op: "meetingRegistrantCreate", category: "Light",
		handle: (*Server).addRegistrant, holdBefore: holdRegistrantCreateBefore, holdAfter: holdRegistrantCreateAfter},
	{method: http.MethodGet, pattern: []string{"meetings", "*", "registrants"}, op: "meetingRegistrants", category: "Medium",
		handle: (*Server).listRegistrants},
}

// matchRoute finds the operation of r. Without one it returns Zoom's 404
// (unknown path) or a 405 (known path, other method).
func matchRoute(r *http.Request) (*route, []string, answer) {
	return matchPath(r.Method, strings.TrimPrefix(r.URL.EscapedPath(), "/v2"))
}

// matchPath finds the operation of method on rest, an escaped path below
// "/v2".
func matchPath(method, rest string) (*route, []string, answer) {
	rest = strings.Trim(rest, "/")
	var segs []string
	if rest != "" {
		segs = strings.Split(rest, "/")
	}
	pathKnown := false
	for i := range routes {
		rt := &routes[i]
		params, ok := matchPattern(rt.pattern, segs)
		if !ok {
			continue
		}
		pathKnown = true
		if rt.method == method {
			return rt, params, answer{}
		}
	}
	if pathKnown {
		return nil, nil, zoomError(http.StatusMethodNotAllowed, http.StatusMethodNotAllowed, "Method Not Allowed")
	}
	return nil, nil, zoomError(http.StatusNotFound, http.StatusNotFound, "Not Found")
}

func matchPattern(pattern, segs []string) ([]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params []string
	for i, p := range pattern {
		if p == "*" {
			v, err := unescapeSegment(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			params = append(params, v)
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}
