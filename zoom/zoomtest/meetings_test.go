package zoomtest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 26, 20, 23, 25, 0, time.UTC)

// demoMeeting is the create-meeting body of the contract's example job.
func demoMeeting() map[string]any {
	return map[string]any{
		"topic": "Demo Meeting 1", "type": 2, "start_time": "2026-12-05T12:00:00Z", "duration": 45,
		"timezone": "America/Los_Angeles", "password": "Hey123", "agenda": "This is the meeting description",
		"settings": map[string]any{"host_video": false, "participant_video": false, "join_before_host": false,
			"mute_upon_entry": true, "use_pmi": false, "approval_type": 0},
	}
}

func TestCreateMeetingAnswer(t *testing.T) {
	clock := NewClock(testNow)
	e := newTestEnv(t, Options{Now: clock.Now})
	m := e.createMeeting("james@bond.com", demoMeeting())

	id := num(t, m["id"])
	idText := strconv.FormatInt(id, 10)
	if len(idText) != 11 {
		t.Errorf("id: got %d, want 11 digits", id)
	}
	if uuid, _ := m["uuid"].(string); len(uuid) != 24 || !strings.HasSuffix(uuid, "==") {
		t.Errorf("uuid: got %q, want 24 characters of base64 ending in ==", m["uuid"])
	}
	wantStrings := map[string]string{
		"host_id":    e.host.ID,
		"host_email": "james@bond.com",
		"topic":      "Demo Meeting 1",
		"status":     "waiting",
		"start_time": "2026-12-05T12:00:00Z",
		"timezone":   "America/Los_Angeles",
		"agenda":     "This is the meeting description",
		"created_at": "2026-11-26T20:23:25Z",
		"password":   "Hey123",
	}
	for k, want := range wantStrings {
		if got, _ := m[k].(string); got != want {
			t.Errorf("%s: got %q, want %q", k, m[k], want)
		}
	}
	if num(t, m["type"]) != 2 || num(t, m["duration"]) != 45 {
		t.Errorf("type, duration: got %v, %v, want 2, 45", m["type"], m["duration"])
	}
	if m["pre_schedule"] != false {
		t.Errorf("pre_schedule: got %v, want false", m["pre_schedule"])
	}
	if su, _ := m["start_url"].(string); !regexp.MustCompile(`^https://zoom\.us/s/` + idText + `\?zak=\S+$`).MatchString(su) {
		t.Errorf("start_url: got %q", su)
	}
	enc, _ := m["encrypted_password"].(string)
	if enc == "" || m["join_url"] != "https://zoom.us/j/"+idText+"?pwd="+enc {
		t.Errorf("join_url: got %q, want https://zoom.us/j/%s?pwd=<encrypted_password %q>", m["join_url"], idText, enc)
	}
	for _, k := range []string{"h323_password", "pstn_password"} {
		if v, _ := m[k].(string); !regexp.MustCompile(`^\d+$`).MatchString(v) {
			t.Errorf("%s: got %q, want digits", k, m[k])
		}
	}
	settings, _ := m["settings"].(map[string]any)
	wantSettings := map[string]any{
		"mute_upon_entry": true, "approval_type": json.Number("0"), // sent
		"host_video": false, "waiting_room": false, "audio": "voip", "auto_recording": "none", // defaults
	}
	for k, want := range wantSettings {
		if got := settings[k]; got != want {
			t.Errorf("settings.%s: got %v (%T), want %v", k, got, got, want)
		}
	}
	if _, ok := m["occurrences"]; ok {
		t.Errorf("a scheduled meeting has occurrences: %v", m["occurrences"])
	}

	// The stored meeting is what was answered, and GET answers the same.
	ms := e.fake.Meetings()
	if len(ms) != 1 {
		t.Fatalf("Meetings: got %d, want 1", len(ms))
	}
	got := ms[0]
	want := Meeting{ID: id, UUID: m["uuid"].(string), HostID: e.host.ID, HostEmail: "james@bond.com",
		Topic: "Demo Meeting 1", Type: 2, StartTime: "2026-12-05T12:00:00Z", Duration: 45,
		Timezone: "America/Los_Angeles", JoinURL: m["join_url"].(string), StartURL: m["start_url"].(string),
		Password: "Hey123", Agenda: "This is the meeting description", CreatedAt: "2026-11-26T20:23:25Z"}
	raw := got.Raw
	got.Raw = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Meetings()[0]:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(decode(t, raw), m) {
		t.Errorf("Meeting.Raw differs from the answer:\n got %s", raw)
	}
	resp, body := e.do("GET", meetingPath(t, m), nil)
	if resp.StatusCode != 200 || !reflect.DeepEqual(decode(t, body), m) {
		t.Errorf("GET: got %d %s, want 200 and the create answer", resp.StatusCode, body)
	}
	if byID, ok := e.fake.Meeting(id); !ok || byID.ID != id {
		t.Errorf("Meeting(%d): got %+v, %v", id, byID, ok)
	}
	if s := e.fake.Stats(); s.MeetingsCreated != 1 {
		t.Errorf("Stats.MeetingsCreated: got %d, want 1", s.MeetingsCreated)
	}
}

