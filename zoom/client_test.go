package zoom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
)

const testToken = "tok-S3CRET-bearer-value"

// seen is one request as a test server got it.
type seen struct {
	Method, Path, RawQuery string // Path as sent, still escaped
	Query                  url.Values
	Header                 http.Header
	Body                   []byte
}

// testServer records requests and answers them with its handler.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		path, rawQuery, _ := strings.Cut(r.RequestURI, "?")
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, seen{Method: r.Method, Path: path, RawQuery: rawQuery,
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		ts.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) requests() []seen {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]seen(nil), ts.reqs...)
}

func newTestClient(t *testing.T, ts *testServer, edit ...func(*Options)) *Client {
	t.Helper()
	opts := Options{BaseURL: ts.URL + "/v2", Tokens: StaticToken(testToken)}
	for _, e := range edit {
		e(&opts)
	}
	c, err := NewClient(opts)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// answering is a handler that answers every request with status, the
// headers and the JSON body.
func answering(status int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		answer(w, status, body)
	}
}

// answer writes a JSON answer with status.
func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// recordingLimiter records the categories it was asked about.
type recordingLimiter struct {
	mu   sync.Mutex
	cats []Category
	err  error
}

func (l *recordingLimiter) Wait(ctx context.Context, cat Category) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cats = append(l.cats, cat)
	return l.err
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("request body = %s, want %s", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

const (
	userJSON    = `{"id":"wAdE5hVfRUy3k305kAjBmA","email":"james@bond.com","first_name":"James","last_name":"Bond","type":1,"status":"active","pmi":3542471135}`
	meetingJSON = `{"id":85746065432,"uuid":"AoHcLp0rRF6i1rjALIK8Pg==","host_id":"wAdE5hVfRUy3k305kAjBmA","topic":"Demo Meeting 1","type":2,"start_time":"2026-12-05T12:00:00Z","duration":45,"timezone":"America/Los_Angeles","join_url":"https://zoom.us/j/85746065432?pwd=x","start_url":"https://zoom.us/s/85746065432?zak=y","password":"Hey123","agenda":"desc","created_at":"2026-11-26T20:23:25Z","settings":{"host_video":false}}`
)

var wantMeeting = Meeting{Meeting: messages.Meeting{ID: 85746065432, UUID: "AoHcLp0rRF6i1rjALIK8Pg==", HostID: "wAdE5hVfRUy3k305kAjBmA",
	Topic: "Demo Meeting 1", Type: 2, StartTime: "2026-12-05T12:00:00Z", Duration: 45, Timezone: "America/Los_Angeles",
	JoinURL: "https://zoom.us/j/85746065432?pwd=x", StartURL: "https://zoom.us/s/85746065432?zak=y", Password: "Hey123",
	Agenda: "desc", CreatedAt: "2026-11-26T20:23:25Z", Settings: json.RawMessage(`{"host_video":false}`)},
	Raw: json.RawMessage(meetingJSON)}

var wantUser = User{User: messages.User{ID: "wAdE5hVfRUy3k305kAjBmA", Email: "james@bond.com", FirstName: "James", LastName: "Bond",
	Type: 1}, Raw: json.RawMessage(userJSON)}

func TestClientRequests(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		answer     string
		call       func(ctx context.Context, c *Client) (any, error)
		wantMethod string
		wantPath   string
		wantQuery  url.Values
		wantBody   string // "" means no body
		wantCat    Category
		want       any
	}{
		{
			name: "create user", status: 201, answer: userJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateUser(ctx, "custCreate", map[string]any{"email": "james@bond.com", "type": 1,
					"first_name": "James", "last_name": "Bond", "x_unknown": "passes"})
			},
			wantMethod: "POST", wantPath: "/v2/users", wantQuery: url.Values{},
			wantBody: `{"action":"custCreate","user_info":{"email":"james@bond.com","type":1,"first_name":"James","last_name":"Bond","x_unknown":"passes"}}`,
			wantCat:  Light, want: &wantUser,
		},
		{
			name: "get user by email", status: 200, answer: userJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetUser(ctx, "james+1@bond.com")
			},
			wantMethod: "GET", wantPath: "/v2/users/james+1@bond.com", wantQuery: url.Values{},
			wantCat: Light, want: &wantUser,
		},
		{
			name: "get user escapes path", status: 200, answer: userJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetUser(ctx, "../a b/c?d#e")
			},
			wantMethod: "GET", wantPath: "/v2/users/..%2Fa%20b%2Fc%3Fd%23e", wantQuery: url.Values{},
			wantCat: Light, want: &wantUser,
		},
		{
			name: "create meeting", status: 201, answer: meetingJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateMeeting(ctx, "james@bond.com", json.RawMessage(`{"topic":"Demo Meeting 1","type":2,"settings":{"mute_upon_entry":true}}`))
			},
			wantMethod: "POST", wantPath: "/v2/users/james@bond.com/meetings", wantQuery: url.Values{},
			wantBody: `{"topic":"Demo Meeting 1","type":2,"settings":{"mute_upon_entry":true}}`,
			wantCat:  Medium, want: &wantMeeting,
		},
		{
			name: "get meeting", status: 200, answer: meetingJSON,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetMeeting(ctx, 85746065432)
			},
			wantMethod: "GET", wantPath: "/v2/meetings/85746065432", wantQuery: url.Values{},
			wantCat: Light, want: &wantMeeting,
		},
		{
			name: "list meetings defaults", status: 200,
			answer: `{"page_size":300,"total_records":2,"next_page_token":"NPT","meetings":[` + meetingJSON + `,{"id":2,"topic":"b"}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListMeetings(ctx, "me", ListMeetingsOptions{})
			},
			wantMethod: "GET", wantPath: "/v2/users/me/meetings",
			wantQuery: url.Values{"type": {"scheduled"}, "page_size": {"300"}},
			wantCat:   Medium,
			want: &MeetingList{NextPageToken: "NPT", TotalRecords: 2, Meetings: []Meeting{wantMeeting,
				{Meeting: messages.Meeting{ID: 2, Topic: "b"}, Raw: json.RawMessage(`{"id":2,"topic":"b"}`)}}},
		},
		{
			name: "list meetings with options", status: 200, answer: `{"meetings":[]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListMeetings(ctx, "u1", ListMeetingsOptions{Type: "upcoming", PageSize: 20, NextPageToken: "a+b/c"})
			},
			wantMethod: "GET", wantPath: "/v2/users/u1/meetings",
			wantQuery: url.Values{"type": {"upcoming"}, "page_size": {"20"}, "next_page_token": {"a+b/c"}},
			wantCat:   Medium, want: &MeetingList{Meetings: []Meeting{}},
		},
		{
			name: "list meetings page size capped", status: 200, answer: `{}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListMeetings(ctx, "u1", ListMeetingsOptions{PageSize: 1000})
			},
			wantMethod: "GET", wantPath: "/v2/users/u1/meetings",
			wantQuery: url.Values{"type": {"scheduled"}, "page_size": {"300"}},
			wantCat:   Medium, want: &MeetingList{Meetings: []Meeting{}},
		},
		{
			name: "update meeting", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.UpdateMeeting(ctx, 85746065432, "", map[string]any{"topic": "new"})
			},
			wantMethod: "PATCH", wantPath: "/v2/meetings/85746065432", wantQuery: url.Values{},
			wantBody: `{"topic":"new"}`, wantCat: Light,
		},
		{
			name: "update meeting occurrence", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.UpdateMeeting(ctx, 1, "1648194360000", map[string]any{"duration": 30})
			},
			wantMethod: "PATCH", wantPath: "/v2/meetings/1", wantQuery: url.Values{"occurrence_id": {"1648194360000"}},
			wantBody: `{"duration":30}`, wantCat: Light,
		},
		{
			name: "delete meeting", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteMeeting(ctx, 85746065432, DeleteMeetingOptions{})
			},
			wantMethod: "DELETE", wantPath: "/v2/meetings/85746065432", wantQuery: url.Values{}, wantCat: Light,
		},
		{
			name: "delete meeting with options", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteMeeting(ctx, 7, DeleteMeetingOptions{OccurrenceID: "99",
					ScheduleForReminder: ptr(true), CancelMeetingReminder: ptr(false)})
			},
			wantMethod: "DELETE", wantPath: "/v2/meetings/7",
			wantQuery: url.Values{"occurrence_id": {"99"}, "schedule_for_reminder": {"true"}, "cancel_meeting_reminder": {"false"}},
			wantCat:   Light,
		},
		{
			name: "delete user", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteUser(ctx, "james@bond.com", DeleteUserOptions{})
			},
			wantMethod: "DELETE", wantPath: "/v2/users/james@bond.com", wantQuery: url.Values{}, wantCat: Light,
		},
		{
			name: "delete user with options", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteUser(ctx, "u/1", DeleteUserOptions{Action: "delete", TransferEmail: "boss@bond.com",
					TransferMeeting: ptr(true), TransferWebinar: ptr(false), TransferRecording: ptr(true)})
			},
			wantMethod: "DELETE", wantPath: "/v2/users/u%2F1",
			wantQuery: url.Values{"action": {"delete"}, "transfer_email": {"boss@bond.com"},
				"transfer_meeting": {"true"}, "transfer_webinar": {"false"}, "transfer_recording": {"true"}},
			wantCat: Light,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.status == 204 {
					w.WriteHeader(204)
					return
				}
				answer(w, tt.status, tt.answer)
			})
			lim := &recordingLimiter{}
			c := newTestClient(t, ts, func(o *Options) { o.Limiter = lim })
			got, err := tt.call(context.Background(), c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := ts.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.wantMethod {
				t.Errorf("method = %s, want %s", r.Method, tt.wantMethod)
			}
			if r.Path != tt.wantPath {
				t.Errorf("path = %s, want %s", r.Path, tt.wantPath)
			}
			if !reflect.DeepEqual(r.Query, tt.wantQuery) {
				t.Errorf("query = %v, want %v", r.Query, tt.wantQuery)
			}
			if got, want := r.Header.Get("Authorization"), "Bearer "+testToken; got != want {
				t.Errorf("Authorization = %q, want %q", got, want)
			}
			if got := r.Header.Get("User-Agent"); got != "zoom-worker" {
				t.Errorf("User-Agent = %q, want zoom-worker", got)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q, want application/json", got)
			}
			if tt.wantBody == "" {
				if len(r.Body) != 0 {
					t.Errorf("body = %q, want none", r.Body)
				}
			} else {
				jsonEqual(t, r.Body, tt.wantBody)
				if got := r.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", got)
				}
			}
			if !reflect.DeepEqual(lim.cats, []Category{tt.wantCat}) {
				t.Errorf("limiter asked for %v, want [%v]", lim.cats, tt.wantCat)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("answer =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestCreateMeetingRawKeepsUnnamedFields(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { answer(w, 201, meetingJSON) })
	m, err := newTestClient(t, ts).CreateMeeting(context.Background(), "me", map[string]any{"topic": "x"})
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(m.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["settings"]; !ok {
		t.Errorf("Raw = %s, want it to keep settings", m.Raw)
	}
}

func TestLimiterErrorStopsRequest(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { answer(w, 200, userJSON) })
	boom := errors.New("redis down")
	c := newTestClient(t, ts, func(o *Options) { o.Limiter = &recordingLimiter{err: boom} })
	_, err := c.GetUser(context.Background(), "x")
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
	if n := len(ts.requests()); n != 0 {
		t.Errorf("got %d requests, want 0", n)
	}
	if class, _ := Classify(err); class != RetrySoon {
		t.Errorf("Classify = %v, want RetrySoon", class)
	}
}

func TestListAllMeetingsFollowsPages(t *testing.T) {
	pages := map[string]string{
		"":   `{"next_page_token":"p2","total_records":5,"meetings":[{"id":1},{"id":2}]}`,
		"p2": `{"next_page_token":"p3","total_records":5,"meetings":[{"id":3},{"id":4}]}`,
		"p3": `{"next_page_token":"","total_records":5,"meetings":[{"id":5}]}`,
	}
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Query().Get("next_page_token")]
		if !ok {
			answer(w, 400, `{"code":300,"message":"bad token"}`)
			return
		}
		answer(w, 200, p)
	})
	lim := &recordingLimiter{}
	c := newTestClient(t, ts, func(o *Options) { o.Limiter = lim })
	ms, err := c.ListAllMeetings(context.Background(), "james@bond.com", "upcoming")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	if want := []int64{1, 2, 3, 4, 5}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	reqs := ts.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3", len(reqs))
	}
	for i, wantTok := range []string{"", "p2", "p3"} {
		q := reqs[i].Query
		if q.Get("page_size") != "300" || q.Get("type") != "upcoming" || q.Get("next_page_token") != wantTok {
			t.Errorf("request %d query = %v, want page_size=300 type=upcoming next_page_token=%q", i, q, wantTok)
		}
	}
	if len(lim.cats) != 3 {
		t.Errorf("limiter asked %d times, want 3 (once per page)", len(lim.cats))
	}
}

func TestListAllMeetingsStopsOnRepeatedToken(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, `{"next_page_token":"same","meetings":[{"id":1}]}`)
	})
	_, err := newTestClient(t, ts).ListAllMeetings(context.Background(), "me", "")
	if err == nil {
		t.Fatal("err = nil, want an error for a listing that never ends")
	}
	if n := len(ts.requests()); n != 2 {
		t.Errorf("got %d requests, want 2", n)
	}
}

func TestListAllMeetingsPageError(t *testing.T) {
	var n atomic.Int32
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			answer(w, 200, `{"next_page_token":"p2","meetings":[{"id":1}]}`)
			return
		}
		answer(w, 500, `{"code":500,"message":"oops"}`)
	})
	ms, err := newTestClient(t, ts).ListAllMeetings(context.Background(), "me", "")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 {
		t.Fatalf("err = %v, want an APIError 500", err)
	}
	if ms != nil {
		t.Errorf("meetings = %v, want nil on error", ms)
	}
}

func TestOversizedAnswerIsAnError(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"x","pad":"`+strings.Repeat("a", MaxResponseBytes)+`"}`)
	})
	_, err := newTestClient(t, ts).GetUser(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want an answer-too-large error", err)
	}
}

