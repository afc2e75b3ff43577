package zoomtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/webhook/signature"
)

const testWebhookSecret = "whsec-1"

// hookRequest is one request the test endpoint got.
type hookRequest struct {
	header http.Header
	body   []byte
}

// hookEndpoint is a webhook endpoint for tests: it records what it gets
// and answers each request with the next of its statuses (200 once they
// run out), after delay.
type hookEndpoint struct {
	srv *httptest.Server

	mu       sync.Mutex
	got      []hookRequest
	statuses []int
	delay    time.Duration
	answer   func(body []byte) []byte // nil: no body
}

func newHookEndpoint(t *testing.T, statuses ...int) *hookEndpoint {
	t.Helper()
	h := &hookEndpoint{statuses: statuses}
	h.srv = newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, hookRequest{header: r.Header.Clone(), body: b})
		status := http.StatusOK
		if len(h.statuses) > 0 {
			status, h.statuses = h.statuses[0], h.statuses[1:]
		}
		delay, answer := h.delay, h.answer
		h.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(status)
		if answer != nil {
			_, _ = w.Write(answer(b))
		}
	}))
	return h
}

func (h *hookEndpoint) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.got...)
}

// webhookEnv is a test env whose fake sends webhooks to an endpoint, with
// retries a few milliseconds apart.
func newWebhookEnv(t *testing.T, h *hookEndpoint, opts Options) *testEnv {
	t.Helper()
	opts.WebhookURL, opts.WebhookSecret = h.srv.URL, testWebhookSecret
	if opts.WebhookRetryDelays == nil {
		opts.WebhookRetryDelays = []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}
	}
	e := newTestEnv(t, opts)
	t.Cleanup(e.fake.Close)
	return e
}

func waitWebhooks(t *testing.T, fake *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := fake.WaitWebhooks(ctx); err != nil {
		t.Fatalf("WaitWebhooks: %v", err)
	}
}

// event is a webhook body, decoded.
type event struct {
	Event   string         `json:"event"`
	EventTS int64          `json:"event_ts"`
	Payload map[string]any `json:"payload"`
}

// checkSigned checks a request's headers as Zoom sends them and decodes
// its body.
func checkSigned(t *testing.T, req hookRequest) event {
	t.Helper()
	ts := req.header.Get("x-zm-request-timestamp")
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("x-zm-request-timestamp %q: %v", ts, err)
	}
	if d := time.Since(time.Unix(n, 0)); d < -time.Minute || d > 5*time.Minute {
		t.Errorf("x-zm-request-timestamp %d is %v from now", n, d)
	}
	// TestSignWebhook holds SignWebhook to Zoom's scheme.
	if got, want := req.header.Get("x-zm-signature"), SignWebhook(testWebhookSecret, n, req.body); got != want {
		t.Errorf("x-zm-signature: got %q, want %q", got, want)
	}
	if req.header.Get("x-zm-request-id") == "" || req.header.Get("Content-Type") == "" {
		t.Errorf("headers: got %v, want x-zm-request-id and Content-Type", req.header)
	}
	var ev event
	if err := json.Unmarshal(req.body, &ev); err != nil {
		t.Fatalf("body %s: %v", req.body, err)
	}
	if ev.EventTS < time.Now().Add(-time.Hour).UnixMilli() {
		t.Errorf("event_ts %d is not Unix milliseconds of now", ev.EventTS)
	}
	return ev
}

