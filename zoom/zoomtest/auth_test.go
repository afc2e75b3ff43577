package zoomtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokenEndpoint(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		query      string // appended to the URL
		form       string // body, form-encoded
		user, pass string // Basic auth; "" for none
		wantStatus int
		wantError  string
	}{
		{name: "form body", method: "POST", form: "grant_type=account_credentials&account_id=" + testAccount,
			user: testClient, pass: testSecret, wantStatus: 200},
		{name: "query string", method: "POST", query: "grant_type=account_credentials&account_id=" + testAccount,
			user: testClient, pass: testSecret, wantStatus: 200},
		{name: "client credentials in the body", method: "POST",
			form:       "grant_type=account_credentials&account_id=" + testAccount + "&client_id=" + testClient + "&client_secret=" + testSecret,
			wantStatus: 200},
		{name: "wrong secret", method: "POST", form: "grant_type=account_credentials&account_id=" + testAccount,
			user: testClient, pass: "nope", wantStatus: 401, wantError: "invalid_client"},
		{name: "wrong client id", method: "POST", form: "grant_type=account_credentials&account_id=" + testAccount,
			user: "other", pass: testSecret, wantStatus: 401, wantError: "invalid_client"},
		{name: "no credentials", method: "POST", form: "grant_type=account_credentials&account_id=" + testAccount,
			wantStatus: 401, wantError: "invalid_client"},
		{name: "other grant type", method: "POST", form: "grant_type=client_credentials&account_id=" + testAccount,
			user: testClient, pass: testSecret, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "no grant type", method: "POST", form: "account_id=" + testAccount,
			user: testClient, pass: testSecret, wantStatus: 400, wantError: "invalid_request"},
		{name: "wrong account", method: "POST", form: "grant_type=account_credentials&account_id=other",
			user: testClient, pass: testSecret, wantStatus: 400, wantError: "invalid_request"},
		{name: "no account", method: "POST", form: "grant_type=account_credentials",
			user: testClient, pass: testSecret, wantStatus: 400, wantError: "invalid_request"},
		{name: "GET", method: "GET", query: "grant_type=account_credentials&account_id=" + testAccount,
			user: testClient, pass: testSecret, wantStatus: 405, wantError: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, Options{})
			before := e.fake.Stats().TokensIssued
			u := e.srv.URL + "/oauth/token"
			if tt.query != "" {
				u += "?" + tt.query
			}
			req, _ := http.NewRequest(tt.method, u, strings.NewReader(tt.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, body := e.send(req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			issued := e.fake.Stats().TokensIssued - before
			if tt.wantStatus != 200 {
				var te tokenError
				if err := json.Unmarshal(body, &te); err != nil || te.Error != tt.wantError || te.Reason == "" {
					t.Errorf("body: got %s (%v), want error %q with a reason", body, err, tt.wantError)
				}
				if issued != 0 {
					t.Errorf("TokensIssued grew by %d, want 0", issued)
				}
				return
			}
			var ta tokenAnswer
			if err := json.Unmarshal(body, &ta); err != nil {
				t.Fatal(err)
			}
			if ta.AccessToken == "" || ta.TokenType != "bearer" || ta.ExpiresIn != 3599 || ta.Scope == "" {
				t.Errorf("answer: got %+v, want a bearer token for 3599 s with a scope", ta)
			}
			if issued != 1 {
				t.Errorf("TokensIssued grew by %d, want 1", issued)
			}
			if resp, body := e.doCtx(t.Context(), ta.AccessToken, "GET", "/users/me", nil); resp.StatusCode != 200 {
				t.Errorf("the new token is refused: %d %s", resp.StatusCode, body)
			}
		})
	}
}

func TestTokenEndpointAcceptsAnyCredentialsByDefault(t *testing.T) {
	fake := New(Options{})
	e := &testEnv{t: t, fake: fake}
	e.srv = newServer(t, fake)
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token?grant_type=account_credentials&account_id=x", nil)
	req.SetBasicAuth("anything", "goes")
	if resp, body := e.send(req); resp.StatusCode != 200 {
		t.Fatalf("status: got %d, want 200 (%s)", resp.StatusCode, body)
	}
}

