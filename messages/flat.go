package messages

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/zoomworker/zoom-worker/internal/jsonscan"
)

// decodeFlat fills the jobs and the pass-through types from valid JSON
// without encoding/json's decoder, where that is plain: members read off
// the text in one scan (jsonscan.ObjectMembers), strings without escapes and
// integers without fraction or exponent set directly, json.RawMessage
// fields copied. Anything else (a null, an escape, a number that is not a
// plain integer, a field of another type that is not one of this package's)
// goes to encoding/json for that field; a value encoding/json would refuse
// makes decodeFlat give up, and its caller then decodes the text with
// encoding/json, which fills the same fields with the same values and says
// what is wrong. The fuzz tests FuzzDecodeJobFastPath and
// FuzzMeetingSpecFastPath hold the two to the same answers.

// flatKind is how decodeFlat sets one field.
type flatKind uint8

const (
	flatString flatKind = iota // a string field
	flatInt                    // a signed integer field
	flatRaw                    // a json.RawMessage field
	flatValid                  // a field of a type with unmarshalValid (this package's)
	flatOther                  // any other: encoding/json decodes the value
)

type flatField struct {
	index     []int
	kind      flatKind
	omitEmpty bool
}

// flatFields maps the JSON names of a struct type's fields to how they are
// set; nil where decodeFlat cannot fill the type (a ",string" option, two
// fields of one name, a name that is not ASCII).
type flatFields map[string]flatField

var flatFieldCache sync.Map // reflect.Type -> flatFields

var (
	rawMessageType       = reflect.TypeFor[json.RawMessage]()
	jsonUnmarshalerType  = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType  = reflect.TypeFor[encoding.TextUnmarshaler]()
	validUnmarshalerType = reflect.TypeFor[validUnmarshaler]()
)

// validUnmarshaler is UnmarshalJSON for text known to be valid JSON.
type validUnmarshaler interface {
	unmarshalValid(data []byte) error
}

func flatFieldsOf(t reflect.Type) flatFields {
	if v, ok := flatFieldCache.Load(t); ok {
		return v.(flatFields)
	}
	fields := flatFields{}
	if !addFlatFields(fields, t, nil) {
		fields = nil
	}
	flatFieldCache.Store(t, fields)
	return fields
}

// addFlatFields adds t's fields as jsonNames names them.
func addFlatFields(fields flatFields, t reflect.Type, index []int) bool {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		at := append(slices.Clone(index), f.Index...)
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if !addFlatFields(fields, f.Type, at) {
				return false
			}
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		if strings.Contains(opts, "string") {
			return false
		}
		if name == "" {
			name = f.Name
		}
		if _, twice := fields[name]; twice || !isASCII([]byte(name)) {
			return false // (DecodePlain's fold check counts on ASCII names)
		}
		fields[name] = flatField{index: at, kind: flatKindOf(f.Type), omitEmpty: strings.Contains(opts, "omitempty")}
	}
	return true
}

func flatKindOf(t reflect.Type) flatKind {
	p := reflect.PointerTo(t)
	switch {
	case t == rawMessageType:
		return flatRaw
	case p.Implements(validUnmarshalerType):
		return flatValid
	case p.Implements(jsonUnmarshalerType) || p.Implements(textUnmarshalerType):
		return flatOther
	}
	switch t.Kind() {
	case reflect.String:
		return flatString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return flatInt
	}
	return flatOther
}

// decodeFlat decodes the valid JSON object data into the struct v. extra,
// if set, gets the members whose key names no field, and says whether to
// go on; with extra nil such a member makes decodeFlat give up. It returns how
// deeply data nests (as jsonDepth) and false where it gives up; v may then
// hold some of data's fields.
func decodeFlat(data []byte, v reflect.Value, extra func(key, value []byte) bool) (depth int, ok bool) {
	fields := flatFieldsOf(v.Type())
	if fields == nil {
		return 0, false
	}
	return jsonscan.ObjectMembers(data, func(key, value []byte) bool {
		f, known := fields[string(key)]
		if !known {
			return extra != nil && utf8.Valid(key) && extra(key, value)
		}
		fv := v.FieldByIndex(f.index)
		if value[0] == 'n' && f.kind != flatRaw {
			return false // null: encoding/json's rules for it vary by type
		}
		switch f.kind {
		case flatString:
			s, ok := plainString(value)
			if !ok {
				return false
			}
			fv.SetString(s)
		case flatInt:
			n, ok := plainInt(value)
			if !ok || fv.OverflowInt(n) {
				return false
			}
			fv.SetInt(n)
		case flatRaw:
			fv.SetBytes(slices.Clone(value))
		case flatValid:
			return fv.Addr().Interface().(validUnmarshaler).unmarshalValid(value) == nil
		default:
			return json.Unmarshal(value, fv.Addr().Interface()) == nil
		}
		return true
	})
}

