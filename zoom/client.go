package zoom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/messages"
)

// Rate-limit categories of the operations this client makes, from Zoom's API
// reference ("Rate Limit Label" of each operation) and its rate-limits page
// (https://developers.zoom.us/docs/api/rest/rate-limits/):
//
//	operation               method and path                 category
//	create user             POST   /users                   Light
//	get user                GET    /users/{userId}          Light
//	delete user             DELETE /users/{userId}          Light
//	create meeting          POST   /users/{userId}/meetings Medium (+ per-host daily limit)
//	list meetings           GET    /users/{userId}/meetings Medium
//	get meeting             GET    /meetings/{meetingId}    Light
//	update meeting          PATCH  /meetings/{meetingId}    Light  (+ per-host daily limit)
//	delete meeting          DELETE /meetings/{meetingId}    Light
//	add registrant          POST   /meetings/{meetingId}/registrants Light (+ 3 a day per registrant and meeting)
//	list registrants        GET    /meetings/{meetingId}/registrants Medium
//
// The per-host daily limit: 100 meeting creates and updates per host per day,
// reset at 00:00 UTC, for the whole account whatever the app. The
// per-registrant limit: 3 registrations a day (UTC) of the same registrant
// for the same meeting.
const (
	catCreateUser      = Light
	catGetUser         = Light
	catDeleteUser      = Light
	catCreateMeeting   = Medium
	catListMeetings    = Medium
	catGetMeeting      = Light
	catUpdateMeeting   = Light
	catDeleteMeeting   = Light
	catAddRegistrant   = Light
	catListRegistrants = Medium
)

// Operation names that decide how an answer is read.
const (
	opCreateMeeting = "create meeting"
	opUpdateMeeting = "update meeting"
	opAddRegistrant = "add registrant"
)

// perUserDaily are the operations with a daily limit per user or
// registrant: a Daily-limit count in their answers is that user's (a host's
// 100 meeting creates and updates, a registrant's 3 registrations), not
// the account's pool.
var perUserDaily = map[string]bool{opCreateMeeting: true, opUpdateMeeting: true, opAddRegistrant: true}

const (
	userAgent = "zoom-worker"
	// DefaultTimeout bounds each HTTP exchange of a default client.
	DefaultTimeout = 30 * time.Second
	// MaxResponseBytes is the most of an answer's body a Client reads; a
	// longer answer is an error.
	MaxResponseBytes = 4 << 20
	// MaxConnsPerHost bounds the connections a client opens to one host.
	MaxConnsPerHost = 256
	// MaxPageSize is the largest page Zoom lists.
	MaxPageSize = 300
)

// NewHTTPClient returns an http.Client with a transport pooled for many
// concurrent calls to one host (at most MaxConnsPerHost connections, all kept idle) and the
// given overall timeout per exchange; 0 means DefaultTimeout.
func NewHTTPClient(timeout time.Duration) *http.Client {
	defaults.Set(&timeout, DefaultTimeout)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = MaxConnsPerHost
	// Over HTTP/1.1 each request in flight holds a connection (two
	// goroutines and two buffers); bounding them bounds a worker's memory
	// when it runs many slow calls. Over HTTP/2, as api.zoom.us speaks it,
	// each connection carries many requests.
	t.MaxConnsPerHost = MaxConnsPerHost
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = timeout
	t.ForceAttemptHTTP2 = true
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t, Timeout: timeout}
}

// Client calls Zoom's REST API v2. It is safe for concurrent use.
type Client struct {
	opts Options
}

// NewClient returns a Client. Options.Tokens is required; BaseURL, when
// set, must be an absolute http(s) URL.
func NewClient(opts Options) (*Client, error) {
	if opts.Tokens == nil {
		return nil, errors.New("zoom: new client: Options.Tokens is required")
	}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL is not echoed: it may carry a password.
			return nil, errors.New("zoom: new client: the base URL is not an absolute http(s) URL")
		}
		opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = NewHTTPClient(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Client{opts: opts}, nil
}

// BaseURL is where the next request goes: Options.BaseURL when set, else
// the token answer's api_url + "/v2" once the token source knows one, else
// DefaultBaseURL.
func (c *Client) BaseURL() string {
	if c.opts.BaseURL != "" {
		return c.opts.BaseURL
	}
	if s, ok := c.opts.Tokens.(APIURLSource); ok {
		if u := strings.TrimRight(s.APIURL(), "/"); u != "" {
			if strings.HasSuffix(u, "/v2") {
				return u
			}
			return u + "/v2"
		}
	}
	return DefaultBaseURL
}