func TestWebhookMeetingEvents(t *testing.T) {
	h := newHookEndpoint(t)
	e := newWebhookEnv(t, h, Options{})
	m := e.createMeeting("james@bond.com", map[string]any{"topic": "Before", "duration": 30})
	path := meetingPath(t, m)
	if resp, body := e.do("PATCH", path, map[string]any{"topic": "After", "settings": map[string]any{"mute_upon_entry": true}}); resp.StatusCode != 204 {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}
	// A PATCH that changes nothing sends nothing.
	if resp, body := e.do("PATCH", path, map[string]any{"topic": "After"}); resp.StatusCode != 204 {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do("DELETE", path, nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	waitWebhooks(t, e.fake)

	reqs := h.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3 (created, updated, deleted)", len(reqs))
	}
	ids := map[string]bool{}
	var evs []event
	for _, r := range reqs {
		evs = append(evs, checkSigned(t, r))
		ids[r.header.Get("x-zm-request-id")] = true
	}
	if len(ids) != 3 {
		t.Errorf("x-zm-request-id: got %d distinct, want 3", len(ids))
	}
	for i, want := range []string{"meeting.created", "meeting.updated", "meeting.deleted"} {
		ev := evs[i]
		if ev.Event != want {
			t.Errorf("event %d: got %q, want %q", i, ev.Event, want)
		}
		if ev.Payload["account_id"] != testAccount || ev.Payload["operator"] != "james@bond.com" || ev.Payload["operator_id"] != e.host.ID {
			t.Errorf("%s payload: got account_id %v operator %v operator_id %v, want %s, james@bond.com, %s",
				want, ev.Payload["account_id"], ev.Payload["operator"], ev.Payload["operator_id"], testAccount, e.host.ID)
		}
		obj, _ := ev.Payload["object"].(map[string]any)
		if num(t, obj["id"]) != num(t, m["id"]) || obj["uuid"] != m["uuid"] {
			t.Errorf("%s object: got id %v uuid %v, want the meeting's", want, obj["id"], obj["uuid"])
		}
	}

	created := evs[0].Payload["object"].(map[string]any)
	if created["topic"] != "Before" || created["join_url"] != m["join_url"] || created["host_id"] != e.host.ID {
		t.Errorf("meeting.created object: got %v, want the meeting", created)
	}
	if _, ok := created["start_url"]; ok {
		t.Errorf("meeting.created carries start_url")
	}

	upd := evs[1].Payload
	obj, old := upd["object"].(map[string]any), upd["old_object"].(map[string]any)
	if obj["topic"] != "After" || old["topic"] != "Before" {
		t.Errorf("meeting.updated topic: got %v, old %v; want After, old Before", obj["topic"], old["topic"])
	}
	if s, _ := obj["settings"].(map[string]any); len(s) != 1 || s["mute_upon_entry"] != true {
		t.Errorf("meeting.updated object.settings: got %v, want only mute_upon_entry true", obj["settings"])
	}
	if s, _ := old["settings"].(map[string]any); len(s) != 1 || s["mute_upon_entry"] != false {
		t.Errorf("meeting.updated old_object.settings: got %v, want only mute_upon_entry false", old["settings"])
	}
	if _, ok := obj["duration"]; ok {
		t.Errorf("meeting.updated object carries duration, which did not change: %v", obj)
	}
	if upd["scope"] != "all" || upd["time_stamp"] == nil {
		t.Errorf("meeting.updated: got scope %v time_stamp %v, want all and a time", upd["scope"], upd["time_stamp"])
	}
	if evs[2].Payload["operation"] != "all" {
		t.Errorf("meeting.deleted operation: got %v, want all", evs[2].Payload["operation"])
	}

	ds := e.fake.WebhookDeliveries()
	if len(ds) != 3 || !ds[0].Delivered || ds[0].Attempts != 1 || ds[0].RequestID != reqs[0].header.Get("x-zm-request-id") {
		t.Errorf("WebhookDeliveries: got %+v, want 3 delivered at the first attempt", ds)
	}
}

func TestWebhookOccurrenceDeleted(t *testing.T) {
	h := newHookEndpoint(t)
	e := newWebhookEnv(t, h, Options{})
	m := e.createMeeting("james@bond.com", map[string]any{"type": 8, "start_time": "2026-12-01T10:00:00Z",
		"recurrence": map[string]any{"type": 1, "end_times": 3}})
	occ := m["occurrences"].([]any)[1].(map[string]any)["occurrence_id"].(string)
	if resp, body := e.do("DELETE", meetingPath(t, m)+"?occurrence_id="+occ, nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	waitWebhooks(t, e.fake)
	reqs := h.requests()
	ev := checkSigned(t, reqs[len(reqs)-1])
	occs, _ := ev.Payload["object"].(map[string]any)["occurrences"].([]any)
	if ev.Event != "meeting.deleted" || ev.Payload["operation"] != "single" || len(occs) != 1 ||
		occs[0].(map[string]any)["occurrence_id"] != occ {
		t.Errorf("got %s %v, want meeting.deleted, operation single, the occurrence", ev.Event, ev.Payload)
	}
}

func TestWebhookUserEvents(t *testing.T) {
	h := newHookEndpoint(t)
	e := newWebhookEnv(t, h, Options{})
	steps := []struct {
		method, path string
		body         any
	}{
		{"POST", "/users", map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "q@mi6.gov.uk", "type": 1, "first_name": "Q"}}},
		{"PATCH", "/users/q@mi6.gov.uk", map[string]any{"last_name": "Boothroyd", "type": 2}},
		{"PUT", "/users/q@mi6.gov.uk/status", map[string]any{"action": "deactivate"}},
		{"DELETE", "/users/q@mi6.gov.uk?action=delete", nil},
		{"DELETE", "/users/james@bond.com", nil}, // disassociate by default
	}
	for _, st := range steps {
		if resp, body := e.do(st.method, st.path, st.body); resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", st.method, st.path, resp.StatusCode, body)
		}
	}
	waitWebhooks(t, e.fake)
	reqs := h.requests()
	want := []string{"user.created", "user.updated", "user.deactivated", "user.deleted", "user.disassociated"}
	if len(reqs) != len(want) {
		t.Fatalf("got %d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		ev := checkSigned(t, r)
		obj, _ := ev.Payload["object"].(map[string]any)
		if ev.Event != want[i] || obj["id"] == nil {
			t.Errorf("event %d: got %s %v, want %s with the user's id", i, ev.Event, obj, want[i])
		}
		switch ev.Event {
		case "user.created":
			if ev.Payload["creation_type"] != "custCreate" || obj["email"] != "q@mi6.gov.uk" || obj["first_name"] != "Q" {
				t.Errorf("user.created: got %v", ev.Payload)
			}
		case "user.updated":
			old, _ := ev.Payload["old_object"].(map[string]any)
			if obj["last_name"] != "Boothroyd" || num(t, obj["type"]) != 2 || old["last_name"] != "" || num(t, old["type"]) != 1 {
				t.Errorf("user.updated: got object %v old_object %v", obj, old)
			}
			if _, ok := obj["first_name"]; ok {
				t.Errorf("user.updated carries first_name, which did not change")
			}
		case "user.disassociated":
			if obj["email"] != "james@bond.com" {
				t.Errorf("user.disassociated: got %v", obj)
			}
		}
	}
	if s := e.fake.Stats(); s.UsersUpdated != 2 {
		t.Errorf("Stats.UsersUpdated: got %d, want 2", s.UsersUpdated)
	}
}