func TestCreateMeetingFields(t *testing.T) {
	now := "2026-11-26T20:23:25Z"
	tests := []struct {
		name  string
		host  string
		body  map[string]any
		check func(t *testing.T, m map[string]any)
	}{
		{name: "UTC start_time", body: map[string]any{"start_time": "2026-12-05T12:00:00Z", "timezone": "America/Los_Angeles"},
			check: wantField("start_time", "2026-12-05T12:00:00Z")},
		{name: "local start_time in winter", body: map[string]any{"start_time": "2026-12-05T12:00:00", "timezone": "America/Los_Angeles"},
			check: wantField("start_time", "2026-12-05T20:00:00Z")},
		{name: "local start_time in summer", body: map[string]any{"start_time": "2026-07-05T12:00:00", "timezone": "America/Los_Angeles"},
			check: wantField("start_time", "2026-07-05T19:00:00Z")},
		{name: "start_time with an offset", body: map[string]any{"start_time": "2026-12-05T12:00:00+01:00"},
			check: wantField("start_time", "2026-12-05T11:00:00Z")},
		{name: "no timezone is UTC", body: map[string]any{"start_time": "2026-12-05T12:00:00"},
			check: all(wantField("start_time", "2026-12-05T12:00:00Z"), wantField("timezone", "UTC"))},
		{name: "no start_time starts now", body: map[string]any{"topic": "x"},
			check: wantField("start_time", now)},
		{name: "no topic", body: map[string]any{},
			check: all(wantField("topic", "Zoom Meeting"), wantNumber("type", 2))},
		{name: "instant meeting starts now", body: map[string]any{"type": 1, "start_time": "2026-12-05T12:00:00Z"},
			check: all(wantField("start_time", now), wantNumber("type", 1))},
		{name: "recurring with no fixed time has no start", body: map[string]any{"type": 3, "start_time": "2026-12-05T12:00:00Z"},
			check: all(wantAbsent("start_time"), wantAbsent("occurrences"))},
		{name: "the host as me", host: "me", body: map[string]any{}, check: wantField("host_email", "james@bond.com")},
		{name: "the host by id", host: "<id>", body: map[string]any{}, check: wantField("host_email", "james@bond.com")},
		{name: "a generated password", body: map[string]any{},
			check: func(t *testing.T, m map[string]any) {
				if pw, _ := m["password"].(string); len(pw) != 6 || !strings.Contains(m["join_url"].(string), "?pwd=") {
					t.Errorf("password %q join_url %q: want a generated 6-character password in join_url", pw, m["join_url"])
				}
			}},
		{name: "no password with default_password false", body: map[string]any{"default_password": false},
			check: all(wantAbsent("password"), wantAbsent("encrypted_password"), func(t *testing.T, m map[string]any) {
				if strings.Contains(m["join_url"].(string), "pwd=") {
					t.Errorf("join_url %q has a pwd", m["join_url"])
				}
			})},
		{name: "numeric password is the phone password", body: map[string]any{"password": "123456"},
			check: all(wantField("h323_password", "123456"), wantField("pstn_password", "123456"))},
		{name: "a password of every allowed character", body: map[string]any{"password": "aZ9@-_*"},
			check: wantField("password", "aZ9@-_*")},
		{name: "numbers and booleans as strings", body: map[string]any{"duration": "30", "settings": map[string]any{"use_pmi": "false", "approval_type": "1"}},
			check: func(t *testing.T, m map[string]any) {
				s := m["settings"].(map[string]any)
				if num(t, m["duration"]) != 30 || s["use_pmi"] != false || num(t, s["approval_type"]) != 1 {
					t.Errorf("duration %v use_pmi %v approval_type %v: want 30, false, 1", m["duration"], s["use_pmi"], s["approval_type"])
				}
			}},
		{name: "a whole number written as a decimal", body: map[string]any{"duration": json.Number("30.0")},
			check: wantNumber("duration", 30)},
		{name: "unknown settings pass through", body: map[string]any{"settings": map[string]any{"something_new": "yes"}},
			check: func(t *testing.T, m map[string]any) {
				if got := m["settings"].(map[string]any)["something_new"]; got != "yes" {
					t.Errorf("settings.something_new: got %v, want yes", got)
				}
			}},
		{name: "a 200-character topic", body: map[string]any{"topic": strings.Repeat("é", 200)},
			check: wantField("topic", strings.Repeat("é", 200))},
		{name: "tracking fields", body: map[string]any{"tracking_fields": []any{map[string]any{"field": "f", "value": "v"}}},
			check: func(t *testing.T, m map[string]any) {
				if tf, _ := m["tracking_fields"].([]any); len(tf) != 1 {
					t.Errorf("tracking_fields: got %v", m["tracking_fields"])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewClock(testNow)
			e := newTestEnv(t, Options{Now: clock.Now})
			host := tt.host
			switch host {
			case "":
				host = "james@bond.com"
			case "<id>":
				host = e.host.ID
			}
			tt.check(t, e.createMeeting(host, tt.body))
		})
	}
}

func wantField(key, want string) func(*testing.T, map[string]any) {
	return func(t *testing.T, m map[string]any) {
		t.Helper()
		if got, _ := m[key].(string); got != want {
			t.Errorf("%s: got %v, want %q", key, m[key], want)
		}
	}
}

func wantNumber(key string, want int64) func(*testing.T, map[string]any) {
	return func(t *testing.T, m map[string]any) {
		t.Helper()
		if got := num(t, m[key]); got != want {
			t.Errorf("%s: got %d, want %d", key, got, want)
		}
	}
}

func wantAbsent(key string) func(*testing.T, map[string]any) {
	return func(t *testing.T, m map[string]any) {
		t.Helper()
		if v, ok := m[key]; ok {
			t.Errorf("%s: got %v, want it left out", key, v)
		}
	}
}

func all(checks ...func(*testing.T, map[string]any)) func(*testing.T, map[string]any) {
	return func(t *testing.T, m map[string]any) {
		t.Helper()
		for _, c := range checks {
			c(t, m)
		}
	}
}

func TestCreateMeetingErrors(t *testing.T) {
	e := newTestEnv(t, Options{})
	const path = "/users/james@bond.com/meetings"
	e.refuses(t, "POST", path, []refusal{
		{name: "unknown host", path: "/users/nobody@example.com/meetings", body: map[string]any{"topic": "x"},
			want: zoomErr{404, 1001, "User does not exist: nobody@example.com.", nil}},
		{name: "password too long", body: map[string]any{"password": "12345678901"}, want: invalidParam("password")},
		{name: "password with a space", body: map[string]any{"password": "ab cd"}, want: invalidParam("password")},
		{name: "password with #", body: map[string]any{"password": "ab#cd"}, want: invalidParam("password")},
		{name: "password not a string", body: map[string]any{"password": 123}, want: invalidParam("password")},
		{name: "topic too long", body: map[string]any{"topic": strings.Repeat("x", 201)}, want: validation("topic")},
		{name: "topic not a string", body: map[string]any{"topic": 5}, want: validation("topic")},
		{name: "agenda too long", body: map[string]any{"agenda": strings.Repeat("x", 2001)}, want: validation("agenda")},
		{name: "unknown type", body: map[string]any{"type": 5}, want: validation("type")},
		{name: "unknown timezone", body: map[string]any{"timezone": "Mars/Olympus_Mons"}, want: validation("timezone")},
		{name: "bad start_time", body: map[string]any{"start_time": "tomorrow at noon"}, want: validation("start_time")},
		{name: "fractional duration", body: map[string]any{"duration": 30.5}, want: validation("duration")},
		{name: "negative duration", body: map[string]any{"duration": -1}, want: validation("duration")},
		{name: "settings not an object", body: map[string]any{"settings": "loud"}, want: validation("settings")},
		{name: "bad approval_type", body: map[string]any{"settings": map[string]any{"approval_type": 7}}, want: validation("settings.approval_type")},
		{name: "bad audio", body: map[string]any{"settings": map[string]any{"audio": "smoke signals"}}, want: validation("settings.audio")},
		{name: "bad boolean setting", body: map[string]any{"settings": map[string]any{"host_video": "maybe"}}, want: validation("settings.host_video")},
		{name: "type 8 without recurrence", body: map[string]any{"type": 8, "start_time": "2026-12-05T12:00:00Z"}, want: validation("recurrence")},
		{name: "malformed JSON", body: `{"topic": "x"`, want: badJSON},
		{name: "JSON string", body: `"topic"`, want: badJSON},
	})
	if n := len(e.fake.Meetings()); n != 0 {
		t.Errorf("meetings: got %d, want none", n)
	}
	if s := e.fake.Stats(); s.MeetingsCreated != 0 {
		t.Errorf("Stats.MeetingsCreated: got %d, want 0", s.MeetingsCreated)
	}
}

// recurring is the create body of a 30-minute recurring meeting with a
// fixed time (type 8) from start.
func recurring(start string, rec map[string]any) map[string]any {
	return map[string]any{"type": 8, "start_time": start, "duration": 30, "recurrence": rec}
}

func TestRecurrence(t *testing.T) {
	tests := []struct {
		name      string
		body      map[string]any
		want      []string // occurrence start times
		wantCount int      // when want is nil: how many
	}{
		{name: "daily every 2 days",
			body: recurring("2026-12-05T12:00:00Z", map[string]any{"type": 1, "repeat_interval": 2, "end_times": 3}),
			want: []string{"2026-12-05T12:00:00Z", "2026-12-07T12:00:00Z", "2026-12-09T12:00:00Z"}},
		{name: "daily until end_date_time",
			body: recurring("2026-12-05T12:00:00Z", map[string]any{"type": 1, "end_date_time": "2026-12-08T00:00:00Z"}),
			want: []string{"2026-12-05T12:00:00Z", "2026-12-06T12:00:00Z", "2026-12-07T12:00:00Z"}},
		{name: "daily keeps local time across DST",
			body: map[string]any{"type": 8, "start_time": "2027-03-13T09:00:00", "timezone": "America/New_York",
				"duration": 30, "recurrence": map[string]any{"type": 1, "end_times": 2}},
			want: []string{"2027-03-13T14:00:00Z", "2027-03-14T13:00:00Z"}},
		{name: "weekly on Mondays and Wednesdays from a Saturday",
			body: recurring("2026-12-05T10:00:00Z", map[string]any{"type": 2, "weekly_days": "4,2", "end_times": 4}),
			want: []string{"2026-12-07T10:00:00Z", "2026-12-09T10:00:00Z", "2026-12-14T10:00:00Z", "2026-12-16T10:00:00Z"}},
		{name: "fortnightly on the start's weekday",
			body: recurring("2026-12-05T10:00:00Z", map[string]any{"type": 2, "repeat_interval": 2, "end_times": 3}),
			want: []string{"2026-12-05T10:00:00Z", "2026-12-19T10:00:00Z", "2027-01-02T10:00:00Z"}},
		{name: "monthly on the 31st",
			body: recurring("2027-01-31T09:00:00Z", map[string]any{"type": 3, "monthly_day": 31, "end_times": 3}),
			want: []string{"2027-01-31T09:00:00Z", "2027-02-28T09:00:00Z", "2027-03-31T09:00:00Z"}},
		{name: "monthly on the last Friday",
			body: recurring("2026-12-01T09:00:00Z", map[string]any{"type": 3, "monthly_week": -1, "monthly_week_day": 6, "end_times": 3}),
			want: []string{"2026-12-25T09:00:00Z", "2027-01-29T09:00:00Z", "2027-02-26T09:00:00Z"}},
		{name: "every other month on the first Monday",
			body: recurring("2026-12-01T09:00:00Z", map[string]any{"type": 3, "monthly_week": 1, "monthly_week_day": 2,
				"repeat_interval": 2, "end_times": 3}),
			want: []string{"2026-12-07T09:00:00Z", "2027-02-01T09:00:00Z", "2027-04-05T09:00:00Z"}},
		{name: "end_times 0 means no end: capped at 60",
			body: recurring("2026-12-05T12:00:00Z", map[string]any{"type": 1, "end_times": 0}), wantCount: 60},
		{name: "end_times defaults to 1",
			body: recurring("2026-12-05T12:00:00Z", map[string]any{"type": 1}), want: []string{"2026-12-05T12:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, Options{})
			m := e.createMeeting("me", tt.body)
			occs, _ := m["occurrences"].([]any)
			var starts []string
			for _, o := range occs {
				o := o.(map[string]any)
				start := o["start_time"].(string)
				starts = append(starts, start)
				st, _ := time.Parse(time.RFC3339, start)
				if o["occurrence_id"] != strconv.FormatInt(st.UnixMilli(), 10) || o["status"] != "available" || num(t, o["duration"]) != 30 {
					t.Errorf("occurrence %v: want id = start in Unix ms, status available, duration 30", o)
				}
			}
			if tt.want == nil {
				if len(starts) != tt.wantCount {
					t.Errorf("occurrences: got %d, want %d", len(starts), tt.wantCount)
				}
			} else if !slices.Equal(starts, tt.want) {
				t.Errorf("occurrences:\n got %v\nwant %v", starts, tt.want)
			}
			if len(starts) > 0 && m["start_time"] != starts[0] {
				t.Errorf("start_time: got %v, want the first occurrence %s", m["start_time"], starts[0])
			}
			rec, _ := m["recurrence"].(map[string]any)
			if num(t, rec["type"]) != num(t, tt.body["recurrence"].(map[string]any)["type"]) {
				t.Errorf("recurrence: got %v, want it echoed", rec)
			}
		})
	}
}
func TestRecurrenceErrors(t *testing.T) {
	e := newTestEnv(t, Options{})
	const path, start = "/users/me/meetings", "2026-12-05T12:00:00Z"
	e.refuses(t, "POST", path, []refusal{
		{name: "end_times over 60", body: recurring(start, map[string]any{"type": 1, "end_times": 61}),
			want: validation("recurrence.end_times")},
		{name: "end_times and end_date_time", body: recurring(start, map[string]any{"type": 1, "end_times": 2, "end_date_time": "2026-12-08T00:00:00Z"}),
			want: validation("recurrence.end_date_time")},
		{name: "end_date_time before the start", body: recurring(start, map[string]any{"type": 1, "end_date_time": "2026-12-01T00:00:00Z"}),
			want: validation("recurrence.end_date_time")},
		{name: "unknown recurrence type", body: recurring(start, map[string]any{"type": 4}),
			want: validation("recurrence.type")},
		{name: "daily interval over 99", body: recurring(start, map[string]any{"type": 1, "repeat_interval": 100}),
			want: validation("recurrence.repeat_interval")},
		{name: "bad weekly_days", body: recurring(start, map[string]any{"type": 2, "weekly_days": "1,8"}),
			want: validation("recurrence.weekly_days")},
		{name: "bad monthly_week", body: recurring(start, map[string]any{"type": 3, "monthly_week": 5, "monthly_week_day": 1}),
			want: validation("recurrence.monthly_week")},
		{name: "monthly_week without a day", body: recurring(start, map[string]any{"type": 3, "monthly_week": 1}),
			want: validation("recurrence.monthly_week_day")},
	})
	if n := len(e.fake.Meetings()); n != 0 {
		t.Errorf("meetings: got %d, want none", n)
	}
}

func TestGetMeeting(t *testing.T) {
	e := newTestEnv(t, Options{})
	m := e.createMeeting("me", map[string]any{"type": 8, "start_time": "2026-12-05T12:00:00Z", "duration": 30,
		"recurrence": map[string]any{"type": 1, "end_times": 3}})
	occs := m["occurrences"].([]any)
	second := occs[1].(map[string]any)

	tests := []struct {
		name      string
		path      string
		want      zoomErr
		wantStart string
	}{
		{name: "the meeting", path: meetingPath(t, m), wantStart: "2026-12-05T12:00:00Z"},
		{name: "an occurrence", path: meetingPath(t, m) + "?occurrence_id=" + second["occurrence_id"].(string),
			wantStart: second["start_time"].(string)},
		{name: "an unknown occurrence", path: meetingPath(t, m) + "?occurrence_id=1",
			want: invalidParam("occurrence_id")},
		{name: "an unknown meeting", path: "/meetings/12345678901",
			want: zoomErr{404, 3001, "Meeting does not exist: 12345678901.", nil}},
		{name: "not a meeting id", path: "/meetings/abc", want: zoomErr{404, 3001, "Meeting does not exist: abc.", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do("GET", tt.path, nil)
			if tt.want.status != 0 {
				tt.want.check(t, resp, body)
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status: got %d, want 200 (%s)", resp.StatusCode, body)
			}
			got := decode(t, body)
			if got["start_time"] != tt.wantStart || got["start_url"] != m["start_url"] || got["password"] != m["password"] {
				t.Errorf("got start_time %v start_url %v password %v, want %s %v %v",
					got["start_time"], got["start_url"], got["password"], tt.wantStart, m["start_url"], m["password"])
			}
		})
	}
}

func TestUpdateMeeting(t *testing.T) {
	create := func(e *testEnv) map[string]any {
		return e.createMeeting("me", map[string]any{"topic": "Before", "start_time": "2026-12-05T12:00:00Z", "duration": 30,
			"timezone": "America/Los_Angeles", "password": "old1",
			"settings": map[string]any{"host_video": true, "mute_upon_entry": false}})
	}
	tests := []struct {
		name  string
		body  any
		check func(t *testing.T, before, after map[string]any)
	}{
		{name: "topic and one setting", body: map[string]any{"topic": "After", "settings": map[string]any{"mute_upon_entry": true}},
			check: func(t *testing.T, before, after map[string]any) {
				s := after["settings"].(map[string]any)
				if after["topic"] != "After" || s["mute_upon_entry"] != true || s["host_video"] != true {
					t.Errorf("topic %v mute_upon_entry %v host_video %v: want After, true, true (kept)", after["topic"], s["mute_upon_entry"], s["host_video"])
				}
				for _, k := range []string{"id", "uuid", "start_time", "start_url", "join_url", "password", "created_at"} {
					if !reflect.DeepEqual(before[k], after[k]) {
						t.Errorf("%s changed: %v → %v", k, before[k], after[k])
					}
				}
			}},
		{name: "local start_time in the meeting's timezone", body: map[string]any{"start_time": "2026-12-06T09:00:00"},
			check: func(t *testing.T, _, after map[string]any) { wantField("start_time", "2026-12-06T17:00:00Z")(t, after) }},
		{name: "a new timezone and start_time", body: map[string]any{"start_time": "2026-12-06T09:00:00", "timezone": "Europe/Paris"},
			check: func(t *testing.T, _, after map[string]any) {
				all(wantField("start_time", "2026-12-06T08:00:00Z"), wantField("timezone", "Europe/Paris"))(t, after)
			}},
		{name: "a new password", body: map[string]any{"password": "new2"},
			check: func(t *testing.T, before, after map[string]any) {
				if after["password"] != "new2" || after["join_url"] == before["join_url"] ||
					!strings.HasSuffix(after["join_url"].(string), "?pwd="+after["encrypted_password"].(string)) {
					t.Errorf("password %v join_url %v: want new2 and a new pwd", after["password"], after["join_url"])
				}
			}},
		{name: "no password", body: map[string]any{"password": ""},
			check: func(t *testing.T, _, after map[string]any) {
				all(wantAbsent("password"), wantAbsent("h323_password"), wantAbsent("encrypted_password"))(t, after)
				if strings.Contains(after["join_url"].(string), "pwd=") {
					t.Errorf("join_url %q has a pwd", after["join_url"])
				}
			}},
		{name: "to a recurring meeting", body: map[string]any{"type": 8, "recurrence": map[string]any{"type": 1, "end_times": 2}},
			check: func(t *testing.T, _, after map[string]any) {
				if occs, _ := after["occurrences"].([]any); len(occs) != 2 || num(t, after["type"]) != 8 {
					t.Errorf("type %v occurrences %v: want 8 and 2", after["type"], after["occurrences"])
				}
			}},
		{name: "an empty object changes nothing", body: map[string]any{},
			check: func(t *testing.T, before, after map[string]any) {
				if !reflect.DeepEqual(before, after) {
					t.Errorf("changed:\n%v\n%v", before, after)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, Options{})
			before := create(e)
			resp, body := e.do("PATCH", meetingPath(t, before), tt.body)
			if resp.StatusCode != 204 || len(body) != 0 {
				t.Fatalf("got %d %s, want 204 and no body", resp.StatusCode, body)
			}
			_, b := e.do("GET", meetingPath(t, before), nil)
			tt.check(t, before, decode(t, b))
			if s := e.fake.Stats(); s.MeetingsUpdated != 1 {
				t.Errorf("Stats.MeetingsUpdated: got %d, want 1", s.MeetingsUpdated)
			}
		})
	}

	e := newTestEnv(t, Options{})
	before := create(e)
	path := meetingPath(t, before)
	e.refuses(t, "PATCH", path, []refusal{
		{name: "unknown meeting", path: "/meetings/12345678901", body: map[string]any{"topic": "x"},
			want: zoomErr{404, 3001, "Meeting does not exist: 12345678901.", nil}},
		{name: "malformed JSON", body: "{", want: badJSON},
		{name: "topic too long", body: map[string]any{"topic": strings.Repeat("x", 201)}, want: validation("topic")},
		{name: "bad password", body: map[string]any{"password": "way too long!"}, want: invalidParam("password")},
		{name: "unknown occurrence", path: "?occurrence_id=42", body: map[string]any{"duration": 5},
			want: invalidParam("occurrence_id")},
	})
	_, b := e.do("GET", path, nil)
	if after := decode(t, b); !reflect.DeepEqual(before, after) {
		t.Errorf("the meeting changed:\n%v\n%v", before, after)
	}
	if s := e.fake.Stats(); s.MeetingsUpdated != 0 {
		t.Errorf("Stats.MeetingsUpdated: got %d, want 0", s.MeetingsUpdated)
	}
}

func TestUpdateAndDeleteOccurrence(t *testing.T) {
	e := newTestEnv(t, Options{})
	m := e.createMeeting("me", map[string]any{"type": 8, "start_time": "2026-12-05T12:00:00Z", "duration": 30,
		"recurrence": map[string]any{"type": 1, "end_times": 3}})
	occID := func(m map[string]any, i int) string {
		return m["occurrences"].([]any)[i].(map[string]any)["occurrence_id"].(string)
	}
	get := func() map[string]any {
		_, b := e.do("GET", meetingPath(t, m), nil)
		return decode(t, b)
	}

	resp, body := e.do("PATCH", meetingPath(t, m)+"?occurrence_id="+occID(m, 1), map[string]any{"start_time": "2026-12-06T15:00:00Z", "duration": 90})
	if resp.StatusCode != 204 {
		t.Fatalf("PATCH occurrence: got %d %s, want 204", resp.StatusCode, body)
	}
	got := get()["occurrences"].([]any)
	o0, o1 := got[0].(map[string]any), got[1].(map[string]any)
	if o1["start_time"] != "2026-12-06T15:00:00Z" || num(t, o1["duration"]) != 90 || o0["start_time"] != "2026-12-05T12:00:00Z" {
		t.Errorf("occurrences after PATCH: got %v", got)
	}

	resp, body = e.do("DELETE", meetingPath(t, m)+"?occurrence_id="+occID(m, 2), nil)
	if resp.StatusCode != 204 {
		t.Fatalf("DELETE occurrence: got %d %s, want 204", resp.StatusCode, body)
	}
	if n := len(get()["occurrences"].([]any)); n != 2 {
		t.Errorf("occurrences after DELETE: got %d, want 2", n)
	}
	// Changing something else keeps the occurrences as they are.
	if resp, body := e.do("PATCH", meetingPath(t, m), map[string]any{"topic": "renamed"}); resp.StatusCode != 204 {
		t.Fatalf("PATCH topic: got %d %s", resp.StatusCode, body)
	}
	after := get()
	if occs := after["occurrences"].([]any); len(occs) != 2 || occs[1].(map[string]any)["start_time"] != "2026-12-06T15:00:00Z" {
		t.Errorf("occurrences after a topic change: got %v, want the edited two", occs)
	}
	resp, body = e.do("DELETE", meetingPath(t, m)+"?occurrence_id=1", nil)
	wantZoomError(t, resp, body, 400, 300, "Invalid parameter: occurrence_id.")
}

func TestDeleteMeeting(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  zoomErr // zero for a 204
	}{
		{name: "plain"},
		{name: "with reminders", query: "?schedule_for_reminder=true&cancel_meeting_reminder=false"},
		{name: "bad schedule_for_reminder", query: "?schedule_for_reminder=perhaps", want: validation("schedule_for_reminder")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, Options{})
			m := e.createMeeting("me", map[string]any{"topic": "x"})
			resp, body := e.do("DELETE", meetingPath(t, m)+tt.query, nil)
			if tt.want.status != 0 {
				tt.want.check(t, resp, body)
				if len(e.fake.Meetings()) != 1 {
					t.Errorf("the meeting was deleted")
				}
				return
			}
			if resp.StatusCode != 204 || len(body) != 0 {
				t.Fatalf("got %d %q, want 204 and no body", resp.StatusCode, body)
			}
			if n := len(e.fake.Meetings()); n != 0 {
				t.Errorf("meetings: got %d, want 0", n)
			}
			resp, body = e.do("GET", meetingPath(t, m), nil)
			wantZoomError(t, resp, body, 404, 3001, "")
			resp, body = e.do("DELETE", meetingPath(t, m), nil)
			wantZoomError(t, resp, body, 404, 3001, fmt.Sprintf("Meeting does not exist: %d.", num(t, m["id"])))
			if s := e.fake.Stats(); s.MeetingsDeleted != 1 {
				t.Errorf("Stats.MeetingsDeleted: got %d, want 1", s.MeetingsDeleted)
			}
		})
	}
}
