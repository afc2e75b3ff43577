package zoomtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// answer is what an operation answers; serveAPI writes it (or holds or
// drops it first).
type answer struct {
	status int
	header http.Header // extra headers; may be nil
	body   any         // marshalled as JSON; nil means no body
}

// errorBody is the body of Zoom's error answers.
type errorBody struct {
	Code    int          `json:"code"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
}

// fieldError is one entry of the "errors" array of a validation answer.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Zoom's error codes and messages that the fake answers with.
const (
	codeInvalidToken   = 124
	codeInvalidParam   = 300
	codeUserNotFound   = 1001
	codeUserExists     = 1005
	codeMeetingMissing = 3001

	msgInvalidToken = "Invalid access token."
	msgExpiredToken = "Access token is expired."
	msgBadJSON      = "Request Body should be a valid JSON object."
	msgValidation   = "Validation Failed."
	msgQPS          = "You have reached the maximum per-second rate limit for this API. Try again later."
	msgInternal     = "Internal Error"
)

func zoomError(status, code int, msg string) answer {
	return answer{status: status, body: errorBody{Code: code, Message: msg}}
}

// problems collects the fields a request body gets wrong.
type problems []fieldError

// invalid adds field with Zoom's message for it, "Invalid field.".
func (p *problems) invalid(field string) {
	*p = append(*p, fieldError{Field: field, Message: "Invalid field."})
}

// validationFailed is Zoom's answer to a body that breaks the schema:
// 400, code 300, "Validation Failed." and the fields at fault.
func validationFailed(errs ...fieldError) answer {
	return answer{status: http.StatusBadRequest, body: errorBody{Code: codeInvalidParam, Message: msgValidation, Errors: errs}}
}

// invalidField is the validation answer naming one field (a query
// parameter, say): "Invalid field.".
func invalidField(field string) answer {
	return validationFailed(fieldError{Field: field, Message: "Invalid field."})
}

// boolParams answers the first of the query parameters keys that is there
// but no boolean with invalidField; nil when all are good.
func boolParams(q url.Values, keys ...string) *answer {
	for _, k := range keys {
		if v := q.Get(k); v != "" {
			if _, ok := asBool(v); !ok {
				a := invalidField(k)
				return &a
			}
		}
	}
	return nil
}

func invalidParameter(name string) answer {
	return zoomError(http.StatusBadRequest, codeInvalidParam, "Invalid parameter: "+name+".")
}

func userNotFound(id string) answer {
	return zoomError(http.StatusNotFound, codeUserNotFound, "User does not exist: "+id+".")
}

func meetingNotFound(id string) answer {
	return zoomError(http.StatusNotFound, codeMeetingMissing, "Meeting does not exist: "+id+".")
}

func writeAnswer(w http.ResponseWriter, a answer) {
	h := w.Header()
	for k, vs := range a.header {
		h[k] = vs
	}
	if a.body == nil {
		w.WriteHeader(a.status)
		return
	}
	b, err := json.Marshal(a.body)
	if err != nil {
		b = []byte(`{"code":500,"message":"Internal Error"}`)
		a.status = http.StatusInternalServerError
	}
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(a.status)
	_, _ = w.Write(b)
}

// maxBody bounds the request bodies the fake reads.
const maxBody = 1 << 20

// readObject reads a request body that must be one JSON object. Numbers are
// kept as json.Number. A body that is not one is answered with Zoom's 400
// "Request Body should be a valid JSON object.".
func readObject(r *http.Request) (map[string]any, *answer) {
	bad := zoomError(http.StatusBadRequest, codeInvalidParam, msgBadJSON)
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(raw) > maxBody {
		return nil, &bad
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, &bad
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &bad // trailing data
	}
	return obj, nil
}

// Value readers for decoded JSON. Zoom is lenient with numbers and booleans
// sent as strings ("duration": "30", "use_pmi": "false"); so is the fake.

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, true
		}
		// 30.0 is 30; 30.5 is not an integer.
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), true
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		return b, err == nil
	}
	return false, false
}

// strField reads obj[key] as a string: ok is false when it is there but not
// a string; present says whether it is there (null counts as absent).
func strField(obj map[string]any, key string) (s string, present, ok bool) {
	v, there := obj[key]
	if !there || v == nil {
		return "", false, true
	}
	s, ok = v.(string)
	return s, true, ok
}

func unescapeSegment(s string) (string, error) { return url.PathUnescape(s) }

// Random identifiers. The caller holds s.mu (the generator is not safe for
// concurrent use).

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (s *Server) randBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	return b
}

func (s *Server) randString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// randID is a Zoom-style id: 16 random bytes, base64url without padding
// (22 characters, like "wAdE5hVfRUy3k305kAjBmA").
func (s *Server) randID() string {
	return base64.RawURLEncoding.EncodeToString(s.randBytes(16))
}