// DecodePlain is a fast path of json.Unmarshal(data, v) for v a pointer
// to a struct without JSON methods, such as a copy of User or Meeting
// without them: it reports whether it decoded data into *v as
// json.Unmarshal would (members that name no field skipped). Where it
// reports false, *v may hold some of data's fields, and json.Unmarshal(data,
// v) then sets them to the same values and says what is wrong, if anything.
func DecodePlain(data []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct || !jsonscan.Valid(data) {
		return false
	}
	fields := flatFieldsOf(rv.Elem().Type())
	skip := func(key, _ []byte) bool {
		ascii := isASCII(key)
		for name := range fields {
			// An ASCII key folds only to a name of its length (the names
			// are ASCII); another may fold to a name of any (K, U+212A).
			if (!ascii || len(name) == len(key)) && strings.EqualFold(string(key), name) {
				return false // encoding/json would fill that field
			}
		}
		return true
	}
	_, ok := decodeFlat(bytes.TrimSpace(data), rv.Elem(), skip)
	return ok
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plainString returns the JSON string b holds when it has no escape and is
// UTF-8 (encoding/json would change what is not).
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' {
		return "", false
	}
	s := b[1 : len(b)-1]
	for _, c := range s {
		if c == '\\' || c < ' ' {
			return "", false
		}
		if c >= utf8.RuneSelf {
			if !utf8.Valid(s) {
				return "", false
			}
			break
		}
	}
	if slices.Contains(s, '\\') {
		return "", false
	}
	return string(s), true
}

// plainInt returns the JSON number b holds when it is an integer of at
// most 18 digits, without fraction or exponent.
func plainInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// encodeFlat is json.Marshal(v) for a struct whose fields are all plain:
// strings and integers, json.RawMessage that is compact, valid and needs
// no escaping. It returns false for anything else (a field of another
// kind, a string to escape), and the caller then encodes v with
// encoding/json. FuzzMarshalFastPath holds the two to the same bytes.
func encodeFlat(b []byte, v reflect.Value) ([]byte, bool) {
	fields := flatFieldsOf(v.Type())
	if fields == nil {
		return b, false
	}
	b = append(b, '{')
	first := true
	key := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(append(append(b, '"'), name...), '"', ':')
	}
	for _, f := range flatOrder(v.Type(), fields) {
		fv := v.FieldByIndex(f.index)
		switch f.kind {
		case flatString:
			s := fv.String()
			if s == "" && f.omitEmpty {
				continue
			}
			if !plainToEncode(s) {
				return b, false
			}
			key(f.name)
			b = append(append(append(b, '"'), s...), '"')
		case flatInt:
			n := fv.Int()
			if n == 0 && f.omitEmpty {
				continue
			}
			key(f.name)
			b = strconv.AppendInt(b, n, 10)
		case flatRaw:
			raw := fv.Bytes()
			if len(raw) == 0 {
				if f.omitEmpty {
					continue
				}
				raw = []byte("null")
			}
			if !isCompact(raw) || !htmlSafe(raw) || !jsonscan.Valid(raw) {
				return b, false
			}
			key(f.name)
			b = append(b, raw...)
		default:
			return b, false
		}
	}
	return append(b, '}'), true
}

// flatOrder is fields in the order of the struct's fields, as
// encoding/json writes them.
func flatOrder(t reflect.Type, fields flatFields) []namedFlatField {
	if v, ok := flatOrderCache.Load(t); ok {
		return v.([]namedFlatField)
	}
	order := make([]namedFlatField, 0, len(fields))
	for name, f := range fields {
		order = append(order, namedFlatField{flatField: f, name: name})
	}
	slices.SortFunc(order, func(a, b namedFlatField) int { return slices.Compare(a.index, b.index) })
	flatOrderCache.Store(t, order)
	return order
}

type namedFlatField struct {
	flatField
	name string
}

var flatOrderCache sync.Map // reflect.Type -> []namedFlatField

// plainToEncode reports whether encoding/json writes s as it is between
// quotes: printable ASCII other than the quote, the backslash and the
// HTML characters it escapes, or UTF-8 other than U+2028 and U+2029.
func plainToEncode(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			ascii = false
		case c < ' ', c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return ascii || utf8.ValidString(s) && !strings.Contains(s, "\u2028") && !strings.Contains(s, "\u2029")
}

// htmlSafe reports whether the compact JSON text b holds none of the
// characters encoding/json escapes in a json.RawMessage: <, >, &, U+2028
// and U+2029.
func htmlSafe(b []byte) bool {
	for i, c := range b {
		switch c {
		case '<', '>', '&':
			return false
		case 0xE2:
			if i+2 < len(b) && b[i+1] == 0x80 && b[i+2]&^1 == 0xA8 {
				return false
			}
		}
	}
	return true
}