func TestUndecodableAnswer(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { answer(w, 200, `<html>`) })
	_, err := newTestClient(t, ts).GetUser(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "zoom: get user: decode answer") {
		t.Fatalf("err = %v, want a decode error", err)
	}
}

func TestNewClientValidates(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "defaults", opts: Options{Tokens: StaticToken("t")}},
		{name: "no tokens", opts: Options{}, wantErr: true},
		{name: "relative base URL", opts: Options{Tokens: StaticToken("t"), BaseURL: "/v2"}, wantErr: true},
		{name: "ftp base URL", opts: Options{Tokens: StaticToken("t"), BaseURL: "ftp://x/v2"}, wantErr: true},
		{name: "bad base URL with a password", opts: Options{Tokens: StaticToken("t"), BaseURL: "ftp://u:hunter2@x/v2"}, wantErr: true},
		{name: "trailing slash", opts: Options{Tokens: StaticToken("t"), BaseURL: "http://x/v2/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("err = %v shows the URL's password", err)
			}
			if err == nil && strings.HasSuffix(c.opts.BaseURL, "/") {
				t.Errorf("BaseURL = %q keeps its trailing slash", c.opts.BaseURL)
			}
		})
	}
}

func TestDefaultHTTPClientIsPooled(t *testing.T) {
	hc := NewHTTPClient(0)
	if hc.Timeout != DefaultTimeout {
		t.Errorf("Timeout = %v, want %v", hc.Timeout, DefaultTimeout)
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("Transport is %T, want *http.Transport", hc.Transport)
	}
	if tr.MaxIdleConnsPerHost < 256 {
		t.Errorf("MaxIdleConnsPerHost = %d, want at least 256", tr.MaxIdleConnsPerHost)
	}
}

// TestConcurrentCallsShareClient runs many calls at once through one Client
// (for -race) and checks each got its own answer.
func TestConcurrentCallsShareClient(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/v2/meetings/")
		answer(w, 200, fmt.Sprintf(`{"id":%s}`, id))
	})
	c := newTestClient(t, ts)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			m, err := c.GetMeeting(context.Background(), int64(i+1))
			if err != nil {
				t.Errorf("GetMeeting(%d): %v", i+1, err)
				return
			}
			if m.ID != int64(i+1) || string(m.Raw) != `{"id":`+strconv.Itoa(i+1)+`}` {
				t.Errorf("GetMeeting(%d) = %d %s", i+1, m.ID, m.Raw)
			}
		})
	}
	wg.Wait()
}

func TestContextCancelStopsCall(t *testing.T) {
	release := make(chan struct{})
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := newTestClient(t, ts)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.GetMeeting(ctx, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if class, _ := Classify(err); class != RetrySoon {
		t.Errorf("Classify = %v, want RetrySoon", class)
	}
}
