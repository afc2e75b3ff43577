// Package zoomtest is a fake Zoom: an http.Handler that serves the token
// endpoint and the REST API v2 endpoints zoom-worker uses, the way Zoom's
// documentation says Zoom answers them. Tests and `zoom-worker dev` use it.
// It imports nothing of zoom-worker, so it fakes Zoom for any client.
//
// # Serving it
//
//	fake := zoomtest.New(zoomtest.Options{AccountID: "acct", ClientID: "id", ClientSecret: "secret"})
//	host := fake.AddUser("james@bond.com", "James", "Bond", 1)
//	srv := httptest.NewServer(fake)
//	defer srv.Close()
//	baseURL, tokenURL := srv.URL+"/v2", srv.URL+"/oauth/token"
//
// A client's base URL is the server's URL + "/v2"; its token URL is the
// server's URL + "/oauth/token". Serve listens on an address of its own
// (for `zoom-worker dev` and tests that start the worker as a subprocess).
//
// # What it serves
//
//   - POST /oauth/token: the account_credentials grant (grant_type and
//     account_id in the query or a form body, Basic auth). 200 with
//     access_token, token_type "bearer", expires_in (3599 for an hour;
//     SetTokenTTL), scope and api_url (the URL asked, or Options.APIURL /
//     SetAPIURL: the regional API base a client is to use, "/v2" left
//     out); wrong credentials, and any while RejectCredentials(true) is in
//     force, are 401 {"reason": "Invalid client_id or client_secret",
//     "error": "invalid_client"}, another grant type 400
//     unsupported_grant_type, a wrong account id 400 invalid_request.
//   - Every /v2 request needs "Authorization: Bearer <token>": a token from
//     the endpoint that has not expired, or (with Options.APIKey) an HS256
//     JWT with iss = APIKey, signed with APISecret, exp in the future. Else
//     401 {"code": 124, "message": "Invalid access token."} ("Access token is
//     expired." for an expired one).
//   - POST /v2/users → 201 {id, first_name, last_name, email, type}; 409 code
//     1005 for an email already in the account; 400 code 300 "Validation
//     Failed." with "errors": [{field, message}] for a missing or bad action,
//     email or type; 400 code 300 "Invalid parameter: password" for an
//     autoCreate password that breaks Zoom's rules.
//   - GET /v2/users/{userId} (an id, an email or "me": the account's first
//     user) → 200 user; DELETE /v2/users/{userId}?action=&transfer_email=
//     &transfer_meeting= → 204. Unknown users are 404 {"code": 1001,
//     "message": "User does not exist: {userId}."}.
//   - POST /v2/users/{userId}/meetings → 201 with the whole meeting: an
//     11-digit id, uuid, host_id, host_email, topic, type, status "waiting",
//     start_time in UTC ("Z"; a local start_time is read in the request's
//     timezone), duration, timezone, agenda, created_at, start_url
//     (".../s/{id}?zak=..."), join_url (".../j/{id}?pwd=..."), password,
//     h323_password, pstn_password, encrypted_password, settings (what was
//     sent over defaults), pre_schedule, and for type 8 the recurrence and
//     its occurrences (daily, weekly or monthly; end_times up to 60, or
//     end_date_time). Without a password one is generated unless
//     default_password is false. A password over 10 characters or with
//     characters other than letters, digits and @ - _ * is 400 code 300
//     "Invalid parameter: password."; a topic over 200 characters and other
//     schema violations are 400 code 300 "Validation Failed.".
//   - GET /v2/users/{userId}/meetings?type=&page_size=&next_page_token= →
//     200 {page_size, page_number, page_count, total_records,
//     next_page_token, meetings: [{uuid, id, host_id, topic, type,
//     start_time, duration, timezone, created_at, join_url, agenda}]}, in
//     creation order, page_size 1..300 (default 30), opaque page tokens good
//     for 15 minutes.
//   - GET /v2/meetings/{meetingId}[?occurrence_id=] → 200 meeting;
//     PATCH /v2/meetings/{meetingId}[?occurrence_id=] → 204;
//     DELETE /v2/meetings/{meetingId}[?occurrence_id=&schedule_for_reminder=
//     &cancel_meeting_reminder=] → 204. Unknown meetings are 404 {"code":
//     3001, "message": "Meeting does not exist: {meetingId}."}.
//
// A body that is not one JSON object is 400 {"code": 300, "message":
// "Request Body should be a valid JSON object."}. Numbers and booleans sent
// as strings are accepted, as Zoom accepts them.
//
// # Limits
//
// Each host may have DailyMeetingLimit (default 100) meeting creates and
// updates per UTC day; beyond that Zoom answers 429 {"code": 429,
// "message": "You have exceeded the daily rate limit (100) of Meeting
// Create/Update API requests permitted for this particular user. You may
// resume these requests at GMT 00:00:00."} with X-RateLimit-Type:
// Daily-limit and no Retry-After. With RateLimit set, API requests beyond
// that many per second (a burst of one second's worth) are 429 {"code": 429,
// "message": "You have reached the maximum per-second rate limit for this
// API. Try again later."} with Retry-After (see Options.RetryAfterFormat),
// X-RateLimit-Type: QPS and X-RateLimit-Category (Light or Medium, Zoom's
// label of the operation). Both use Options.Now, so a test can move the
// clock across midnight UTC, or stop it.
//
// # Faults
//
// API requests (never token requests) go through, in this order: FailNext
// and ResetNext orders; ResetRate (the connection is dropped without an
// answer); FailRate (500, 502 or 503); the token check; the rate limit; the
// operation; Latency, which delays the answer, not the work (a client that
// gives up meanwhile leaves the work done, as with a slow Zoom); and
// ResetAfterRate (the operation was carried out, then the connection is
// dropped). The random faults draw from a generator seeded with
// Options.Seed. Holds (HoldMeetingCreates, HoldMeetingCreatesBefore,
// HoldUserCreates, HoldUserCreatesBefore) stop requests just after or just
// before the operation until released, for tests that kill a client while
// Zoom is at work; a Hold is active from the moment it is made. Stats
// counts what was served.
//
// # What it leaves out
//
// One account; no webinars, registrants, recordings or user settings; no
// meeting is ever live; a scheduled meeting without start_time keeps type 2
// and starts now (Zoom makes it an instant meeting); schedule_for and
// template_id are ignored. Every user's timezone, and a meeting's when the
// request names none, is UTC.
package zoomtest
