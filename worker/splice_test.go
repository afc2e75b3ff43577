package worker

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
)

func TestWithoutMember(t *testing.T) {
	tests := []struct {
		name, raw, drop string
	}{
		{"first", `{"start_url":"https://zoom.us/s/1?zak=x","id":1}`, "start_url"},
		{"middle", `{"id":1,"start_url":"s","join_url":"j"}`, "start_url"},
		{"last", `{"id":1,"start_url":"s"}`, "start_url"},
		{"only", `{"start_url":"s"}`, "start_url"},
		{"absent", `{"id":1,"settings":{"start_url":"nested stays"}}`, "start_url"},
		{"keep all", `{"id":1,"start_url":"s"}`, ""},
		{"whitespace", " {\n \"id\" : 1 ,\t\"start_url\" : \"s\" , \"a\" : [ 1 , { \"b\" : \"x y\" } ] }\n", "start_url"},
		{"tricky strings", `{"topic":"a \"}\" ,{[","start_url":"s\\","agenda":"\\\"","n":null,"t":true,"f":-1.5e3}`, "start_url"},
		{"empty", `{}`, "start_url"},
		// A key spelled with an escape is the same key: it must go too.
		{"escaped key", `{"id":1,"start\u005furl":"https://zoom.us/s/1?zak=x"}`, "start_url"},
		{"escaped other key", `{"t\u006fpic":"x","start_url":"s"}`, "start_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withoutMember([]byte(tt.raw), tt.drop)
			if err != nil {
				t.Fatalf("withoutMember: %v", err)
			}
			// What decoding into a map, deleting and encoding gave.
			var want, have map[string]any
			if err := json.Unmarshal([]byte(tt.raw), &want); err != nil {
				t.Fatal(err)
			}
			delete(want, tt.drop)
			if err := json.Unmarshal(got, &have); err != nil {
				t.Fatalf("output %s is not JSON: %v", got, err)
			}
			if !reflect.DeepEqual(have, want) {
				t.Errorf("got %s; want the members %v", got, want)
			}
			var compact bytes.Buffer
			_ = json.Compact(&compact, got)
			if compact.String() != string(got) {
				t.Errorf("output %q is not compact", got)
			}
		})
	}
	for _, bad := range []string{`[1,2]`, `"s"`, ``, `{"a":1`} {
		if _, err := withoutMember([]byte(bad), "start_url"); err == nil {
			t.Errorf("withoutMember(%q): no error; want one", bad)
		}
	}
}

func TestEncodeEventAsJSONMarshal(t *testing.T) {
	meeting := json.RawMessage(`{"id":85746065432,"topic":"a \"b\"","settings":{"x":[1,2]}}`)
	for _, ev := range []any{
		meetingCreated{JobRef: messages.JobRef{JobID: "m-7"}, UserID: "james@bond.com", Meeting: meeting},
		meetingCreated{JobRef: messages.JobRef{JobID: "m-7", Account: "school-b"}, UserID: "<h&st>", Meeting: meeting},
		meetingUpdated{JobRef: messages.JobRef{JobID: "u-1"}, MeetingID: 85746065432, Meeting: meeting},
		meetingUpdated{JobRef: messages.JobRef{JobID: "u-1", Account: "b"}, MeetingID: 1},
	} {
		got, err := encodeEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(ev)
		if string(got) != string(want) {
			t.Errorf("encodeEvent(%+v) = %s; want %s", ev, got, want)
		}
	}
}
