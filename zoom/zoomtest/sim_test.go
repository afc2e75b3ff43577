package zoomtest

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestSimEndpoints(t *testing.T) {
	h := newHookEndpoint(t)
	e := newWebhookEnv(t, h, Options{DailyMeetingLimit: 1})
	m := e.createMeeting("james@bond.com", map[string]any{"topic": "Before"})
	path := meetingPath(t, m)

	// No token, and the host's daily limit (1, used up) does not apply.
	req, _ := http.NewRequest("PATCH", e.srv.URL+"/_sim"+path, strings.NewReader(`{"topic": "Renamed in the portal"}`))
	if resp, body := e.send(req); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH /_sim%s: got %d (%s), want 204", path, resp.StatusCode, body)
	}
	if got, _ := e.fake.Meeting(num(t, m["id"])); got.Topic != "Renamed in the portal" {
		t.Errorf("topic: got %q, want the portal's", got.Topic)
	}
	req, _ = http.NewRequest("DELETE", e.srv.URL+"/_sim"+path, nil)
	if resp, body := e.send(req); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /_sim%s: got %d (%s), want 204", path, resp.StatusCode, body)
	}
	if _, ok := e.fake.Meeting(num(t, m["id"])); ok {
		t.Errorf("the meeting is still there")
	}
	req, _ = http.NewRequest("DELETE", e.srv.URL+"/_sim"+path, nil)
	resp, body := e.send(req)
	wantZoomError(t, resp, body, 404, codeMeetingMissing, "")

	waitWebhooks(t, e.fake)
	reqs := h.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d webhooks, want 3", len(reqs))
	}
	for i, want := range []string{"meeting.created", "meeting.updated", "meeting.deleted"} {
		if ev := checkSigned(t, reqs[i]); ev.Event != want || ev.Payload["operator_id"] != e.host.ID {
			t.Errorf("webhook %d: got %s by %v, want %s by the host", i, ev.Event, ev.Payload["operator_id"], want)
		}
	}
	if s := e.fake.Stats(); s.MeetingsUpdated != 0 || s.MeetingsDeleted != 0 || s.Requests != 1 {
		t.Errorf("Stats: got %+v, want only the API's create counted", s)
	}
}

func TestSimMethods(t *testing.T) {
	h := newHookEndpoint(t)
	e := newWebhookEnv(t, h, Options{})
	m, err := e.fake.SimCreateMeeting("james@bond.com", map[string]any{"topic": "Portal", "type": 8,
		"start_time": "2026-12-01T10:00:00Z", "recurrence": map[string]any{"type": 1, "end_times": 2}})
	if err != nil || m.ID == 0 || m.Topic != "Portal" {
		t.Fatalf("SimCreateMeeting: got %+v, %v", m, err)
	}
	if err := e.fake.SimUpdateMeeting(m.ID, "", map[string]any{"agenda": "new"}); err != nil {
		t.Fatalf("SimUpdateMeeting: %v", err)
	}
	got, _ := e.fake.Meeting(m.ID)
	occ := decode(t, got.Raw)["occurrences"].([]any)[0].(map[string]any)["occurrence_id"].(string)
	if err := e.fake.SimUpdateMeeting(m.ID, occ, map[string]any{"duration": 90}); err != nil {
		t.Fatalf("SimUpdateMeeting of an occurrence: %v", err)
	}
	if err := e.fake.SimDeleteMeeting(m.ID, ""); err != nil {
		t.Fatalf("SimDeleteMeeting: %v", err)
	}
	var se *SimError
	if err := e.fake.SimDeleteMeeting(m.ID, ""); !errors.As(err, &se) || se.Status != 404 || se.Code != codeMeetingMissing {
		t.Errorf("SimDeleteMeeting again: got %v, want a *SimError 404 code 3001", err)
	}
	if err := e.fake.SimUpdateUser("james@bond.com", map[string]any{"first_name": "Jim"}); err != nil {
		t.Fatalf("SimUpdateUser: %v", err)
	}
	if err := e.fake.SimSetUserStatus("james@bond.com", "deactivate"); err != nil {
		t.Fatalf("SimSetUserStatus: %v", err)
	}
	if err := e.fake.SimSetUserStatus("james@bond.com", "pause"); !errors.As(err, &se) || se.Status != 400 {
		t.Errorf("SimSetUserStatus with a bad action: got %v, want a 400", err)
	}
	if err := e.fake.SimDeleteUser("james@bond.com", "delete"); err != nil {
		t.Fatalf("SimDeleteUser: %v", err)
	}
	if err := e.fake.SimDeleteUser("james@bond.com", "delete"); !errors.As(err, &se) || se.Status != 404 || se.Code != codeUserNotFound {
		t.Errorf("SimDeleteUser again: got %v, want a *SimError 404 code 1001", err)
	}

	waitWebhooks(t, e.fake)
	var events []string
	var scopes []any
	for _, r := range h.requests() {
		ev := checkSigned(t, r)
		events = append(events, ev.Event)
		if ev.Event == "meeting.updated" {
			scopes = append(scopes, ev.Payload["scope"])
		}
	}
	want := "meeting.created meeting.updated meeting.updated meeting.deleted user.updated user.deactivated user.deleted"
	if got := strings.Join(events, " "); got != want {
		t.Errorf("events: got %s, want %s", got, want)
	}
	if len(scopes) != 2 || scopes[0] != "all" || scopes[1] != "single" {
		t.Errorf("meeting.updated scopes: got %v, want all, single", scopes)
	}
}

func TestTrackingID(t *testing.T) {
	e := newTestEnv(t, Options{})
	seen := map[string]bool{}
	check := func(what string, resp *http.Response) {
		t.Helper()
		id := resp.Header.Get("x-zm-trackingid")
		if id == "" || seen[id] {
			t.Errorf("%s: x-zm-trackingid %q, want a new one", what, id)
		}
		seen[id] = true
	}
	resp, _ := e.do("GET", "/users/me", nil)
	check("GET", resp)
	resp, _ = e.do("GET", "/users/me", nil)
	check("GET again", resp)
	resp, _ = e.do("GET", "/users/nobody@bond.com", nil)
	check("404", resp)
	resp, _ = e.doCtx(t.Context(), "", "GET", "/users/me", nil)
	check("401", resp)
	e.fake.FailNext(1, 503)
	resp, _ = e.do("GET", "/users/me", nil)
	check("injected 503", resp)
	status, _, _ := e.postToken(e.srv.URL)
	if status != 200 {
		t.Fatalf("token: %d", status)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", nil)
	resp, _ = e.send(req)
	check("token endpoint", resp)
}
