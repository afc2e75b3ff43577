package readside

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom"
)

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

// deadLetter reads dead letter seq of ZOOM_DLQ, if it is still there and
// is job jobID's, as a job status.
func (h *handlers) deadLetter(ctx context.Context, account, jobID string, seq uint64) *JobStatus {
	if h.cfg.JetStream == nil || seq == 0 {
		return nil
	}
	s, err := h.cfg.JetStream.Stream(ctx, messages.StreamDeadLetters)
	if err != nil {
		return nil
	}
	raw, err := s.GetMsg(ctx, seq)
	if err != nil || raw.Header.Get(worker.HeaderJobID) != jobID {
		return nil // replayed (removed), or expired
	}
	attempts, _ := strconv.Atoi(raw.Header.Get(worker.HeaderAttempts))
	failed := raw.Time.UTC()
	return &JobStatus{JobID: jobID, Account: account, Subject: raw.Header.Get(worker.HeaderJobSubject),
		State: string(worker.StateFailed), Attempts: attempts, UpdatedAt: &failed,
		Error:      &messages.FailError{Kind: raw.Header.Get(worker.HeaderErrorKind), Message: raw.Header.Get(worker.HeaderError)},
		DeadLetter: &DeadLetterRef{Stream: messages.StreamDeadLetters, Seq: seq}}
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
