package zoom

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/zoomworker/zoom-worker/internal/defaults"
)

// TokenError is a failure to get an access token from the OAuth token
// endpoint. Its message never contains the client secret or a token.
// Classify sorts it by StatusCode: 5xx, 408 and 429 are transient; a
// Rejected one (the endpoint refused the app) is AccountFault; with
// StatusCode 0 (no answer) it is sorted by Err.
type TokenError struct {
	// StatusCode is the endpoint's HTTP status; 0 when there was no answer.
	StatusCode int
	// ErrorCode is OAuth's "error" field, e.g. "invalid_client".
	ErrorCode string
	// Reason is Zoom's "reason" field (or the OAuth "error_description").
	Reason string
	// RetryAfter is the Retry-After of a 429 or 503; zero when absent.
	RetryAfter time.Time
	// Err is the underlying failure when there was no usable answer.
	Err error
	// Rejected is true when the endpoint refused the app itself: a 4xx other
	// than 408 and 429 (invalid_client, invalid_grant, a wrong account id,
	// "Invalid client_id or client_secret", an app not enabled), or
	// credentials missing from the settings. Only new credentials (or the
	// app re-enabled at Zoom) fix it, for every job of the account alike:
	// see IsCredentialsRejected.
	Rejected bool
}

// IsCredentialsRejected reports whether err is, or wraps, a *TokenError
// whose endpoint rejected the app's credentials. That is a fault of the
// whole account, not of the job that saw it: the worker stops taking the
// account's jobs and probes with (*Client).CheckCredentials until they work.
func IsCredentialsRejected(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && te.Rejected
}

// rejects reports whether a token endpoint answer with this status refuses
// the app rather than failing for a while.
func rejects(status int) bool {
	return status >= 400 && status < 500 &&
		status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
}

// Error reads "zoom: get access token: <status> <error>: <reason>" or
// "zoom: get access token: <underlying error>".
func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("zoom: get access token")
	if e.StatusCode != 0 {
		b.WriteString(": ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		if e.ErrorCode != "" {
			b.WriteString(" ")
			b.WriteString(e.ErrorCode)
		}
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *TokenError) Unwrap() error { return e.Err }

const (
	// defaultRefreshBefore is the most a token is replaced before it expires;
	// a short-lived token is replaced a twelfth of its lifetime before.
	defaultRefreshBefore = 5 * time.Minute
	defaultTokenLifetime = time.Hour
	// failedRefreshPause is how long a source keeps handing out a token that
	// is due for refresh, but still valid, after a refresh failed.
	failedRefreshPause = 5 * time.Second
	// minTokenValidity: a token with less left than this (or than half its
	// refresh margin, for a short-lived one) is not handed out.
	minTokenValidity = 10 * time.Second
	maxTokenBody     = 64 << 10
)

// CacheKey is the TokenCache key under which the OAuth app's token is
// shared: "oauth:" + AccountID + ":" + ClientID. Processes that share a
// TokenCache share a token exactly when their keys are equal.
func (cfg OAuthConfig) CacheKey() string {
	return "oauth:" + cfg.AccountID + ":" + cfg.ClientID
}

// NewOAuth returns the TokenSource of a Server-to-Server OAuth app: it POSTs
// grant_type=account_credentials&account_id=... to cfg.TokenURL with the
// client id and secret as Basic auth, and keeps the token until shortly
// before it expires: cfg.RefreshBefore, but never more than a twelfth of the
// token's lifetime (as NewJWT does), so a token that lives 3 s is fetched
// about once every 2.75 s, not for every call. All goroutines share one token and at most
// one request to the token endpoint is in flight at a time; while the
// current token is still valid, that request holds up only the call that
// made it; with cfg.Cache
// the token is shared with other processes under cfg.CacheKey(). Errors are
// *TokenError; a fetch the endpoint rejected is not kept, so the next Token
// call asks again. Missing credentials are reported by Token, as a Rejected
// *TokenError. The source also implements APIURLSource: the api_url of its
// last token answer.
func NewOAuth(cfg OAuthConfig) TokenSource {
	if cfg.TokenURL == "" {
		cfg.TokenURL = DefaultTokenURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = NewHTTPClient(0)
	}
	defaults.Set(&cfg.RefreshBefore, defaultRefreshBefore)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &oauthSource{cfg: cfg, key: cfg.CacheKey()}
}

type oauthSource struct {
	cfg OAuthConfig
	key string

	mu       sync.Mutex
	tok      string
	exp      time.Time
	life     time.Duration // tok's lifetime; 0 until one was fetched
	apiURL   string        // the api_url that came with tok ("" when none)
	rejected string        // the last token Zoom rejected; never taken from the cache again
	retryAt  time.Time     // no new refresh before this while tok is still valid
	flight   *tokenFlight
}

// tokenFlight is one refresh; waiters read tok and err after done closes.
type tokenFlight struct {
	done chan struct{}
	tok  string
	err  error
}

