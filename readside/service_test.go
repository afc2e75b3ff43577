package readside_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"
	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// svcEnv is testenv's stack (a real NATS server, a real redis-server with
// the worker's store on it, the fake Zoom behind the real Zoom client) and
// the read side.
type svcEnv struct {
	*testenv.Stack
	t    *testing.T
	zoom worker.ZoomAPI // the default account's Zoom client
	svc  *readside.Service
}

func newSvcEnv(t *testing.T, fake zoomtest.Options, edit ...func(*readside.Config)) *svcEnv {
	t.Helper()
	st := testenv.Start(t, testenv.Options{Zoom: fake})
	acct, err := st.Account(redisstore.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	e := &svcEnv{Stack: st, t: t, zoom: acct.Zoom}

	cfg := readside.Config{
		Jobs:     e.Store,
		Cache:    e.Store,
		Accounts: map[string]readside.Zoom{worker.DefaultAccount: e.zoom},
		Version:  "v1.2.3",
		Logger:   testenv.Logger(),
	}
	for _, f := range edit {
		f(&cfg)
	}
	if e.svc, err = readside.Start(e.NC, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.svc.Stop() })
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// answer is a service reply: Code is "" for success, else the micro error code.
type answer struct {
	Code, Description string
	Body              []byte
}

func (e *svcEnv) request(subject, body string) answer {
	e.t.Helper()
	m, err := e.NC.Request(subject, []byte(body), 5*time.Second)
	if err != nil {
		e.t.Fatalf("request %s %s: %v", subject, body, err)
	}
	return answer{Code: m.Header.Get(micro.ErrorCodeHeader), Description: m.Header.Get(micro.ErrorHeader), Body: m.Data}
}

// The fixtures every endpoint test reads: a succeeded, a running and a
// failed job; a user and a meeting in the cache only; a user and a meeting
// at Zoom only.
type fixtures struct {
	cachedMeeting int64
	zoomMeeting   int64
	zoomUserID    string
	event         []byte
}

const cachedStartURL = "https://zoom.us/s/111?zak=SECRET-ZAK-FROM-CACHE"

func (e *svcEnv) fixtures() fixtures {
	e.t.Helper()
	c := ctx(e.t)
	var f fixtures

	// At Zoom only, made through the API as the worker would.
	u, err := e.zoom.CreateUser(c, "custCreate", map[string]any{"email": "q@mi6.example", "type": 1, "first_name": "Q"})
	if err != nil {
		e.t.Fatalf("create user at the fake Zoom: %v", err)
	}
	f.zoomUserID = u.ID
	m, err := e.zoom.CreateMeeting(c, u.ID, map[string]any{"topic": "Gadgets", "type": 2,
		"start_time": "2026-12-05T12:00:00Z", "duration": 30})
	if err != nil {
		e.t.Fatalf("create meeting at the fake Zoom: %v", err)
	}
	f.zoomMeeting = m.ID

	// In the cache only: a job that succeeded and cached its objects, as the
	// worker records one (its event carries start_url, as with
	// ZOOMW_EVENTS_INCLUDE_START_URL=true).
	f.cachedMeeting = 111
	cm := messages.Meeting{ID: f.cachedMeeting, Topic: "Cached topic", HostID: "cachedhost", StartURL: cachedStartURL,
		JoinURL: "https://zoom.us/j/111"}
	var evErr error
	f.event, evErr = json.Marshal(messages.MeetingCreated{JobRef: messages.JobRef{JobID: "m-ok"}, UserID: "james@bond.com", Meeting: cm})
	if evErr != nil {
		e.t.Fatal(evErr)
	}
	e.begin("m-ok", messages.SubjectMeetingCreate)
	e.finish(worker.Finish{JobID: "m-ok", State: worker.StateSucceeded,
		EventSubject: messages.SubjectMeetingCreated, Event: f.event,
		Users:    []messages.User{{ID: "cachedhost", Email: "james@bond.com", FirstName: "James", LastName: "Bond", Type: 1}},
		Meetings: []worker.MeetingJSON{{ID: cm.ID, JSON: mustJSON(e.t, cm)}}})

	e.begin("m-running", messages.SubjectMeetingCreate)

	e.begin("m-failed", messages.SubjectMeetingCreate)
	e.finish(worker.Finish{JobID: "m-failed", State: worker.StateFailed,
		Error: &messages.FailError{Kind: messages.KindZoomRejected, Message: "User does not exist: nobody@example.com.",
			HTTPStatus: 404, ZoomCode: 1001}})
	return f
}

func (e *svcEnv) begin(jobID, subject string) {
	e.t.Helper()
	_, err := e.Store.Begin(ctx(e.t), worker.Begin{Account: worker.DefaultAccount, JobID: jobID, Subject: subject,
		Owner: "test", Lease: time.Minute})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *svcEnv) finish(f worker.Finish) {
	e.t.Helper()
	f.Account, f.Owner = worker.DefaultAccount, "test"
	if err := e.Store.Finish(ctx(e.t), f); err != nil {
		e.t.Fatal(err)
	}
}

func decodeAs[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode answer: %v: %s", err, b)
	}
	return v
}

