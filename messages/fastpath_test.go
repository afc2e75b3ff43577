package messages_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
)

// FuzzDecodeJobFastPath checks that DecodeJob's fast path decides as the
// general one does: the same job, or the same error, for every body.
func FuzzDecodeJobFastPath(f *testing.F) {
	for _, tc := range append(validJobs, invalidJobs...) {
		for i, s := range jobSubjects {
			if s == tc.subject {
				f.Add(uint8(i), []byte(tc.body))
			}
		}
	}
	f.Add(uint8(1), []byte(`{"user_id":"me","meeting":{"topic":"t","Topic":"u","x":{"y":[1,{"z":"}"}]}}}`))
	f.Add(uint8(1), []byte(`{"user_id":"me","meeting":{"topic":"t","settings":{"a":1},"extra":null,"n":-1.5e3}}`))
	f.Add(uint8(2), []byte(`{"meeting_id":1,"meeting":{"topic":""}}`))
	f.Add(uint8(1), []byte(`{"user_id":"me","us\u0065r_id":"you","meeting":{}}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		subject := jobSubjects[int(which)%len(jobSubjects)]
		got, gotErr := messages.DecodeJob(subject, body)
		want, wantErr := messages.DecodeJobSlow(subject, body)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("DecodeJob error %v; the general path's %v", gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeJob = %#v; the general path's %#v", got, want)
		}
	})
}

// FuzzMeetingSpecFastPath checks MeetingSpec.UnmarshalJSON's fast path
// against its general one.
func FuzzMeetingSpecFastPath(f *testing.F) {
	for _, s := range []string{
		`{"topic":"t","type":2,"settings":{"host_video":false},"x":1}`,
		`{"topic":"t","Topic":"u"}`, `{"topic":1}`, `{"type":"2","duration":3}`,
		`{"recurrence":null,"y":[1,2,{"a":"\"}"}]}`, `{}`, `null`, `{"a":1,}`, `{"a" :1}`,
		`{"topic":"\u0074"}`, `{"t\u006fpic":"x"}`, "{\"\xff\":1}", `{"a":1}x`, `[1]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want messages.MeetingSpec
		gotErr := got.UnmarshalJSON(data)
		wantErr := messages.UnmarshalMeetingSpecSlow(data, &want)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("UnmarshalJSON(%s) error %v; the general path's %v", data, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("UnmarshalJSON(%s) = %#v; the general path's %#v", data, got, want)
		}
	})
}

// FuzzMarshalFastPath checks that MeetingSpec.MarshalJSON's fast path
// writes the bytes encoding/json writes, for meetings decoded from any
// text and for Go values no text decodes to.
func FuzzMarshalFastPath(f *testing.F) {
	for _, s := range []string{
		`{"topic":"t","type":2,"duration":-5,"settings":{"host_video":false}}`,
		`{"topic":"a<b","agenda":"\u2028","password":"é"}`, `{"settings":[1, 2]}`, `{"recurrence":"x&y"}`,
		`{"topic":"\n","timezone":"\"","start_time":"\\"}`, `{}`,
	} {
		f.Add([]byte(s), "", int64(0), []byte(nil))
	}
	f.Add([]byte(`{}`), "bad \xff utf-8", int64(-1<<40), []byte("{ }"))
	f.Add([]byte(`{}`), "", int64(7), []byte("not json"))
	f.Fuzz(func(t *testing.T, data []byte, topic string, duration int64, settings []byte) {
		var m messages.MeetingSpec
		if err := json.Unmarshal(data, &m); err != nil {
			m = messages.MeetingSpec{Topic: topic, Duration: int(duration), Settings: settings}
		}
		m.Extra = nil
		got, gotErr := m.MarshalJSON()
		want, wantErr := messages.MarshalMeetingSpecSlow(m)
		if (gotErr == nil) != (wantErr == nil) || string(got) != string(want) {
			t.Fatalf("MarshalJSON(%#v) = %s, %v; encoding/json: %s, %v", m, got, gotErr, want, wantErr)
		}
	})
}

// FuzzDecodePlain checks that where DecodePlain decodes, it decodes as
// json.Unmarshal does.
func FuzzDecodePlain(f *testing.F) {
	for _, s := range []string{
		`{"id":85746065432,"uuid":"u","topic":"t","type":2,"settings":{"a":[1]},"start_url":"s","pmi":"1"}`,
		`{"ID":1}`, `{"id":1.5}`, `{"id":"1"}`, `{"topic":null}`, `{"topic":"\u00e9"}`, ` {"id":1} `,
		`{"occurrences":[{"x":1}],"id":-3}`, `[]`, `{"id":1}}`, `{"Extra":{"a":1}}`,
	} {
		f.Add([]byte(s))
	}
	type plainMeeting messages.Meeting
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want plainMeeting
		if !messages.DecodePlain(data, &got) {
			return
		}
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("DecodePlain decoded %s, which json.Unmarshal refuses: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodePlain(%s) = %#v; json.Unmarshal: %#v", data, got, want)
		}
	})
}
