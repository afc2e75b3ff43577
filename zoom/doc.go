// Package zoom is zoom-worker's adapter for Zoom's REST API v2: a Client for
// the user and meeting operations the worker performs, the token sources
// that authenticate it, and the error vocabulary that decides what happens
// to a job.
//
// # Calls
//
// A Client is built with NewClient and is safe for concurrent use; one is
// meant to serve all of a process's goroutines. Each call takes a context,
// waits for Options.Limiter (Zoom's rate-limit category of the operation is
// passed along), sends JSON and decodes Zoom's answer into User, Meeting or
// Registrant, keeping the whole answer in Raw so fields this package does
// not name can be passed on. User and Meeting are the domain's messages.User
// and messages.Meeting with Raw beside them: the fields are named once, in
// package messages, and Whole gives the domain value with every field Zoom
// sent. After each answer that says something about
// the account's quota (X-RateLimit-* headers, Retry-After, a 429) a Limiter
// that is also a QuotaObserver is told it as a Quota.
//
// Requests go to Options.BaseURL; left empty, to the host the OAuth token
// answer names (api_url: Zoom's regional hosts such as api-eu.zoom.us), else
// DefaultBaseURL. The client makes no retries of its own but one: when Zoom
// rejects the access token (401, code 124) it drops the token and repeats
// the request once with a fresh one. Everything else is for the caller to
// retry, guided by Classify.
//
// # Tokens
//
// NewOAuth is a Server-to-Server OAuth app (the account_credentials grant):
// its token is shared by all goroutines, refreshed before it expires by one
// request at a time, and optionally shared between processes through a
// TokenCache under OAuthConfig.CacheKey. A token is replaced a twelfth of
// its lifetime (at most 5 minutes) before it expires. A token endpoint that
// refuses the app answers a *TokenError that IsCredentialsRejected
// recognises; nothing of it is kept, and (*Client).CheckCredentials probes
// the endpoint again. NewJWT signs legacy JWT app tokens locally (Zoom
// switched JWT apps off on 2023-09-08; the path stays for what still
// accepts them). StaticToken is for tests.
//
// # Errors
//
// A Zoom error answer is an *APIError (HTTP status, Zoom's code and message,
// field errors, Retry-After, the daily meeting and registrant limits, a
// user busy with another request, Zoom's x-zm-trackingid); a token endpoint
// failure is a *TokenError. Both are reached with errors.As through any
// wrapping. Classify turns any error into Permanent, RetrySoon, RetryLater
// (with the time to retry at) or AccountFault (the account's credentials,
// not the job); IsNotFound and IsUserExists name the answers
// the worker treats as outcomes rather than failures. No error message holds
// a bearer token, a client secret or an API secret.
//
// A fake Zoom for tests and the worker's dev mode lives in the subpackage
// zoomtest.
package zoom
