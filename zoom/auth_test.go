package zoom

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

const (
	testAccount = "acc-1"
	testClient  = "client-1"
	testSecret  = "client-S3CRET-value"
)

// tokenServer is a fake OAuth token endpoint that issues tok-1, tok-2, ...
type tokenServer struct {
	*testServer
	issued atomic.Int32
	delay  time.Duration
	// status, body: when status is set, every request gets this answer.
	status int
	body   string
}

func newTokenServer(t *testing.T, edit ...func(*tokenServer)) *tokenServer {
	t.Helper()
	s := &tokenServer{}
	for _, e := range edit {
		e(s)
	}
	s.testServer = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(s.delay)
		if s.status != 0 {
			answer(w, s.status, s.body)
			return
		}
		n := s.issued.Add(1)
		answer(w, 200, fmt.Sprintf(`{"access_token":"tok-%d","token_type":"bearer","expires_in":3600,"scope":"meeting:write:admin user:write:admin"}`, n))
	})
	return s
}

func newTestOAuth(ts *tokenServer, edit ...func(*OAuthConfig)) TokenSource {
	cfg := OAuthConfig{AccountID: testAccount, ClientID: testClient, ClientSecret: testSecret, TokenURL: ts.URL + "/oauth/token"}
	for _, e := range edit {
		e(&cfg)
	}
	return NewOAuth(cfg)
}

func TestOAuthTokenRequest(t *testing.T) {
	ts := newTokenServer(t)
	tok, err := newTestOAuth(ts).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok != "tok-1" {
		t.Errorf("token = %q, want tok-1", tok)
	}
	reqs := ts.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d token requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/oauth/token" {
		t.Errorf("request = %s %s, want POST /oauth/token", r.Method, r.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", got)
	}
	if got, want := string(r.Body), "account_id="+testAccount+"&grant_type=account_credentials"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	hr := &http.Request{Header: r.Header}
	user, pass, ok := hr.BasicAuth()
	if !ok || user != testClient || pass != testSecret {
		t.Errorf("basic auth = %q, %q, %v, want %q, %q", user, pass, ok, testClient, testSecret)
	}
	if got := r.Header.Get("User-Agent"); got != "zoom-worker" {
		t.Errorf("User-Agent = %q, want zoom-worker", got)
	}
}

func TestOAuthCachesAndRefreshesBeforeExpiry(t *testing.T) {
	clock := zoomtest.NewClock(fixedNow)
	ts := newTokenServer(t)
	src := newTestOAuth(ts, func(c *OAuthConfig) {
		c.Now = clock.Now
		c.RefreshBefore = 5 * time.Minute
	})
	ctx := context.Background()
	steps := []struct {
		name    string
		advance time.Duration
		want    string
	}{
		{name: "first call fetches", want: "tok-1"},
		{name: "cached", advance: 10 * time.Minute, want: "tok-1"},
		{name: "still cached just before the refresh window", advance: 44*time.Minute + 59*time.Second, want: "tok-1"},
		{name: "refreshed 5 minutes before expiry", advance: time.Second, want: "tok-2"},
		{name: "new token cached", advance: time.Minute, want: "tok-2"},
	}
	for _, st := range steps {
		clock.Add(st.advance)
		got, err := src.Token(ctx)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Errorf("%s: token = %q, want %q", st.name, got, st.want)
		}
	}
	if n := ts.issued.Load(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

func TestOAuthConcurrentCallsMakeOneRequest(t *testing.T) {
	ts := newTokenServer(t, func(s *tokenServer) { s.delay = 50 * time.Millisecond })
	src := newTestOAuth(ts)
	var wg sync.WaitGroup
	toks := make([]string, 50)
	for i := range toks {
		wg.Go(func() {
			tok, err := src.Token(context.Background())
			if err != nil {
				t.Errorf("Token: %v", err)
			}
			toks[i] = tok
		})
	}
	wg.Wait()
	if n := len(ts.requests()); n != 1 {
		t.Errorf("token requests = %d, want exactly 1", n)
	}
	for i, tok := range toks {
		if tok != "tok-1" {
			t.Errorf("caller %d got %q, want tok-1", i, tok)
		}
	}
}

func TestOAuthConcurrentAPICallsMakeOneTokenRequest(t *testing.T) {
	ts := newTokenServer(t, func(s *tokenServer) { s.delay = 20 * time.Millisecond })
	api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { answer(w, 200, userJSON) })
	c := newTestClient(t, api, func(o *Options) { o.Tokens = newTestOAuth(ts) })
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := c.GetUser(context.Background(), "x"); err != nil {
				t.Errorf("GetUser: %v", err)
			}
		})
	}
	wg.Wait()
	if n := len(ts.requests()); n != 1 {
		t.Errorf("token requests = %d, want exactly 1", n)
	}
	for _, r := range api.requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer tok-1" {
			t.Errorf("Authorization = %q, want Bearer tok-1", got)
		}
	}
}

