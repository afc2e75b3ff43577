package zoom

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// newFakeClient is a fake Zoom that takes only the test's credentials, and
// a client of it with a Server-to-Server OAuth source.
func newFakeClient(t *testing.T, opts zoomtest.Options, edit ...func(*OAuthConfig)) (*zoomtest.Server, *Client) {
	t.Helper()
	opts.AccountID, opts.ClientID, opts.ClientSecret = testAccount, testClient, testSecret
	fake := zoomtest.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	cfg := OAuthConfig{AccountID: testAccount, ClientID: testClient, ClientSecret: testSecret,
		TokenURL: srv.URL + "/oauth/token", Now: opts.Now}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := NewClient(Options{BaseURL: srv.URL + "/v2", Tokens: NewOAuth(cfg), Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	fake.AddUser("host@example.com", "Host", "One", 1)
	return fake, c
}

// A token that lives 3 s is refreshed at a share of its lifetime, not 5
// minutes early: 60 calls 100 ms apart (6 s) cost a handful of token
// requests, not one each.
func TestShortLivedTokenCostsAFewTokenRequests(t *testing.T) {
	clk := zoomtest.NewClock(fixedNow)
	fake, c := newFakeClient(t, zoomtest.Options{TokenTTL: 3 * time.Second, Now: clk.Now})
	const calls = 60
	for i := range calls {
		if _, err := c.GetUser(context.Background(), "host@example.com"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		clk.Add(100 * time.Millisecond)
	}
	st := fake.Stats()
	// 6 s of 2 s tokens (expires_in 2): 3 tokens, 4 with rounding.
	if st.TokensIssued < 2 || st.TokensIssued > 6 {
		t.Errorf("token requests over %d calls = %d, want 2..6", calls, st.TokensIssued)
	}
	if st.Unauthorized != 0 {
		t.Errorf("401 answers = %d, want 0 (no token used after it expired)", st.Unauthorized)
	}
}

// Credentials the token endpoint refuses are an account fault, not a job's:
// the error says so, holds no secret, is not kept, and the probe
// (CheckCredentials) succeeds as soon as the endpoint accepts again.
func TestRejectedCredentialsAreAnAccountFaultAndRecover(t *testing.T) {
	ctx := context.Background()
	fake, c := newFakeClient(t, zoomtest.Options{})
	fake.RejectCredentials(true)

	for i := range 3 {
		_, err := c.GetUser(ctx, "host@example.com")
		if !IsCredentialsRejected(err) {
			t.Fatalf("call %d: err = %v, want rejected credentials", i, err)
		}
		if class, _ := Classify(err); class != AccountFault {
			t.Errorf("Classify = %v, want %v", class, AccountFault)
		}
		var te *TokenError
		if !errors.As(err, &te) || te.StatusCode != 401 || te.ErrorCode != "invalid_client" {
			t.Errorf("err = %#v, want a 401 invalid_client *TokenError", err)
		}
		if strings.Contains(err.Error(), testSecret) {
			t.Errorf("error %q holds the client secret", err)
		}
	}
	if err := c.CheckCredentials(ctx); !IsCredentialsRejected(err) {
		t.Errorf("CheckCredentials = %v, want rejected credentials", err)
	}
	// Every call asked the endpoint again: a refusal is never kept.
	if got := fake.Stats().TokensRefused; got != 4 {
		t.Errorf("token requests refused = %d, want 4", got)
	}

	fake.RejectCredentials(false)
	if err := c.CheckCredentials(ctx); err != nil {
		t.Fatalf("CheckCredentials after the credentials work again = %v, want nil", err)
	}
	if _, err := c.GetUser(ctx, "host@example.com"); err != nil {
		t.Fatalf("GetUser after recovery: %v", err)
	}
	if got := fake.Stats().TokensIssued; got != 1 {
		t.Errorf("tokens issued = %d, want 1", got)
	}
}