func TestDiscovery(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{})

	// As `nats micro ping` and `nats micro ls` do.
	m, err := e.NC.Request("$SRV.PING."+readside.Name, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("$SRV.PING: %v", err)
	}
	ping := decodeAs[micro.Ping](t, m.Data)
	if ping.Name != "zoom-worker" || ping.Version != "1.2.3" || ping.Type != micro.PingResponseType {
		t.Errorf("ping = %+v, want zoom-worker 1.2.3", ping)
	}

	m, err = e.NC.Request("$SRV.INFO."+readside.Name, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("$SRV.INFO: %v", err)
	}
	info := decodeAs[micro.Info](t, m.Data)
	if info.Description == "" {
		t.Error("info has no description")
	}
	if got := info.Metadata["subject_prefix"]; got != "zoom.svc" {
		t.Errorf("metadata subject_prefix = %q, want zoom.svc", got)
	}
	got := map[string]micro.EndpointInfo{}
	for _, ep := range info.Endpoints {
		got[ep.Subject] = ep
	}
	for _, subject := range []string{"zoom.svc.job.status", "zoom.svc.meeting.get", "zoom.svc.user.get"} {
		ep, ok := got[subject]
		if !ok {
			t.Errorf("no endpoint on %s; endpoints: %+v", subject, info.Endpoints)
			continue
		}
		if ep.QueueGroup == "" {
			t.Errorf("endpoint %s has no queue group: several workers would all answer", subject)
		}
		if ep.Metadata["request"] == "" || ep.Metadata["description"] == "" {
			t.Errorf("endpoint %s metadata = %v, want request and description", subject, ep.Metadata)
		}
	}
	if len(info.Endpoints) != 4 {
		t.Errorf("%d endpoints, want 4: %+v", len(info.Endpoints), info.Endpoints)
	}

	// Errors show in $SRV.STATS, as `nats micro stats` reads them: requests
	// counted by micro, errors in the endpoint's data. micro counts a request
	// only once the handler returns, and the handler hands the request to a
	// goroutine that may answer first; so the stats are read until micro's
	// count is there (ours is counted before the answer is sent).
	e.request(readside.SubjectJobStatus, `{"job_id": "nope"}`)
	var (
		ep    micro.EndpointStats
		found bool
	)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		m, err = e.NC.Request("$SRV.STATS."+readside.Name, nil, 5*time.Second)
		if err != nil {
			t.Fatalf("$SRV.STATS: %v", err)
		}
		stats := decodeAs[micro.Stats](t, m.Data)
		for _, s := range stats.Endpoints {
			if s.Subject == readside.SubjectJobStatus {
				ep, found = *s, true
			}
		}
		if !found {
			t.Fatalf("$SRV.STATS has no endpoint on %s: %s", readside.SubjectJobStatus, m.Data)
		}
		if ep.NumRequests > 0 || time.Now().After(deadline) {
			break
		}
	}
	d := decodeAs[readside.EndpointData](t, ep.Data)
	if ep.NumRequests != 1 || d.Errors != 1 || !strings.Contains(d.LastError, "404") {
		t.Errorf("job.status stats = %d requests, data %s; want 1 request, 1 error, a 404", ep.NumRequests, ep.Data)
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		name, version, want, build string
	}{
		{"semver with v", "v1.2.3", "1.2.3", ""},
		{"semver", "0.4.0-rc.1", "0.4.0-rc.1", ""},
		{"devel", "(devel)", readside.DevVersion, "(devel)"},
		{"empty", "", readside.DevVersion, ""},
	}
	ns := testenv.StartNATS(t)
	nc := testenv.ConnectNATS(t, ns.URL)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
	t.Cleanup(func() { rdb.Close() })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := readside.Start(nc, readside.Config{Jobs: redisstore.New(rdb, redisstore.Options{}), Cache: redisstore.New(rdb, redisstore.Options{}), Version: tt.version})
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Stop()
			info := svc.Info()
			if info.Version != tt.want || info.Metadata["build"] != tt.build {
				t.Errorf("version %q, build %q; want %q, %q", info.Version, info.Metadata["build"], tt.want, tt.build)
			}
		})
	}
}

