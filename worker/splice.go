package worker

import (
	"encoding/json"
	"errors"
)

var errNotObject = errors.New("not a JSON object")

// withoutMember returns the JSON object raw, compacted, without its
// top-level member named drop ("" drops nothing), in one pass and in the
// order Zoom wrote it. raw must be valid JSON (the Zoom client decoded it
// already); what is not an object gives errNotObject.
//
// It replaces decoding Zoom's meeting into a map only to delete start_url
// and encoding it again, which the profile showed at about a tenth of the
// worker's CPU per job.
func withoutMember(raw []byte, drop string) ([]byte, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, errNotObject
	}
	out := make([]byte, 0, len(raw))
	out = append(out, '{')
	i++
	first := true
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return nil, errNotObject
		}
		if raw[i] == '}' {
			break
		}
		ke, err := skipString(raw, i)
		if err != nil {
			return nil, err
		}
		key := raw[i:ke]
		i = skipSpace(raw, ke)
		if i >= len(raw) || raw[i] != ':' {
			return nil, errNotObject
		}
		keep := drop == "" || len(key) != len(drop)+2 || string(key[1:len(key)-1]) != drop
		mark := len(out)
		if keep {
			if !first {
				out = append(out, ',')
			}
			out = append(out, key...)
			out = append(out, ':')
		}
		if out, i, err = appendValue(out, raw, skipSpace(raw, i+1)); err != nil {
			return nil, err
		}
		if keep {
			first = false
		} else {
			out = out[:mark]
		}
		i = skipSpace(raw, i)
		if i < len(raw) && raw[i] == ',' {
			i++
			continue
		}
		if i < len(raw) && raw[i] == '}' {
			break
		}
		return nil, errNotObject
	}
	return append(out, '}'), nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errNotObject
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errNotObject
}

// appendValue appends the value that starts at raw[i] to out without
// insignificant whitespace and returns the index where it ends (a ',' or
// '}' of the enclosing object).
func appendValue(out, raw []byte, i int) ([]byte, int, error) {
	depth := 0
	for i < len(raw) {
		switch c := raw[i]; c {
		case '"':
			e, err := skipString(raw, i)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, raw[i:e]...)
			i = e
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return out, i, nil
			}
			depth--
		case ',':
			if depth == 0 {
				return out, i, nil
			}
		case ' ', '\t', '\n', '\r':
			i++
			continue
		}
		out = append(out, raw[i])
		i++
	}
	return nil, 0, errNotObject
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
