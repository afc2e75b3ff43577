package messages_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
)

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// TestPassThroughRoundTrip checks that every field of Zoom's objects, known
// or not, survives decoding and encoding again: a field Zoom adds later
// reaches Zoom (jobs) or subscribers (events) unchanged.
func TestPassThroughRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		v    any // pointer to a zero value of the type
	}{
		{"UserInfo", `{"email":"a@example.com","type":1,"first_name":"A","feature":{"zoom_phone":true,"zoom_one_type":72057594037927936},"plan_united_type":"1","division_ids":["d1"]}`, new(messages.UserInfo)},
		{"MeetingSpec", `{"topic":"Demo","type":8,"start_time":"2026-12-05T12:00:00Z","recurrence":{"type":1,"future_field":[1,{"x":null}]},"settings":{"host_video":false,"approval_type":0},"default_password":false,"tracking_fields":[{"field":"f","value":"v"}],"pre_schedule":false,"template_id":"abc=="}`, new(messages.MeetingSpec)},
		{"User", `{"id":"wAdE5hVfRUy3k305kAjBmA","email":"a@example.com","type":1,"status":"active","pmi":1234567890,"language":"en-US","custom_attributes":[{"key":"k","value":"v"}]}`, new(messages.User)},
		{"Meeting", `{"id":85746065432,"uuid":"AoHcLp0rRF6i1rjALIK8Pg==","topic":"Demo","type":2,"h323_password":"123456","pstn_password":"123456","encrypted_password":"x","pre_schedule":false,"settings":{"waiting_room":true},"occurrences":[{"occurrence_id":"1648194360000","status":"available"}]}`, new(messages.Meeting)},
		{"empty object", `{}`, new(messages.MeetingSpec)},
		{"unknown fields only", `{"brand_new":{"deep":[1,2,3]},"z":true}`, new(messages.MeetingSpec)},
		{"key that differs from a known one only in case", `{"topic":"a","Topic":"b"}`, new(messages.MeetingSpec)},
		{"numbers beyond float64", `{"id":1,"big":123456789012345678901234567890,"precise":0.1000000000000000055511151231257827}`, new(messages.Meeting)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := json.Unmarshal([]byte(tc.in), tc.v); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			got, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !jsonEqual(t, got, []byte(tc.in)) {
				t.Errorf("round trip:\n got %s\nwant %s", got, tc.in)
			}
			// Numbers are kept as Zoom wrote them, not through float64.
			if strings.Contains(tc.in, "123456789012345678901234567890") && !bytes.Contains(got, []byte("123456789012345678901234567890")) {
				t.Errorf("big number lost: %s", got)
			}
		})
	}
}

func TestUnmarshalKeepsOnlyUnknownFieldsInExtra(t *testing.T) {
	var m messages.MeetingSpec
	in := `{"topic":"Demo","Topic":"other case","duration":45,"pre_schedule":true,"settings":{"a":1}}`
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if m.Topic != "Demo" || m.Duration != 45 || string(m.Settings) != `{"a":1}` {
		t.Errorf("known fields = %+v, want topic Demo, duration 45, settings {\"a\":1}", m)
	}
	var keys []string
	for k := range m.Extra {
		keys = append(keys, k)
	}
	if len(m.Extra) != 2 || string(m.Extra["pre_schedule"]) != "true" || string(m.Extra["Topic"]) != `"other case"` {
		t.Errorf("Extra = %v (keys %v), want pre_schedule and Topic only", m.Extra, keys)
	}
}

func TestUnmarshalWithoutUnknownFieldsLeavesExtraNil(t *testing.T) {
	var u messages.User
	if err := json.Unmarshal([]byte(`{"id":"x","email":"a@example.com"}`), &u); err != nil {
		t.Fatal(err)
	}
	if u.Extra != nil {
		t.Errorf("Extra = %v, want nil", u.Extra)
	}
}

func TestMarshalExtraNeverOverridesKnownFields(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{
			name: "known field set",
			v:    messages.MeetingSpec{Topic: "known", Extra: map[string]json.RawMessage{"topic": json.RawMessage(`"extra"`), "z": json.RawMessage(`1`)}},
			want: `{"topic":"known","z":1}`,
		},
		{
			name: "known field empty and omitted",
			v:    messages.MeetingSpec{Extra: map[string]json.RawMessage{"topic": json.RawMessage(`"extra"`), "settings": json.RawMessage(`{}`)}},
			want: `{}`,
		},
		{
			name: "field without omitempty",
			v:    messages.UserInfo{Email: "a@example.com", Extra: map[string]json.RawMessage{"type": json.RawMessage(`99`)}},
			want: `{"email":"a@example.com","type":0}`,
		},
		{
			name: "Extra is written in key order after the known fields",
			v:    messages.User{ID: "u", Extra: map[string]json.RawMessage{"b": json.RawMessage(`2`), "a": json.RawMessage(` [ 1 , 2 ] `), "c": nil}},
			want: `{"id":"u","a":[1,2],"b":2,"c":null}`,
		},
		{
			name: "Extra keys are escaped",
			v:    messages.Meeting{ID: 1, Extra: map[string]json.RawMessage{"a\"b": json.RawMessage(`true`)}},
			want: `{"id":1,"a\"b":true}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("Marshal =\n %s\nwant\n %s", got, tc.want)
			}
		})
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	m := messages.Meeting{ID: 1, Extra: map[string]json.RawMessage{}}
	for _, k := range []string{"q", "w", "e", "r", "t", "y", "u", "i", "o", "p"} {
		m.Extra[k] = json.RawMessage(`"` + k + `"`)
	}
	first, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		got, _ := json.Marshal(m)
		if !bytes.Equal(got, first) {
			t.Fatalf("Marshal gave %s, then %s", first, got)
		}
	}
}

func TestMarshalRejectsInvalidExtra(t *testing.T) {
	m := messages.MeetingSpec{Extra: map[string]json.RawMessage{"bad": json.RawMessage(`{`)}}
	if b, err := json.Marshal(m); err == nil {
		t.Fatalf("Marshal = %s, nil; want an error for invalid JSON in Extra", b)
	}
}

func TestUnmarshalNullKeepsValue(t *testing.T) {
	u := messages.User{ID: "x", Extra: map[string]json.RawMessage{"a": json.RawMessage("1")}}
	if err := json.Unmarshal([]byte(`null`), &u); err != nil {
		t.Fatal(err)
	}
	if u.ID != "x" || len(u.Extra) != 1 {
		t.Errorf("after null: %+v, want it unchanged", u)
	}
}

func TestUnmarshalReportsNestedTypeErrors(t *testing.T) {
	var ev messages.MeetingCreated
	err := json.Unmarshal([]byte(`{"job_id":"m-7","user_id":"me","meeting":{"id":"85746065432"}}`), &ev)
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "meeting.id" {
		t.Fatalf("Unmarshal = %v, want a *json.UnmarshalTypeError on meeting.id", err)
	}
}

// TestEventsRoundTripWithExtra checks pass-through inside a whole event.
func TestEventsRoundTripWithExtra(t *testing.T) {
	in := `{"job_id":"m-7","user_id":"james@bond.com","meeting":{"id":85746065432,"topic":"Demo","zoom_new":{"x":1}}}`
	var ev messages.MeetingCreated
	if err := json.Unmarshal([]byte(in), &ev); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, got, []byte(in)) {
		t.Errorf("round trip:\n got %s\nwant %s", got, in)
	}
}
