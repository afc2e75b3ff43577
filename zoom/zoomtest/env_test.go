package zoomtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// testEnv is a fake Zoom behind an httptest.Server, a token for it and a
// host user.
type testEnv struct {
	t     *testing.T
	fake  *Server
	srv   *httptest.Server
	token string
	host  User
}

const (
	testAccount = "acct-1"
	testClient  = "client-1"
	testSecret  = "secret-1"
)

// newTestEnv starts a fake with opts (credentials default to the test
// ones), adds james@bond.com and fetches a token through the endpoint.
func newTestEnv(t *testing.T, opts Options) *testEnv {
	t.Helper()
	if opts.ClientID == "" {
		opts.AccountID, opts.ClientID, opts.ClientSecret = testAccount, testClient, testSecret
	}
	e := &testEnv{t: t, fake: New(opts)}
	e.srv = newServer(t, e.fake)
	e.host = e.fake.AddUser("james@bond.com", "James", "Bond", 1)
	e.token = e.fetchToken()
	return e
}

// newServer serves h on a loopback port until the test ends.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func (e *testEnv) fetchToken() string {
	e.t.Helper()
	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {testAccount}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClient, testSecret)
	resp, body := e.send(req)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("token: status %d: %s", resp.StatusCode, body)
	}
	var tok tokenAnswer
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		e.t.Fatalf("token: %v: %s", err, body)
	}
	return tok.AccessToken
}

// do sends an API request (path below /v2) with e.token; body is marshalled
// unless it is a string (sent as is) or nil.
func (e *testEnv) do(method, path string, body any) (*http.Response, []byte) {
	e.t.Helper()
	return e.doCtx(context.Background(), e.token, method, path, body)
}

func (e *testEnv) doCtx(ctx context.Context, token, method, path string, body any) (*http.Response, []byte) {
	e.t.Helper()
	req := e.newRequest(ctx, token, method, path, body)
	return e.send(req)
}

func (e *testEnv) newRequest(ctx context.Context, token, method, path string, body any) *http.Request {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+"/v2"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// doAsync sends an API request with e.token from a goroutine; the channel
// gets the answer's status, or -1 when there was none.
func (e *testEnv) doAsync(method, path string, body any) <-chan int {
	req := e.newRequest(e.t.Context(), e.token, method, path, body)
	done := make(chan int, 1)
	go func() {
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	return done
}

func (e *testEnv) send(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// createMeeting creates a meeting for host and returns the answer's body.
func (e *testEnv) createMeeting(host string, body map[string]any) map[string]any {
	e.t.Helper()
	resp, b := e.do(http.MethodPost, "/users/"+url.PathEscape(host)+"/meetings", body)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create meeting: status %d: %s", resp.StatusCode, b)
	}
	return decode(e.t, b)
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return m
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := asInt(json.Number(fmt.Sprint(v))) // a json.Number or a Go int
	if !ok {
		t.Fatalf("%v (%T) is not an integer", v, v)
	}
	return n
}

// wantZoomError checks a Zoom error answer.
func wantZoomError(t *testing.T, resp *http.Response, body []byte, status, code int, msg string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status: got %d, want %d (body %s)", resp.StatusCode, status, body)
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if eb.Code != code {
		t.Errorf("code: got %d, want %d (body %s)", eb.Code, code, body)
	}
	if msg != "" && eb.Message != msg {
		t.Errorf("message: got %q, want %q", eb.Message, msg)
	}
}

// zoomErr is the Zoom error answer a table test expects: the HTTP status,
// Zoom's code, the message ("" for any) and the fields of a validation
// answer (nil for none). The zero zoomErr is no error.
type zoomErr struct {
	status, code int
	msg          string
	fields       []string
}

// validation is Zoom's 400, code 300, "Validation Failed." naming fields.
func validation(fields ...string) zoomErr {
	return zoomErr{http.StatusBadRequest, codeInvalidParam, msgValidation, fields}
}

// invalidParam is Zoom's 400, code 300, "Invalid parameter: {name}.".
func invalidParam(name string) zoomErr {
	return zoomErr{http.StatusBadRequest, codeInvalidParam, "Invalid parameter: " + name + ".", nil}
}

// badJSON is Zoom's answer to a body that is not one JSON object.
var badJSON = zoomErr{http.StatusBadRequest, codeInvalidParam, msgBadJSON, nil}

// check checks that resp and body are the error answer w.
func (w zoomErr) check(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	wantZoomError(t, resp, body, w.status, w.code, w.msg)
	if got := fieldErrors(t, body); !slices.Equal(got, w.fields) {
		t.Errorf("error fields: got %v, want %v", got, w.fields)
	}
}

// refusal is a request the fake must answer with a Zoom error.
type refusal struct {
	name string
	path string // below /v2: "" for the table's, "?..." for it with that query
	body any
	want zoomErr
}

// refuses sends each request of tests with method to e, each in a subtest,
// and checks its error answer; path is the table's path.
func (e *testEnv) refuses(t *testing.T, method, path string, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path
			if p == "" || strings.HasPrefix(p, "?") {
				p = path + p
			}
			resp, body := e.do(method, p, tt.body)
			tt.want.check(t, resp, body)
		})
	}
}

// fieldErrors returns the fields of a validation answer's "errors".
func fieldErrors(t *testing.T, body []byte) []string {
	t.Helper()
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	var fields []string
	for _, fe := range eb.Errors {
		fields = append(fields, fe.Field)
	}
	return fields
}

// meetingPath is "/meetings/{id}" of a meeting answer.
func meetingPath(t *testing.T, m map[string]any) string {
	t.Helper()
	return "/meetings/" + strconv.FormatInt(num(t, m["id"]), 10)
}
