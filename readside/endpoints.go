package readside

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom"
)

// maxUserIDLen bounds a request's user_id (job ids and account names have
// the contract's limits, messages.MaxJobIDLen and messages.MaxAccountLen).
const maxUserIDLen = 128

// jobStatus answers zoom.svc.job.status from the store's record of the job.
func (h *handlers) jobStatus(ctx context.Context, data []byte) (any, *apiError) {
	var req JobStatusRequest
	if aerr := decode(data, &req, `{"job_id": "m-7"}`); aerr != nil {
		return nil, aerr
	}
	if aerr := checkToken("job_id", req.JobID, messages.MaxJobIDLen); aerr != nil {
		return nil, aerr
	}
	account, _, aerr := h.account(req.Account)
	if aerr != nil {
		return nil, aerr
	}
	rec, err := h.cfg.Jobs.JobRecord(ctx, account, req.JobID)
	if err != nil {
		return nil, storeError(ctx, err)
	}
	var until time.Time
	var dlqSeq uint64
	if h.cfg.Notes != nil {
		if until, dlqSeq, err = h.cfg.Notes.JobNotes(ctx, account, req.JobID); err != nil {
			return nil, storeError(ctx, err)
		}
	}
	if rec == nil {
		// An invalid job never got a record: its dead letter is all there is.
		if st := h.deadLetter(ctx, account, req.JobID, dlqSeq); st != nil {
			return JobStatusResponse{Source: SourceStore, Job: st}, nil
		}
		return nil, errorf(CodeNotFound, "not found: no job %q in account %q (records are kept for a limited time)", req.JobID, account)
	}
	st := &JobStatus{
		JobID: rec.JobID, Account: rec.Account, Subject: rec.Subject, State: string(rec.State), Attempts: rec.Attempts,
		FirstStarted: timeOrNil(rec.FirstStarted), UpdatedAt: timeOrNil(rec.UpdatedAt),
		EventSubject: rec.EventSubject, Error: rec.Error,
	}
	if st.JobID == "" {
		st.JobID = req.JobID
	}
	if st.Account == "" {
		st.Account = account
	}
	switch {
	case (rec.State == worker.StateRetrying || rec.State == worker.StateDeferred) && until.After(h.now()):
		// Deferred for the host's daily limit: waiting, not failing; an
		// error an earlier attempt left is not this job's state.
		st.State, st.Until, st.Error = StateDeferred, timeOrNil(until), nil
	case rec.State == worker.StateFailed && dlqSeq != 0:
		st.DeadLetter = &DeadLetterRef{Stream: messages.StreamDeadLetters, Seq: dlqSeq}
	}
	if len(rec.Event) > 0 {
		st.Event = rec.Event
		if !h.cfg.IncludeStartURL {
			st.Event = stripStartURL(rec.Event)
		}
	}
	return JobStatusResponse{Source: SourceStore, Job: st}, nil
}

// meetingGet answers zoom.svc.meeting.get from the cache, else from Zoom.
func (h *handlers) meetingGet(ctx context.Context, data []byte) (any, *apiError) {
	var req struct {
		MeetingID json.RawMessage `json:"meeting_id"`
		Account   string          `json:"account"`
	}
	if aerr := decode(data, &req, `{"meeting_id": 85746065432}`); aerr != nil {
		return nil, aerr
	}
	id, aerr := meetingID(req.MeetingID)
	if aerr != nil {
		return nil, aerr
	}
	account, zc, aerr := h.account(req.Account)
	if aerr != nil {
		return nil, aerr
	}
	b, source, stale, aerr := h.lookup(ctx, account, zc, MeetingKey(id), fmt.Sprintf("meeting %d", id),
		h.startURLOld, fetchMeeting(id, h.cfg.IncludeStartURL))
	if aerr != nil {
		return nil, aerr
	}
	// start_url only where answers carry it, and only from a fresh copy.
	drop := !h.cfg.IncludeStartURL || (source == SourceCache && stale)
	if !drop || !mayHoldStartURL(b) {
		// The hot path: the stored JSON goes out as it is, not decoded and
		// encoded again (that was most of a cache hit's CPU).
		return rawAnswer(source, stale, "meeting", b), nil
	}
	var m messages.Meeting
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errorf(CodeInternal, "cached meeting %d cannot be read: %v", id, err)
	}
	dropStartURL(&m)
	return MeetingResponse{Source: source, Stale: stale, Meeting: &m}, nil
}