// CheckCredentials gets a token from the client's TokenSource: a token it
// already holds counts, else it asks the token endpoint. It is the probe of
// an account whose credentials were rejected (IsCredentialsRejected): nil
// means the account works again. Errors are those of the TokenSource
// (a *TokenError for OAuth), never holding a secret.
func (c *Client) CheckCredentials(ctx context.Context) error {
	if _, err := c.opts.Tokens.Token(ctx); err != nil {
		var te *TokenError
		if errors.As(err, &te) {
			return err
		}
		return fmt.Errorf("zoom: check credentials: %w", err)
	}
	return nil
}

// CreateUser is POST /users with {"action": action, "user_info": userInfo}.
// userInfo is marshalled as JSON as it is (unknown fields pass through).
func (c *Client) CreateUser(ctx context.Context, action string, userInfo any) (*User, error) {
	body := struct {
		Action   string `json:"action"`
		UserInfo any    `json:"user_info"`
	}{action, userInfo}
	return doObject[User](ctx, c, call{op: "create user", cat: catCreateUser, method: http.MethodPost,
		path: "/users", body: body})
}

// GetUser is GET /users/{userId}; idOrEmail may be a user id or an email.
func (c *Client) GetUser(ctx context.Context, idOrEmail string) (*User, error) {
	return doObject[User](ctx, c, call{op: "get user", cat: catGetUser, method: http.MethodGet,
		path: "/users/" + url.PathEscape(idOrEmail)})
}

// CreateMeeting is POST /users/{userId}/meetings with body marshalled as JSON.
func (c *Client) CreateMeeting(ctx context.Context, userID string, body any) (*Meeting, error) {
	return doObject[Meeting](ctx, c, call{op: opCreateMeeting, cat: catCreateMeeting, method: http.MethodPost,
		path: "/users/" + url.PathEscape(userID) + "/meetings", body: body})
}

// GetMeeting is GET /meetings/{meetingId}.
func (c *Client) GetMeeting(ctx context.Context, meetingID int64) (*Meeting, error) {
	return doObject[Meeting](ctx, c, call{op: "get meeting", cat: catGetMeeting, method: http.MethodGet,
		path: "/meetings/" + strconv.FormatInt(meetingID, 10)})
}

// meetingPage is the body of GET /users/{userId}/meetings.
type meetingPage struct {
	NextPageToken string            `json:"next_page_token"`
	TotalRecords  int               `json:"total_records"`
	Meetings      []json.RawMessage `json:"meetings"`
}

// ListMeetings is GET /users/{userId}/meetings: one page. The query always
// carries type (scheduled when opts.Type is "") and page_size (a value
// outside 1..300 is sent as 300).
func (c *Client) ListMeetings(ctx context.Context, userID string, opts ListMeetingsOptions) (*MeetingList, error) {
	q := url.Values{}
	typ := opts.Type
	if typ == "" {
		typ = "scheduled"
	}
	q.Set("type", typ)
	size := opts.PageSize
	if size <= 0 || size > MaxPageSize {
		size = MaxPageSize
	}
	q.Set("page_size", strconv.Itoa(size))
	if opts.NextPageToken != "" {
		q.Set("next_page_token", opts.NextPageToken)
	}
	var page meetingPage
	_, err := c.do(ctx, call{op: "list meetings", cat: catListMeetings, method: http.MethodGet,
		path: "/users/" + url.PathEscape(userID) + "/meetings", query: q, out: &page})
	if err != nil {
		return nil, err
	}
	list := &MeetingList{
		Meetings:      make([]Meeting, 0, len(page.Meetings)),
		NextPageToken: page.NextPageToken,
		TotalRecords:  page.TotalRecords,
	}
	for i, raw := range page.Meetings {
		var m Meeting
		if err := json.Unmarshal(raw, m.fields()); err != nil {
			return nil, fmt.Errorf("zoom: list meetings: decode meeting %d: %w", i, err)
		}
		m.Raw = raw
		list.Meetings = append(list.Meetings, m)
	}
	return list, nil
}

// maxPages stops ListAllMeetings on a server that never ends the listing.
const maxPages = 10_000

