package messages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/zoomworker/zoom-worker/internal/jsonscan"
)

// The Zoom objects the worker passes through (UserInfo, MeetingSpec and
// RegistrantSpec to Zoom, User, Meeting and Registrant from Zoom into events)
// keep every field the worker does not know in Extra, so a field Zoom adds
// later survives a round trip.
//
// Each MarshalJSON/UnmarshalJSON converts to a method-less copy of its type
// (type plain T) and hands it to marshalWithExtra/unmarshalWithExtra, which do
// the work once for all of them.

// MarshalJSON writes the known fields of u, then the fields of u.Extra in
// key order. An Extra key that names a known field is ignored.
func (u UserInfo) MarshalJSON() ([]byte, error) {
	type plain UserInfo
	return marshalWithExtra((*plain)(&u), u.Extra)
}

// UnmarshalJSON reads the known fields of a user_info object into u and
// keeps every other field in u.Extra.
func (u *UserInfo) UnmarshalJSON(data []byte) error {
	type plain UserInfo
	return unmarshalWithExtra(data, (*plain)(u), &u.Extra)
}

func (u *UserInfo) unmarshalValid(data []byte) error {
	type plain UserInfo
	return unmarshalWithExtraValid(data, (*plain)(u), &u.Extra)
}

// MarshalJSON writes the known fields of m, then the fields of m.Extra in
// key order. An Extra key that names a known field is ignored.
func (m MeetingSpec) MarshalJSON() ([]byte, error) {
	type plain MeetingSpec
	return marshalWithExtra((*plain)(&m), m.Extra)
}

// UnmarshalJSON reads the known fields of a meeting object into m and keeps
// every other field in m.Extra.
func (m *MeetingSpec) UnmarshalJSON(data []byte) error {
	type plain MeetingSpec
	return unmarshalWithExtra(data, (*plain)(m), &m.Extra)
}

func (m *MeetingSpec) unmarshalValid(data []byte) error {
	type plain MeetingSpec
	return unmarshalWithExtraValid(data, (*plain)(m), &m.Extra)
}

// MarshalJSON writes the known fields of u, then the fields of u.Extra in
// key order. An Extra key that names a known field is ignored.
func (u User) MarshalJSON() ([]byte, error) {
	type plain User
	return marshalWithExtra((*plain)(&u), u.Extra)
}

// UnmarshalJSON reads the known fields of a Zoom user into u and keeps every
// other field in u.Extra.
func (u *User) UnmarshalJSON(data []byte) error {
	type plain User
	return unmarshalWithExtra(data, (*plain)(u), &u.Extra)
}

func (u *User) unmarshalValid(data []byte) error {
	type plain User
	return unmarshalWithExtraValid(data, (*plain)(u), &u.Extra)
}

// MarshalJSON writes the known fields of m, then the fields of m.Extra in
// key order. An Extra key that names a known field is ignored.
func (m Meeting) MarshalJSON() ([]byte, error) {
	type plain Meeting
	return marshalWithExtra((*plain)(&m), m.Extra)
}

// UnmarshalJSON reads the known fields of a Zoom meeting into m and keeps
// every other field in m.Extra.
func (m *Meeting) UnmarshalJSON(data []byte) error {
	type plain Meeting
	return unmarshalWithExtra(data, (*plain)(m), &m.Extra)
}

func (m *Meeting) unmarshalValid(data []byte) error {
	type plain Meeting
	return unmarshalWithExtraValid(data, (*plain)(m), &m.Extra)
}

// MarshalJSON writes the known fields of r, then the fields of r.Extra in
// key order. An Extra key that names a known field is ignored.
func (r RegistrantSpec) MarshalJSON() ([]byte, error) {
	type plain RegistrantSpec
	return marshalWithExtra((*plain)(&r), r.Extra)
}

// UnmarshalJSON reads the known fields of a registrant object into r and
// keeps every other field in r.Extra.
func (r *RegistrantSpec) UnmarshalJSON(data []byte) error {
	type plain RegistrantSpec
	return unmarshalWithExtra(data, (*plain)(r), &r.Extra)
}

func (r *RegistrantSpec) unmarshalValid(data []byte) error {
	type plain RegistrantSpec
	return unmarshalWithExtraValid(data, (*plain)(r), &r.Extra)
}

// MarshalJSON writes the known fields of r, then the fields of r.Extra in
// key order. An Extra key that names a known field is ignored.
func (r Registrant) MarshalJSON() ([]byte, error) {
	type plain Registrant
	return marshalWithExtra((*plain)(&r), r.Extra)
}

// UnmarshalJSON reads the known fields of a Zoom registrant into r and
// keeps every other field in r.Extra.
func (r *Registrant) UnmarshalJSON(data []byte) error {
	type plain Registrant
	return unmarshalWithExtra(data, (*plain)(r), &r.Extra)
}

func (r *Registrant) unmarshalValid(data []byte) error {
	type plain Registrant
	return unmarshalWithExtraValid(data, (*plain)(r), &r.Extra)
}