// userGet answers zoom.svc.user.get from the cache, else from Zoom.
func (h *handlers) userGet(ctx context.Context, data []byte) (any, *apiError) {
	var req UserRequest
	if aerr := decode(data, &req, `{"user_id": "james@bond.com"}`); aerr != nil {
		return nil, aerr
	}
	if aerr := checkUserID(req.UserID); aerr != nil {
		return nil, aerr
	}
	account, zc, aerr := h.account(req.Account)
	if aerr != nil {
		return nil, aerr
	}
	b, source, stale, aerr := h.lookup(ctx, account, zc, UserKey(req.UserID), fmt.Sprintf("user %q", req.UserID),
		never, fetchUser(req.UserID))
	if aerr != nil {
		return nil, aerr
	}
	return rawAnswer(source, stale, "user", b), nil
}

// mayHoldStartURL says whether JSON b may hold a start_url key, in any
// case or spelt with \u escapes, without allocating (it runs on every hit).
func mayHoldStartURL(b []byte) bool {
	const key = "start_url"
	for i := 0; i+len(key) <= len(b); i++ {
		if b[i]|0x20 == 's' && bytes.EqualFold(b[i:i+len(key)], []byte(key)) {
			return true
		}
	}
	return bytes.Contains(b, []byte(`\u`))
}

// rawJSON is an answer already encoded.
type rawJSON []byte

// rawAnswer is {"source": source, ["stale": true,] field: object}, with
// object (stored JSON) as it is.
func rawAnswer(source string, stale bool, field string, object []byte) rawJSON {
	out := make([]byte, 0, len(object)+64)
	out = append(out, `{"source":"`...)
	out = append(out, source...)
	out = append(out, '"')
	if stale {
		out = append(out, `,"stale":true`...)
	}
	out = append(out, `,"`...)
	out = append(out, field...)
	out = append(out, `":`...)
	out = append(out, bytes.TrimSpace(object)...)
	return append(out, '}')
}

// account resolves a request's account name ("" is the default account)
// to its Zoom read client (nil where no Zoom is configured). It is a 400 to
// name an account that is not configured (where any are).
func (h *handlers) account(name string) (string, Zoom, *apiError) {
	if name == "" {
		name = worker.DefaultAccount
	} else if aerr := checkToken("account", name, messages.MaxAccountLen); aerr != nil {
		return "", nil, aerr
	}
	if len(h.cfg.Accounts) == 0 {
		return name, nil, nil
	}
	zc, ok := h.cfg.Accounts[name]
	if !ok {
		return "", nil, errorf(CodeBadRequest, "bad request: unknown account %q", name)
	}
	return name, zc, nil
}

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

// storeError is the answer to a failed Redis read: 504 where the request ran
// out of time, else 503.
func storeError(ctx context.Context, err error) *apiError {
	if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		return errorf(CodeTimeout, "timeout: Redis did not answer in time")
	}
	return errorf(CodeUnavailable, "unavailable: Redis cannot be reached: %v", err)
}

// zoomError is the answer to a failed Zoom call about what.
func zoomError(ctx context.Context, what string, err error) *apiError {
	var ae *zoom.APIError
	switch {
	case zoom.IsNotFound(err):
		return errorf(CodeNotFound, "not found: Zoom does not know %s (%v)", what, err)
	case errors.As(err, &ae):
		return errorf(CodeZoomError, "zoom error: HTTP %d, code %d: %v", ae.StatusCode, ae.Code, err)
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(CodeTimeout, "timeout: Zoom did not answer in time about %s", what)
	}
	if held, ok := zoom.AsHeld(err); ok {
		at := held.RetryAt()
		return errorf(CodeUnavailable, "unavailable: the read side's share of the Zoom rate limit is used up; retry after %s (about %s)",
			at.UTC().Format(time.RFC3339), time.Until(at).Round(time.Millisecond))
	}
	return errorf(CodeZoomError, "zoom error: cannot reach Zoom about %s: %v", what, err)
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// dropStartURL removes start_url, in any spelling, from m.
func dropStartURL(m *messages.Meeting) {
	m.StartURL = ""
	for k := range m.Extra {
		if isStartURL(k) {
			delete(m.Extra, k)
		}
	}
}

func isStartURL(key string) bool { return strings.EqualFold(key, "start_url") }

// stripStartURL returns raw (a JSON event) without any "start_url" member at
// any depth. Events that have none are returned unchanged, byte for byte.
func stripStartURL(raw json.RawMessage) json.RawMessage {
	if !bytes.Contains(bytes.ToLower(raw), []byte("start_url")) && !bytes.Contains(raw, []byte(`\u`)) {
		return raw // fast path; a key spelt with \u escapes takes the slow one
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		// Not JSON we can read: do not hand out what may carry a ZAK.
		return json.RawMessage(`null`)
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				if isStartURL(k) {
					delete(t, k)
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return out
}

// clip shortens s for an error message.
func clip(s string) string { return messages.Truncate(s, 80, "...") }
