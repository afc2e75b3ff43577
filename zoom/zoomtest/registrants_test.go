package zoomtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// registrationMeeting creates a meeting that takes registrants
// (approval_type as given) and returns it and its registrants path.
func (e *testEnv) registrationMeeting(approvalType int, extra map[string]any) (map[string]any, string) {
	e.t.Helper()
	body := map[string]any{"topic": "Briefing", "type": 2, "start_time": "2026-12-05T12:00:00Z",
		"settings": map[string]any{"approval_type": approvalType}}
	for k, v := range extra {
		body[k] = v
	}
	m := e.createMeeting("james@bond.com", body)
	return m, meetingPath(e.t, m) + "/registrants"
}

func TestAddRegistrant(t *testing.T) {
	e := newTestEnv(t, Options{})
	m, path := e.registrationMeeting(0, nil)
	resp, body := e.do("POST", path, map[string]any{"email": "moneypenny@mi6.gov.uk", "first_name": "Eve", "last_name": "Moneypenny", "city": "London"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("got %d %s, want 201", resp.StatusCode, body)
	}
	a := decode(t, body)
	id := num(t, m["id"])
	joinURL, _ := a["join_url"].(string)
	if num(t, a["id"]) != id || a["registrant_id"] == "" || a["topic"] != "Briefing" || a["start_time"] != "2026-12-05T12:00:00Z" ||
		!strings.HasPrefix(joinURL, fmt.Sprintf("https://zoom.us/w/%d?tk=", id)) || a["participant_pin_code"] == nil {
		t.Errorf("answer: got %s, want the meeting's id, topic and start, a registrant id, pin and own join_url", body)
	}
	if joinURL == m["join_url"] {
		t.Errorf("join_url is the meeting's, want the registrant's own")
	}

	// The same email again (in other case) is the same registrant.
	resp, body = e.do("POST", path, map[string]any{"email": "MoneyPenny@mi6.gov.uk", "first_name": "E."})
	if again := decode(t, body); resp.StatusCode != http.StatusCreated || again["registrant_id"] != a["registrant_id"] || again["join_url"] != joinURL {
		t.Errorf("again: got %d %s, want 201 with the same registrant", resp.StatusCode, body)
	}
	resp, body = e.do("POST", path, map[string]any{"email": "q@mi6.gov.uk", "first_name": "Q"})
	if other := decode(t, body); resp.StatusCode != http.StatusCreated || other["join_url"] == joinURL {
		t.Errorf("another registrant: got %d %s, want 201 with a join_url of its own", resp.StatusCode, body)
	}
	regs := e.fake.Registrants(id)
	if len(regs) != 2 || regs[0].Email != "moneypenny@mi6.gov.uk" || regs[0].FirstName != "Eve" || regs[0].Status != "approved" || regs[0].JoinURL != joinURL {
		t.Errorf("Registrants: got %+v", regs)
	}
	if s := e.fake.Stats(); s.RegistrantsAdded != 2 {
		t.Errorf("Stats.RegistrantsAdded: got %d, want 2", s.RegistrantsAdded)
	}

	resp, body = e.do("POST", path, map[string]any{"email": "james@bond.com", "first_name": "James"})
	wantZoomError(t, resp, body, 400, 3027, "Host can not register")
	resp, body = e.do("POST", "/meetings/12345678901/registrants", map[string]any{"email": "a@b.co", "first_name": "A"})
	wantZoomError(t, resp, body, 404, 3001, "Meeting does not exist: 12345678901.")
}

func TestAddRegistrantValidation(t *testing.T) {
	e := newTestEnv(t, Options{})
	_, path := e.registrationMeeting(0, nil)
	e.refuses(t, "POST", path, []refusal{
		{name: "no email", body: map[string]any{"first_name": "A"}, want: validation("email")},
		{name: "no first_name", body: map[string]any{"email": "a@b.co"}, want: validation("first_name")},
		{name: "nothing", body: map[string]any{}, want: validation("email", "first_name")},
		{name: "bad email", body: map[string]any{"email": "not an email", "first_name": "A"}, want: validation("email")},
		{name: "long first_name", body: map[string]any{"email": "a@b.co", "first_name": strings.Repeat("a", 65)}, want: validation("first_name")},
		{name: "long last_name", body: map[string]any{"email": "a@b.co", "first_name": "A", "last_name": strings.Repeat("a", 65)}, want: validation("last_name")},
		{name: "bad enum", body: map[string]any{"email": "a@b.co", "first_name": "A", "no_of_employees": "lots"}, want: validation("no_of_employees")},
		{name: "bad language", body: map[string]any{"email": "a@b.co", "first_name": "A", "language": "xx"}, want: validation("language")},
		{name: "number for a string", body: map[string]any{"email": "a@b.co", "first_name": "A", "city": 7}, want: validation("city")},
		{name: "bad custom_questions", body: map[string]any{"email": "a@b.co", "first_name": "A", "custom_questions": "x"}, want: validation("custom_questions")},
		{name: "not JSON", body: "{", want: badJSON},
	})
	if n := e.fake.Stats().RegistrantsAdded; n != 0 {
		t.Errorf("RegistrantsAdded: got %d, want 0", n)
	}
}

func TestRegistrationOnlyWhereZoomHasIt(t *testing.T) {
	e := newTestEnv(t, Options{})
	tests := []struct {
		name    string
		meeting map[string]any
		wantOn  bool
	}{
		{name: "scheduled, automatic approval", meeting: map[string]any{"type": 2, "settings": map[string]any{"approval_type": 0}}, wantOn: true},
		{name: "scheduled, manual approval", meeting: map[string]any{"type": 2, "settings": map[string]any{"approval_type": 1}}, wantOn: true},
		{name: "scheduled, no registration", meeting: map[string]any{"type": 2, "settings": map[string]any{"approval_type": 2}}},
		{name: "scheduled, default settings", meeting: map[string]any{"type": 2}},
		{name: "instant", meeting: map[string]any{"type": 1, "settings": map[string]any{"approval_type": 0}}},
		{name: "recurring, no fixed time", meeting: map[string]any{"type": 3, "settings": map[string]any{"approval_type": 0}}},
		{name: "recurring, fixed time", meeting: map[string]any{"type": 8, "recurrence": map[string]any{"type": 1, "end_times": 2},
			"settings": map[string]any{"approval_type": 0}}, wantOn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := e.createMeeting("james@bond.com", tt.meeting)
			resp, body := e.do("POST", meetingPath(t, m)+"/registrants", map[string]any{"email": "a@b.co", "first_name": "A"})
			if tt.wantOn {
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("got %d %s, want 201", resp.StatusCode, body)
				}
				return
			}
			wantZoomError(t, resp, body, 404, 404, fmt.Sprintf("Registration has not been enabled for this meeting: %d.", num(t, m["id"])))
			resp, body = e.do("GET", meetingPath(t, m)+"/registrants", nil)
			wantZoomError(t, resp, body, 404, 404, "")
		})
	}
	t.Run("type 3 keeps approval_type 2", func(t *testing.T) {
		m := e.createMeeting("james@bond.com", map[string]any{"type": 3, "settings": map[string]any{"approval_type": 0}})
		if at := num(t, m["settings"].(map[string]any)["approval_type"]); at != 2 {
			t.Errorf("approval_type: got %d, want 2", at)
		}
	})
}

