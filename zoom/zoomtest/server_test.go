package zoomtest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	e := newTestEnv(t, Options{})
	tests := []struct {
		name   string
		method string
		path   string  // below the server's URL
		want   zoomErr // zero for a 200
	}{
		{name: "unknown API path", method: "GET", path: "/v2/webinars/1", want: zoomErr{404, 404, "Not Found", nil}},
		{name: "unknown path", method: "GET", path: "/nope", want: zoomErr{404, 404, "Not Found", nil}},
		{name: "method not allowed", method: "PUT", path: "/v2/users/me", want: zoomErr{405, 405, "Method Not Allowed", nil}},
		{name: "list users is not served", method: "GET", path: "/v2/users", want: zoomErr{405, 405, "Method Not Allowed", nil}},
		{name: "trailing slash", method: "GET", path: "/v2/users/me/"},
		{name: "escaped email", method: "GET", path: "/v2/users/james%40bond.com"},
		{name: "plain email", method: "GET", path: "/v2/users/james@bond.com/meetings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.srv.URL+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+e.token)
			resp, body := e.send(req)
			if tt.want.status != 0 {
				tt.want.check(t, resp, body)
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("got %d %s, want 200", resp.StatusCode, body)
			}
		})
	}

	t.Run("unknown paths still need a token", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v2/webinars/1", nil)
		resp, body := e.send(req)
		wantZoomError(t, resp, body, 401, 124, msgInvalidToken)
	})
	t.Run("answers are JSON", func(t *testing.T) {
		resp, _ := e.do("GET", "/users/me", nil)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type: got %q", ct)
		}
		if cat := resp.Header.Get("X-RateLimit-Category"); cat != "Light" {
			t.Errorf("X-RateLimit-Category: got %q, want Light", cat)
		}
	})
}

func TestStats(t *testing.T) {
	e := newTestEnv(t, Options{}) // 1 token
	e.do("POST", "/users", map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "m@mi6.gov.uk", "type": 1}})
	m := e.createMeeting("m@mi6.gov.uk", map[string]any{"topic": "x"})
	e.do("PATCH", meetingPath(t, m), map[string]any{"topic": "y"})
	e.do("DELETE", meetingPath(t, m), nil)
	e.do("DELETE", "/users/m@mi6.gov.uk", nil)
	e.doCtx(t.Context(), "bad token", "GET", "/users/me", nil)
	e.fake.FailNext(1, 500)
	e.do("GET", "/users/me", nil)
	e.fake.FailNext(1, 429)
	e.do("GET", "/users/me", nil)
	e.fake.ResetNext(1)
	if code, err := e.tryCreate(t.Context()); err == nil {
		t.Fatalf("ResetNext: got %d, want no answer", code)
	}
	e.do("GET", "/users/nobody@example.com", nil) // a 404 counts only as a request

	want := Stats{TokensIssued: 1, UsersCreated: 1, MeetingsCreated: 1, MeetingsUpdated: 1, MeetingsDeleted: 1,
		UsersDeleted: 1, Requests: 10, RateLimited: 1, ServerErrors: 1, Resets: 1, Unauthorized: 1}
	if got := e.fake.Stats(); got != want {
		t.Errorf("Stats:\n got %+v\nwant %+v", got, want)
	}
}

func TestServe(t *testing.T) {
	fake := New(Options{})
	fake.AddUser("james@bond.com", "James", "Bond", 1)
	u, closeFn, err := fake.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeFn() })
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("url: got %q", u)
	}
	client := &http.Client{}
	req, _ := http.NewRequest("POST", u+"/oauth/token?grant_type=account_credentials&account_id=a", nil)
	req.SetBasicAuth("id", "secret")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok tokenAnswer
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("GET", u+"/v2/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /v2/users/me: %v %v", resp, err)
	}
	resp.Body.Close()

	// A held request does not keep close from returning.
	h := fake.HoldMeetingCreates()
	defer h.Release()
	go func() {
		req, _ := http.NewRequest("POST", u+"/v2/users/me/meetings", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-h.Arrived()
	if err := closeFn(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := closeFn(); err != nil {
		t.Errorf("second close: %v", err)
	}
	waitFor(t, "the held request to end", func() bool { return h.Waiting() == 0 })
	if _, err := client.Get(u + "/v2/users/me"); err == nil {
		t.Error("the server still answers after close")
	}

	if _, _, err := fake.Serve("not an address"); err == nil {
		t.Error("Serve on a bad address: got no error")
	}
}

func TestLoggerNeverLogsTokens(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newTestEnv(t, Options{Logger: log})
	e.do("GET", "/users/me", nil)
	e.doCtx(t.Context(), "secret-token-value", "GET", "/users/me", nil)
	out := buf.String()
	if !strings.Contains(out, "/v2/users/me") {
		t.Errorf("log: got %q, want a record of the request", out)
	}
	for _, secret := range []string{e.token, "secret-token-value", testSecret} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a secret: %q", out)
		}
	}
}

func TestZeroValueHandlerWithoutHijack(t *testing.T) {
	// ServeHTTP works on any ResponseWriter (here a recorder-like buffer).
	fake := New(Options{})
	fake.AddUser("a@b.co", "", "", 1)
	tok := fake.IssueToken()
	req, _ := http.NewRequest("GET", "/v2/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := &bufferWriter{header: http.Header{}}
	fake.Handler().ServeHTTP(w, req)
	if w.status != 200 || !strings.Contains(w.body.String(), `"a@b.co"`) {
		t.Errorf("got %d %s", w.status, w.body.String())
	}
}

type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header { return w.header }
func (w *bufferWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return w.body.Write(b)
}
func (w *bufferWriter) WriteHeader(s int) { w.status = s }

var _ io.Writer = (*bufferWriter)(nil)