// margin is how long before its expiry a token that lives life is replaced.
func (s *oauthSource) margin(life time.Duration) time.Duration {
	defaults.Set(&life, defaultTokenLifetime)
	return min(s.cfg.RefreshBefore, life/12)
}

// usable reports whether a token expiring at exp, due for refresh, may
// still be handed out while a refresh fails. Called with mu held.
func (s *oauthSource) usable(now, exp time.Time) bool {
	return now.Before(exp.Add(-min(minTokenValidity, s.margin(s.life)/2)))
}

// APIURL implements APIURLSource: the api_url of the current token's answer
// (from this process's fetch or the shared cache), "" before the first
// token or when Zoom sent none.
func (s *oauthSource) APIURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiURL
}

func (s *oauthSource) Token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		now := s.cfg.Now()
		if s.tok != "" && now.Before(s.exp.Add(-s.margin(s.life))) {
			tok := s.tok
			s.mu.Unlock()
			return tok, nil
		}
		if s.tok != "" && (s.flight != nil || now.Before(s.retryAt)) && s.usable(now, s.exp) {
			// Due for refresh, but still good, while a refresh is under way
			// (only the call that started it waits for it, not every call in
			// flight) or just after one failed.
			tok := s.tok
			s.mu.Unlock()
			return tok, nil
		}
		if f := s.flight; f != nil {
			s.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if f.err == nil {
				return f.tok, nil
			}
			if isContextError(f.err) && ctx.Err() == nil {
				continue // the leader gave up, not the endpoint: try again
			}
			return "", f.err
		}
		f := &tokenFlight{done: make(chan struct{})}
		s.flight = f
		s.mu.Unlock()

		got, err := s.obtain(ctx)
		tok := got.tok

		s.mu.Lock()
		switch {
		case err == nil:
			s.tok, s.exp, s.life, s.apiURL = got.tok, got.exp, got.life, got.apiURL
		case s.tok != "" && s.usable(s.cfg.Now(), s.exp) && !isContextError(err):
			// Refreshing early failed; the current token still works.
			tok, err = s.tok, nil
			s.retryAt = s.cfg.Now().Add(failedRefreshPause)
		}
		f.tok, f.err = tok, err
		s.flight = nil
		s.mu.Unlock()
		close(f.done)
		return tok, err
	}
}

// issued is a token with what came with it.
type issued struct {
	tok    string
	exp    time.Time
	life   time.Duration
	apiURL string
}

// apiURLKey is the cache key of the api_url that came with the token
// cached under key.
func apiURLKey(key string) string { return key + ":api_url" }

// obtain takes the token from the shared cache when it has a fresh one, else
// fetches one from the endpoint and stores it in the cache. Cache failures
// are not errors: the cache only saves token requests.
func (s *oauthSource) obtain(ctx context.Context) (issued, error) {
	if got, ok := s.fromCache(ctx); ok {
		return got, nil
	}
	if l, ok := s.cfg.Cache.(TokenLocker); ok {
		// Across processes, one fetches; the others wait for its token.
		unlock, locked, err := l.LockToken(ctx, s.key, 10*time.Second)
		if err == nil && locked {
			defer unlock()
			if got, ok := s.fromCache(ctx); ok {
				return got, nil
			}
		} else if err == nil {
			for range 100 {
				select {
				case <-ctx.Done():
					return issued{}, ctx.Err()
				case <-time.After(50 * time.Millisecond):
				}
				if got, ok := s.fromCache(ctx); ok {
					return got, nil
				}
			}
		}
	}
	got, err := s.fetch(ctx)
	if err != nil {
		return issued{}, err
	}
	if c := s.cfg.Cache; c != nil {
		// The api_url first: a process that finds the token finds its host.
		if got.apiURL != "" {
			_ = c.SetToken(ctx, apiURLKey(s.key), got.apiURL, got.exp)
		}
		_ = c.SetToken(ctx, s.key, got.tok, got.exp)
	}
	return got, nil
}

// fromCache returns the shared token when it is fresh and not rejected.
// The cache keeps no lifetime: the last one this source fetched is assumed,
// else Zoom's usual hour (so a short-lived token is fetched once by each
// process before the others' are taken from the cache).
func (s *oauthSource) fromCache(ctx context.Context) (issued, bool) {
	c := s.cfg.Cache
	if c == nil {
		return issued{}, false
	}
	tok, exp, ok, err := c.GetToken(ctx, s.key)
	now := s.cfg.Now()
	s.mu.Lock()
	rejected, life := s.rejected, s.life
	s.mu.Unlock()
	if err != nil || !ok || tok == "" || tok == rejected || !now.Before(exp.Add(-s.margin(life))) {
		return issued{}, false
	}
	got := issued{tok: tok, exp: exp, life: life}
	if u, _, ok, err := c.GetToken(ctx, apiURLKey(s.key)); err == nil && ok {
		got.apiURL = u
	}
	return got, true
}

