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
)

// TokenError is a failure to get an access token from the OAuth token
// endpoint. Its message never contains the client secret or a token.
// Classify sorts it by StatusCode: 5xx, 408 and 429 are transient,
// 400/401/403 (invalid_client, a wrong account id) are Permanent; with
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
	defaultRefreshBefore = 5 * time.Minute
	defaultTokenLifetime = time.Hour
	// failedRefreshPause is how long a source keeps handing out a token that
	// is due for refresh, but still valid, after a refresh failed.
	failedRefreshPause = 5 * time.Second
	// minTokenValidity: a token with less left than this is not handed out.
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
// client id and secret as Basic auth, and keeps the token until
// cfg.RefreshBefore its expiry. All goroutines share one token and at most
// one request to the token endpoint is in flight at a time; with cfg.Cache
// the token is shared with other processes under cfg.CacheKey(). Errors are
// *TokenError. Missing credentials are reported by Token, as a Permanent
// *TokenError.
func NewOAuth(cfg OAuthConfig) TokenSource {
	if cfg.TokenURL == "" {
		cfg.TokenURL = DefaultTokenURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = NewHTTPClient(0)
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = defaultRefreshBefore
	}
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
	rejected string    // the last token Zoom rejected; never taken from the cache again
	retryAt  time.Time // no new refresh before this while tok is still valid
	flight   *tokenFlight
}

// tokenFlight is one refresh; waiters read tok and err after done closes.
type tokenFlight struct {
	done chan struct{}
	tok  string
	err  error
}

func (s *oauthSource) Token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		now := s.cfg.Now()
		if s.tok != "" && now.Before(s.exp.Add(-s.cfg.RefreshBefore)) {
			tok := s.tok
			s.mu.Unlock()
			return tok, nil
		}
		if s.tok != "" && now.Before(s.retryAt) && now.Before(s.exp.Add(-minTokenValidity)) {
			tok := s.tok // due for refresh, but the last refresh just failed
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

		tok, exp, err := s.obtain(ctx)

		s.mu.Lock()
		switch {
		case err == nil:
			s.tok, s.exp = tok, exp
		case s.tok != "" && s.cfg.Now().Before(s.exp.Add(-minTokenValidity)) && !isContextError(err):
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

// obtain takes the token from the shared cache when it has a fresh one, else
// fetches one from the endpoint and stores it in the cache. Cache failures
// are not errors: the cache only saves token requests.
func (s *oauthSource) obtain(ctx context.Context) (string, time.Time, error) {
	if tok, exp, ok := s.fromCache(ctx); ok {
		return tok, exp, nil
	}
	if l, ok := s.cfg.Cache.(TokenLocker); ok {
		// Across processes, one fetches; the others wait for its token.
		unlock, got, err := l.LockToken(ctx, s.key, 10*time.Second)
		if err == nil && got {
			defer unlock()
			if tok, exp, ok := s.fromCache(ctx); ok {
				return tok, exp, nil
			}
		} else if err == nil {
			for range 100 {
				select {
				case <-ctx.Done():
					return "", time.Time{}, ctx.Err()
				case <-time.After(50 * time.Millisecond):
				}
				if tok, exp, ok := s.fromCache(ctx); ok {
					return tok, exp, nil
				}
			}
		}
	}
	tok, exp, err := s.fetch(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	if c := s.cfg.Cache; c != nil {
		_ = c.SetToken(ctx, s.key, tok, exp)
	}
	return tok, exp, nil
}

// fromCache returns the shared token when it is fresh and not rejected.
func (s *oauthSource) fromCache(ctx context.Context) (string, time.Time, bool) {
	c := s.cfg.Cache
	if c == nil {
		return "", time.Time{}, false
	}
	tok, exp, ok, err := c.GetToken(ctx, s.key)
	s.mu.Lock()
	rejected := s.rejected
	s.mu.Unlock()
	if err == nil && ok && tok != "" && tok != rejected && s.cfg.Now().Before(exp.Add(-s.cfg.RefreshBefore)) {
		return tok, exp, true
	}
	return "", time.Time{}, false
}

// tokenAnswer is the token endpoint's JSON, success or error.
type tokenAnswer struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	Reason           string `json:"reason"`
	ErrorDescription string `json:"error_description"`
}

func (s *oauthSource) fetch(ctx context.Context) (string, time.Time, error) {
	cfg := s.cfg
	newErr := func(status int, err error) *TokenError {
		return &TokenError{StatusCode: status, Err: err}
	}
	if cfg.AccountID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return "", time.Time{}, newErr(0, errors.New("account id, client id and client secret are all required"))
	}
	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {cfg.AccountID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, newErr(0, err)
	}
	req.SetBasicAuth(cfg.ClientID, cfg.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	sent := cfg.Now()
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		return "", time.Time{}, newErr(0, err)
	}
	defer drainAndClose(resp.Body)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return "", time.Time{}, newErr(0, err)
	}
	var ans tokenAnswer
	jsonErr := json.Unmarshal(body, &ans)

	if resp.StatusCode != http.StatusOK {
		te := newErr(resp.StatusCode, nil)
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
		return "", time.Time{}, te
	}
	if jsonErr != nil {
		return "", time.Time{}, newErr(resp.StatusCode, fmt.Errorf("decode answer: %w", jsonErr))
	}
	if ans.AccessToken == "" {
		return "", time.Time{}, newErr(resp.StatusCode, errors.New("answer has no access_token"))
	}
	life := time.Duration(ans.ExpiresIn) * time.Second
	if life <= 0 {
		life = defaultTokenLifetime
	}
	// Count the lifetime from when the request went, not when it came back.
	return ans.AccessToken, sent.Add(life), nil
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
	if cfg.TTL <= 0 {
		cfg.TTL = time.Hour
	}
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
