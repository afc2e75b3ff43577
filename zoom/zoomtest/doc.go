// Package zoomtest is a fake Zoom: an http.Handler that serves the token
// endpoint and the REST API v2 endpoints zoom-worker uses, the way Zoom's
// documentation says Zoom answers them. Tests and `zoom-worker dev` use it.
// It imports nothing of zoom-worker but Zoom's webhook signing
// (webhook/signature, standard library only), so it fakes Zoom for any
// client.
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
//     &transfer_meeting= → 204 (a transfer_email not in the account is 404
//     code 1001 "User does not exist: {transfer_email}."); PATCH
//     /v2/users/{userId} (first_name, last_name, type) → 204; PUT
//     /v2/users/{userId}/status {"action": "activate"|"deactivate"} → 204.
//     Unknown users are 404 {"code": 1001, "message": "User does not exist:
//     {userId}."}.
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
//   - POST /v2/meetings/{meetingId}/registrants[?occurrence_ids=] → 201 {id
//     (the meeting's), registrant_id, join_url (the registrant's own,
//     "https://zoom.us/w/{meetingId}?tk=..."; left out while a manual
//     approval is pending), topic, start_time, participant_pin_code,
//     occurrences}. The body is checked against Zoom's schema (email and
//     first_name required; 400 code 300 "Validation Failed."). Only a type 2
//     or 8 meeting with settings.approval_type 0 or 1 takes registrants,
//     else 404 {"code": 404, "message": "Registration has not been enabled
//     for this meeting: {meetingId}."} (Zoom keeps a type 3 meeting at
//     approval_type 2). An email already registered gets its registrant
//     back; the host is 400 code 3027; the same registrant may be added 3
//     times a day (UTC) per meeting, then 429 "You have exceeded the daily
//     rate limit of (3) for Add meeting registrant API requests for the
//     registrant ({email}). ..." with X-RateLimit-Type: Daily-limit.
//     Registrants lists them; HoldRegistrantCreates(Before) hold the adds.
//   - GET /v2/meetings/{meetingId}/registrants?status=&occurrence_id=
//     &page_size=&next_page_token= → 200 {page_size, page_count,
//     total_records, next_page_token, registrants: [{id, email, first_name,
//     last_name, status, create_time, join_url, participant_pin_code, ...}]},
//     status approved by default, in the order they registered.
//
// Every answer carries an x-zm-trackingid header, unique per answer, as
// Zoom's do.
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
// With a plan (Options.Plan or SetPlan: PlanPro, PlanBusiness) the account
// has Zoom's per-category quotas: Light 30/s (Business+ 80/s), Medium 20/s
// (60/s), Heavy 10/s (40/s), Resource-intensive 10/min (20/min), each a
// bucket of one window's worth, and a daily pool of 30,000 (60,000) that
// Heavy and Resource-intensive share. Every answer then carries
// X-RateLimit-Category, X-RateLimit-Type: QPS, X-RateLimit-Limit and
// X-RateLimit-Remaining; beyond a quota Zoom's 429 adds Retry-After and
// X-RateLimit-Reset (Unix seconds), or for the daily pool X-RateLimit-Type:
// Daily-limit, Retry-After: the next 00:00 UTC (RFC 3339) and "You have
// reached the maximum daily rate limit for this API. Refer to the response
// header ...". SetOtherAppLoad(category, perSecond) simulates another app on
// the same account that spends part of a quota (and of the pool).
//
// Zoom lets one write at a time reach a user: while a POST /users creating
// it, or a DELETE, PATCH or status change of it, is in progress, another
// write to that user is 429 {"code": 429, "message": "Too many concurrent
// requests. A request to delete this user has already been made."} ("to
// create", "to disassociate", "to update"; Stats.UserBusy counts them).
// Operations take no time unless SetOpLatency(op, d) says so, op being
// Zoom's operationId ("userCreate", "userDelete", ...).
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
// # Webhooks
//
// With a webhook endpoint (Options.WebhookURL and WebhookSecret, or
// SetWebhook) the fake sends Zoom's event notifications for the changes it
// makes: meeting.created, meeting.updated (object and old_object hold the
// id, uuid and the fields that changed, settings key by key; scope "all"
// or "single"; time_stamp), meeting.deleted (operation "all" or "single"),
// user.created (creation_type), user.updated, user.activated,
// user.deactivated, user.deleted and user.disassociated. A body is
// {"event", "event_ts" (Unix ms), "payload": {"account_id", "operator",
// "operator_id", "object", ...}}; the headers x-zm-request-timestamp (Unix
// s), x-zm-signature ("v0=" + hex HMAC-SHA256 of "v0:{ts}:{body}" keyed by
// the secret token, see SignWebhook) and x-zm-request-id (one per event,
// the same on its retries). Events go out one at a time, in order; an
// answer other than 2xx within WebhookTimeout (3 s) is retried after
// WebhookRetryDelays (Zoom's 5, 20 and 60 minutes; set them short in
// tests), then given up. WebhookDeliveries reports what was sent,
// WaitWebhooks waits for the queue to empty, SendWebhookEvent sends any
// other event, ValidateWebhookURL runs Zoom's endpoint.url_validation
// check, and Close stops the sender (call it when a test ends:
// t.Cleanup(fake.Close)). The API request's changes name the account's
// first user as operator; the simulator's name the host. event_ts and
// x-zm-request-timestamp come from Options.Now.
//
// # Simulator
//
// Changes made "in Zoom's web portal" rather than through the API: the
// API's paths under /_sim instead of /v2 (PATCH /_sim/meetings/{id},
// DELETE /_sim/meetings/{id}[?occurrence_id=], POST
// /_sim/users/{userId}/meetings, PATCH /_sim/users/{userId}, PUT
// /_sim/users/{userId}/status, DELETE /_sim/users/{userId}?action=, any
// GET), with the API's bodies and answers but no token, no rate or daily
// limit, no faults, no latency, not counted in Stats; each sends its
// webhook. POST /_sim/webhooks/validate runs ValidateWebhookURL (204, or
// 502 with the reason). From Go: SimCreateMeeting, SimUpdateMeeting,
// SimDeleteMeeting, SimUpdateUser, SimSetUserStatus, SimDeleteUser (a
// refusal is a *SimError with the API's status, code and message). With
// `zoom-worker dev`:
//
//	curl -X PATCH http://127.0.0.1:PORT/_sim/meetings/85746065432 -d '{"topic": "Renamed in Zoom"}'
//	curl -X DELETE http://127.0.0.1:PORT/_sim/meetings/85746065432
//
// # What it leaves out
//
// One account; no webinars, recordings or user settings; no
// meeting is ever live; a scheduled meeting without start_time keeps type 2
// and starts now (Zoom makes it an instant meeting); schedule_for and
// template_id are ignored. Every user's timezone, and a meeting's when the
// request names none, is UTC. A registrant's status cannot be changed (no
// PUT .../registrants/status) and adds send no webhook; the meetings that
// go with a deleted user send no meeting.deleted.
package zoomtest