// memCache is an in-memory TokenCache.
type memCache struct {
	mu      sync.Mutex
	tok     map[string]string
	exp     map[string]time.Time
	gets    int
	sets    []string // keys
	deletes []string // tokens
}

func newMemCache() *memCache {
	return &memCache{tok: map[string]string{}, exp: map[string]time.Time{}}
}

func (c *memCache) GetToken(ctx context.Context, key string) (string, time.Time, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	tok, ok := c.tok[key]
	return tok, c.exp[key], ok, nil
}

func (c *memCache) SetToken(ctx context.Context, key, tok string, exp time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sets = append(c.sets, key)
	c.tok[key], c.exp[key] = tok, exp
	return nil
}

func (c *memCache) DeleteToken(ctx context.Context, key, tok string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deletes = append(c.deletes, tok)
	if c.tok[key] == tok {
		delete(c.tok, key)
		delete(c.exp, key)
	}
	return nil
}

func TestOAuthCacheKey(t *testing.T) {
	cfg := OAuthConfig{AccountID: "A", ClientID: "C", ClientSecret: "S"}
	if got, want := cfg.CacheKey(), "oauth:A:C"; got != want {
		t.Errorf("CacheKey = %q, want %q", got, want)
	}
}

func TestOAuthUsesTokenCache(t *testing.T) {
	clock := zoomtest.NewClock(fixedNow)
	ctx := context.Background()
	key := "oauth:" + testAccount + ":" + testClient
	// cached starts a token server and a source on a cache that holds tok
	// until exp ("" for an empty cache).
	cached := func(t *testing.T, tok string, exp time.Time) (*tokenServer, *memCache, TokenSource) {
		ts := newTokenServer(t)
		cache := newMemCache()
		if tok != "" {
			_ = cache.SetToken(ctx, key, tok, exp)
		}
		return ts, cache, newTestOAuth(ts, func(c *OAuthConfig) { c.Cache = cache; c.Now = clock.Now })
	}

	t.Run("fresh cached token is used without a request", func(t *testing.T) {
		ts, _, src := cached(t, "shared-tok", fixedNow.Add(time.Hour))
		got, err := src.Token(ctx)
		if err != nil || got != "shared-tok" {
			t.Fatalf("Token = %q, %v, want shared-tok", got, err)
		}
		if n := len(ts.requests()); n != 0 {
			t.Errorf("token requests = %d, want 0", n)
		}
	})

	t.Run("fetched token is stored under the key", func(t *testing.T) {
		ts, cache, src := cached(t, "", time.Time{})
		if _, err := src.Token(ctx); err != nil {
			t.Fatal(err)
		}
		if cache.tok[key] != "tok-1" || !cache.exp[key].Equal(fixedNow.Add(time.Hour)) {
			t.Errorf("cache holds %q until %v, want tok-1 until %v", cache.tok[key], cache.exp[key], fixedNow.Add(time.Hour))
		}
		// A second process with the same cache takes the token from it.
		other := newTestOAuth(ts, func(c *OAuthConfig) { c.Cache = cache; c.Now = clock.Now })
		if got, _ := other.Token(ctx); got != "tok-1" {
			t.Errorf("second source got %q, want tok-1 from the cache", got)
		}
		if n := len(ts.requests()); n != 1 {
			t.Errorf("token requests = %d, want 1", n)
		}
	})

	t.Run("cached token due for refresh is not used", func(t *testing.T) {
		_, _, src := cached(t, "old-tok", fixedNow.Add(2*time.Minute))
		if got, _ := src.Token(ctx); got != "tok-1" {
			t.Errorf("Token = %q, want tok-1", got)
		}
	})

	t.Run("invalidate deletes from the cache and refetches", func(t *testing.T) {
		_, cache, src := cached(t, "shared-tok", fixedNow.Add(time.Hour))
		tok, _ := src.Token(ctx)
		src.Invalidate(tok)
		if len(cache.deletes) != 1 || cache.deletes[0] != "shared-tok" {
			t.Errorf("cache deletes = %v, want [shared-tok]", cache.deletes)
		}
		if got, _ := src.Token(ctx); got != "tok-1" {
			t.Errorf("Token after Invalidate = %q, want tok-1", got)
		}
	})

	t.Run("invalidate of an old token keeps the current one", func(t *testing.T) {
		ts := newTokenServer(t)
		src := newTestOAuth(ts, func(c *OAuthConfig) { c.Now = clock.Now })
		_, _ = src.Token(ctx)
		src.Invalidate("some-old-token")
		if got, _ := src.Token(ctx); got != "tok-1" {
			t.Errorf("Token = %q, want tok-1 still", got)
		}
		if n := len(ts.requests()); n != 1 {
			t.Errorf("token requests = %d, want 1", n)
		}
	})
}

