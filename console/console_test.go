package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zoomworker/zoom-worker/console"
	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/worker"
)

// Secrets planted in what the console reads; no page may show them.
const (
	zak          = "ZAKsecret0123456789abcdef"
	startURL     = "https://zoom.us/s/85746065432?zak=" + zak
	meetingPass  = "Hey123pass"
	headerSecret = "Bearer-job-header-secret"
)

// consoleEnv is testenv's stack (a real NATS, streams set up as a worker
// sets them up, and a real redis-server) and a console served over HTTP.
type consoleEnv struct {
	*testenv.Stack
	t    testing.TB
	con  *console.Console
	srv  *httptest.Server
	logs *testenv.Buffer
}

func newConsoleEnv(t testing.TB, tweak func(*console.Config)) *consoleEnv {
	t.Helper()
	return newConsoleEnvAfter(t, tweak, nil)
}

// newConsoleEnvAfter is newConsoleEnv with before run on the stack before
// the console starts asking $SRV.STATS. A micro service must be started
// there: nats.go's micro.AddService (v1.55.0) writes the service's start
// time after its $SRV handlers are subscribed, so a STATS request that
// arrives while it starts is a data race inside the library.
func newConsoleEnvAfter(t testing.TB, tweak func(*console.Config), before func(*consoleEnv)) *consoleEnv {
	t.Helper()
	e := &consoleEnv{Stack: testenv.Start(t, testenv.Options{}), t: t, logs: &testenv.Buffer{}}
	ctx := context.Background()
	if _, err := worker.SetupStreams(ctx, e.JS, worker.Config{}); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(e)
	}
	cfg := console.Config{NATS: e.NC, Records: e.Store, Limits: e.Store, Version: "test",
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil))}
	if tweak != nil {
		tweak(&cfg)
	}
	var err error
	if e.con, err = console.New(cfg); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.con.Run(rctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e.srv = httptest.NewServer(e.con.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// deadLetter keeps a failed job in ZOOM_DLQ as the worker does.
func (e *consoleEnv) deadLetter(jobID, subject, account, kind, errMsg string, body string) uint64 {
	e.t.Helper()
	m := nats.NewMsg(messages.DeadLetterSubject(subject))
	m.Data = []byte(body)
	m.Header.Set(worker.HeaderJobSubject, subject)
	m.Header.Set(worker.HeaderJobID, jobID)
	m.Header.Set(worker.HeaderErrorKind, kind)
	m.Header.Set(worker.HeaderError, errMsg)
	m.Header.Set(worker.HeaderAttempts, "1")
	if account != "" {
		m.Header.Set(worker.HeaderAccount, account)
	}
	m.Header.Set("X-Api-Token", headerSecret)
	ack, err := e.JS.PublishMsg(context.Background(), m)
	if err != nil {
		e.t.Fatal(err)
	}
	return ack.Sequence
}

// record writes a job record through the store, as an attempt would.
func (e *consoleEnv) record(jobID, subject string, state worker.State, event []byte, fe *messages.FailError) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.Store.Begin(ctx, worker.Begin{JobID: jobID, Subject: subject, Owner: "t", Lease: time.Minute}); err != nil {
		e.t.Fatal(err)
	}
	f := worker.Finish{JobID: jobID, Owner: "t", State: state, Error: fe}
	if state == worker.StateSucceeded {
		f.EventSubject, f.Event = messages.SubjectMeetingCreated, event
		f.ClaimMeeting = 85746065432
		f.Users = []messages.User{{ID: "wAdE5hVfRUy3k305kAjBmA", Email: "james@bond.com", FirstName: "James", LastName: "Bond", Type: 1}}
	}
	if err := e.Store.Finish(ctx, f); err != nil {
		e.t.Fatal(err)
	}
}

type client struct {
	t    testing.TB
	base string
	hc   *http.Client
	// bearer, when set, goes in every request's Authorization header.
	bearer string
}

func (e *consoleEnv) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) do(method, path string, form url.Values) (int, http.Header, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	code, _, body := c.do("GET", path, nil)
	return code, body
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the CSRF token from a page the console served this client.
func (c *client) csrf(path string) string {
	c.t.Helper()
	_, body := c.get(path)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

func meetingEvent() []byte {
	b, _ := json.Marshal(map[string]any{"job_id": "m-ok", "user_id": "james@bond.com", "meeting": map[string]any{
		"id": 85746065432, "topic": "Demo", "start_url": startURL, "password": meetingPass,
		"join_url": "https://zoom.us/j/85746065432?pwd=" + meetingPass}})
	return b
}

func TestPagesNeverShowSecrets(t *testing.T) {
	e := newConsoleEnv(t, nil)
	e.record("m-ok", messages.SubjectMeetingCreate, worker.StateSucceeded, meetingEvent(), nil)
	e.record("m-bad", messages.SubjectMeetingCreate, worker.StateFailed, nil,
		&messages.FailError{Kind: messages.KindZoomRejected, Message: "rejected; start_url " + startURL})
	body := fmt.Sprintf(`{"job_id":"m-bad","user_id":"nobody@example.com","meeting":{"topic":"x","password":%q,"settings":{"start_url":%q}}}`, meetingPass, startURL)
	e.deadLetter("m-bad", messages.SubjectMeetingCreate, "", messages.KindZoomRejected, "token="+zak, body)
	e.deadLetter("raw", messages.SubjectUserCreate, "", messages.KindInvalidJob, "not JSON", "start_url="+startURL+" password: "+meetingPass)

	c := e.client()
	for _, path := range []string{"/", "/jobs?q=m-ok", "/jobs?q=m-bad", "/jobs?q=85746065432", "/jobs?q=nobody@example.com", "/dlq", "/waiting"} {
		code, page := c.get(path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, code, page)
		}
		for _, secret := range []string{zak, meetingPass, headerSecret} {
			if strings.Contains(page, secret) {
				t.Errorf("GET %s shows a secret %q", path, secret)
			}
		}
	}
	// The pages show what is not secret.
	if _, page := c.get("/jobs?q=m-ok"); !strings.Contains(page, "succeeded") || !strings.Contains(page, "85746065432") {
		t.Errorf("job page lacks the state or the meeting id:\n%s", page)
	}
	if _, page := c.get("/dlq"); !strings.Contains(page, "m-bad") || !strings.Contains(page, "zoom_rejected") {
		t.Errorf("dead-letter page lacks the dead letter:\n%s", page)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newConsoleEnv(t, nil)
	_, h, _ := e.client().do("GET", "/", nil)
	for k, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	} {
		if got := h.Get(k); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to contain %q", k, got, want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows scripts or inline code", csp)
	}
}

