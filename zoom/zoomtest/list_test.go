package zoomtest

import (
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// listPage gets one page and returns its body.
func (e *testEnv) listPage(host string, query url.Values) map[string]any {
	e.t.Helper()
	resp, body := e.do("GET", "/users/"+url.PathEscape(host)+"/meetings?"+query.Encode(), nil)
	if resp.StatusCode != 200 {
		e.t.Fatalf("list: got %d %s, want 200", resp.StatusCode, body)
	}
	return decode(e.t, body)
}

func pageIDs(t *testing.T, page map[string]any) []int64 {
	t.Helper()
	var ids []int64
	for _, m := range page["meetings"].([]any) {
		ids = append(ids, num(t, m.(map[string]any)["id"]))
	}
	return ids
}

func TestListMeetingsPaging(t *testing.T) {
	clock := NewClock(testNow)
	e := newTestEnv(t, Options{Now: clock.Now})
	other := e.fake.AddUser("m@mi6.gov.uk", "M", "", 1)
	var want []int64
	for i := range 7 {
		m := e.createMeeting("james@bond.com", map[string]any{"topic": "t", "start_time": "2026-12-05T12:00:00Z", "agenda": "a", "password": "pw"})
		want = append(want, num(t, m["id"]))
		if i == 3 {
			e.createMeeting(other.Email, map[string]any{"topic": "not james's"})
			e.createMeeting("james@bond.com", map[string]any{"type": 1}) // instant: never listed
		}
	}

	var got []int64
	q := url.Values{"page_size": {"3"}}
	var pages int
	for {
		page := e.listPage("james@bond.com", q)
		pages++
		if num(t, page["total_records"]) != 7 || num(t, page["page_size"]) != 3 || num(t, page["page_number"]) != int64(pages) {
			t.Errorf("page %d: total_records %v page_size %v page_number %v, want 7, 3, %d",
				pages, page["total_records"], page["page_size"], page["page_number"], pages)
		}
		for _, item := range page["meetings"].([]any) {
			item := item.(map[string]any)
			for _, k := range []string{"password", "start_url", "encrypted_password", "settings"} {
				if _, ok := item[k]; ok {
					t.Errorf("a listed meeting has %q", k)
				}
			}
			for _, k := range []string{"uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone", "created_at", "join_url", "agenda"} {
				if _, ok := item[k]; !ok {
					t.Errorf("a listed meeting has no %q: %v", k, item)
				}
			}
		}
		got = append(got, pageIDs(t, page)...)
		tok, _ := page["next_page_token"].(string)
		if tok == "" {
			break
		}
		q.Set("next_page_token", tok)
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("listing: got %v in %d pages, want %v in 3", got, pages, want)
	}
	var stored []int64
	for _, m := range e.fake.MeetingsForHost("james@bond.com") {
		if m.Type != 1 {
			stored = append(stored, m.ID)
		}
	}
	if !slices.Equal(stored, want) {
		t.Errorf("MeetingsForHost: got %v, want %v", stored, want)
	}

	t.Run("default and largest page size", func(t *testing.T) {
		page := e.listPage("james@bond.com", nil)
		if num(t, page["page_size"]) != 30 || len(pageIDs(t, page)) != 7 || page["next_page_token"] != "" {
			t.Errorf("default: got %v", page)
		}
		page = e.listPage("james@bond.com", url.Values{"page_size": {"1000"}})
		if num(t, page["page_size"]) != 300 {
			t.Errorf("page_size 1000: got page_size %v, want 300", page["page_size"])
		}
	})

	t.Run("the first page fixes the listing", func(t *testing.T) {
		first := e.listPage("me", url.Values{"page_size": {"2"}})
		tok := first["next_page_token"].(string)
		e.createMeeting("james@bond.com", map[string]any{"topic": "new"})
		if resp, body := e.do("DELETE", "/meetings/"+itoa(want[2]), nil); resp.StatusCode != 204 {
			t.Fatalf("delete: %d %s", resp.StatusCode, body)
		}
		var rest []int64
		q := url.Values{"page_size": {"2"}, "next_page_token": {tok}}
		for {
			page := e.listPage("me", q)
			rest = append(rest, pageIDs(t, page)...)
			if page["next_page_token"] == "" {
				break
			}
			q.Set("next_page_token", page["next_page_token"].(string))
		}
		wantRest := want[3:]
		if !slices.Equal(rest, wantRest) {
			t.Errorf("the rest: got %v, want %v (no new meeting, not the deleted one)", rest, wantRest)
		}
		// A token can be used again while it is good.
		again := e.listPage("me", url.Values{"page_size": {"2"}, "next_page_token": {tok}})
		if len(pageIDs(t, again)) != 2 {
			t.Errorf("reusing a token: got %v", again)
		}
	})

	e.refuses(t, "GET", "/users/me/meetings", []refusal{
		{name: "unknown token", path: "?next_page_token=nope", want: invalidParam("next_page_token")},
		{name: "unknown type", path: "?type=future", want: validation("type")},
		{name: "page_size not a number", path: "?page_size=many", want: validation("page_size")},
		{name: "unknown user", path: "/users/nobody@example.com/meetings",
			want: zoomErr{404, 1001, "User does not exist: nobody@example.com.", nil}},
	})

	t.Run("a token of another host or type", func(t *testing.T) {
		tok := e.listPage("me", url.Values{"page_size": {"1"}})["next_page_token"].(string)
		resp, body := e.do("GET", "/users/m@mi6.gov.uk/meetings?next_page_token="+tok, nil)
		wantZoomError(t, resp, body, 400, 300, "Invalid parameter: next_page_token.")
		resp, body = e.do("GET", "/users/me/meetings?type=upcoming&next_page_token="+tok, nil)
		wantZoomError(t, resp, body, 400, 300, "Invalid parameter: next_page_token.")
	})

	t.Run("tokens expire after 15 minutes", func(t *testing.T) {
		tok := e.listPage("me", url.Values{"page_size": {"1"}})["next_page_token"].(string)
		clock.Add(16 * time.Minute)
		resp, body := e.do("GET", "/users/me/meetings?page_size=1&next_page_token="+tok, nil)
		wantZoomError(t, resp, body, 400, 300, "Invalid parameter: next_page_token.")
	})
}

func TestListMeetingsTypes(t *testing.T) {
	clock := NewClock(testNow)
	e := newTestEnv(t, Options{Now: clock.Now})
	past := num(t, e.createMeeting("me", map[string]any{"start_time": "2026-01-01T10:00:00Z", "duration": 60})["id"])
	future := num(t, e.createMeeting("me", map[string]any{"start_time": "2027-01-01T10:00:00Z", "duration": 60})["id"])
	noFixedTime := num(t, e.createMeeting("me", map[string]any{"type": 3})["id"])
	e.createMeeting("me", map[string]any{"type": 1}) // instant

	tests := []struct {
		typ  string
		want []int64
	}{
		{typ: "scheduled", want: []int64{past, future, noFixedTime}},
		{typ: "upcoming", want: []int64{future, noFixedTime}},
		{typ: "upcoming_meetings", want: []int64{future, noFixedTime}},
		{typ: "previous_meetings", want: []int64{past}},
		{typ: "live", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			page := e.listPage("me", url.Values{"type": {tt.typ}})
			if got := pageIDs(t, page); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