func TestOAuthTokenEndpointErrors(t *testing.T) {
	type tokenCase struct {
		name      string
		status    int
		body      string
		wantClass Class
		wantCode  string // OAuth's "error"
	}
	// refused is the endpoint refusing the app, with OAuth's error code and
	// reason: an AccountFault.
	refused := func(name string, status int, code, reason string) tokenCase {
		body := `{"reason":"` + reason + `","error":"` + code + `"}`
		return tokenCase{name: name, status: status, body: body, wantClass: AccountFault, wantCode: code}
	}
	tests := []tokenCase{
		refused("invalid client", 401, "invalid_client", "Invalid client_id or client_secret"),
		refused("wrong account", 400, "invalid_request", "Invalid request : Account does not exist."),
		refused("echoes the secret", 400, "invalid_client", "bad secret "+testSecret),
		refused("invalid grant", 400, "invalid_grant", "Invalid Token!"),
		refused("app not enabled", 400, "invalid_request", "Account not enabled for Server-to-Server OAuth"),
		refused("forbidden", 403, "access_denied", "Forbidden"),
		{name: "request timeout", status: 408, body: ``, wantClass: RetrySoon},
		{name: "server error", status: 503, body: `<html>down</html>`, wantClass: RetrySoon},
		{name: "rate limited", status: 429, body: `{"reason":"slow down","error":"too_many_requests"}`,
			wantClass: RetrySoon, wantCode: "too_many_requests"},
		{name: "200 without a token", status: 200, body: `{"token_type":"bearer"}`, wantClass: Permanent},
		{name: "200 not JSON", status: 200, body: `nope`, wantClass: Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(s *tokenServer) { s.status, s.body = tt.status, tt.body })
			api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { answer(w, 200, userJSON) })
			c := newTestClient(t, api, func(o *Options) { o.Tokens = newTestOAuth(ts) })
			_, err := c.GetUser(context.Background(), "x")
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v (%T), want a *TokenError", err, err)
			}
			if te.StatusCode != tt.status || te.ErrorCode != tt.wantCode {
				t.Errorf("StatusCode, ErrorCode = %d, %q, want %d, %q", te.StatusCode, te.ErrorCode, tt.status, tt.wantCode)
			}
			if class, _ := Classify(err); class != tt.wantClass {
				t.Errorf("Classify = %v, want %v", class, tt.wantClass)
			}
			if got, want := IsCredentialsRejected(err), tt.wantClass == AccountFault; got != want || te.Rejected != want {
				t.Errorf("IsCredentialsRejected, Rejected = %v, %v, want %v", got, te.Rejected, want)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("Error() = %q contains the client secret", err.Error())
			}
			if !strings.HasPrefix(err.Error(), "zoom: get user: zoom: get access token") {
				t.Errorf("Error() = %q", err.Error())
			}
			if n := len(api.requests()); n != 0 {
				t.Errorf("API requests = %d, want 0 without a token", n)
			}
		})
	}
}