func TestTokenGuardsEveryPage(t *testing.T) {
	const token = "console-token-123456"
	e := newConsoleEnv(t, func(c *console.Config) { c.Token = token })
	anon := e.client()
	code, h, _ := anon.do("GET", "/dlq", nil)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Fatalf("GET /dlq without the token: %d to %q, want 303 to /login", code, h.Get("Location"))
	}
	if code, _, _ := anon.do("POST", "/dlq/do", url.Values{"action": {"delete"}, "seqs": {"1"}}); code != http.StatusUnauthorized {
		t.Errorf("POST without the token: %d, want 401", code)
	}

	bearer := e.client()
	bearer.bearer = token
	if code, _ := bearer.get("/"); code != http.StatusOK {
		t.Errorf("GET / with the Bearer token: %d, want 200", code)
	}
	bearer.bearer = "wrong"
	if code, _, _ := bearer.do("GET", "/", nil); code != http.StatusSeeOther {
		t.Errorf("GET / with a wrong Bearer token: %d, want a redirect to the login", code)
	}

	// The login form: a wrong token is refused, the right one sets a cookie.
	user := e.client()
	csrf := user.csrf("/login")
	if code, _, page := user.do("POST", "/login", url.Values{"csrf": {csrf}, "token": {"nope"}, "next": {"/dlq"}}); code != http.StatusUnauthorized || strings.Contains(page, token) {
		t.Fatalf("login with a wrong token: %d", code)
	}
	code, h, _ = user.do("POST", "/login", url.Values{"csrf": {csrf}, "token": {token}, "name": {"ada"}, "next": {"/dlq"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/dlq" {
		t.Fatalf("login: %d to %q, want 303 to /dlq", code, h.Get("Location"))
	}
	for _, ck := range user.hc.Jar.Cookies(mustURL(e.srv.URL)) {
		if strings.Contains(ck.Value, token) {
			t.Errorf("cookie %s holds the token", ck.Name)
		}
	}
	if code, page := user.get("/dlq"); code != http.StatusOK || !strings.Contains(page, "ada") {
		t.Errorf("GET /dlq after login: %d (want 200 and the name shown)", code)
	}
	if strings.Contains(e.logs.String(), token) {
		t.Error("the log holds the token")
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestStateChangesNeedPOSTWithCSRF(t *testing.T) {
	e := newConsoleEnv(t, nil)
	seq := e.deadLetter("m-1", messages.SubjectMeetingCreate, "", messages.KindZoomRejected, "no such user", `{"job_id":"m-1"}`)
	c := e.client()
	csrf := c.csrf("/dlq")
	seqs := strconv.FormatUint(seq, 10)
	if code, _ := c.get("/dlq/do?action=delete&seqs=" + seqs); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /dlq/do: %d, want 405", code)
	}
	if code, _, _ := c.do("POST", "/dlq/do", url.Values{"action": {"delete"}, "seqs": {seqs}}); code != http.StatusForbidden {
		t.Errorf("POST without a CSRF token: %d, want 403", code)
	}
	if code, _, _ := c.do("POST", "/dlq/do", url.Values{"action": {"delete"}, "seqs": {seqs}, "csrf": {strings.Repeat("0", 64)}}); code != http.StatusForbidden {
		t.Errorf("POST with a forged CSRF token: %d, want 403", code)
	}
	other := e.client() // another browser's token does not work here
	if code, _, _ := other.do("POST", "/dlq/do", url.Values{"action": {"delete"}, "seqs": {seqs}, "csrf": {csrf}}); code != http.StatusForbidden {
		t.Errorf("POST with another browser's CSRF token: %d, want 403", code)
	}
	if n := e.dlqCount(); n != 1 {
		t.Fatalf("ZOOM_DLQ holds %d, want the dead letter untouched", n)
	}

	// The form asks first, then deletes, then sums up; the log says who.
	code, _, page := c.do("POST", "/dlq", url.Values{"do": {"delete"}, "seq": {seqs}, "csrf": {csrf}})
	if code != http.StatusOK || !strings.Contains(page, `id="confirm"`) {
		t.Fatalf("POST /dlq: %d, want a confirmation\n%s", code, page)
	}
	if n := e.dlqCount(); n != 1 {
		t.Fatalf("the confirmation changed ZOOM_DLQ (%d left)", n)
	}
	code, h, _ := c.do("POST", "/dlq/do", url.Values{"action": {"delete"}, "seqs": {seqs}, "csrf": {csrf}})
	if code != http.StatusSeeOther {
		t.Fatalf("POST /dlq/do: %d, want 303", code)
	}
	if _, page := c.get(h.Get("Location")); !strings.Contains(page, "Deleted 1 dead letter") {
		t.Errorf("summary:\n%s", page)
	}
	if n := e.dlqCount(); n != 0 {
		t.Errorf("ZOOM_DLQ holds %d after the delete, want 0", n)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"msg":"console: delete dead letter"`) || !strings.Contains(logs, `"job_id":"m-1"`) || !strings.Contains(logs, `"who":"local"`) {
		t.Errorf("the delete was not logged with who and what:\n%s", logs)
	}
}

func TestReadOnlyRefusesChanges(t *testing.T) {
	e := newConsoleEnv(t, func(c *console.Config) { c.ReadOnly = true })
	seq := e.deadLetter("m-1", messages.SubjectMeetingCreate, "", messages.KindZoomRejected, "no such user", `{"job_id":"m-1"}`)
	c := e.client()
	_, page := c.get("/dlq")
	if strings.Contains(page, "Replay selected") || !strings.Contains(page, "read-only") {
		t.Error("the read-only dead-letter page offers replay")
	}
	csrf := c.csrf("/dlq")
	code, _, _ := c.do("POST", "/dlq/do", url.Values{"action": {"replay"}, "seqs": {strconv.FormatUint(seq, 10)}, "csrf": {csrf}})
	if code != http.StatusForbidden {
		t.Errorf("POST /dlq/do read-only: %d, want 403", code)
	}
	if n := e.dlqCount(); n != 1 {
		t.Errorf("ZOOM_DLQ holds %d, want 1", n)
	}
}

func TestDeadLetterFilters(t *testing.T) {
	e := newConsoleEnv(t, nil)
	e.deadLetter("u-1", messages.SubjectUserCreate, "", messages.KindInvalidJob, "bad", `{}`)
	e.deadLetter("m-1", messages.SubjectMeetingCreate, "school-b", messages.KindZoomRejected, "no host", `{}`)
	e.deadLetter("m-2", messages.SubjectMeetingCreate, "", messages.KindRetriesExhausted, "5xx", `{}`)
	c := e.client()
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"all", "", []string{"u-1", "m-1", "m-2"}},
		{"subject", "subject=zoom.jobs.meeting.create", []string{"m-1", "m-2"}},
		{"kind", "kind=invalid_job", []string{"u-1"}},
		{"account", "account=school-b", []string{"m-1"}},
		{"since", "since=1h", []string{"u-1", "m-1", "m-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, page := c.get("/dlq?" + tc.query)
			got := regexp.MustCompile(`<b>seq \d+</b> <code>([^<]+)</code>`).FindAllStringSubmatch(page, -1)
			var ids []string
			for _, m := range got {
				ids = append(ids, m[1])
			}
			if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
		})
	}
	// The subject filter offers every job subject (registrant.add was left
	// out of a list of its own).
	_, page := c.get("/dlq")
	for _, s := range messages.JobSubjects() {
		if !strings.Contains(page, "<option>"+s+"</option>") {
			t.Errorf("the dead-letter filter offers no %s", s)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true}, {"localhost:8080", true}, {"[::1]:8080", true}, {"127.1.2.3:80", true},
		{":8080", false}, {"0.0.0.0:8080", false}, {"[::]:8080", false}, {"10.0.0.5:8080", false}, {"example.com:80", false}, {"nonsense", false},
	} {
		if got := console.LoopbackOnly(tc.addr); got != tc.want {
			t.Errorf("LoopbackOnly(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// dlqCount is how many dead letters ZOOM_DLQ holds.
func (e *consoleEnv) dlqCount() uint64 {
	e.t.Helper()
	return testenv.StreamCount(e.t, e.JS, messages.StreamDeadLetters, "")
}

func TestFindAJob(t *testing.T) {
	e := newConsoleEnv(t, nil)
	e.record("m-ok", messages.SubjectMeetingCreate, worker.StateSucceeded, meetingEvent(), nil)
	e.record("m-bad", messages.SubjectMeetingCreate, worker.StateFailed, nil,
		&messages.FailError{Kind: messages.KindZoomRejected, Message: "User does not exist: ada@example.com.", HTTPStatus: 404, ZoomCode: 1001})
	seq := e.deadLetter("m-bad", messages.SubjectMeetingCreate, "", messages.KindZoomRejected, "User does not exist: ada@example.com.",
		`{"job_id":"m-bad","user_id":"ada@example.com","meeting":{"topic":"x"}}`)
	e.deadLetter("u-bad", "zoom.jobs.user.create", "", messages.KindInvalidJob, "user_info.email: missing", `{"job_id":"u-bad"}`)
	c := e.client()
	for _, tc := range []struct {
		name, q string
		want    []string
	}{
		{"done, by id", "m-ok", []string{`id="job-m-ok"`, "succeeded", "done: its event zoom.events.meeting.created is in ZOOM_EVENTS", "Demo"}},
		{"by meeting id", "85746065432", []string{`id="job-m-ok"`, "succeeded"}},
		{"failed: in the DLQ", "m-bad", []string{`id="job-m-bad"`, "failed: in ZOOM_DLQ", "/dlq?from=" + strconv.FormatUint(seq, 10), "Zoom code 1001"}},
		{"failed before an attempt", "u-bad", []string{`id="job-u-bad"`, "dead-lettered", "failed before an attempt began"}},
		{"by user email", "james@bond.com", []string{"wAdE5hVfRUy3k305kAjBmA", "James"}},
		{"dead letters naming an email", "ada@example.com", []string{"Dead letters that name it", "m-bad"}},
		{"unknown", "nope-1", []string{`id="not-found"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, page := c.get("/jobs?q=" + url.QueryEscape(tc.q))
			if code != http.StatusOK {
				t.Fatalf("GET: %d", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("the page for %q lacks %q", tc.q, w)
				}
			}
		})
	}
}

