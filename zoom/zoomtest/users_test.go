package zoomtest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name string
		body any
		want zoomErr // zero for a 201
	}{
		{name: "custCreate",
			body: map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "m@mi6.gov.uk", "type": 1, "first_name": "M", "last_name": "Mansfield"}}},
		{name: "create without names",
			body: map[string]any{"action": "create", "user_info": map[string]any{"email": "q@mi6.gov.uk", "type": 2}}},
		{name: "type as a string",
			body: map[string]any{"action": "ssoCreate", "user_info": map[string]any{"email": "sso@mi6.gov.uk", "type": "1"}}},
		{name: "autoCreate with a good password",
			body: map[string]any{"action": "autoCreate", "user_info": map[string]any{"email": "a@mi6.gov.uk", "type": 1, "password": "if42!LfH@"}}},
		{name: "email already used (any case)", want: zoomErr{409, 1005, `Email "JAMES@bond.com" has already been used.`, nil},
			body: map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "JAMES@bond.com", "type": 1}}},
		{name: "no email", want: validation("user_info.email"),
			body: map[string]any{"action": "custCreate", "user_info": map[string]any{"type": 1}}},
		{name: "bad email", want: validation("user_info.email"),
			body: map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "not an email", "type": 1}}},
		{name: "email too long", want: validation("user_info.email"),
			body: map[string]any{"action": "custCreate", "user_info": map[string]any{"email": strings.Repeat("a", 120) + "@bond.com", "type": 1}}},
		{name: "no type", want: validation("user_info.type"),
			body: map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "x@bond.com"}}},
		{name: "unknown type", want: validation("user_info.type"),
			body: map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "x@bond.com", "type": 7}}},
		{name: "type 99 without ssoCreate", want: validation("user_info.type"),
			body: map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "x@bond.com", "type": 99}}},
		{name: "no action, bad email and type", want: validation("action", "user_info.email", "user_info.type"),
			body: map[string]any{"user_info": map[string]any{"email": "nope", "type": "x"}}},
		{name: "first name too long", want: validation("user_info.first_name"),
			body: map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "x@bond.com", "type": 1, "first_name": strings.Repeat("é", 65)}}},
		{name: "no user_info", want: validation("user_info"),
			body: map[string]any{"action": "custCreate"}},
		{name: "autoCreate with a weak password", want: zoomErr{400, 300, "Invalid parameter: password", nil},
			body: map[string]any{"action": "autoCreate", "user_info": map[string]any{"email": "x@bond.com", "type": 1, "password": "password"}}},
		{name: "autoCreate with a short password", want: zoomErr{400, 300, "Invalid parameter: password", nil},
			body: map[string]any{"action": "autoCreate", "user_info": map[string]any{"email": "x@bond.com", "type": 1, "password": "aB1"}}},
		{name: "autoCreate without a password", want: zoomErr{400, 300, "Invalid parameter: password", nil},
			body: map[string]any{"action": "autoCreate", "user_info": map[string]any{"email": "x@bond.com", "type": 1}}},
		{name: "malformed JSON", want: badJSON, body: `{"action": "custCreate",`},
		{name: "a JSON array", want: badJSON, body: `[1, 2]`},
		{name: "trailing data", want: badJSON, body: `{"action": "custCreate"} {}`},
		{name: "empty body", want: badJSON, body: ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, Options{})
			resp, body := e.do("POST", "/users", tt.body)
			if tt.want.status != 0 {
				tt.want.check(t, resp, body)
				if n := len(e.fake.Users()); n != 1 {
					t.Errorf("users: got %d, want the 1 seeded", n)
				}
				return
			}
			if resp.StatusCode != 201 {
				t.Fatalf("status: got %d, want 201 (%s)", resp.StatusCode, body)
			}
			got := decode(t, body)
			info := tt.body.(map[string]any)["user_info"].(map[string]any)
			if got["email"] != info["email"] || got["first_name"] != info["first_name"] || got["last_name"] != info["last_name"] {
				t.Errorf("answer %v does not echo %v", got, info)
			}
			if id, _ := got["id"].(string); len(id) != 22 {
				t.Errorf("id: got %q, want 22 characters", got["id"])
			}
			if want := num(t, info["type"]); num(t, got["type"]) != want {
				t.Errorf("type: got %v, want %v", got["type"], want)
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range got {
					if !yield(k) {
						return
					}
				}
			})
			for _, k := range keys {
				if !slices.Contains([]string{"id", "email", "first_name", "last_name", "type"}, k) {
					t.Errorf("answer has %q; Zoom answers only id, first_name, last_name, email, type", k)
				}
			}
			if s := e.fake.Stats().UsersCreated; s != 1 {
				t.Errorf("Stats.UsersCreated: got %d, want 1", s)
			}
			if n := len(e.fake.Users()); n != 2 {
				t.Errorf("users: got %d, want 2", n)
			}
		})
	}
}