func TestWebhookRetries(t *testing.T) {
	t.Run("delivered at the third attempt", func(t *testing.T) {
		h := newHookEndpoint(t, 500, 503)
		e := newWebhookEnv(t, h, Options{})
		e.createMeeting("james@bond.com", map[string]any{})
		waitWebhooks(t, e.fake)
		reqs := h.requests()
		if len(reqs) != 3 {
			t.Fatalf("got %d attempts, want 3", len(reqs))
		}
		for _, r := range reqs[1:] {
			checkSigned(t, r)
			if r.header.Get("x-zm-request-id") != reqs[0].header.Get("x-zm-request-id") || string(r.body) != string(reqs[0].body) {
				t.Errorf("a retry differs from the first attempt in request id or body")
			}
		}
		if ds := e.fake.WebhookDeliveries(); len(ds) != 1 || !ds[0].Delivered || ds[0].Attempts != 3 || ds[0].GaveUp {
			t.Errorf("WebhookDeliveries: got %+v, want delivered after 3 attempts", ds)
		}
	})
	t.Run("given up after three retries", func(t *testing.T) {
		h := newHookEndpoint(t, 500, 500, 500, 500, 500)
		e := newWebhookEnv(t, h, Options{})
		e.createMeeting("james@bond.com", map[string]any{})
		waitWebhooks(t, e.fake)
		if n := len(h.requests()); n != 4 {
			t.Errorf("got %d attempts, want 4 (1 + 3 retries)", n)
		}
		if ds := e.fake.WebhookDeliveries(); len(ds) != 1 || ds[0].Delivered || !ds[0].GaveUp || ds[0].LastStatus != 500 {
			t.Errorf("WebhookDeliveries: got %+v, want given up with status 500", ds)
		}
	})
	t.Run("an answer too late is a failure", func(t *testing.T) {
		h := newHookEndpoint(t)
		h.delay = time.Second
		e := newWebhookEnv(t, h, Options{WebhookTimeout: 20 * time.Millisecond, WebhookRetryDelays: []time.Duration{}})
		e.createMeeting("james@bond.com", map[string]any{})
		waitWebhooks(t, e.fake)
		if ds := e.fake.WebhookDeliveries(); len(ds) != 1 || !ds[0].GaveUp || ds[0].LastError == "" {
			t.Errorf("WebhookDeliveries: got %+v, want given up after a timeout", ds)
		}
	})
	t.Run("Close drops pending retries", func(t *testing.T) {
		h := newHookEndpoint(t, 500)
		e := newWebhookEnv(t, h, Options{WebhookRetryDelays: []time.Duration{time.Hour}})
		e.createMeeting("james@bond.com", map[string]any{})
		deadline := time.Now().Add(30 * time.Second)
		for len(h.requests()) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		e.fake.Close() // returns although a retry was due in an hour
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		if err := e.fake.WaitWebhooks(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitWebhooks after Close with a retry dropped: got %v, want the deadline", err)
		}
	})
}