// ListAllMeetings lists all of a user's meetings of Zoom's list type typ (""
// means scheduled), following next_page_token with pages of 300. An error on
// any page ends the listing with that error and no meetings.
func (c *Client) ListAllMeetings(ctx context.Context, userID string, typ string) ([]Meeting, error) {
	var all []Meeting
	opts := ListMeetingsOptions{Type: typ, PageSize: MaxPageSize}
	err := allPages("list meetings", func(token string) (string, error) {
		opts.NextPageToken = token
		page, err := c.ListMeetings(ctx, userID, opts)
		if err != nil {
			return "", err
		}
		all = append(all, page.Meetings...)
		return page.NextPageToken, nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// allPages calls page with "" and then with each next_page_token it
// returns, until one returns "" or an error. It stops a server that
// repeats a token or never ends.
func allPages(op string, page func(token string) (next string, err error)) error {
	seen := map[string]bool{}
	token := ""
	for range maxPages {
		next, err := page(token)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if seen[next] {
			return fmt.Errorf("zoom: %s: Zoom answered the same next_page_token twice", op)
		}
		seen[next] = true
		token = next
	}
	return fmt.Errorf("zoom: %s: more than %d pages", op, maxPages)
}

// registrantJSON decodes both shapes of a registrant: the add answer, where
// "id" is the meeting (a number) and "registrant_id" the registrant, and a
// listed one, where "id" is the registrant (a string).
type registrantJSON struct {
	ID                 json.RawMessage `json:"id"`
	RegistrantID       string          `json:"registrant_id"`
	Email              string          `json:"email"`
	FirstName          string          `json:"first_name"`
	LastName           string          `json:"last_name"`
	Status             string          `json:"status"`
	JoinURL            string          `json:"join_url"`
	Topic              string          `json:"topic"`
	StartTime          string          `json:"start_time"`
	CreateTime         string          `json:"create_time"`
	ParticipantPinCode int64           `json:"participant_pin_code"`
}

func decodeRegistrant(raw json.RawMessage) (Registrant, error) {
	var rj registrantJSON
	if err := json.Unmarshal(raw, &rj); err != nil {
		return Registrant{}, err
	}
	r := Registrant{RegistrantID: rj.RegistrantID, Email: rj.Email, FirstName: rj.FirstName,
		LastName: rj.LastName, Status: rj.Status, JoinURL: rj.JoinURL, Topic: rj.Topic,
		StartTime: rj.StartTime, CreateTime: rj.CreateTime, ParticipantPinCode: rj.ParticipantPinCode, Raw: raw}
	if len(rj.ID) > 0 {
		var s string
		if err := json.Unmarshal(rj.ID, &s); err == nil {
			if r.RegistrantID == "" {
				r.RegistrantID = s
			}
		} else if err := json.Unmarshal(rj.ID, &r.MeetingID); err != nil {
			return Registrant{}, fmt.Errorf("id: %w", err)
		}
	}
	return r, nil
}

// AddRegistrant is POST /meetings/{meetingId}/registrants[?occurrence_ids=]
// with body (Zoom's add-registrant body: email, first_name, ...) marshalled
// as JSON. occurrenceIDs is Zoom's comma-separated list; "" registers for
// every occurrence. Zoom answers a repeated registration of an email with
// that registrant; a fourth one in a day (UTC) of the same registrant for
// the same meeting is an *APIError with RegistrantLimit.
func (c *Client) AddRegistrant(ctx context.Context, meetingID int64, occurrenceIDs string, body any) (*Registrant, error) {
	q := url.Values{}
	if occurrenceIDs != "" {
		q.Set("occurrence_ids", occurrenceIDs)
	}
	raw, err := c.do(ctx, call{op: opAddRegistrant, cat: catAddRegistrant, method: http.MethodPost,
		path: "/meetings/" + strconv.FormatInt(meetingID, 10) + "/registrants", query: q, body: body})
	if err != nil {
		return nil, err
	}
	r, err := decodeRegistrant(raw)
	if err != nil {
		return nil, fmt.Errorf("zoom: %s: decode answer: %w", opAddRegistrant, err)
	}
	return &r, nil
}

// registrantPage is the body of GET /meetings/{meetingId}/registrants.
type registrantPage struct {
	NextPageToken string            `json:"next_page_token"`
	Registrants   []json.RawMessage `json:"registrants"`
}

// ListRegistrants is GET /meetings/{meetingId}/registrants?status=: all of
// the meeting's registrants of that status (RegistrantApproved,
// RegistrantPending, RegistrantDenied; "" means Zoom's default, approved),
// following next_page_token with pages of 300. An error on any page ends the
// listing with that error and no registrants.
func (c *Client) ListRegistrants(ctx context.Context, meetingID int64, status string) ([]Registrant, error) {
	const op = "list registrants"
	var all []Registrant
	err := allPages(op, func(token string) (string, error) {
		q := url.Values{"page_size": {strconv.Itoa(MaxPageSize)}}
		if status != "" {
			q.Set("status", status)
		}
		if token != "" {
			q.Set("next_page_token", token)
		}
		var page registrantPage
		_, err := c.do(ctx, call{op: op, cat: catListRegistrants, method: http.MethodGet,
			path: "/meetings/" + strconv.FormatInt(meetingID, 10) + "/registrants", query: q, out: &page})
		if err != nil {
			return "", err
		}
		for i, raw := range page.Registrants {
			r, err := decodeRegistrant(raw)
			if err != nil {
				return "", fmt.Errorf("zoom: %s: decode registrant %d: %w", op, i, err)
			}
			all = append(all, r)
		}
		return page.NextPageToken, nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// UpdateMeeting is PATCH /meetings/{meetingId}[?occurrence_id=] (Zoom answers 204).
func (c *Client) UpdateMeeting(ctx context.Context, meetingID int64, occurrenceID string, body any) error {
	q := url.Values{}
	if occurrenceID != "" {
		q.Set("occurrence_id", occurrenceID)
	}
	_, err := c.do(ctx, call{op: opUpdateMeeting, cat: catUpdateMeeting, method: http.MethodPatch,
		path: "/meetings/" + strconv.FormatInt(meetingID, 10), query: q, body: body})
	return err
}

// DeleteMeeting is DELETE /meetings/{meetingId} (Zoom answers 204). Unset
// options are left out of the query, so Zoom's defaults apply.
func (c *Client) DeleteMeeting(ctx context.Context, meetingID int64, opts DeleteMeetingOptions) error {
	q := url.Values{}
	if opts.OccurrenceID != "" {
		q.Set("occurrence_id", opts.OccurrenceID)
	}
	setBool(q, "schedule_for_reminder", opts.ScheduleForReminder)
	setBool(q, "cancel_meeting_reminder", opts.CancelMeetingReminder)
	_, err := c.do(ctx, call{op: "delete meeting", cat: catDeleteMeeting, method: http.MethodDelete,
		path: "/meetings/" + strconv.FormatInt(meetingID, 10), query: q})
	return err
}

// DeleteUser is DELETE /users/{userId} (Zoom answers 204). Unset options are
// left out of the query, so Zoom's defaults apply (action disassociate).
func (c *Client) DeleteUser(ctx context.Context, userID string, opts DeleteUserOptions) error {
	q := url.Values{}
	if opts.Action != "" {
		q.Set("action", opts.Action)
	}
	if opts.TransferEmail != "" {
		q.Set("transfer_email", opts.TransferEmail)
	}
	setBool(q, "transfer_meeting", opts.TransferMeeting)
	setBool(q, "transfer_webinar", opts.TransferWebinar)
	setBool(q, "transfer_recording", opts.TransferRecording)
	_, err := c.do(ctx, call{op: "delete user", cat: catDeleteUser, method: http.MethodDelete,
		path: "/users/" + url.PathEscape(userID), query: q})
	return err
}

func setBool(q url.Values, key string, v *bool) {
	if v != nil {
		q.Set(key, strconv.FormatBool(*v))
	}
}

// call is one API operation.
type call struct {
	op     string // names the operation in errors, e.g. "create meeting"
	cat    Category
	method string
	path   string // escaped, below BaseURL
	query  url.Values
	body   any // nil: no body
	out    any // nil: the answer's body is not decoded
}

// rawKeeper is a pointer to an answer type that keeps its whole JSON body
// (User, Meeting): fields is what the answer decodes into.
type rawKeeper[T any] interface {
	*T
	fields() any
	keepRaw(json.RawMessage)
}

// doObject is do for a call whose answer is one object: it decodes the
// answer into a new T and keeps the whole body in its Raw.
func doObject[T any, P rawKeeper[T]](ctx context.Context, c *Client, cl call) (*T, error) {
	var v T
	cl.out = P(&v).fields()
	raw, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	P(&v).keepRaw(raw)
	return &v, nil
}

// do sends the call and returns the answer's body. It waits for the
// Limiter before each request, and retries once with a fresh token when
// Zoom rejects the token (401, code 124). Every other failure is returned
// for the caller to retry.
func (c *Client) do(ctx context.Context, cl call) ([]byte, error) {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = encodeBody(cl.body); err != nil {
			return nil, fmt.Errorf("zoom: %s: encode request body: %w", cl.op, err)
		}
	}
	for attempt := 0; ; attempt++ {
		body, tok, err := c.send(ctx, cl, payload)
		var ae *APIError
		if attempt == 0 && errors.As(err, &ae) &&
			ae.StatusCode == http.StatusUnauthorized && ae.Code == CodeInvalidAccessToken {
			c.opts.Tokens.Invalidate(tok)
			continue
		}
		if err != nil {
			return nil, err
		}
		if cl.out != nil {
			if err := decodeAnswer(body, cl.out); err != nil {
				return nil, fmt.Errorf("zoom: %s: decode answer: %w", cl.op, err)
			}
		}
		return body, nil
	}
}

// decodeAnswer is json.Unmarshal(body, out), by messages.DecodePlain where
// that can: the answers are messages' types without their JSON methods
// (userFields, meetingFields), plain strings, integers and RawMessage,
// which it reads in one scan where encoding/json's decoder took about a
// twelfth of the worker's CPU per job.
func decodeAnswer(body []byte, out any) error {
	if messages.DecodePlain(body, out) {
		return nil
	}
	return json.Unmarshal(body, out)
}

// encodeBody is json.Marshal(body), but for messages' request types, whose
// MarshalJSON writes compact JSON: their bytes go out as they are, where
// json.Marshal would check and compact them once more (a few per cent of
// the worker's CPU per job). The one difference is that json.Marshal
// would also escape <, > and & in the Extra fields' values, which Zoom
// reads the same.
func encodeBody(body any) ([]byte, error) {
	switch b := body.(type) {
	case messages.MeetingSpec:
		return b.MarshalJSON()
	case messages.UserInfo:
		return b.MarshalJSON()
	case messages.RegistrantSpec:
		return b.MarshalJSON()
	}
	return json.Marshal(body)
}

// send makes one request. It returns the body of a 2xx answer, the token it
// used, and an *APIError for any other answer. The URL is made after the
// token is got, since the token answer may name the account's host.
func (c *Client) send(ctx context.Context, cl call, payload []byte) (body []byte, tok string, err error) {
	if l := c.opts.Limiter; l != nil {
		if err := l.Wait(ctx, cl.cat); err != nil {
			return nil, "", &transientError{fmt.Errorf("zoom: %s: wait for rate limiter: %w", cl.op, err)}
		}
	}
	tok, err = c.opts.Tokens.Token(ctx)
	if err != nil {
		var te *TokenError
		if errors.As(err, &te) {
			return nil, "", fmt.Errorf("zoom: %s: %w", cl.op, err)
		}
		return nil, "", fmt.Errorf("zoom: %s: get token: %w", cl.op, err)
	}
	u := c.BaseURL() + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, rd)
	if err != nil {
		return nil, tok, fmt.Errorf("zoom: %s: %w", cl.op, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		// *url.Error names method and URL; the token is only in a header.
		return nil, tok, fmt.Errorf("zoom: %s: %w", cl.op, err)
	}
	defer drainAndClose(resp.Body)
	body, err = readAnswer(resp)
	if err != nil {
		return nil, tok, fmt.Errorf("zoom: %s: read answer: %w", cl.op, err)
	}
	if len(body) > MaxResponseBytes {
		return nil, tok, fmt.Errorf("zoom: %s: answer (status %d) is larger than %d bytes", cl.op, resp.StatusCode, MaxResponseBytes)
	}
	var ae *APIError
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae = newAPIError(cl.op, resp, body, c.opts.Now(), tok)
	}
	if qo, ok := c.opts.Limiter.(QuotaObserver); ok {
		if q := readQuota(cl, resp, ae, c.opts.Now()); q.Known() {
			qo.ObserveQuota(ctx, q)
		}
	}
	if ae != nil {
		return nil, tok, ae
	}
	return body, tok, nil
}

// readAnswer reads the answer's body, at most MaxResponseBytes+1 of it,
// into one buffer of the size the answer announces (io.ReadAll starts at
// 512 bytes and grows, a few copies of a meeting's answer per call).
func readAnswer(resp *http.Response) ([]byte, error) {
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= MaxResponseBytes {
		buf.Grow(int(n) + bytes.MinRead) // room for the read that meets EOF
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, MaxResponseBytes+1))
	return buf.Bytes(), err
}

// drainAndClose reads a little of what is left of a body, so the connection
// can be reused, and closes it.
func drainAndClose(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	_ = rc.Close()
}