func TestStartNeedsCache(t *testing.T) {
	ns := testenv.StartNATS(t)
	nc := testenv.ConnectNATS(t, ns.URL)
	if _, err := readside.Start(nc, readside.Config{}); err == nil || !strings.Contains(err.Error(), "Cache") {
		t.Errorf("Start without a cache: err = %v, want one naming Config.Cache", err)
	}
}

func TestEndpoints(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{})
	f := e.fixtures()

	type check func(t *testing.T, body []byte)
	// meetingFrom and userFrom check an answer from source whose meeting
	// or user ok accepts.
	meetingFrom := func(source string, ok func(m *messages.Meeting) bool) check {
		return func(t *testing.T, b []byte) {
			if r := decodeAs[readside.MeetingResponse](t, b); r.Source != source || r.Meeting == nil || !ok(r.Meeting) {
				t.Errorf("answer = %s", b)
			}
		}
	}
	userFrom := func(source string, ok func(u *messages.User) bool) check {
		return func(t *testing.T, b []byte) {
			if r := decodeAs[readside.UserResponse](t, b); r.Source != source || r.User == nil || !ok(r.User) {
				t.Errorf("answer = %s", b)
			}
		}
	}
	tests := []struct {
		name     string
		subject  string
		body     string
		wantCode string // "" for an answer
		wantDesc string // a part of the error description
		check    check
	}{
		{name: "job succeeded", subject: readside.SubjectJobStatus, body: `{"job_id": "m-ok"}`,
			check: func(t *testing.T, b []byte) {
				r := decodeAs[readside.JobStatusResponse](t, b)
				j := r.Job
				if r.Source != "store" || j.JobID != "m-ok" || j.State != "succeeded" || j.Attempts != 1 ||
					j.Account != "default" || j.Subject != messages.SubjectMeetingCreate {
					t.Errorf("answer = %s", b)
				}
				if j.FirstStarted == nil || j.UpdatedAt == nil || time.Since(*j.FirstStarted) > time.Minute {
					t.Errorf("times first_started %v, updated_at %v; want recent", j.FirstStarted, j.UpdatedAt)
				}
				if j.EventSubject != messages.SubjectMeetingCreated {
					t.Errorf("event_subject = %q", j.EventSubject)
				}
				ev := decodeAs[messages.MeetingCreated](t, j.Event)
				if ev.JobID != "m-ok" || ev.Meeting.ID != f.cachedMeeting || ev.Meeting.Topic != "Cached topic" {
					t.Errorf("event = %s", j.Event)
				}
			}},
		{name: "job running", subject: readside.SubjectJobStatus, body: `{"job_id": "m-running", "account": "default"}`,
			check: func(t *testing.T, b []byte) {
				j := decodeAs[readside.JobStatusResponse](t, b).Job
				if j.State != "running" || j.Attempts != 1 || j.Event != nil || j.Error != nil {
					t.Errorf("answer = %s", b)
				}
			}},
		{name: "job failed", subject: readside.SubjectJobStatus, body: `{"job_id": "m-failed"}`,
			check: func(t *testing.T, b []byte) {
				j := decodeAs[readside.JobStatusResponse](t, b).Job
				if j.State != "failed" || j.Error == nil || j.Error.Kind != "zoom_rejected" || j.Error.ZoomCode != 1001 {
					t.Errorf("answer = %s", b)
				}
			}},
		{name: "job unknown", subject: readside.SubjectJobStatus, body: `{"job_id": "m-never"}`,
			wantCode: "404", wantDesc: "not found"},
		{name: "job bad JSON", subject: readside.SubjectJobStatus, body: `{"job_id": `,
			wantCode: "400", wantDesc: "not valid JSON"},
		{name: "job empty body", subject: readside.SubjectJobStatus, body: ``,
			wantCode: "400", wantDesc: "empty body"},
		{name: "job not an object", subject: readside.SubjectJobStatus, body: `"m-ok"`,
			wantCode: "400", wantDesc: "JSON object"},
		{name: "job without id", subject: readside.SubjectJobStatus, body: `{}`,
			wantCode: "400", wantDesc: "job_id is required"},
		{name: "job id of wrong type", subject: readside.SubjectJobStatus, body: `{"job_id": 7}`,
			wantCode: "400", wantDesc: "job_id must be a JSON string"},
		{name: "job id with a space", subject: readside.SubjectJobStatus, body: `{"job_id": "m ok"}`,
			wantCode: "400", wantDesc: "job_id must be 1 to 128 characters"},
		{name: "job unknown account", subject: readside.SubjectJobStatus, body: `{"job_id": "m-ok", "account": "other"}`,
			wantCode: "400", wantDesc: `unknown account "other"`},

		{name: "meeting cached", subject: readside.SubjectMeetingGet, body: `{"meeting_id": 111}`,
			check: meetingFrom("cache", func(m *messages.Meeting) bool { return m.ID == 111 && m.Topic == "Cached topic" })},
		{name: "meeting id as string", subject: readside.SubjectMeetingGet, body: `{"meeting_id": "111"}`,
			check: meetingFrom("cache", func(m *messages.Meeting) bool { return m.ID == 111 })},
		{name: "meeting from zoom", subject: readside.SubjectMeetingGet,
			body: `{"meeting_id": ` + jsonInt(f.zoomMeeting) + `}`,
			check: meetingFrom("zoom", func(m *messages.Meeting) bool {
				return m.ID == f.zoomMeeting && m.Topic == "Gadgets" && m.HostID == f.zoomUserID && m.JoinURL != ""
			})},
		{name: "meeting unknown", subject: readside.SubjectMeetingGet, body: `{"meeting_id": 999999999}`,
			wantCode: "404", wantDesc: "not found"},
		{name: "meeting without id", subject: readside.SubjectMeetingGet, body: `{"account": "default"}`,
			wantCode: "400", wantDesc: "meeting_id is required"},
		{name: "meeting id not a number", subject: readside.SubjectMeetingGet, body: `{"meeting_id": "abc"}`,
			wantCode: "400", wantDesc: "meeting_id must be"},
		{name: "meeting id negative", subject: readside.SubjectMeetingGet, body: `{"meeting_id": -3}`,
			wantCode: "400", wantDesc: "meeting_id must be"},
		{name: "meeting bad JSON", subject: readside.SubjectMeetingGet, body: `meeting 111`,
			wantCode: "400", wantDesc: "JSON object"},

		{name: "user cached by email", subject: readside.SubjectUserGet, body: `{"user_id": "James@Bond.com"}`,
			check: userFrom("cache", func(u *messages.User) bool { return u.ID == "cachedhost" && u.LastName == "Bond" })},
		{name: "user cached by id", subject: readside.SubjectUserGet, body: `{"user_id": "cachedhost"}`,
			check: userFrom("cache", func(u *messages.User) bool { return u.Email == "james@bond.com" })},
		{name: "user from zoom by email", subject: readside.SubjectUserGet, body: `{"user_id": "q@mi6.example"}`,
			check: userFrom("zoom", func(u *messages.User) bool { return u.ID == f.zoomUserID && u.FirstName == "Q" })},
		{name: "user from zoom written back", subject: readside.SubjectUserGet, body: `{"user_id": "` + f.zoomUserID + `"}`,
			check: userFrom("cache", func(u *messages.User) bool { return u.Email == "q@mi6.example" })},
		{name: "user unknown", subject: readside.SubjectUserGet, body: `{"user_id": "nobody@example.com"}`,
			wantCode: "404", wantDesc: "not found"},
		{name: "user without id", subject: readside.SubjectUserGet, body: `{"user": "q@mi6.example"}`,
			wantCode: "400", wantDesc: "user_id is required"},
		{name: "user id with a slash", subject: readside.SubjectUserGet, body: `{"user_id": "../meetings"}`,
			wantCode: "400", wantDesc: "user_id must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.request(tt.subject, tt.body)
			if a.Code != tt.wantCode {
				t.Fatalf("code %q (%s), want %q; body %s", a.Code, a.Description, tt.wantCode, a.Body)
			}
			if tt.wantCode != "" {
				if !strings.Contains(a.Description, tt.wantDesc) {
					t.Errorf("description %q, want it to contain %q", a.Description, tt.wantDesc)
				}
				body := decodeAs[readside.ErrorResponse](t, a.Body)
				if got := body.Error.Code; jsonInt(int64(got)) != tt.wantCode || body.Error.Description != a.Description {
					t.Errorf("error body = %s, want code %s and the header's description", a.Body, tt.wantCode)
				}
				return
			}
			tt.check(t, a.Body)
			if strings.Contains(string(a.Body), "start_url") || strings.Contains(string(a.Body), "SECRET-ZAK") {
				t.Errorf("answer carries start_url: %s", a.Body)
			}
		})
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestIncludeStartURL(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{}, func(c *readside.Config) { c.IncludeStartURL = true })
	f := e.fixtures()

	tests := []struct {
		name, subject, body, want string
	}{
		{"zoom meeting", readside.SubjectMeetingGet, `{"meeting_id": ` + jsonInt(f.zoomMeeting) + `}`, `"start_url":"http`},
		{"fresh copy written back", readside.SubjectMeetingGet, `{"meeting_id": ` + jsonInt(f.zoomMeeting) + `}`, `"source":"cache"`},
		{"fresh copy keeps start_url", readside.SubjectMeetingGet, `{"meeting_id": ` + jsonInt(f.zoomMeeting) + `}`, `"start_url":"http`},
		{"job event", readside.SubjectJobStatus, `{"job_id": "m-ok"}`, cachedStartURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.request(tt.subject, tt.body)
			if a.Code != "" {
				t.Fatalf("code %s: %s", a.Code, a.Description)
			}
			if !strings.Contains(string(a.Body), tt.want) {
				t.Errorf("answer %s, want it to contain %s", a.Body, tt.want)
			}
		})
	}
	// A copy a job cached is of unknown age: its start_url may have
	// expired, so Zoom is asked again; this one Zoom does not know.
	if a := e.request(readside.SubjectMeetingGet, `{"meeting_id": 111}`); a.Code != "404" {
		t.Errorf("job-cached meeting unknown at Zoom: code %q %s, want 404", a.Code, a.Body)
	}
}

