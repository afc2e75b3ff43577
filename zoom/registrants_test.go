package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"
)

const addRegistrantJSON = `{"id":85746065432,"registrant_id":"fdgsfh2ey82fuh","join_url":"https://zoom.us/w/85746065432?tk=abc","topic":"Demo","start_time":"2026-12-05T12:00:00Z","participant_pin_code":380303,"occurrences":[]}`

func TestAddRegistrant(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { answer(w, 201, addRegistrantJSON) })
	lim := &quotaLimiter{}
	c := newTestClient(t, srv, func(o *Options) { o.Limiter = lim })
	body := map[string]any{"email": "jill@example.com", "first_name": "Jill"}
	got, err := c.AddRegistrant(context.Background(), 85746065432, "1648194360000,1648367160000", body)
	if err != nil {
		t.Fatal(err)
	}
	want := &Registrant{RegistrantID: "fdgsfh2ey82fuh", MeetingID: 85746065432, JoinURL: "https://zoom.us/w/85746065432?tk=abc",
		Topic: "Demo", StartTime: "2026-12-05T12:00:00Z", ParticipantPinCode: 380303, Raw: json.RawMessage(addRegistrantJSON)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("registrant = %+v\nwant %+v", got, want)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/v2/meetings/85746065432/registrants" || r.Query.Get("occurrence_ids") != "1648194360000,1648367160000" {
		t.Errorf("request = %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	if got := string(r.Body); got != `{"email":"jill@example.com","first_name":"Jill"}` {
		t.Errorf("body = %s", got)
	}
	lim.wantWaits(t, Light) // Zoom's label for add registrant
}

func TestAddRegistrantDailyLimit(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Type", "Daily-limit")
		answer(w, 429, `{"code":429,"message":"You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."}`)
	})
	lim := &quotaLimiter{}
	c := newTestClient(t, srv, func(o *Options) { o.Limiter = lim; o.Now = func() time.Time { return fixedNow } })
	_, err := c.AddRegistrant(context.Background(), 1, "", map[string]any{"email": "a@b.c"})
	var ae *APIError
	if !errors.As(err, &ae) || !ae.RegistrantLimit || ae.DailyLimit {
		t.Fatalf("err = %#v, want an APIError with RegistrantLimit (and not the host's DailyLimit)", err)
	}
	midnight := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	if c, at := Classify(err); c != RetryLater || !at.Equal(midnight) {
		t.Errorf("Classify = %v, %v, want RetryLater, %v", c, at, midnight)
	}
	q := lim.seen()
	if len(q) != 1 || q[0].Limited || !q[0].PerUser {
		t.Errorf("quota = %+v, want PerUser and not Limited: the account is not over its quota", q)
	}
}

func TestListRegistrantsFollowsPages(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("next_page_token") {
		case "":
			answer(w, 200, `{"page_size":300,"total_records":2,"next_page_token":"p2","registrants":[
				{"id":"r1","email":"a@example.com","first_name":"A","status":"approved","join_url":"https://zoom.us/w/1?tk=a","create_time":"2026-12-01T10:00:00Z"}]}`)
		case "p2":
			answer(w, 200, `{"page_size":300,"total_records":2,"next_page_token":"","registrants":[
				{"id":"r2","email":"b@example.com","first_name":"B","last_name":"Bee","status":"approved"}]}`)
		default:
			answer(w, 400, `{"code":300,"message":"bad token"}`)
		}
	})
	lim := &quotaLimiter{}
	c := newTestClient(t, srv, func(o *Options) { o.Limiter = lim })
	got, err := c.ListRegistrants(context.Background(), 85746065432, RegistrantApproved)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RegistrantID != "r1" || got[0].Email != "a@example.com" || got[0].JoinURL != "https://zoom.us/w/1?tk=a" ||
		got[0].CreateTime != "2026-12-01T10:00:00Z" || got[1].RegistrantID != "r2" || got[1].LastName != "Bee" || got[1].MeetingID != 0 {
		t.Errorf("registrants = %+v", got)
	}
	for _, r := range srv.requests() {
		if r.Method != "GET" || r.Path != "/v2/meetings/85746065432/registrants" || r.Query.Get("status") != "approved" || r.Query.Get("page_size") != "300" {
			t.Errorf("request = %s %s?%s", r.Method, r.Path, r.RawQuery)
		}
	}
	lim.wantWaits(t, Medium, Medium) // Zoom's label for list registrants
}

func TestListRegistrantsStopsOnARepeatedToken(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, `{"next_page_token":"same","registrants":[]}`)
	})
	c := newTestClient(t, srv)
	if _, err := c.ListRegistrants(context.Background(), 1, ""); err == nil {
		t.Fatal("err = nil, want an error for a listing that never ends")
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
	if q := srv.requests()[0].Query; q.Has("status") {
		t.Errorf("status sent as %q, want Zoom's default (none sent)", q.Get("status"))
	}
}