func TestBearerToken(t *testing.T) {
	clock := NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	e := newTestEnv(t, Options{Now: clock.Now, TokenTTL: time.Hour})

	tests := []struct {
		name       string
		header     string
		wantStatus int
		wantMsg    string
	}{
		{name: "valid", header: "Bearer " + e.token, wantStatus: 200},
		{name: "scheme is case-insensitive", header: "bearer " + e.token, wantStatus: 200},
		{name: "no header", header: "", wantStatus: 401, wantMsg: msgInvalidToken},
		{name: "unknown token", header: "Bearer nope", wantStatus: 401, wantMsg: msgInvalidToken},
		{name: "basic auth", header: "Basic " + e.token, wantStatus: 401, wantMsg: msgInvalidToken},
		{name: "JWT while no API key is set", header: "Bearer " + signJWT(t, "key", "secret", clock.Now().Add(time.Hour)),
			wantStatus: 401, wantMsg: msgInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := e.newRequest(t.Context(), "", "GET", "/users/me", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, body := e.send(req)
			if tt.wantStatus == 200 {
				if resp.StatusCode != 200 {
					t.Fatalf("status: got %d, want 200 (%s)", resp.StatusCode, body)
				}
				return
			}
			wantZoomError(t, resp, body, tt.wantStatus, codeInvalidToken, tt.wantMsg)
		})
	}

	t.Run("expires after TokenTTL", func(t *testing.T) {
		tok := e.fetchToken()
		clock.Add(time.Hour - time.Second)
		if resp, body := e.doCtx(t.Context(), tok, "GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Fatalf("just before expiry: got %d (%s), want 200", resp.StatusCode, body)
		}
		clock.Add(time.Second)
		resp, body := e.doCtx(t.Context(), tok, "GET", "/users/me", nil)
		wantZoomError(t, resp, body, 401, codeInvalidToken, msgExpiredToken)
	})

	t.Run("ExpireTokens", func(t *testing.T) {
		tok := e.fetchToken()
		e.fake.ExpireTokens()
		resp, body := e.doCtx(t.Context(), tok, "GET", "/users/me", nil)
		wantZoomError(t, resp, body, 401, codeInvalidToken, msgExpiredToken)
		if resp, body := e.doCtx(t.Context(), e.fetchToken(), "GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Fatalf("a token fetched afterwards: got %d (%s), want 200", resp.StatusCode, body)
		}
	})

	t.Run("IssueToken", func(t *testing.T) {
		if resp, body := e.doCtx(t.Context(), e.fake.IssueToken(), "GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Fatalf("got %d (%s), want 200", resp.StatusCode, body)
		}
	})

	if got := e.fake.Stats().Unauthorized; got < 6 {
		t.Errorf("Stats.Unauthorized: got %d, want at least 6", got)
	}
}

func signJWT(t *testing.T, key, secret string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": key, "exp": exp.Unix()}).
		SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestJWT(t *testing.T) {
	clock := NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	e := newTestEnv(t, Options{Now: clock.Now, APIKey: "key", APISecret: "secret"})
	now := clock.Now()
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"iss": "key", "exp": now.Add(time.Hour).Unix()}).
		SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	noExp, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "key"}).SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		token   string
		wantMsg string // "" means accepted
	}{
		{name: "valid", token: signJWT(t, "key", "secret", now.Add(time.Hour))},
		{name: "expired", token: signJWT(t, "key", "secret", now.Add(-time.Second)), wantMsg: msgExpiredToken},
		{name: "wrong secret", token: signJWT(t, "key", "other", now.Add(time.Hour)), wantMsg: msgInvalidToken},
		{name: "wrong issuer", token: signJWT(t, "other", "secret", now.Add(time.Hour)), wantMsg: msgInvalidToken},
		{name: "other algorithm", token: hs512, wantMsg: msgInvalidToken},
		{name: "no exp", token: noExp, wantMsg: msgInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.doCtx(t.Context(), tt.token, "GET", "/users/me", nil)
			if tt.wantMsg == "" {
				if resp.StatusCode != 200 {
					t.Fatalf("got %d (%s), want 200", resp.StatusCode, body)
				}
				return
			}
			wantZoomError(t, resp, body, 401, codeInvalidToken, tt.wantMsg)
		})
	}

	t.Run("ExpireTokens rejects the JWTs seen so far", func(t *testing.T) {
		old := signJWT(t, "key", "secret", now.Add(time.Hour))
		if resp, _ := e.doCtx(t.Context(), old, "GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Fatalf("before: got %d, want 200", resp.StatusCode)
		}
		e.fake.ExpireTokens()
		resp, body := e.doCtx(t.Context(), old, "GET", "/users/me", nil)
		wantZoomError(t, resp, body, 401, codeInvalidToken, msgExpiredToken)
		fresh := signJWT(t, "key", "secret", now.Add(2*time.Hour))
		if resp, body := e.doCtx(t.Context(), fresh, "GET", "/users/me", nil); resp.StatusCode != 200 {
			t.Fatalf("a newly signed JWT: got %d (%s), want 200", resp.StatusCode, body)
		}
	})
}

