package messages

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// DecodeJobSlow is DecodeJob without its fast path.
func DecodeJobSlow(subject string, body []byte) (Job, error) {
	newJob, ok := jobTypes[subject]
	if !ok {
		return DecodeJob(subject, body)
	}
	return decodeJob(newJob(), body)
}

// UnmarshalMeetingSpecSlow is MeetingSpec.UnmarshalJSON without its fast path.
func UnmarshalMeetingSpecSlow(data []byte, m *MeetingSpec) error {
	type plain MeetingSpec
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	return unmarshalWithExtraMap(data, (*plain)(m), &m.Extra, jsonNames(reflect.TypeFor[plain]()))
}

// MarshalMeetingSpecSlow is MeetingSpec.MarshalJSON without its fast path:
// encoding/json's encoding of its fields.
func MarshalMeetingSpecSlow(m MeetingSpec) ([]byte, error) {
	type plain MeetingSpec
	p := plain(m)
	p.Extra = nil
	return json.Marshal(&p)
}

// DecodedSubjects is every subject DecodeJob has a job type for, and the
// subject that type names.
func DecodedSubjects() map[string]string {
	m := make(map[string]string, len(jobTypes))
	for s, newJob := range jobTypes {
		m[s] = newJob().Subject()
	}
	return m
}
