package messages

import (
	"encoding/json"
	"unicode/utf8"
)

// FailedJobBody says how a job-failed event carries the original body of a
// job (the JobFailed fields Job, JobRaw and JobTruncated), following the
// contract:
//
//   - a body of at most MaxJobBytes that is JSON (and UTF-8) is returned as
//     job, to be embedded as it is;
//   - any other body of at most MaxJobBytes is returned as raw, which
//     encoding/json writes base64-encoded;
//   - a larger body is cut to its first MaxJobBytes bytes and returned as raw
//     with truncated true: a cut body is not JSON even where the whole was.
//
// The results are copies: body may be reused after the call. An empty body
// gives an empty raw, which JobRaw's omitempty leaves out.
func FailedJobBody(body []byte) (job json.RawMessage, raw []byte, truncated bool) {
	if len(body) > MaxJobBytes {
		return nil, append([]byte(nil), body[:MaxJobBytes]...), true
	}
	if json.Valid(body) && utf8.Valid(body) {
		return append(json.RawMessage(nil), body...), nil, false
	}
	return nil, append([]byte{}, body...), false
}