func TestRegistrantOccurrences(t *testing.T) {
	e := newTestEnv(t, Options{})
	m, path := e.registrationMeeting(0, map[string]any{"type": 8, "recurrence": map[string]any{"type": 1, "end_times": 3}})
	occs := m["occurrences"].([]any)
	second := occs[1].(map[string]any)["occurrence_id"].(string)
	resp, body := e.do("POST", path+"?occurrence_ids="+second, map[string]any{"email": "a@b.co", "first_name": "A"})
	got, _ := decode(t, body)["occurrences"].([]any)
	if resp.StatusCode != 201 || len(got) != 1 || got[0].(map[string]any)["occurrence_id"] != second {
		t.Errorf("one occurrence: got %d %s, want 201 with that occurrence", resp.StatusCode, body)
	}
	resp, body = e.do("POST", path, map[string]any{"email": "b@b.co", "first_name": "B"})
	if got, _ := decode(t, body)["occurrences"].([]any); resp.StatusCode != 201 || len(got) != 3 {
		t.Errorf("all occurrences: got %d %s, want 201 with 3", resp.StatusCode, body)
	}
	resp, body = e.do("POST", path+"?occurrence_ids=123", map[string]any{"email": "c@b.co", "first_name": "C"})
	wantZoomError(t, resp, body, 400, 300, "Invalid parameter: occurrence_ids.")

	first := occs[0].(map[string]any)["occurrence_id"].(string)
	resp, body = e.do("GET", path+"?occurrence_id="+first, nil)
	if list := decode(t, body); resp.StatusCode != 200 || num(t, list["total_records"]) != 1 {
		t.Errorf("registrants of the first occurrence: got %s, want only b@b.co", body)
	}
}

