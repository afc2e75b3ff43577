package worker

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
)

// The worker encodes meeting events through its own structs (the meeting
// already encoded); they must say exactly what the contract's types say.
func TestEventWireTypesMatchTheContract(t *testing.T) {
	meeting := `{"id":85746065432,"join_url":"https://zoom.us/j/85746065432","topic":"Demo","x_new_field":{"a":1}}`
	tests := []struct {
		name     string
		internal any
		public   any
	}{
		{"meeting.created", meetingCreated{JobRef: messages.JobRef{JobID: "m-7", Account: "b"}, UserID: "james@bond.com", Meeting: json.RawMessage(meeting)},
			&messages.MeetingCreated{}},
		{"meeting.updated", meetingUpdated{JobRef: messages.JobRef{JobID: "u-1"}, MeetingID: 85746065432, Meeting: json.RawMessage(meeting)},
			&messages.MeetingUpdated{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.internal)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, tt.public); err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(tt.public)
			var g, w map[string]any
			_ = json.Unmarshal(got, &g)
			_ = json.Unmarshal(want, &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("internal encoding\n %s\ndiffers from the contract type's\n %s", got, want)
			}
		})
	}
}