// tokenAnswer is the token endpoint's JSON, success or error.
type tokenAnswer struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Scope            string `json:"scope"`
	APIURL           string `json:"api_url"`
	Error            string `json:"error"`
	Reason           string `json:"reason"`
	ErrorDescription string `json:"error_description"`
}

func (s *oauthSource) fetch(ctx context.Context) (issued, error) {
	cfg := s.cfg
	newErr := func(status int, err error) *TokenError {
		return &TokenError{StatusCode: status, Err: err}
	}
	if cfg.AccountID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		te := newErr(0, errors.New("account id, client id and client secret are all required"))
		te.Rejected = true
		return issued{}, te
	}
	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {cfg.AccountID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return issued{}, newErr(0, err)
	}
	req.SetBasicAuth(cfg.ClientID, cfg.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	sent := cfg.Now()
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		return issued{}, newErr(0, err)
	}
	defer drainAndClose(resp.Body)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return issued{}, newErr(0, err)
	}
	var ans tokenAnswer
	jsonErr := json.Unmarshal(body, &ans)

	if resp.StatusCode != http.StatusOK {
		te := newErr(resp.StatusCode, nil)
		te.Rejected = rejects(resp.StatusCode)
		te.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), cfg.Now())
		if jsonErr == nil {
			te.ErrorCode = clip(ans.Error, 100)
			te.Reason = ans.Reason
			if te.Reason == "" {
				te.Reason = ans.ErrorDescription
			}
		} else {
			te.Reason = strings.Join(strings.Fields(string(body)), " ")
		}
		// The endpoint might echo what it got; keep the credentials out.
		basic := base64.StdEncoding.EncodeToString([]byte(cfg.ClientID + ":" + cfg.ClientSecret))
		te.Reason = clip(redactAll(te.Reason, []string{cfg.ClientSecret, basic, ans.AccessToken}), 512)
		return issued{}, te
	}
	if jsonErr != nil {
		return issued{}, newErr(resp.StatusCode, fmt.Errorf("decode answer: %w", jsonErr))
	}
	if ans.AccessToken == "" {
		return issued{}, newErr(resp.StatusCode, errors.New("answer has no access_token"))
	}
	life := time.Duration(ans.ExpiresIn) * time.Second
	defaults.Set(&life, defaultTokenLifetime)
	// Count the lifetime from when the request went, not when it came back.
	return issued{tok: ans.AccessToken, exp: sent.Add(life), life: life, apiURL: checkAPIURL(ans.APIURL)}, nil
}

// checkAPIURL returns u, the api_url of a token answer without a trailing
// slash, when it is an absolute http(s) URL, else "" (the client then uses
// its default host).
func checkAPIURL(u string) string {
	p, err := url.Parse(u)
	if u == "" || err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil {
		return ""
	}
	return strings.TrimRight(u, "/")
}

func (s *oauthSource) Invalidate(tok string) {
	if tok == "" {
		return
	}
	s.mu.Lock()
	if s.tok == tok {
		s.tok, s.exp, s.retryAt = "", time.Time{}, time.Time{}
	}
	s.rejected = tok
	s.mu.Unlock()
	if c := s.cfg.Cache; c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.DeleteToken(ctx, s.key, tok)
	}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// NewJWT returns the TokenSource of a legacy JWT app: HS256 tokens with
// iss = cfg.APIKey and exp = now + cfg.TTL, signed with cfg.APISecret. A
// token is reused until shortly before it expires (a twelfth of the TTL, at
// most 5 minutes). Missing credentials are reported by Token.
func NewJWT(cfg JWTConfig) TokenSource {
	defaults.Set(&cfg.TTL, time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	margin := min(cfg.TTL/12, 5*time.Minute)
	return &jwtSource{cfg: cfg, margin: margin}
}

type jwtSource struct {
	cfg    JWTConfig
	margin time.Duration

	mu  sync.Mutex
	tok string
	exp time.Time
}

func (s *jwtSource) Token(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if s.tok != "" && now.Before(s.exp.Add(-s.margin)) {
		return s.tok, nil
	}
	if s.cfg.APIKey == "" || s.cfg.APISecret == "" {
		return "", errors.New("zoom: sign JWT: API key and API secret are both required")
	}
	exp := now.Add(s.cfg.TTL)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": s.cfg.APIKey,
		"exp": exp.Unix(),
	}).SignedString([]byte(s.cfg.APISecret))
	if err != nil {
		return "", fmt.Errorf("zoom: sign JWT: %w", err)
	}
	s.tok, s.exp = tok, exp
	return tok, nil
}

func (s *jwtSource) Invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == tok {
		s.tok, s.exp = "", time.Time{}
	}
}

// StaticToken returns a TokenSource that always hands out tok (for tests and
// tools). Invalidate does nothing, so a rejected token stays rejected.
func StaticToken(tok string) TokenSource { return staticToken(tok) }

type staticToken string

func (t staticToken) Token(context.Context) (string, error) { return string(t), nil }
func (staticToken) Invalidate(string)                       {}
