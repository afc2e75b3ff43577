package zoom

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// counted serves h and counts the API requests (under /v2) it got.
type counted struct {
	*httptest.Server
	api atomic.Int32
}

func serveCounted(t *testing.T, h http.Handler) *counted {
	t.Helper()
	c := &counted{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) >= 3 && r.URL.Path[:3] == "/v2" {
			c.api.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

// regionEnv is one fake Zoom served on two listeners: the token endpoint
// on home, and the account's regional API host on region, which token
// answers name as api_url.
type regionEnv struct {
	fake         *zoomtest.Server
	home, region *counted
}

func newRegionEnv(t *testing.T) *regionEnv {
	t.Helper()
	fake := zoomtest.New(zoomtest.Options{})
	e := &regionEnv{fake: fake, home: serveCounted(t, fake), region: serveCounted(t, fake)}
	fake.SetAPIURL(e.region.URL)
	fake.AddUser("host@example.com", "Host", "One", 1)
	return e
}

func (e *regionEnv) oauth(cache TokenCache) TokenSource {
	return NewOAuth(OAuthConfig{AccountID: "acct", ClientID: "client", ClientSecret: "secret",
		TokenURL: e.home.URL + "/oauth/token", Cache: cache})
}

func TestClientUsesTheTokensAPIURL(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name              string
		baseURL           func(e *regionEnv) string
		wantHome, wantReg int32
	}{
		{name: "no base URL: the token's api_url", baseURL: func(*regionEnv) string { return "" }, wantReg: 1},
		{name: "an explicit base URL wins", baseURL: func(e *regionEnv) string { return e.home.URL + "/v2" }, wantHome: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRegionEnv(t)
			c, err := NewClient(Options{BaseURL: tt.baseURL(e), Tokens: e.oauth(nil)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetUser(ctx, "host@example.com"); err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if got, want := [2]int32{e.home.api.Load(), e.region.api.Load()}, [2]int32{tt.wantHome, tt.wantReg}; got != want {
				t.Errorf("API requests at home, region = %v, want %v", got, want)
			}
		})
	}
}

func TestClientWithoutAPIURLUsesTheDefaultHost(t *testing.T) {
	e := newRegionEnv(t)
	e.fake.SetAPIURL("none")
	c, err := NewClient(Options{Tokens: e.oauth(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL(); got != DefaultBaseURL {
		t.Errorf("BaseURL = %q, want %q", got, DefaultBaseURL)
	}
}

func TestAPIURLIsSharedWithTheCachedToken(t *testing.T) {
	ctx := context.Background()
	e := newRegionEnv(t)
	cache := newMemCache()
	first, err := NewClient(Options{Tokens: e.oauth(cache)})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.CheckCredentials(ctx); err != nil {
		t.Fatal(err)
	}
	// A second process takes the token from the cache, without a token
	// request of its own, and must still call the account's own host.
	second, err := NewClient(Options{Tokens: e.oauth(cache)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.GetUser(ctx, "host@example.com"); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if n := e.fake.Stats().TokensIssued; n != 1 {
		t.Errorf("tokens issued = %d, want 1 (the second process uses the cached one)", n)
	}
	if got, want := second.BaseURL(), e.region.URL+"/v2"; got != want {
		t.Errorf("second BaseURL = %q, want %q", got, want)
	}
	if n := e.region.api.Load(); n != 1 {
		t.Errorf("API requests at the regional host = %d, want 1", n)
	}
}