func TestWebhookOffByDefault(t *testing.T) {
	e := newTestEnv(t, Options{})
	e.createMeeting("james@bond.com", map[string]any{})
	if ds := e.fake.WebhookDeliveries(); len(ds) != 0 {
		t.Errorf("without a webhook: got %d deliveries, want 0", len(ds))
	}
	if id := e.fake.SendWebhookEvent("meeting.started", map[string]any{"id": 1}); id != "" {
		t.Errorf("SendWebhookEvent without a webhook: got %q, want \"\"", id)
	}
}

func TestSendWebhookEvent(t *testing.T) {
	h := newHookEndpoint(t)
	e := newWebhookEnv(t, h, Options{})
	id := e.fake.SendWebhookEvent("meeting.started", map[string]any{"id": 85746065432, "topic": "x"})
	waitWebhooks(t, e.fake)
	reqs := h.requests()
	if len(reqs) != 1 || reqs[0].header.Get("x-zm-request-id") != id {
		t.Fatalf("got %d requests, want 1 with request id %q", len(reqs), id)
	}
	ev := checkSigned(t, reqs[0])
	if ev.Event != "meeting.started" || ev.Payload["object"].(map[string]any)["topic"] != "x" {
		t.Errorf("got %s %v", ev.Event, ev.Payload)
	}
}

func TestValidateWebhookURL(t *testing.T) {
	good := func(body []byte) []byte {
		var ev struct {
			Payload struct{ PlainToken string } `json:"payload"`
		}
		_ = json.Unmarshal(body, &ev)
		b, _ := json.Marshal(map[string]string{"plainToken": ev.Payload.PlainToken,
			"encryptedToken": signature.EncryptedToken(testWebhookSecret, ev.Payload.PlainToken)})
		return b
	}
	h := newHookEndpoint(t)
	h.answer = good
	e := newWebhookEnv(t, h, Options{})
	if err := e.fake.ValidateWebhookURL(t.Context()); err != nil {
		t.Fatalf("a good endpoint: %v", err)
	}
	ev := checkSigned(t, h.requests()[0])
	if ev.Event != "endpoint.url_validation" || ev.Payload["plainToken"] == "" {
		t.Errorf("got %s %v, want endpoint.url_validation with a plainToken", ev.Event, ev.Payload)
	}
	// Through the simulator, as a person running dev would.
	resp, body := e.send(mustRequest(t, "POST", e.srv.URL+"/_sim/webhooks/validate"))
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("POST /_sim/webhooks/validate: got %d (%s), want 204", resp.StatusCode, body)
	}

	h.mu.Lock()
	h.answer = func([]byte) []byte { return []byte(`{"plainToken":"x","encryptedToken":"y"}`) }
	h.mu.Unlock()
	if err := e.fake.ValidateWebhookURL(t.Context()); err == nil {
		t.Errorf("a wrong answer: got nil, want an error")
	}
	resp, body = e.send(mustRequest(t, "POST", e.srv.URL+"/_sim/webhooks/validate"))
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("POST /_sim/webhooks/validate to a bad endpoint: got %d (%s), want 502", resp.StatusCode, body)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSignWebhook(t *testing.T) {
	// Zoom signs "v0:{timestamp}:{body}" with HMAC-SHA256 keyed by the secret
	// token; the want value is of `openssl dgst -sha256 -hmac whsec-1`.
	if got, want := SignWebhook(testWebhookSecret, 1700000000, []byte(`{"event":"x"}`)),
		"v0=c871ea1e5657faeb89de38e752940e8e302f6583fbebcc8f5d7be067dd48c24d"; got != want {
		t.Errorf("SignWebhook: got %q, want %q", got, want)
	}
}
