package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
)

// accountSpec is one Zoom account: the default one from ZOOM_* settings, or
// an entry of ZOOMW_ACCOUNTS_FILE.
type accountSpec struct {
	Name            string  `json:"-"`
	AccountID       string  `json:"account_id"`
	ClientID        string  `json:"client_id"`
	ClientSecret    string  `json:"client_secret"`
	ClientSecretEnv string  `json:"client_secret_env"`
	APIKey          string  `json:"api_key"`
	APISecret       string  `json:"api_secret"`
	APISecretEnv    string  `json:"api_secret_env"`
	APIURL          string  `json:"api_url"`
	TokenURL        string  `json:"token_url"`
	RateLimit       float64 `json:"rate_limit"`
	RateLimitLight  float64 `json:"rate_limit_light"`
	RateLimitMedium float64 `json:"rate_limit_medium"`
	Plan            string  `json:"plan"`
	plan            redisstore.Plan
	// Read side (cmd/zoom-worker/webhook.go, readside.go): the account's
	// Zoom app webhook secret and Meeting SDK app, secrets by reference.
	WebhookSecretTokenEnv string `json:"webhook_secret_token_env"`
	SDKKey                string `json:"sdk_key"`
	SDKSecretEnv          string `json:"sdk_secret_env"`
	reads                 bool   // the read side's client (readSpecs)
}

// accountsFile is the format of ZOOMW_ACCOUNTS_FILE:
//
//	{"accounts": {"school-b": {"account_id": "...", "client_id": "...",
//	                           "client_secret_env": "SCHOOL_B_SECRET", "rate_limit": 10}}}
//
// Secrets may be given by reference (client_secret_env, api_secret_env name
// an environment variable) so the file itself holds none. rate_limit unset
// means ZOOMW_RATE_LIMIT.
type accountsFile struct {
	Accounts map[string]*accountSpec `json:"accounts"`
}

var accountName = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func loadAccounts(cfg *Config, getenv func(string) string) ([]*accountSpec, error) {
	def := &accountSpec{Name: worker.DefaultAccount, AccountID: cfg.AccountID, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, APIKey: cfg.APIKey, APISecret: cfg.APISecret,
		RateLimit: cfg.RateLimit, RateLimitLight: cfg.RateLimitLight, RateLimitMedium: cfg.RateLimitMedium, plan: cfg.ZoomPlan}
	out := []*accountSpec{def}
	if cfg.AccountsFile == "" {
		return out, nil
	}
	raw, err := os.ReadFile(cfg.AccountsFile)
	if err != nil {
		return nil, &badSetting{name: "ZOOMW_ACCOUNTS_FILE", value: cfg.AccountsFile, why: "cannot read it"}
	}
	var f accountsFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, &badSetting{name: "ZOOMW_ACCOUNTS_FILE", value: cfg.AccountsFile, why: "not valid: " + err.Error()}
	}
	names := make([]string, 0, len(f.Accounts))
	for n := range f.Accounts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := f.Accounts[n]
		where := fmt.Sprintf("ZOOMW_ACCOUNTS_FILE account %q", n)
		if !accountName.MatchString(n) || n == worker.DefaultAccount {
			return nil, &badSetting{name: where, why: "a name is 1-64 characters of A-Z a-z 0-9 . _ : - and not \"default\""}
		}
		a.Name = n
		// A reference to an unset variable is named as such (the variable,
		// never a value): "needs client_secret" would send the operator to
		// the file when the environment is what is missing.
		for _, ref := range []struct {
			field, env string
			to         *string
		}{{"client_secret_env", a.ClientSecretEnv, &a.ClientSecret}, {"api_secret_env", a.APISecretEnv, &a.APISecret}} {
			if ref.env == "" {
				continue
			}
			if *ref.to = getenv(ref.env); *ref.to == "" {
				return nil, &badSetting{name: where + " " + ref.field, why: fmt.Sprintf("names the environment variable %s, which is not set (or empty)", ref.env)}
			}
		}
		oauth := a.AccountID != "" && a.ClientID != "" && a.ClientSecret != ""
		jwtApp := a.APIKey != "" && a.APISecret != ""
		if !oauth && !jwtApp {
			return nil, &badSetting{name: where, why: "needs account_id, client_id and client_secret (or client_secret_env), or api_key and api_secret"}
		}
		for field, v := range map[string]string{"api_url": a.APIURL, "token_url": a.TokenURL} {
			// Checked here, so the error names the entry's field (not
			// ZOOM_API_URL) and never echoes the URL: it may carry a password.
			if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
				return nil, &badSetting{name: where + " " + field, why: "want an absolute http(s) URL"}
			}
		}
		if a.RateLimit == 0 {
			a.RateLimit = cfg.RateLimit
		}
		a.plan = cfg.ZoomPlan
		if a.Plan != "" {
			p, err := redisstore.ParsePlan(a.Plan)
			if err != nil {
				return nil, &badSetting{name: where, why: err.Error()}
			}
			a.plan = p
		}
		out = append(out, a)
	}
	return out, nil
}

// build makes the worker's view of the account: a Zoom client whose token is
// shared through Redis and whose requests pass the shared rate limiter.
func (a *accountSpec) build(cfg *Config, store *redisstore.Store, m *worker.Metrics) (worker.Account, error) {
	spec := account.Spec{Name: a.Name, AccountID: a.AccountID, ClientID: a.ClientID, ClientSecret: a.ClientSecret,
		APIKey: a.APIKey, APISecret: a.APISecret, APIURL: cfg.ZoomAPIURL, TokenURL: cfg.ZoomTokenURL,
		Limits:  redisstore.Limits{PerSecond: a.RateLimit, Light: a.RateLimitLight, Medium: a.RateLimitMedium, Plan: a.plan, Burst: cfg.RateLimitBurst},
		Timeout: cfg.ZoomTimeout, Metrics: m}
	if !cfg.explicitlySet["ZOOM_API_URL"] && spec.APIURL == zoom.DefaultBaseURL {
		spec.APIURL = "" // the account's own host: the token answer's api_url
	}
	if a.APIURL != "" {
		spec.APIURL = a.APIURL
	}
	if a.TokenURL != "" {
		spec.TokenURL = a.TokenURL
	}
	if a.reads { // the read side's own share of the account's rate (readside.go)
		spec.LimiterName, spec.Limits.MaxWait = a.Name+":read", readMaxWait
	}
	acct, err := account.New(spec, store)
	if err != nil {
		return worker.Account{}, &badSetting{name: "ZOOM_API_URL", why: err.Error()}
	}
	return acct, nil
}
