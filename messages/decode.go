package messages

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zoomworker/zoom-worker/internal/jsonscan"
)

// ValidationError says which field of a job is wrong and why. The worker
// answers it with a job-failed event of kind invalid_job: a retry cannot fix
// the body.
type ValidationError struct {
	Field  string // JSON path such as "meeting.topic"; "" for the body as a whole
	Reason string
}

// Error returns "invalid job: <field>: <reason>", or "invalid job: <reason>"
// where Field is empty.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid job: " + e.Reason
	}
	return "invalid job: " + e.Field + ": " + e.Reason
}

// ErrUnknownSubject matches (with errors.Is) the error DecodeJob returns for
// a subject that is not one of the job subjects.
var ErrUnknownSubject = errors.New("unknown job subject")

// unknownSubjectError is a *ValidationError (the message is not a valid job:
// the worker fails it as invalid_job) that also matches ErrUnknownSubject.
type unknownSubjectError struct{ *ValidationError }

func (e unknownSubjectError) Unwrap() []error {
	return []error{e.ValidationError, ErrUnknownSubject}
}

// MaxJSONDepth is how deeply a job body may nest objects and arrays. Zoom's
// own request bodies nest a few levels; the limit stops a body built to make
// decoding slow.
const MaxJSONDepth = 32

// DecodeJob decodes and validates the body of a job published on subject and
// returns it as a concrete pointer type: *CreateUserJob, *CreateMeetingJob,
// *UpdateMeetingJob, *DeleteMeetingJob, *DeleteUserJob or *AddRegistrantJob.
//
// Every body that is not a valid job gives a *ValidationError (reach it with
// errors.As): larger than MaxJobBytes, not JSON, not UTF-8, data after the
// JSON value, nested deeper than MaxJSONDepth, not an object, a top-level
// field the job does not have (keys match exactly), a value of the wrong type,
// or anything Validate rejects. The contents of "meeting", "user_info" and "registrant" are
// Zoom's and pass through: unknown fields there are kept, not rejected.
//
// An unknown subject also gives a *ValidationError, which in addition matches
// ErrUnknownSubject with errors.Is.
func DecodeJob(subject string, body []byte) (Job, error) {
	newJob, ok := jobTypes[subject]
	if !ok {
		return nil, unknownSubjectError{&ValidationError{
			Reason: fmt.Sprintf("unknown job subject %q", clip(subject))}}
	}
	if job, err, ok := decodeJobFast(newJob(), body); ok {
		return job, err
	}
	return decodeJob(newJob(), body)
}

// decodeJobFast is DecodeJob for a body that is one JSON object of UTF-8
// text within the limits, whose top-level keys are the job's fields
// spelled without escapes: the common case, checked by encoding/json and
// read into the job in one scan (decodeFlat), with no map of the members. ok is false where it cannot tell; decodeJob
// then says what is wrong with the body, as it always did.
func decodeJobFast(job Job, body []byte) (_ Job, _ error, ok bool) {
	if len(body) > MaxJobBytes || !utf8.Valid(body) {
		return nil, nil, false
	}
	if !jsonscan.Valid(body) {
		return nil, nil, false
	}
	depth, ok := decodeFlat(body, reflect.ValueOf(job).Elem(), nil)
	if !ok || depth > MaxJSONDepth {
		return nil, nil, false
	}
	if u, ok := job.(*UpdateMeetingJob); ok {
		var meeting []byte
		jsonscan.ObjectMembers(body, func(key, value []byte) bool {
			if string(key) == "meeting" {
				meeting = value // the last one, as in a map of the members
			}
			return true
		})
		if err := checkNothingDropped("meeting", meeting, u.Meeting); err != nil {
			return nil, err, true
		}
	}
	if err := job.Validate(); err != nil {
		return nil, err, true
	}
	return job, nil, true
}

// decodeJob is DecodeJob for any body.
func decodeJob(job Job, body []byte) (Job, error) {
	fields, err := topLevelObject(body)
	if err != nil {
		return nil, err
	}
	names := jsonNames(reflect.TypeOf(job).Elem())
	for _, k := range sortedKeys(fields) {
		if _, ok := names[k]; !ok {
			return nil, &ValidationError{Field: clip(k), Reason: "unknown field"}
		}
	}
	if err := json.Unmarshal(body, job); err != nil {
		return nil, decodeError(err)
	}
	if u, ok := job.(*UpdateMeetingJob); ok {
		if err := checkNothingDropped("meeting", fields["meeting"], u.Meeting); err != nil {
			return nil, err
		}
	}
	if err := job.Validate(); err != nil {
		return nil, err
	}
	return job, nil
}

// JobSubjects returns the job subjects, in the contract's order: every
// subject DecodeJob takes. A list of job subjects elsewhere (the console's
// filter, the worker's kinds, their tests) starts from it, so a new job
// type cannot be left out of one.
func JobSubjects() []string { return slices.Clone(jobSubjects) }

var jobSubjects = []string{SubjectUserCreate, SubjectMeetingCreate, SubjectMeetingUpdate,
	SubjectMeetingDelete, SubjectUserDelete, SubjectRegistrantAdd}

// jobTypes makes the empty job of each job subject for DecodeJob.
var jobTypes = map[string]func() Job{
	SubjectUserCreate:    func() Job { return new(CreateUserJob) },
	SubjectMeetingCreate: func() Job { return new(CreateMeetingJob) },
	SubjectMeetingUpdate: func() Job { return new(UpdateMeetingJob) },
	SubjectMeetingDelete: func() Job { return new(DeleteMeetingJob) },
	SubjectUserDelete:    func() Job { return new(DeleteUserJob) },
	SubjectRegistrantAdd: func() Job { return new(AddRegistrantJob) },
}

