package messages

import (
	"encoding/json"
	"unicode/utf8"
)

// FailedJobBody says how a job-failed (or job-conflict) event carries the
// original body of a job, following the contract:
//
//   - a body of at most MaxJobBytes that is JSON (and UTF-8) is returned in
//     Job, to be embedded as it is;
//   - any other body of at most MaxJobBytes is returned in JobRaw, which
//     encoding/json writes base64-encoded;
//   - a larger body is cut to its first MaxJobBytes bytes and returned in
//     JobRaw with JobTruncated true: a cut body is not JSON even where the
//     whole was.
//
// The result holds copies: body may be reused after the call. An empty body
// gives an empty JobRaw, which its omitempty leaves out.
func FailedJobBody(body []byte) JobBody {
	if len(body) > MaxJobBytes {
		return JobBody{JobRaw: append([]byte(nil), body[:MaxJobBytes]...), JobTruncated: true}
	}
	if json.Valid(body) && utf8.Valid(body) {
		return JobBody{Job: append(json.RawMessage(nil), body...)}
	}
	return JobBody{JobRaw: append([]byte{}, body...)}
}