func TestOverviewCountsJobsPerAccount(t *testing.T) {
	e := newConsoleEnv(t, func(c *console.Config) {
		c.Accounts = []console.Account{{Name: worker.DefaultAccount, RateLimit: 20}, {Name: "school-b"}}
	})
	publish := func(subject, body string) {
		t.Helper()
		if _, err := e.JS.Publish(context.Background(), subject, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		publish(messages.SubjectMeetingCreated, fmt.Sprintf(`{"job_id":"m-%d","meeting":{"id":1}}`, i))
	}
	publish(messages.SubjectJobFailed, `{"job_id":"f-1","account":"school-b","subject":"zoom.jobs.meeting.create","error":{"kind":"zoom_rejected"}}`)
	publish(messages.SubjectJobFailed, `{"job_id":"f-2","account":"school-b","subject":"zoom.jobs.meeting.create","error":{"kind":"zoom_rejected"}}`)
	publish(messages.SubjectJobConflict, `{"job_id":"m-0","subject":"zoom.jobs.meeting.create"}`) // not run: not done
	publish(messages.SubjectJobDeferred, `{"job_id":"d-1","subject":"zoom.jobs.meeting.create","until":"2099-01-01T00:00:00Z","reason":"daily meeting create/update limit reached for host grace@example.com"}`)
	c := e.client()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, page := c.get("/")
		if strings.Contains(page, "<strong>default</strong>: 3 done, 1 deferred, 0 failed") &&
			strings.Contains(page, "<strong>school-b</strong>: 0 done, 0 deferred, 2 failed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the overview does not count the events per account:\n%s", page)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The deferred job waits for its host, on the waiting page and the job's.
	if _, page := c.get("/waiting"); !strings.Contains(page, "grace@example.com") || !strings.Contains(page, "20/s") {
		t.Errorf("the waiting page lacks the host or the account's pace:\n%s", page)
	}
	if _, page := c.get("/jobs?q=d-1"); !strings.Contains(page, "deferred") {
		t.Errorf("job d-1 is not shown deferred:\n%s", page)
	}
}

func TestWorkersAndTheirCredentialsGates(t *testing.T) {
	e := newConsoleEnvAfter(t, nil, func(e *consoleEnv) {
		svc, err := readside.Start(e.NC, readside.Config{Jobs: e.Store, Cache: e.Store, Version: "1.2.3",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Instance: "worker-a", InFlight: func() int { return 7 },
			RejectedAccounts: func() map[string]string { return map[string]string{"school-b": "zoom: 401 invalid_client"} }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = svc.Stop() })
	})
	c := e.client()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, page := c.get("/")
		if strings.Contains(page, "worker-a") {
			for _, want := range []string{"1.2.3", ">7<", "Account <strong>school-b</strong>: Zoom rejects its credentials"} {
				if !strings.Contains(page, want) {
					t.Errorf("the overview lacks %q", want)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the overview does not list the worker:\n%s", page)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, page := c.get("/waiting"); !strings.Contains(page, `id="failing"`) || !strings.Contains(page, "401 invalid_client") {
		t.Errorf("the waiting page does not show school-b's rejected credentials:\n%s", page)
	}
}
