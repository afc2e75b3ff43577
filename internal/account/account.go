package account

import (
	"errors"
	"time"

	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
)

// Spec is one Zoom account's credentials and limits.
type Spec struct {
	// Name is what jobs put in "account"; "" means worker.DefaultAccount.
	Name string
	// AccountID, ClientID and ClientSecret are a Server-to-Server OAuth app,
	// used when all three are set; else APIKey and APISecret, a legacy JWT app.
	AccountID, ClientID, ClientSecret string
	APIKey, APISecret                 string
	// APIURL is Zoom's REST base URL, "/v2" included; "" means what
	// zoom.Options.BaseURL "" means (the host the token answer names).
	APIURL string
	// TokenURL is the OAuth token endpoint; "" means zoom.DefaultTokenURL.
	TokenURL string
	// Limits is the account's shared rate limit; all rates zero and no Plan
	// means none.
	Limits redisstore.Limits
	// LimiterName names the limiter's keys in Redis: "" means Name. Two
	// Specs with one LimiterName share one budget.
	LimiterName string
	// Timeout bounds each HTTP request to Zoom; 0 means 30 s.
	Timeout time.Duration
	// Metrics, if set, is told how long requests waited for the limiter.
	Metrics *worker.Metrics
}

// New builds the account on store. The error is zoom.NewClient's (a bad
// APIURL) or says that the Spec names no credentials.
func New(s Spec, store *redisstore.Store) (worker.Account, error) {
	if s.Name == "" {
		s.Name = worker.DefaultAccount
	}
	if s.Timeout <= 0 {
		s.Timeout = 30 * time.Second
	}
	httpc := zoom.NewHTTPClient(s.Timeout)
	var tokens zoom.TokenSource
	switch {
	case s.AccountID != "" && s.ClientID != "" && s.ClientSecret != "":
		tokens = zoom.NewOAuth(zoom.OAuthConfig{AccountID: s.AccountID, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
			TokenURL: s.TokenURL, HTTPClient: httpc, Cache: store.TokenCache(s.Name)})
	case s.APIKey != "" && s.APISecret != "":
		tokens = zoom.NewJWT(zoom.JWTConfig{APIKey: s.APIKey, APISecret: s.APISecret})
	default:
		return worker.Account{}, errors.New("account " + s.Name + ": no credentials (an OAuth app or a JWT app)")
	}
	opts := zoom.Options{BaseURL: s.APIURL, Tokens: tokens, HTTPClient: httpc}
	acct := worker.Account{Name: s.Name}
	if l := s.Limits; l.PerSecond > 0 || l.Light > 0 || l.Medium > 0 || l.Plan != redisstore.PlanNone {
		name := s.LimiterName
		if name == "" {
			name = s.Name
		}
		limiter := store.NewLimiter(name, l)
		if s.Metrics != nil {
			limiter.OnWait = s.Metrics.ObserveRateLimitWait
		}
		opts.Limiter, acct.Limiter = limiter, limiter
	}
	client, err := zoom.NewClient(opts)
	if err != nil {
		return worker.Account{}, err
	}
	acct.Zoom = client
	return acct, nil
}