func TestGetUser(t *testing.T) {
	e := newTestEnv(t, Options{})
	second := e.fake.AddUser("m@mi6.gov.uk", "", "", 2)
	_, b := e.do("POST", "/users", map[string]any{"action": "create", "user_info": map[string]any{"email": "pending@bond.com", "type": 1}})
	pendingID := decode(t, b)["id"].(string)

	tests := []struct {
		name       string
		ref        string
		wantID     string
		wantStatus string
	}{
		{name: "by id", ref: e.host.ID, wantID: e.host.ID, wantStatus: "active"},
		{name: "by email", ref: "james@bond.com", wantID: e.host.ID, wantStatus: "active"},
		{name: "by email in another case", ref: "James@Bond.COM", wantID: e.host.ID, wantStatus: "active"},
		{name: "me is the first user", ref: "me", wantID: e.host.ID, wantStatus: "active"},
		{name: "another user", ref: second.ID, wantID: second.ID, wantStatus: "active"},
		{name: "invited with create is pending", ref: pendingID, wantID: pendingID, wantStatus: "pending"},
		{name: "unknown email", ref: "nobody@example.com"},
		{name: "unknown id", ref: "zzzzzzzzzzzzzzzzzzzzzz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do("GET", "/users/"+url.PathEscape(tt.ref), nil)
			if tt.wantID == "" {
				wantZoomError(t, resp, body, 404, 1001, "User does not exist: "+tt.ref+".")
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status: got %d, want 200 (%s)", resp.StatusCode, body)
			}
			got := decode(t, body)
			if got["id"] != tt.wantID || got["status"] != tt.wantStatus {
				t.Errorf("got id %v status %v, want %s %s", got["id"], got["status"], tt.wantID, tt.wantStatus)
			}
			for _, k := range []string{"email", "type", "created_at", "pmi", "timezone"} {
				if _, ok := got[k]; !ok {
					t.Errorf("user has no %q: %s", k, body)
				}
			}
		})
	}
}

func TestAddUser(t *testing.T) {
	fake := New(Options{})
	a := fake.AddUser("a@x.com", "A", "Z", 1)
	again := fake.AddUser("A@X.com", "Other", "Name", 2)
	if again != a {
		t.Errorf("AddUser of a known email: got %+v, want the existing %+v", again, a)
	}
	b := fake.AddUser("b@x.com", "B", "Y", 2)
	if got, want := fake.Users(), []User{a, b}; !slices.Equal(got, want) {
		t.Errorf("Users: got %+v, want %+v", got, want)
	}
	if s := fake.Stats(); s.UsersCreated != 0 {
		t.Errorf("Stats.UsersCreated: got %d, want 0 (AddUser seeds)", s.UsersCreated)
	}
}

func TestDeleteUser(t *testing.T) {
	t.Run("delete, then it is gone", func(t *testing.T) {
		e := newTestEnv(t, Options{})
		m := e.createMeeting("james@bond.com", map[string]any{"topic": "x"})
		resp, body := e.do("DELETE", "/users/james@bond.com?action=delete", nil)
		if resp.StatusCode != 204 || len(body) != 0 {
			t.Fatalf("got %d %q, want 204 and no body", resp.StatusCode, body)
		}
		resp, body = e.do("GET", "/users/"+e.host.ID, nil)
		wantZoomError(t, resp, body, 404, 1001, "User does not exist: "+e.host.ID+".")
		resp, body = e.do("DELETE", "/users/"+e.host.ID, nil)
		wantZoomError(t, resp, body, 404, 1001, "")
		resp, body = e.do("GET", meetingPath(t, m), nil)
		wantZoomError(t, resp, body, 404, 3001, "")
		if s := e.fake.Stats(); s.UsersDeleted != 1 || s.MeetingsDeleted != 0 {
			t.Errorf("Stats: got UsersDeleted %d MeetingsDeleted %d, want 1 and 0", s.UsersDeleted, s.MeetingsDeleted)
		}
		// The email can be used again.
		resp, body = e.do("POST", "/users", map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "james@bond.com", "type": 1}})
		if resp.StatusCode != 201 {
			t.Errorf("re-create: got %d (%s), want 201", resp.StatusCode, body)
		}
	})

	t.Run("transfer meetings", func(t *testing.T) {
		e := newTestEnv(t, Options{})
		to := e.fake.AddUser("m@mi6.gov.uk", "M", "", 1)
		e.createMeeting("james@bond.com", map[string]any{"topic": "x"})
		resp, body := e.do("DELETE", "/users/james@bond.com?action=disassociate&transfer_email=m@mi6.gov.uk&transfer_meeting=true", nil)
		if resp.StatusCode != 204 {
			t.Fatalf("got %d (%s), want 204", resp.StatusCode, body)
		}
		ms := e.fake.MeetingsForHost(to.Email)
		if len(ms) != 1 || ms[0].HostID != to.ID || ms[0].HostEmail != to.Email {
			t.Errorf("meetings of the new host: got %+v, want the transferred one", ms)
		}
	})

	e := newTestEnv(t, Options{})
	const path = "/users/james@bond.com"
	e.refuses(t, "DELETE", path, []refusal{
		{name: "bad action", path: "?action=destroy", want: validation("action")},
		{name: "bad transfer_meeting", path: "?transfer_meeting=maybe", want: validation("transfer_meeting")},
		{name: "transfer to self", path: "?transfer_email=JAMES@bond.com", want: zoomErr{400, 300,
			"The transfer-to email address cannot be the same as the unlinked or deleted user's email address.", nil}},
		{name: "transfer to nobody", path: "?transfer_email=nobody@bond.com", want: zoomErr{404, 1001,
			"User does not exist: nobody@bond.com.", nil}},
	})
	if len(e.fake.Users()) != 1 {
		t.Errorf("the user was deleted")
	}
}

func TestHoldUserCreates(t *testing.T) {
	e := newTestEnv(t, Options{})
	h := e.fake.HoldUserCreates()
	t.Cleanup(h.Release)
	done := e.doAsync("POST", "/users",
		map[string]any{"action": "custCreate", "user_info": map[string]any{"email": "held@bond.com", "type": 1}})
	<-h.Arrived()
	if n := len(e.fake.Users()); n != 2 {
		t.Errorf("users while held: got %d, want 2 (the create is done before the hold)", n)
	}
	select {
	case code := <-done:
		t.Fatalf("answered while held: %d", code)
	default:
	}
	h.Release()
	if code := <-done; code != http.StatusCreated {
		t.Errorf("after Release: got %d, want 201", code)
	}
}