func TestRegistrantDailyLimit(t *testing.T) {
	clock := NewClock(time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC))
	e := newTestEnv(t, Options{Now: clock.Now})
	_, path := e.registrationMeeting(0, nil)
	reg := map[string]any{"email": "a@b.co", "first_name": "A"}
	for i := range 3 {
		if resp, body := e.do("POST", path, reg); resp.StatusCode != 201 {
			t.Fatalf("add %d: got %d %s, want 201", i+1, resp.StatusCode, body)
		}
	}
	resp, body := e.do("POST", path, reg)
	wantZoomError(t, resp, body, 429, 429, "You have exceeded the daily rate limit of (3) for Add meeting registrant API requests "+
		"for the registrant (a@b.co). You can resume these API requests at GMT 00:00:00.")
	if h := resp.Header; h.Get("X-RateLimit-Type") != "Daily-limit" || h.Get("X-RateLimit-Category") != "Light" {
		t.Errorf("headers: got %v, want Daily-limit and Light", h)
	}
	if resp, _ := e.do("POST", path, map[string]any{"email": "other@b.co", "first_name": "O"}); resp.StatusCode != 201 {
		t.Errorf("another registrant: got %d, want 201", resp.StatusCode)
	}
	_, path2 := e.registrationMeeting(0, nil)
	if resp, _ := e.do("POST", path2, reg); resp.StatusCode != 201 {
		t.Errorf("the same registrant, another meeting: got %d, want 201", resp.StatusCode)
	}
	clock.Add(30 * time.Minute) // 00:00 UTC
	if resp, body := e.do("POST", path, reg); resp.StatusCode != 201 {
		t.Errorf("a new day: got %d %s, want 201", resp.StatusCode, body)
	}
}

func TestManualApproval(t *testing.T) {
	e := newTestEnv(t, Options{})
	m, path := e.registrationMeeting(1, nil)
	resp, body := e.do("POST", path, map[string]any{"email": "a@b.co", "first_name": "A"})
	if a := decode(t, body); resp.StatusCode != 201 || a["join_url"] != nil {
		t.Errorf("manual approval: got %d %s, want 201 without join_url", resp.StatusCode, body)
	}
	if resp, body := e.do("POST", path, map[string]any{"email": "b@b.co", "first_name": "B", "auto_approve": true}); resp.StatusCode != 201 ||
		decode(t, body)["join_url"] == nil {
		t.Errorf("auto_approve: got %d %s, want 201 with join_url", resp.StatusCode, body)
	}
	for status, want := range map[string]string{"": "b@b.co", "approved": "b@b.co", "pending": "a@b.co", "denied": ""} {
		_, body := e.do("GET", path+"?status="+status, nil)
		var emails []string
		for _, r := range decode(t, body)["registrants"].([]any) {
			emails = append(emails, r.(map[string]any)["email"].(string))
		}
		if strings.Join(emails, ",") != want {
			t.Errorf("status %q: got %v, want %q", status, emails, want)
		}
	}
	if regs := e.fake.Registrants(num(t, m["id"])); len(regs) != 2 || regs[0].Status != "pending" || regs[1].Status != "approved" {
		t.Errorf("Registrants: got %+v", regs)
	}
}

func TestListRegistrants(t *testing.T) {
	e := newTestEnv(t, Options{})
	_, path := e.registrationMeeting(0, nil)
	for i := range 5 {
		if resp, body := e.do("POST", path, map[string]any{"email": fmt.Sprintf("r%d@b.co", i), "first_name": "R", "org": "MI6"}); resp.StatusCode != 201 {
			t.Fatalf("add: %d %s", resp.StatusCode, body)
		}
	}
	var emails []string
	tok := ""
	for page := 1; ; page++ {
		q := url.Values{"page_size": {"2"}}
		if tok != "" {
			q.Set("next_page_token", tok)
		}
		resp, body := e.do("GET", path+"?"+q.Encode(), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("page %d: %d %s", page, resp.StatusCode, body)
		}
		p := decode(t, body)
		if num(t, p["total_records"]) != 5 || num(t, p["page_count"]) != 3 || num(t, p["page_size"]) != 2 {
			t.Errorf("page %d: got %s, want 5 records in 3 pages of 2", page, body)
		}
		for _, r := range p["registrants"].([]any) {
			rm := r.(map[string]any)
			emails = append(emails, rm["email"].(string))
			if rm["id"] == "" || rm["status"] != "approved" || rm["org"] != "MI6" || rm["create_time"] == nil ||
				!strings.HasPrefix(rm["join_url"].(string), "https://zoom.us/w/") {
				t.Errorf("registrant: got %v", rm)
			}
		}
		if tok, _ = p["next_page_token"].(string); tok == "" {
			break
		}
	}
	if strings.Join(emails, " ") != "r0@b.co r1@b.co r2@b.co r3@b.co r4@b.co" {
		t.Errorf("listed: got %v, want the 5 in the order they registered", emails)
	}
	resp, body := e.do("GET", path+"?status=maybe", nil)
	wantZoomError(t, resp, body, 400, 300, msgValidation)
	resp, body = e.do("GET", path+"?next_page_token=nope", nil)
	wantZoomError(t, resp, body, 400, 300, "Invalid parameter: next_page_token.")
	resp, body = e.do("GET", "/meetings/12345678901/registrants", nil)
	wantZoomError(t, resp, body, 404, 3001, "")
}
