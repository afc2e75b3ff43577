package webhook_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/webhook"
	"github.com/zoomworker/zoom-worker/webhook/signature"
)

const secret = "s3cr3t-webhook-token"

type env struct {
	t    *testing.T
	nats *testenv.NATS
	nc   *nats.Conn
	js   jetstream.JetStream
	srv  *httptest.Server
	logs *testenv.Buffer
}

func newEnv(t *testing.T, edit ...func(*webhook.Config)) *env {
	t.Helper()
	e := &env{t: t, nats: testenv.StartNATS(t), logs: &testenv.Buffer{}}
	e.nc = testenv.ConnectNATS(t, e.nats.URL)
	e.js, _ = jetstream.New(e.nc)
	if _, err := webhook.SetupStream(context.Background(), e.js, 1); err != nil {
		t.Fatal(err)
	}
	cfg := webhook.Config{JetStream: e.js, Default: webhook.Account{Name: "default", SecretToken: secret},
		Logger: slog.New(slog.NewJSONHandler(testenv.LogOutput(e.logs), nil))}
	for _, f := range edit {
		f(&cfg)
	}
	r, err := webhook.NewReceiver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(webhook.Path, r)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func now() string { return strconv.FormatInt(time.Now().Unix(), 10) }

// post sends body as Zoom does, signed with key at ts; extra headers may be given.
func (e *env) post(body, key, ts string, hdr ...string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+webhook.Path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("x-zm-signature", signature.Event(key, ts, []byte(body)))
		req.Header.Set("x-zm-request-timestamp", ts)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stored is how many webhooks the stream holds.
func (e *env) stored() uint64 {
	e.t.Helper()
	return testenv.StreamCount(e.t, e.js, webhook.Stream, "")
}

func meetingUpdated(id int64, ts int64) string {
	return `{"event":"meeting.updated","event_ts":` + strconv.FormatInt(ts, 10) +
		`,"payload":{"account_id":"ZA1","operator":"admin@example.com","object":{"id":` + strconv.FormatInt(id, 10) +
		`,"topic":"New topic"}}}`
}

// The signature scheme, checked against a vector computed outside the code
// under test: `printf %s 'v0:<ts>:<body>' | openssl dgst -sha256 -hmac <secret>`.
func TestSignatureVector(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	e := newEnv(t)
	ts := now()
	body := meetingUpdated(85746065432, time.Now().UnixMilli())
	cmd := exec.Command("openssl", "dgst", "-sha256", "-hmac", secret)
	cmd.Stdin = strings.NewReader("v0:" + ts + ":" + body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	f := strings.Fields(string(out))
	vector := "v0=" + f[len(f)-1]
	if got := signature.Event(secret, ts, []byte(body)); got != vector {
		t.Fatalf("signature.Event says %s, openssl %s", got, vector)
	}

	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+webhook.Path, strings.NewReader(body))
	req.Header.Set("x-zm-signature", vector)
	req.Header.Set("x-zm-request-timestamp", ts)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || e.stored() != 1 {
		t.Fatalf("openssl-signed webhook: status %d, %d stored; want 200, 1", resp.StatusCode, e.stored())
	}

	// One bit off: refused, nothing stored.
	bad := vector[:len(vector)-1] + map[bool]string{true: "0", false: "1"}[vector[len(vector)-1] != '0']
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+webhook.Path, strings.NewReader(body))
	req.Header.Set("x-zm-signature", bad)
	req.Header.Set("x-zm-request-timestamp", ts)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || e.stored() != 1 {
		t.Fatalf("wrong signature: status %d, %d stored; want 401, still 1", resp.StatusCode, e.stored())
	}
}

func TestRejects(t *testing.T) {
	e := newEnv(t, func(c *webhook.Config) { c.MaxBody = 4096 })
	body := meetingUpdated(1, time.Now().UnixMilli())
	old := strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(time.Now().Add(6*time.Minute).Unix(), 10)
	tests := []struct {
		name   string
		method string
		body   string
		key    string
		ts     string
		want   int
	}{
		{name: "GET", method: http.MethodGet, want: 405},
		{name: "no signature", body: body, want: 401},
		{name: "wrong secret", body: body, key: "not-the-secret", ts: now(), want: 401},
		{name: "timestamp 6 minutes old", body: body, key: secret, ts: old, want: 401},
		{name: "timestamp 6 minutes ahead", body: body, key: secret, ts: future, want: 401},
		{name: "timestamp not a number", body: body, key: secret, ts: "yesterday", want: 401},
		{name: "body too large", body: `{"event":"meeting.updated","pad":"` + strings.Repeat("x", 5000) + `"}`, key: secret, ts: now(), want: 413},
		{name: "signed but not JSON", body: `event=meeting.updated`, key: secret, ts: now(), want: 400},
		{name: "wildcard event", body: `{"event":"meeting.*","payload":{}}`, key: secret, ts: now(), want: 400},
		{name: "full wildcard event", body: `{"event":">","payload":{}}`, key: secret, ts: now(), want: 400},
		{name: "empty token", body: `{"event":"meeting..updated","payload":{}}`, key: secret, ts: now(), want: 400},
		{name: "space in event", body: `{"event":"meeting updated","payload":{}}`, key: secret, ts: now(), want: 400},
		{name: "no event", body: `{"payload":{}}`, key: secret, ts: now(), want: 400},
		{name: "url validation without token", body: `{"event":"endpoint.url_validation","payload":{}}`, key: secret, ts: now(), want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.method == http.MethodGet {
				resp, err := http.Get(e.srv.URL + webhook.Path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.want || resp.Header.Get("Allow") != "POST" {
					t.Errorf("GET: %d, Allow %q; want 405, POST", resp.StatusCode, resp.Header.Get("Allow"))
				}
				return
			}
			if got, b := e.post(tt.body, tt.key, tt.ts); got != tt.want {
				t.Errorf("status %d (%s), want %d", got, strings.TrimSpace(b), tt.want)
			}
		})
	}
	if n := e.stored(); n != 0 {
		t.Errorf("%d webhooks stored, want none", n)
	}
	// One log line per request, none with the secret or a signature.
	logs := e.logs.String()
	if n := strings.Count(logs, `"msg":"webhook"`); n != len(tests) {
		t.Errorf("%d log lines, want %d:\n%s", n, len(tests), logs)
	}
	if strings.Contains(logs, secret) || strings.Contains(logs, "v0=") {
		t.Errorf("the log shows the secret or a signature:\n%s", logs)
	}
}

func TestURLValidation(t *testing.T) {
	e := newEnv(t)
	body := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`
	start := time.Now()
	code, answer := e.post(body, secret, now())
	if code != 200 {
		t.Fatalf("status %d (%s), want 200", code, answer)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("answered after %s, Zoom waits 3 s", d)
	}
	var got struct{ PlainToken, EncryptedToken string }
	if err := json.Unmarshal([]byte(answer), &got); err != nil {
		t.Fatalf("answer %q: %v", answer, err)
	}
	want := opensslHMAC(t, secret, "qgg8vlvZRS6UYooatFL8Aw")
	if got.PlainToken != "qgg8vlvZRS6UYooatFL8Aw" || got.EncryptedToken != want {
		t.Errorf("answer %+v, want the plainToken and encryptedToken %s", got, want)
	}
	if n := e.stored(); n != 0 {
		t.Errorf("the challenge was stored (%d messages); it is only answered", n)
	}
}

// opensslHMAC is hex HMAC-SHA256 as openssl computes it (or the test's own
// where openssl is missing).
func opensslHMAC(t *testing.T, key, msg string) string {
	t.Helper()
	cmd := exec.Command("openssl", "dgst", "-sha256", "-hmac", key)
	cmd.Stdin = strings.NewReader(msg)
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("openssl: %v", err)
	}
	f := strings.Fields(string(out))
	return f[len(f)-1]
}

func TestDuplicatesStoredOnce(t *testing.T) {
	e := newEnv(t)
	body := meetingUpdated(42, time.Now().UnixMilli())
	for i := 0; i < 2; i++ { // Zoom's retry of one event carries its request id again
		if code, b := e.post(body, secret, now(), "x-zm-request-id", "req-1", "traceparent",
			"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"); code != 200 {
			t.Fatalf("post %d: %d %s", i, code, b)
		}
	}
	if n := e.stored(); n != 1 {
		t.Fatalf("%d messages stored for one request id, want 1", n)
	}
	// Without a request id, the body's SHA-256 is the id: the same body twice is one message.
	other := meetingUpdated(43, time.Now().UnixMilli())
	for i := 0; i < 2; i++ {
		if code, b := e.post(other, secret, now()); code != 200 {
			t.Fatalf("post %d: %d %s", i, code, b)
		}
	}
	if n := e.stored(); n != 2 {
		t.Fatalf("%d messages stored, want 2", n)
	}

	s, _ := e.js.Stream(context.Background(), webhook.Stream)
	m, err := s.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "zoom.webhooks.meeting.updated" || string(m.Data) != body {
		t.Errorf("stored %s %s, want zoom.webhooks.meeting.updated with the body unchanged", m.Subject, m.Data)
	}
	want := map[string]string{
		"Nats-Msg-Id": "req-1", "ce-specversion": "1.0", "ce-id": "req-1", "ce-type": "us.zoom.webhook.meeting.updated",
		"ce-source": "urn:zoom:account:ZA1", "ce-subject": "42", "Zoomw-Account": "default",
		"traceparent":    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"ce-traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, m.Header.Get("ce-time")); err != nil {
		t.Errorf("ce-time %q: %v", m.Header.Get("ce-time"), err)
	}
	// A request id over 128 bytes is cut on a character boundary: the
	// header and the log line stay UTF-8.
	long := strings.Repeat("r", 127) + "é-rest"
	if code, b := e.post(meetingUpdated(44, time.Now().UnixMilli()), secret, now(), "x-zm-request-id", long); code != 200 {
		t.Fatalf("post long id: %d %s", code, b)
	}
	m3, err := s.GetMsg(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := m3.Header.Get("Nats-Msg-Id"); got != strings.Repeat("r", 127) {
		t.Errorf("Nats-Msg-Id of a %d-byte request id = %q (valid UTF-8: %v), want its first 127 bytes", len(long), got, utf8.ValidString(got))
	}
	m2, _ := s.GetMsg(context.Background(), 2)
	sum := sha256.Sum256([]byte(other))
	if got := m2.Header.Get("Nats-Msg-Id"); got != hex.EncodeToString(sum[:]) {
		t.Errorf("Nats-Msg-Id without x-zm-request-id = %q, want the body's SHA-256", got)
	}
}

func TestPerAccountSecrets(t *testing.T) {
	e := newEnv(t, func(c *webhook.Config) {
		c.Others = []webhook.Account{{Name: "school-b", ZoomAccountID: "ZB2", SecretToken: "school-b-secret"}}
	})
	body := `{"event":"user.updated","event_ts":1,"payload":{"account_id":"ZB2","object":{"id":"u1"}}}`
	if code, _ := e.post(body, secret, now()); code != 401 {
		t.Errorf("school-b's event signed with the default secret: %d, want 401", code)
	}
	if code, b := e.post(body, "school-b-secret", now()); code != 200 {
		t.Fatalf("school-b's event with its secret: %d %s, want 200", code, b)
	}
	s, _ := e.js.Stream(context.Background(), webhook.Stream)
	m, err := s.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Zoomw-Account") != "school-b" || m.Header.Get("ce-source") != "urn:zoom:account:ZB2" {
		t.Errorf("headers %v, want account school-b, source urn:zoom:account:ZB2", m.Header)
	}
	// school-b's app validates its URL with its own secret.
	code, answer := e.post(`{"event":"endpoint.url_validation","payload":{"plainToken":"abc"}}`, "school-b-secret", now())
	if code != 200 || !strings.Contains(answer, opensslHMAC(t, "school-b-secret", "abc")) {
		t.Errorf("school-b url validation: %d %s", code, answer)
	}
}

func TestNATSDownThenStoredOnce(t *testing.T) {
	e := newEnv(t, func(c *webhook.Config) { c.PublishTimeout = 500 * time.Millisecond })
	body := meetingUpdated(7, time.Now().UnixMilli())
	e.nats.Shutdown()

	start := time.Now()
	code, _ := e.post(body, secret, now(), "x-zm-request-id", "req-down")
	if code != 503 {
		t.Fatalf("with NATS down: %d, want 503 so that Zoom retries", code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("503 after %s; Zoom waits 3 s", d)
	}

	e.nats.Restart(t)
	// Zoom retries until it gets a 200.
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ = e.post(body, secret, now(), "x-zm-request-id", "req-down")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d 30 s after NATS came back", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A retry after the 200 changes nothing either.
	if code, _ = e.post(body, secret, now(), "x-zm-request-id", "req-down"); code != 200 {
		t.Fatalf("retry after recovery: %d", code)
	}
	if n := e.stored(); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
}
