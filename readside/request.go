package readside

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode"

	"github.com/zoomworker/zoom-worker/messages"
)

// Reading and checking a request's fields: every error is a 400 that says
// what was wrong and what to send instead.

// maxUserIDLen bounds a request's user_id (job ids and account names have
// the contract's limits, messages.MaxJobIDLen and messages.MaxAccountLen).
const maxUserIDLen = 128

// decode reads a request body that must be one JSON object.
func decode(data []byte, v any, example string) *apiError {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return errorf(CodeBadRequest, "bad request: empty body; send a JSON object such as %s", example)
	}
	if data[0] != '{' {
		return errorf(CodeBadRequest, "bad request: body must be a JSON object such as %s", example)
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return errorf(CodeBadRequest, "bad request: %s must be a JSON %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return errorf(CodeBadRequest, "bad request: body is not valid JSON (%v); send a JSON object such as %s", err, example)
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64":
		return "number"
	}
	return goKind
}

// meetingID reads meeting_id: a positive JSON number, or a string of digits
// (as operators type it).
func meetingID(raw json.RawMessage) (int64, *apiError) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return 0, errorf(CodeBadRequest, "bad request: meeting_id is required: Zoom's meeting id, such as 85746065432")
	}
	s = strings.Trim(s, `"`)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(CodeBadRequest, "bad request: meeting_id must be Zoom's meeting id, a positive integer such as 85746065432, got %s", clip(string(raw)))
	}
	return id, nil
}

// checkToken checks that s is 1 to maxLen characters of the contract's
// alphabet of job ids and account names (messages.TokenAlphabet).
func checkToken(field, s string, maxLen int) *apiError {
	if s == "" {
		return errorf(CodeBadRequest, "bad request: %s is required", field)
	}
	if !messages.IsToken(s, maxLen) {
		return errorf(CodeBadRequest, "bad request: %s must be 1 to %d characters of "+messages.TokenAlphabet+", got %q", field, maxLen, clip(s))
	}
	return nil
}

// checkUserID checks user_id: a Zoom user id or an email address, which goes
// into Zoom's URL path; no spaces, slashes or control characters.
func checkUserID(s string) *apiError {
	if s == "" {
		return errorf(CodeBadRequest, "bad request: user_id is required: a Zoom user id or an email address")
	}
	bad := len(s) > maxUserIDLen || strings.ContainsAny(s, "/?#%\\")
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			bad = true
		}
	}
	if bad {
		return errorf(CodeBadRequest, "bad request: user_id must be a Zoom user id or an email address of at most %d characters, got %q", maxUserIDLen, clip(s))
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string { return messages.Truncate(s, 80, "...") }