func TestOAuthTokenEndpointUnreachable(t *testing.T) {
	ts := newTokenServer(t)
	ts.Close()
	_, err := newTestOAuth(ts).Token(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || te.StatusCode != 0 {
		t.Fatalf("err = %v, want a *TokenError without status", err)
	}
	if class, _ := Classify(err); class != RetrySoon {
		t.Errorf("Classify = %v, want RetrySoon", class)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Errorf("Error() = %q contains the client secret", err.Error())
	}
}

func TestOAuthMissingCredentials(t *testing.T) {
	ts := newTokenServer(t)
	_, err := newTestOAuth(ts, func(c *OAuthConfig) { c.ClientSecret = "" }).Token(context.Background())
	if class, _ := Classify(err); err == nil || class != AccountFault || !IsCredentialsRejected(err) {
		t.Fatalf("err = %v (class %v), want a rejected-credentials AccountFault", err, class)
	}
	if n := len(ts.requests()); n != 0 {
		t.Errorf("token requests = %d, want 0", n)
	}
}

func TestOAuthFailedEarlyRefreshKeepsValidToken(t *testing.T) {
	clock := zoomtest.NewClock(fixedNow)
	var fail atomic.Bool
	var n atomic.Int32
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			answer(w, 503, `{}`)
			return
		}
		answer(w, 200, fmt.Sprintf(`{"access_token":"tok-%d","expires_in":3600}`, n.Add(1)))
	})
	src := NewOAuth(OAuthConfig{AccountID: testAccount, ClientID: testClient, ClientSecret: testSecret,
		TokenURL: ts.URL, Now: clock.Now})
	ctx := context.Background()
	if got, _ := src.Token(ctx); got != "tok-1" {
		t.Fatalf("Token = %q, want tok-1", got)
	}
	fail.Store(true)
	clock.Add(57 * time.Minute) // inside the refresh window, 3 minutes left
	if got, err := src.Token(ctx); err != nil || got != "tok-1" {
		t.Errorf("Token = %q, %v, want tok-1 while it is still valid", got, err)
	}
	clock.Add(3 * time.Minute) // expired
	if _, err := src.Token(ctx); err == nil {
		t.Error("Token after expiry with a failing endpoint: err = nil, want an error")
	}
	fail.Store(false)
	if got, _ := src.Token(ctx); got != "tok-2" {
		t.Errorf("Token = %q, want tok-2", got)
	}
}

// tokenLater asks src for a token in a goroutine; the channel gets the
// token, or "error: " and the error.
func tokenLater(src TokenSource) <-chan string {
	c := make(chan string, 1)
	go func() {
		tok, err := src.Token(context.Background())
		if err != nil {
			tok = "error: " + err.Error()
		}
		c <- tok
	}()
	return c
}