func TestTokenExpiresInFollowsTTL(t *testing.T) {
	e := newTestEnv(t, Options{AccountID: testAccount, ClientID: testClient, ClientSecret: testSecret, TokenTTL: 10 * time.Minute})
	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {testAccount}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token?"+form.Encode(), nil)
	req.SetBasicAuth(testClient, testSecret)
	_, body := e.send(req)
	var ta tokenAnswer
	if err := json.Unmarshal(body, &ta); err != nil {
		t.Fatal(err)
	}
	if ta.ExpiresIn != 599 {
		t.Errorf("expires_in: got %d, want 599", ta.ExpiresIn)
	}
}

// postToken asks srvURL's token endpoint for a token with the test
// credentials and returns the status and the decoded answer.
func (e *testEnv) postToken(srvURL string) (int, tokenAnswer, []byte) {
	e.t.Helper()
	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {testAccount}}
	req, _ := http.NewRequest(http.MethodPost, srvURL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClient, testSecret)
	resp, body := e.send(req)
	var ta tokenAnswer
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &ta); err != nil {
			e.t.Fatalf("token answer %s: %v", body, err)
		}
	}
	return resp.StatusCode, ta, body
}

func TestTokenAPIURL(t *testing.T) {
	e := newTestEnv(t, Options{})
	if _, ta, _ := e.postToken(e.srv.URL); ta.APIURL != e.srv.URL {
		t.Errorf("api_url by default: got %q, want the URL asked (%q)", ta.APIURL, e.srv.URL)
	}

	// A second listener serving the same fake stands for the regional API:
	// the token from the first is good there.
	var regional atomic.Int64
	second := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		regional.Add(1)
		e.fake.ServeHTTP(w, r)
	}))
	e.fake.SetAPIURL(second.URL)
	_, ta, _ := e.postToken(e.srv.URL)
	if ta.APIURL != second.URL {
		t.Fatalf("api_url after SetAPIURL: got %q, want %q", ta.APIURL, second.URL)
	}
	req, _ := http.NewRequest(http.MethodGet, ta.APIURL+"/v2/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+ta.AccessToken)
	if resp, body := e.send(req); resp.StatusCode != http.StatusOK || regional.Load() != 1 {
		t.Errorf("GET at api_url: got %d (%s), %d requests there; want 200 and 1", resp.StatusCode, body, regional.Load())
	}

	e.fake.SetAPIURL("none")
	if _, _, body := e.postToken(e.srv.URL); strings.Contains(string(body), "api_url") {
		t.Errorf(`with "none": got %s, want no api_url`, body)
	}
}

func TestRejectCredentials(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.fake.RejectCredentials(true)
	status, _, body := e.postToken(e.srv.URL)
	if status != http.StatusUnauthorized {
		t.Fatalf("while rejected: got %d (%s), want 401", status, body)
	}
	var te tokenError
	if err := json.Unmarshal(body, &te); err != nil || te != (tokenError{Reason: "Invalid client_id or client_secret", Error: "invalid_client"}) {
		t.Errorf("body: got %s, want Zoom's invalid_client", body)
	}
	if got := e.fake.Stats().TokensRefused; got != 1 {
		t.Errorf("TokensRefused: got %d, want 1", got)
	}
	// A token issued before stays good until it expires.
	if resp, body := e.do("GET", "/users/me", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the earlier token while rejected: got %d (%s), want 200", resp.StatusCode, body)
	}
	e.fake.RejectCredentials(false)
	if status, _, body := e.postToken(e.srv.URL); status != http.StatusOK {
		t.Errorf("accepted again: got %d (%s), want 200", status, body)
	}
}

func TestSetTokenTTL(t *testing.T) {
	clock := NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	e := newTestEnv(t, Options{Now: clock.Now})
	e.fake.SetTokenTTL(3 * time.Second)
	_, ta, _ := e.postToken(e.srv.URL)
	if ta.ExpiresIn != 2 {
		t.Errorf("expires_in for 3 s: got %d, want 2", ta.ExpiresIn)
	}
	clock.Add(2 * time.Second)
	if resp, body := e.doCtx(t.Context(), ta.AccessToken, "GET", "/users/me", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after 2 s: got %d (%s), want 200", resp.StatusCode, body)
	}
	clock.Add(time.Second)
	resp, body := e.doCtx(t.Context(), ta.AccessToken, "GET", "/users/me", nil)
	wantZoomError(t, resp, body, http.StatusUnauthorized, codeInvalidToken, msgExpiredToken)
}
