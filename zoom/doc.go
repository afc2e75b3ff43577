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
// passed along), sends JSON and decodes Zoom's answer into User or Meeting,
// keeping the whole answer in Raw so fields this package does not name can
// be passed on. The client makes no retries of its own but one: when Zoom
// rejects the access token (401, code 124) it drops the token and repeats
// the request once with a fresh one. Everything else is for the caller to
// retry, guided by Classify.
//
// # Tokens
//
// NewOAuth is a Server-to-Server OAuth app (the account_credentials grant):
// its token is shared by all goroutines, refreshed before it expires by one
// request at a time, and optionally shared between processes through a
// TokenCache under OAuthConfig.CacheKey. NewJWT signs legacy JWT app tokens
// locally. StaticToken is for tests.
//
// # Errors
//
// A Zoom error answer is an *APIError (HTTP status, Zoom's code and message,
// field errors, Retry-After, the daily meeting limit); a token endpoint
// failure is a *TokenError. Both are reached with errors.As through any
// wrapping. Classify turns any error into Permanent, RetrySoon or RetryLater
// (with the time to retry at); IsNotFound and IsUserExists name the answers
// the worker treats as outcomes rather than failures. No error message holds
// a bearer token, a client secret or an API secret.
//
// A fake Zoom for tests and the worker's dev mode lives in the subpackage
// zoomtest.
package zoom