// topLevelObject checks that body is one JSON object of UTF-8 text within the
// size and depth limits and returns its members.
func topLevelObject(body []byte) (map[string]json.RawMessage, error) {
	if len(body) > MaxJobBytes {
		return nil, &ValidationError{Reason: fmt.Sprintf(
			"body is %d bytes, more than the %d a job may have", len(body), MaxJobBytes)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &ValidationError{Reason: "body is empty, want a JSON object"}
	}
	tooDeep := func() error {
		if depth := jsonDepth(body); depth > MaxJSONDepth {
			return &ValidationError{Reason: fmt.Sprintf(
				"body nests objects and arrays %d deep, more than %d", depth, MaxJSONDepth)}
		}
		return nil
	}
	// The common case in one parse: a valid JSON object.
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil && fields != nil {
		if !utf8.Valid(body) {
			return nil, &ValidationError{Reason: fmt.Sprintf(
				"body is not valid UTF-8 (first bad byte at offset %d)", firstInvalidUTF8(body))}
		}
		if err := tooDeep(); err != nil {
			return nil, err
		}
		return fields, nil
	}
	if !jsonscan.Valid(body) {
		if err := tooDeep(); err != nil {
			return nil, err // encoding/json gives up at 10000 levels
		}
		// Unmarshal into a RawMessage only checks the syntax, and its
		// *json.SyntaxError says what is wrong and where (including data after
		// the value).
		return nil, decodeError(json.Unmarshal(body, new(json.RawMessage)))
	}
	if !utf8.Valid(body) {
		return nil, &ValidationError{Reason: fmt.Sprintf(
			"body is not valid UTF-8 (first bad byte at offset %d)", firstInvalidUTF8(body))}
	}
	if err := tooDeep(); err != nil {
		return nil, err
	}
	if c := bytes.TrimLeft(body, " \t\r\n"); c[0] != '{' {
		return nil, &ValidationError{Reason: "body must be a JSON object, got " + jsonKindOf(c[0])}
	}
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, decodeError(err)
	}
	return fields, nil
}

// checkNothingDropped reports a field of an update's meeting that the body
// names but that would not reach Zoom: a known field with an empty, zero or
// null value, which omitempty leaves out when the job is encoded again. An
// update that quietly skips a change is worse than one that is rejected.
func checkNothingDropped(path string, raw json.RawMessage, spec MeetingSpec) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var sent map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sent); err != nil {
		return nil // not an object: Unmarshal already said so
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return &ValidationError{Field: path, Reason: err.Error()}
	}
	var kept map[string]json.RawMessage
	if err := json.Unmarshal(b, &kept); err != nil {
		return &ValidationError{Field: path, Reason: err.Error()}
	}
	for _, k := range sortedKeys(sent) {
		if _, ok := kept[k]; !ok {
			return &ValidationError{Field: path + "." + k,
				Reason: "an empty, zero or null value cannot be sent in an update; leave the field out"}
		}
	}
	return nil
}

// decodeError turns an encoding/json error into a *ValidationError with a
// reason a publisher can act on.
func decodeError(err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		msg := strings.TrimPrefix(se.Error(), "json: ")
		return &ValidationError{Reason: fmt.Sprintf("body is not valid JSON: %s (at byte offset %d)", msg, se.Offset)}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// encoding/json names a promoted field with the embedded struct's
		// Go name in front ("JobHeader.job_id"); the JSON has no such level.
		return &ValidationError{Field: strings.TrimPrefix(te.Field, "JobHeader."), Reason: typeReason(te)}
	}
	return &ValidationError{Reason: strings.TrimPrefix(err.Error(), "json: ")}
}

// typeReason says what a field should have been, for example
// "must be an integer, got string" or "integer out of range: 1e400".
func typeReason(te *json.UnmarshalTypeError) string {
	want := jsonKindOfType(te.Type)
	got := te.Value
	if num, ok := strings.CutPrefix(got, "number "); ok && want == "an integer" {
		f, err := strconv.ParseFloat(num, 64)
		switch {
		case err != nil || math.Abs(f) >= math.MaxInt64:
			return "integer out of range: " + clip(num)
		case f != math.Trunc(f):
			return "must be an integer, got " + clip(num)
		}
		return "must be a whole number without fraction or exponent, got " + clip(num)
	}
	if got == "bool" {
		got = "boolean"
	}
	if want == "" {
		return "has the wrong type: " + clip(got)
	}
	return "must be " + want + ", got " + clip(got)
}

// jsonKindOfType names the JSON type a Go type decodes from.
func jsonKindOfType(t reflect.Type) string {
	if t == nil {
		return ""
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKindOfType(t.Elem())
	}
	return ""
}

// jsonKindOf names the JSON value that starts with byte c.
func jsonKindOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonDepth returns how deeply the valid JSON text b nests objects and arrays.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	outsideStrings(b, func(c byte) bool {
		switch c {
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
		return true
	})
	return deepest
}

// outsideStrings calls f with each byte of the JSON text b that is not part
// of a string, until f returns false.
func outsideStrings(b []byte, f func(c byte) bool) {
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		default:
			if !f(c) {
				return
			}
		}
	}
}

// firstInvalidUTF8 returns the offset of the first byte of b that does not
// start a valid UTF-8 sequence.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// clip shortens s for an error message: a publisher's bad value may be 64 KiB.
func clip(s string) string { return Truncate(s, 64, "…") }

// Truncate cuts s to at most n bytes, on a character boundary, and ends a
// cut string with mark (which the n bytes do not include). Headers, log
// lines and error messages use it for values a publisher controls.
func Truncate(s string, n int, mark string) string {
	if len(s) <= n {
		return s
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// sortedKeys returns the keys of m in order, so that the first problem
// reported is the same every time.
func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