// marshalWithExtra encodes known (a pointer to a struct without JSON methods)
// as encoding/json does, then appends the members of extra whose keys are not
// JSON names of known's fields, sorted by key so that the same value always
// gives the same bytes (events are published with the same body each time).
func marshalWithExtra[T any](known *T, extra map[string]json.RawMessage) ([]byte, error) {
	if b, ok := encodeFlat(make([]byte, 0, 512), reflect.ValueOf(known).Elem()); ok && len(extra) == 0 {
		return b, nil
	}
	b, err := json.Marshal(known)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	names := jsonNames(reflect.TypeFor[T]())
	keys := make([]string, 0, len(extra))
	for k := range extra {
		if _, isKnown := names[k]; !isKnown {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return b, nil
	}
	slices.Sort(keys)

	var buf bytes.Buffer
	buf.Grow(len(b) + 32*len(keys))
	buf.Write(b[:len(b)-1]) // without the closing brace
	first := len(b) == 2    // known was "{}"
	for _, k := range keys {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		buf.Write(kb)
		buf.WriteByte(':')
		v := extra[k]
		if len(v) == 0 {
			buf.WriteString("null") // as encoding/json writes a nil RawMessage
			continue
		}
		if err := json.Compact(&buf, v); err != nil {
			return nil, fmt.Errorf("messages: extra field %q is not valid JSON: %w", k, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// unmarshalWithExtra decodes the JSON object data into known (a pointer to a
// struct without JSON methods) and every member whose key is not the exact
// JSON name of one of known's fields into *extra (nil when there is none).
//
// Keys match exactly: encoding/json would let "Topic" fill the topic field,
// but Zoom's names are case-sensitive, so "Topic" is passed through as is.
// JSON null leaves known and *extra unchanged, as encoding/json does.
func unmarshalWithExtra[T any](data []byte, known *T, extra *map[string]json.RawMessage) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	if !jsonscan.Valid(data) {
		return unmarshalWithExtraMap(data, known, extra, jsonNames(reflect.TypeFor[T]())) // says what is wrong
	}
	return unmarshalWithExtraValid(data, known, extra)
}

// unmarshalWithExtraValid is unmarshalWithExtra for valid JSON.
func unmarshalWithExtraValid[T any](data []byte, known *T, extra *map[string]json.RawMessage) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	names := jsonNames(reflect.TypeFor[T]())
	if isCompact(data) {
		// The common case: a compact object whose keys hold no escapes
		// and are UTF-8 (encoding/json would change them). Its members are
		// read off data into known (decodeFlat) or, where that gives up,
		// data itself is decoded into known (see below), with no map of
		// all the members.
		var rest map[string]json.RawMessage
		keep := func(key, value []byte) bool {
			if rest == nil {
				rest = make(map[string]json.RawMessage)
			}
			rest[string(key)] = slices.Clone(value)
			return true
		}
		if _, ok := decodeFlat(data, reflect.ValueOf(known).Elem(), keep); ok && !foldsToKnown(rest, names) {
			*extra = rest
			return nil
		}
		rest = nil
		_, ok := jsonscan.ObjectMembers(data, func(key, value []byte) bool {
			if !utf8.Valid(key) {
				return false
			}
			if _, isKnown := names[string(key)]; !isKnown {
				keep(key, value)
			}
			return true
		})
		if ok && !foldsToKnown(rest, names) {
			err := json.Unmarshal(data, known)
			*extra = rest
			return err
		}
	}
	return unmarshalWithExtraMap(data, known, extra, names)
}

// unmarshalWithExtraMap is unmarshalWithExtra for any object: by way of a
// map of its members. names are the JSON names of T's fields.
func unmarshalWithExtraMap[T any](data []byte, known *T, extra *map[string]json.RawMessage, names map[string]struct{}) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	var mine, rest map[string]json.RawMessage
	for k, v := range all {
		if _, isKnown := names[k]; isKnown {
			if mine == nil {
				mine = make(map[string]json.RawMessage, len(names))
			}
			mine[k] = v
			continue
		}
		if rest == nil {
			rest = make(map[string]json.RawMessage)
		}
		rest[k] = v
	}
	*extra = rest
	if mine == nil {
		return nil
	}
	if !foldsToKnown(rest, names) && isCompact(data) {
		// Decoding data itself fills the same fields, and json.RawMessage
		// fields get the same bytes: no extra key would match a known one by
		// encoding/json's case-insensitive rule, and there is no whitespace
		// for encoding mine to take out. One encode and decode fewer per job.
		return json.Unmarshal(data, known)
	}
	b, err := json.Marshal(mine)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, known)
}

// foldsToKnown reports whether an extra key matches a known name but for
// case, which encoding/json would decode into the known field.
func foldsToKnown(rest map[string]json.RawMessage, names map[string]struct{}) bool {
	for k := range rest {
		for n := range names {
			if strings.EqualFold(k, n) {
				return true
			}
		}
	}
	return false
}

// isCompact reports whether b has no whitespace outside its strings.
func isCompact(b []byte) bool {
	compact := true
	outsideStrings(b, func(c byte) bool {
		compact = c != ' ' && c != '\t' && c != '\n' && c != '\r'
		return compact
	})
	return compact
}

// jsonNameCache maps a struct type to the set of its fields' JSON names.
var jsonNameCache sync.Map // reflect.Type -> map[string]struct{}

// jsonNames returns the JSON names encoding/json uses for the exported fields
// of struct type t (fields tagged "-" have none), the fields of an embedded
// struct without a JSON name (the jobs' JobHeader) included, as encoding/json
// promotes them.
func jsonNames(t reflect.Type) map[string]struct{} {
	if v, ok := jsonNameCache.Load(t); ok {
		return v.(map[string]struct{})
	}
	names := make(map[string]struct{}, t.NumField())
	addJSONNames(names, t)
	jsonNameCache.Store(t, names)
	return names
}

func addJSONNames(names map[string]struct{}, t reflect.Type) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			addJSONNames(names, f.Type)
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = struct{}{}
	}
}
