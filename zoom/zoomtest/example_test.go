package zoomtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// A fake Zoom behind httptest: fetch a token, create a meeting, look at
// what the fake holds.
func Example() {
	fake := zoomtest.New(zoomtest.Options{AccountID: "acct", ClientID: "id", ClientSecret: "secret"})
	fake.AddUser("james@bond.com", "James", "Bond", 1)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	baseURL, tokenURL := srv.URL+"/v2", srv.URL+"/oauth/token"

	req, _ := http.NewRequest("POST", tokenURL+"?grant_type=account_credentials&account_id=acct", nil)
	req.SetBasicAuth("id", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	body := `{"topic": "Demo Meeting 1", "type": 2, "start_time": "2026-12-05T12:00:00",
	          "timezone": "America/Los_Angeles", "duration": 45}`
	req, _ = http.NewRequest("POST", baseURL+"/users/james@bond.com/meetings", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var m struct {
		Topic     string `json:"topic"`
		StartTime string `json:"start_time"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, m.Topic, m.StartTime)

	stored := fake.MeetingsForHost("james@bond.com")
	fmt.Println(len(stored), stored[0].Timezone, fake.Stats().MeetingsCreated)
	// Output:
	// 201 Demo Meeting 1 2026-12-05T20:00:00Z
	// 1 America/Los_Angeles 1
}

// FailNext makes the next requests fail the way Zoom fails.
func ExampleServer_FailNext() {
	fake := zoomtest.New(zoomtest.Options{})
	fake.AddUser("james@bond.com", "James", "Bond", 1)
	srv := httptest.NewServer(fake)
	defer srv.Close()

	fake.FailNext(1, http.StatusTooManyRequests)
	for range 2 {
		req, _ := http.NewRequest("GET", srv.URL+"/v2/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+fake.IssueToken())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Output:
	// 429 1
	// 200
}

// A change made "in Zoom's web portal" reaches the app's webhook endpoint,
// signed with its secret token.
func ExampleServer_SimUpdateMeeting() {
	got := make(chan string, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("x-zm-request-timestamp"), 10, 64)
		var ev struct {
			Event   string `json:"event"`
			Payload struct {
				Object    map[string]any `json:"object"`
				OldObject map[string]any `json:"old_object"`
			} `json:"payload"`
		}
		_ = json.Unmarshal(b, &ev)
		signed := r.Header.Get("x-zm-signature") == zoomtest.SignWebhook("whsec", ts, b)
		got <- fmt.Sprintln(ev.Event, ev.Payload.OldObject["topic"], "->", ev.Payload.Object["topic"], signed)
	}))
	defer hook.Close()

	fake := zoomtest.New(zoomtest.Options{WebhookURL: hook.URL, WebhookSecret: "whsec"})
	defer fake.Close()
	fake.AddUser("james@bond.com", "James", "Bond", 1)
	m, err := fake.SimCreateMeeting("james@bond.com", map[string]any{"topic": "Briefing"})
	if err != nil {
		panic(err)
	}
	fmt.Print(<-got)
	if err := fake.SimUpdateMeeting(m.ID, "", map[string]any{"topic": "Debriefing"}); err != nil {
		panic(err)
	}
	fmt.Print(<-got)
	// Output:
	// meeting.created <nil> -> Briefing true
	// meeting.updated Briefing -> Debriefing true
}