// TestOAuthEarlyRefreshHoldsUpOneCall: while a token due for refresh is
// still valid, the refresh holds up only the call that started it; the
// other calls go on with the current token (before, every call in flight
// waited for the token endpoint about once an hour).
func TestOAuthEarlyRefreshHoldsUpOneCall(t *testing.T) {
	clock := zoomtest.NewClock(fixedNow)
	release := make(chan struct{})
	var n atomic.Int32
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			select { // the refresh hangs until the test is done with it
			case <-release:
			case <-r.Context().Done():
			}
		}
		answer(w, 200, fmt.Sprintf(`{"access_token":"tok-%d","expires_in":3600}`, n.Load()))
	})
	src := NewOAuth(OAuthConfig{AccountID: testAccount, ClientID: testClient, ClientSecret: testSecret,
		TokenURL: ts.URL, Now: clock.Now})
	if got, _ := src.Token(context.Background()); got != "tok-1" {
		t.Fatalf("Token = %q, want tok-1", got)
	}
	clock.Add(57 * time.Minute) // inside the refresh window, 3 minutes left
	leader := tokenLater(src)
	for n.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// The refresh is in flight. A bound on the wait keeps a regression from
	// hanging the test; it measures nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := src.Token(ctx); err != nil || got != "tok-1" {
		t.Errorf("Token during an early refresh = %q, %v; want tok-1 at once", got, err)
	}
	close(release)
	if got := <-leader; got != "tok-2" {
		t.Errorf("the call that refreshed got %q, want tok-2", got)
	}
	if got, _ := src.Token(context.Background()); got != "tok-2" {
		t.Errorf("Token after the refresh = %q, want tok-2", got)
	}
}

func TestOAuthWaiterSurvivesLeaderCancel(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int32
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		answer(w, 200, `{"access_token":"tok-ok","expires_in":3600}`)
	})
	src := NewOAuth(OAuthConfig{AccountID: testAccount, ClientID: testClient, ClientSecret: testSecret, TokenURL: ts.URL})
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := src.Token(leaderCtx)
		leaderErr <- err
	}()
	for n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiter := tokenLater(src)
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("leader err = %v, want context.Canceled", err)
	}
	close(release)
	if got := <-waiter; got != "tok-ok" {
		t.Errorf("waiter got %q, want tok-ok", got)
	}
}

func TestRejectedTokenIsRefreshedOnce(t *testing.T) {
	tests := []struct {
		name         string
		acceptFrom   int32 // the API accepts tok-N for N >= acceptFrom
		wantErr      bool
		wantAPICalls int
		wantTokens   int32
	}{
		{name: "fresh token accepted", acceptFrom: 2, wantAPICalls: 2, wantTokens: 2},
		{name: "fresh token rejected too", acceptFrom: 99, wantErr: true, wantAPICalls: 2, wantTokens: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t)
			api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				var n int32
				_, _ = fmt.Sscanf(r.Header.Get("Authorization"), "Bearer tok-%d", &n)
				if n < tt.acceptFrom {
					answer(w, 401, `{"code":124,"message":"Invalid access token."}`)
					return
				}
				answer(w, 201, meetingJSON)
			})
			c := newTestClient(t, api, func(o *Options) { o.Tokens = newTestOAuth(ts) })
			m, err := c.CreateMeeting(context.Background(), "me", map[string]any{"topic": "x"})
			if tt.wantErr {
				var ae *APIError
				if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Code != 124 {
					t.Fatalf("err = %v, want APIError 401/124", err)
				}
				if class, _ := Classify(err); class != RetrySoon {
					t.Errorf("Classify = %v, want RetrySoon", class)
				}
			} else if err != nil || m.ID != 85746065432 {
				t.Fatalf("CreateMeeting = %v, %v", m, err)
			}
			reqs := api.requests()
			if len(reqs) != tt.wantAPICalls {
				t.Fatalf("API requests = %d, want %d", len(reqs), tt.wantAPICalls)
			}
			for i, r := range reqs {
				if want := fmt.Sprintf("Bearer tok-%d", i+1); r.Header.Get("Authorization") != want {
					t.Errorf("request %d Authorization = %q, want %q", i, r.Header.Get("Authorization"), want)
				}
				jsonEqual(t, r.Body, `{"topic":"x"}`)
			}
			if n := ts.issued.Load(); n != tt.wantTokens {
				t.Errorf("tokens issued = %d, want %d", n, tt.wantTokens)
			}
		})
	}
}

func TestOtherUnauthorizedIsNotRetried(t *testing.T) {
	ts := newTokenServer(t)
	api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		answer(w, 401, `{"code":200,"message":"No privilege."}`)
	})
	c := newTestClient(t, api, func(o *Options) { o.Tokens = newTestOAuth(ts) })
	if _, err := c.GetUser(context.Background(), "x"); err == nil {
		t.Fatal("err = nil, want 401")
	}
	if n := len(api.requests()); n != 1 {
		t.Errorf("API requests = %d, want 1", n)
	}
}

