package zoomtest

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenScope is the scope string the token endpoint answers with.
const tokenScope = "meeting:read:admin meeting:write:admin user:read:admin user:write:admin"

// tokenError is the body of the token endpoint's error answers.
type tokenError struct {
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

// tokenAnswer is the body of a successful token answer.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	APIURL      string `json:"api_url,omitempty"`
}

// serveToken is POST /oauth/token, Server-to-Server OAuth's
// account_credentials grant. grant_type and account_id are read from the
// query or a form body, the client id and secret from Basic auth. Errors are
// answered as Zoom does, with {"reason", "error"}: 401 invalid_client for
// credentials it refuses (RFC 6749 section 5.2, for a client that
// authenticated), 400 for the rest.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	bad := func(status int, reason, code string) {
		writeAnswer(w, answer{status: status, body: tokenError{Reason: reason, Error: code}})
	}
	if r.Method != http.MethodPost {
		bad(http.StatusMethodNotAllowed, "Method Not Allowed", "invalid_request")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		bad(http.StatusBadRequest, "Bad Request", "invalid_request")
		return
	}
	id, secret, hasBasic := r.BasicAuth()
	if !hasBasic {
		// OAuth also allows the client credentials in the body.
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		hasBasic = id != ""
	}
	s.mu.Lock()
	rejected, apiURL, ttl := s.rejectApp, s.apiURL, s.tokenTTL
	s.mu.Unlock()
	wrong := false
	if o := s.opts; o.ClientID != "" {
		wrong = !hasBasic || !equal(id, o.ClientID) || !equal(secret, o.ClientSecret)
	}
	if wrong || rejected {
		s.mu.Lock()
		s.stats.TokensRefused++
		s.mu.Unlock()
		bad(http.StatusUnauthorized, "Invalid client_id or client_secret", "invalid_client")
		return
	}
	switch gt := r.Form.Get("grant_type"); gt {
	case "account_credentials":
	case "":
		bad(http.StatusBadRequest, "Missing grant type", "invalid_request")
		return
	default:
		bad(http.StatusBadRequest, "unsupported grant type", "unsupported_grant_type")
		return
	}
	acct := r.Form.Get("account_id")
	if acct == "" || (s.opts.AccountID != "" && acct != s.opts.AccountID) {
		bad(http.StatusBadRequest, "Bad Request", "invalid_request")
		return
	}

	tok := s.IssueToken()
	expiresIn := int64(ttl/time.Second) - 1 // Zoom answers 3599 for an hour
	if expiresIn < 1 {
		expiresIn = 1
	}
	switch apiURL {
	case "":
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		apiURL = scheme + "://" + r.Host
	case "none":
		apiURL = ""
	}
	h := http.Header{}
	h.Set("Cache-Control", "no-store")
	writeAnswer(w, answer{status: http.StatusOK, header: h,
		body: tokenAnswer{AccessToken: tok, TokenType: "bearer", ExpiresIn: expiresIn, Scope: tokenScope, APIURL: apiURL}})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// RejectCredentials makes the token endpoint refuse the app (reject true)
// as Zoom does when its secret was rotated or the app deactivated: 401
// {"reason": "Invalid client_id or client_secret", "error":
// "invalid_client"}, whatever the credentials; false accepts them again.
// Tokens issued before stay good until they expire (ExpireTokens ends
// them now).
func (s *Server) RejectCredentials(reject bool) { setLocked(s, &s.rejectApp, reject) }

// SetAPIURL changes Options.APIURL, the api_url of token answers from now
// on ("" for the URL the request came to, "none" for no api_url).
func (s *Server) SetAPIURL(url string) { setLocked(s, &s.apiURL, url) }

// SetTokenTTL changes Options.TokenTTL for tokens issued from now on (0
// means 1 hour). A token's expires_in is its lifetime in whole seconds, less
// one, and at least 1.
func (s *Server) SetTokenTTL(d time.Duration) {
	if d <= 0 {
		d = time.Hour
	}
	setLocked(s, &s.tokenTTL, d)
}

// IssueToken mints an OAuth access token as the token endpoint would (it
// counts in Stats.TokensIssued and expires after the token lifetime), for
// tests that hand a fixed token to their client.
func (s *Server) IssueToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	ttl := s.tokenTTL
	// Forget tokens long expired, now and then, so the map stays small.
	if now.Sub(s.tokensPruned) > ttl {
		for t, exp := range s.tokens {
			if now.Sub(exp) > ttl {
				delete(s.tokens, t)
			}
		}
		s.tokensPruned = now
	}
	tok := "zt." + s.randString(48, alnum)
	s.tokens[tok] = now.Add(ttl)
	s.stats.TokensIssued++
	return tok
}

// ExpireTokens makes every access token issued so far expired, and every
// JWT accepted so far rejected: clients get 401, code 124, until they fetch
// (or sign) a new one. A JWT re-signed with the very same claims is the same
// string and stays rejected.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.now().Add(-time.Second)
	for t, exp := range s.tokens {
		if exp.After(past) {
			s.tokens[t] = past
		}
	}
	for t := range s.jwtSeen {
		s.jwtRejected[t] = true
	}
	clear(s.jwtSeen)
}

// authenticate checks the bearer token of an API request: an access token
// from the token endpoint that has not expired, or (with Options.APIKey) a
// legacy JWT app token. Otherwise it returns Zoom's 401 with code 124.
func (s *Server) authenticate(r *http.Request) (answer, bool) {
	invalid := zoomError(http.StatusUnauthorized, codeInvalidToken, msgInvalidToken)
	expired := zoomError(http.StatusUnauthorized, codeInvalidToken, msgExpiredToken)

	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return invalid, false
	}

	s.mu.Lock()
	exp, known := s.tokens[tok]
	now := s.now()
	s.mu.Unlock()
	if known {
		if !now.Before(exp) {
			return expired, false
		}
		return answer{}, true
	}
	if s.opts.APIKey == "" || strings.Count(tok, ".") != 2 {
		return invalid, false
	}
	_, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(s.opts.APISecret), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(s.opts.APIKey),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return expired, false
	case err != nil:
		return invalid, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jwtRejected[tok] {
		return expired, false
	}
	s.jwtSeen[tok] = true
	return answer{}, true
}