func TestRedisUnreachable(t *testing.T) {
	logs := &testenv.Buffer{}
	clock := zoomtest.NewClock(time.Now()) // stands still: every failure falls in one warning interval
	e := newSvcEnv(t, zoomtest.Options{}, func(c *readside.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(testenv.LogOutput(logs), nil))
		c.Now = clock.Now
	})
	e.Redis.Stop()

	tests := []struct{ name, subject, body string }{
		{"job status", readside.SubjectJobStatus, `{"job_id": "m-ok"}`},
		{"meeting", readside.SubjectMeetingGet, `{"meeting_id": 111}`},
		{"user", readside.SubjectUserGet, `{"user_id": "james@bond.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.request(tt.subject, tt.body)
			if a.Code != "503" || !strings.Contains(a.Description, "Redis") {
				t.Errorf("code %q %q, want 503 naming Redis", a.Code, a.Description)
			}
		})
	}
	// Every request fails while Redis is away: the operator is told once
	// per endpoint, not once per request.
	for range 4 {
		e.request(readside.SubjectMeetingGet, `{"meeting_id": 111}`)
	}
	warned := map[string]int{}
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, `"msg":"service request failed"`) {
			var l struct{ Endpoint, Code string }
			_ = json.Unmarshal([]byte(line), &l)
			warned[l.Endpoint+" "+l.Code]++
		}
	}
	for k, n := range warned {
		if n != 1 {
			t.Errorf("%d warnings for %s, want 1 (the first failure; the others within the interval are left out)", n, k)
		}
	}
	if len(warned) != len(tests) {
		t.Errorf("warnings for %v, want one for each of the %d endpoints", warned, len(tests))
	}
}

func TestZoomErrors(t *testing.T) {
	tests := []struct {
		name     string
		fake     zoomtest.Options
		timeout  time.Duration
		wantCode string
		wantDesc []string
	}{
		{name: "zoom answers 5xx", fake: zoomtest.Options{FailRate: 1}, wantCode: "502", wantDesc: []string{"zoom error", "HTTP 5"}},
		{name: "zoom too slow", fake: zoomtest.Options{Latency: 3 * time.Second}, timeout: 300 * time.Millisecond,
			wantCode: "504", wantDesc: []string{"timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSvcEnv(t, tt.fake, func(c *readside.Config) { c.Timeout = tt.timeout })
			for _, req := range []struct{ subject, body string }{
				{readside.SubjectMeetingGet, `{"meeting_id": 85746065432}`},
				{readside.SubjectUserGet, `{"user_id": "q@mi6.example"}`},
			} {
				start := time.Now()
				a := e.request(req.subject, req.body)
				if a.Code != tt.wantCode {
					t.Errorf("%s: code %q (%s), want %s", req.subject, a.Code, a.Description, tt.wantCode)
				}
				for _, d := range tt.wantDesc {
					if !strings.Contains(a.Description, d) {
						t.Errorf("%s: description %q, want it to contain %q", req.subject, a.Description, d)
					}
				}
				if tt.timeout > 0 && time.Since(start) > tt.timeout+time.Second {
					t.Errorf("%s: answered after %s, want about %s", req.subject, time.Since(start), tt.timeout)
				}
			}
		})
	}
}

func TestNoZoomAccount(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{}, func(c *readside.Config) { c.Accounts = nil })
	e.fixtures()
	tests := []struct {
		name, subject, body, wantCode string
	}{
		{"cached meeting", readside.SubjectMeetingGet, `{"meeting_id": 111}`, ""},
		{"uncached meeting", readside.SubjectMeetingGet, `{"meeting_id": 222}`, "404"},
		{"uncached user", readside.SubjectUserGet, `{"user_id": "q@mi6.example"}`, "404"},
		{"any account name", readside.SubjectJobStatus, `{"job_id": "m-ok", "account": "other"}`, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := e.request(tt.subject, tt.body); a.Code != tt.wantCode {
				t.Errorf("code %q (%s), want %q", a.Code, a.Description, tt.wantCode)
			}
		})
	}
}

func TestStopEndsService(t *testing.T) {
	e := newSvcEnv(t, zoomtest.Options{})
	if err := e.svc.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.NC.Request(readside.SubjectJobStatus, []byte(`{"job_id":"x"}`), 300*time.Millisecond); err == nil {
		t.Error("a stopped service still answers")
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