func TestJWT(t *testing.T) {
	clock := zoomtest.NewClock(time.Now().Truncate(time.Second))
	src := NewJWT(JWTConfig{APIKey: "key-1", APISecret: "api-S3CRET", TTL: 30 * time.Minute, Now: clock.Now})
	ctx := context.Background()
	tok, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	parsed, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return []byte("api-S3CRET"), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(clock.Now), jwt.WithExpirationRequired(), jwt.WithIssuer("key-1"))
	if err != nil || !parsed.Valid {
		t.Fatalf("parse: %v", err)
	}
	if want := clock.Now().Add(30 * time.Minute); !claims.ExpiresAt.Equal(want) {
		t.Errorf("exp = %v, want %v", claims.ExpiresAt.Time, want)
	}
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte("wrong"), nil },
		jwt.WithTimeFunc(clock.Now)); err == nil {
		t.Error("token verifies with the wrong secret")
	}

	clock.Add(20 * time.Minute)
	if again, _ := src.Token(ctx); again != tok {
		t.Error("token not reused well before expiry")
	}
	clock.Add(8 * time.Minute) // 2 minutes left of 30: inside the margin (2.5 min)
	renewed, _ := src.Token(ctx)
	if renewed == tok {
		t.Error("token not renewed shortly before expiry")
	}
	src.Invalidate(renewed)
	clock.Add(time.Second)
	if again, _ := src.Token(ctx); again == renewed {
		t.Error("token reused after Invalidate")
	}
}

func TestJWTDefaultsAndErrors(t *testing.T) {
	src := NewJWT(JWTConfig{APIKey: "k", APISecret: "s"})
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	if _, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return []byte("s"), nil }); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(claims.ExpiresAt.Time); d < 59*time.Minute || d > time.Hour {
		t.Errorf("exp in %v, want about 1h", d)
	}
	if _, err := NewJWT(JWTConfig{APIKey: "k"}).Token(context.Background()); err == nil {
		t.Error("Token without a secret: err = nil")
	}
}

// TestSecretsNeverInErrors collects the errors of many failures and checks
// that none of them carries the bearer token or the client secret.
func TestSecretsNeverInErrors(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		// A hostile server echoing the request's headers and body.
		b, _ := io.ReadAll(r.Body)
		answer(w, 400, fmt.Sprintf(`{"code":300,"message":%q}`, fmt.Sprint(r.Header)+string(b)))
	}
	tokenEcho := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		answer(w, 401, fmt.Sprintf(`{"error":"invalid_client","reason":%q}`, fmt.Sprint(r.Header)+string(b)+" "+testSecret))
	})
	basic := base64.StdEncoding.EncodeToString([]byte(testClient + ":" + testSecret))
	var errs []error

	api := newTestServer(t, echo)
	c := newTestClient(t, api)
	_, err := c.CreateMeeting(context.Background(), "me", map[string]any{"topic": "x"})
	errs = append(errs, err)

	c2 := newTestClient(t, api, func(o *Options) {
		o.Tokens = NewOAuth(OAuthConfig{AccountID: testAccount, ClientID: testClient, ClientSecret: testSecret,
			TokenURL: tokenEcho.URL})
	})
	_, err = c2.GetUser(context.Background(), "x")
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("error %d is nil", i)
		}
		var ae *APIError
		var te *TokenError
		shown := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
		if errors.As(err, &ae) {
			shown = append(shown, fmt.Sprintf("%#v", *ae))
		}
		if errors.As(err, &te) {
			shown = append(shown, fmt.Sprintf("%#v", *te))
		}
		for _, s := range shown {
			if strings.Contains(s, testToken) || strings.Contains(s, testSecret) || strings.Contains(s, basic) {
				t.Errorf("error %d shows a secret: %s", i, s)
			}
		}
	}
}
