package worker

import (
	"encoding/json"
	"errors"

	"github.com/zoomworker/zoom-worker/internal/jsonscan"
)

var errNotObject = errors.New("not a JSON object")

// withoutMember returns the JSON object raw, compacted, without its
// top-level member named drop ("" drops nothing), in one pass and in the
// order Zoom wrote it. raw must be valid JSON (the Zoom client decoded it
// already); what is not an object gives errNotObject. An object whose keys
// hold escapes (which jsonscan does not read) takes the general path:
// decoded into a map, the member deleted, encoded again.
//
// It replaces decoding Zoom's meeting into a map only to delete start_url
// and encoding it again, which the profile showed at about a tenth of the
// worker's CPU per job.
func withoutMember(raw []byte, drop string) ([]byte, error) {
	out := make([]byte, 0, len(raw))
	out = append(out, '{')
	_, ok := jsonscan.ObjectMembers(raw, func(key, value []byte) bool {
		if drop != "" && string(key) == drop {
			return true
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, key...)
		out = append(out, '"', ':')
		out = appendCompact(out, value)
		return true
	})
	if ok {
		return append(out, '}'), nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return nil, errNotObject
	}
	if drop != "" {
		delete(members, drop)
	}
	return json.Marshal(members)
}

// appendCompact appends the JSON value v to out without insignificant
// whitespace.
func appendCompact(out, v []byte) []byte {
	for i := 0; i < len(v); {
		switch c := v[i]; c {
		case '"':
			e := jsonscan.StringEnd(v, i)
			if e < 0 {
				return append(out, v[i:]...)
			}
			out = append(out, v[i:e]...)
			i = e
		case ' ', '\t', '\n', '\r':
			i++
		default:
			out = append(out, c)
			i++
		}
	}
	return out
}

// encodeEvent encodes an event body. Events whose meeting is Zoom's JSON,
// already compact, put it in as it is: json.Marshal would scan and compact
// a json.RawMessage again (the next item of the profile after the map). The
// event is encoded with a one-byte stand-in for the meeting, its last field,
// which is then replaced.
func encodeEvent(ev any) ([]byte, error) {
	var meeting json.RawMessage
	standIn := json.RawMessage("0")
	switch e := ev.(type) {
	case meetingCreated:
		if len(e.Meeting) > 0 {
			meeting, e.Meeting = e.Meeting, standIn
			ev = e
		}
	case meetingUpdated:
		if len(e.Meeting) > 0 {
			meeting, e.Meeting = e.Meeting, standIn
			ev = e
		}
	}
	b, err := json.Marshal(ev)
	if err != nil || meeting == nil {
		return b, err
	}
	out := make([]byte, 0, len(b)+len(meeting))
	out = append(out, b[:len(b)-2]...) // less the stand-in and the closing brace
	out = append(out, meeting...)
	return append(out, '}'), nil
}
