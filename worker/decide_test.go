package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom"
)

// heldErr is a zoom.Held, as the shared limiter answers when it holds a
// request back (TestDecide, TestZoomRequestStatus).
type heldErr struct{ at time.Time }

func (e heldErr) Error() string      { return "rate limit: next slot later" }
func (e heldErr) RetryAt() time.Time { return e.at }

var _ zoom.Held = heldErr{}

// TestDecide covers every outcome decide can choose, without a server.
func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	midnight := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	p := policy{maxAttempts: 3, dailyLimit: DailyLimitDefer, redeliveryDelay: 4 * time.Second,
		redeliveryMaxDelay: time.Minute, jitter: func(time.Duration) time.Duration { return 0 }}
	failMode := p
	failMode.dailyLimit = DailyLimitFail
	body := []byte(`{"job_id":"m-1","user_id":"james@bond.com","meeting":{"topic":"x"}}`)
	base := facts{jobID: "m-1", subject: messages.SubjectMeetingCreate, body: body, host: "james@bond.com", now: now}
	with := func(c Claim, mod ...func(*facts)) facts {
		f := base
		f.claim = c
		for _, m := range mod {
			m(&f)
		}
		return f
	}
	started := func(attempts int) Claim { return Claim{State: Started, Attempts: attempts} }
	res := &result{eventSubject: messages.SubjectMeetingCreated, event: map[string]any{"job_id": "m-1"},
		meetings: []MeetingJSON{{ID: 7, JSON: json.RawMessage(`{"id":7}`)}}, claimMeeting: 7}
	notFound := &zoom.APIError{StatusCode: 404, Code: zoom.CodeUserNotFound, Message: "User does not exist: james@bond.com."}
	unavailable := &zoom.APIError{StatusCode: 503, Message: "busy"}
	daily := &zoom.APIError{StatusCode: 429, DailyLimit: true, RetryAfter: midnight}

	tests := []struct {
		name string
		p    policy
		res  *result
		err  error
		f    facts
		want outcome
		// checks beyond want's kind, delay, record and finish state
		check func(t *testing.T, out outcome)
	}{{
		name: "success",
		res:  res, f: with(started(1)),
		want: outcome{kind: OutcomeSucceeded, record: true, finish: Finish{State: StateSucceeded, Uncertain: true}},
		check: func(t *testing.T, out outcome) {
			if out.event == nil || out.event.subject != messages.SubjectMeetingCreated || string(out.event.body) != `{"job_id":"m-1"}` {
				t.Errorf("event = %+v; want meeting.created with the result's body", out.event)
			}
			if out.finish.ClaimMeeting != 7 || string(out.finish.Event) != `{"job_id":"m-1"}` {
				t.Errorf("finish = %+v; want the meeting claimed and the event kept", out.finish)
			}
		},
	}, {
		name: "repeated",
		f: with(Claim{State: Succeeded, Attempts: 1, Record: &Record{EventSubject: messages.SubjectMeetingCreated,
			Event: json.RawMessage(`{"job_id":"m-1","first":true}`)}}),
		want: outcome{kind: OutcomeRepeated},
		check: func(t *testing.T, out outcome) {
			if out.event == nil || string(out.event.body) != `{"job_id":"m-1","first":true}` {
				t.Errorf("event = %+v; want the first attempt's event, unchanged", out.event)
			}
		},
	}, {
		name: "job id used before by another body",
		f: with(Claim{State: Conflict, Prior: StateSucceeded, Record: &Record{State: StateSucceeded,
			EventSubject: messages.SubjectMeetingCreated}}, func(f *facts) { f.seq = 9 }),
		want: outcome{kind: OutcomeConflict},
		check: func(t *testing.T, out outcome) {
			var ev messages.JobConflict
			if out.event == nil || out.event.subject != messages.SubjectJobConflict || json.Unmarshal(out.event.body, &ev) != nil ||
				ev.FirstState != "succeeded" || ev.FirstEvent != messages.SubjectMeetingCreated || string(ev.Job) != string(body) {
				t.Errorf("event = %+v; want job.conflict naming the first job's state and the refused body", out.event)
			}
			if out.event.msgID != "m-1:job.conflict:9" {
				t.Errorf("msg id = %q; want one per refused message", out.event.msgID)
			}
		},
	}, {
		name: "credentials rejected: handed back, attempt refunded, account closed",
		err:  fmt.Errorf("zoom: create meeting: %w", &zoom.TokenError{StatusCode: 401, ErrorCode: "invalid_client", Rejected: true}),
		f:    with(started(3)),
		want: outcome{kind: OutcomeHandedBack, delay: credentialsWait, record: true, finish: Finish{State: StateRetrying, Refund: true}},
		check: func(t *testing.T, out outcome) {
			if !out.accountFault || out.fail != nil {
				t.Errorf("outcome = %+v; want the account's gate closed and no failure, even on the last attempt", out)
			}
		},
	}, {
		name: "busy lease elsewhere",
		f:    with(Claim{State: Busy, Until: now.Add(5 * time.Second)}),
		want: outcome{kind: OutcomeHandedBack, delay: 5*time.Second + 100*time.Millisecond},
	}, {
		name: "host limited at begin: deferred",
		f:    with(Claim{State: HostLimited, Until: midnight}),
		want: outcome{kind: OutcomeDeferred, delay: 12 * time.Hour, until: midnight},
		check: func(t *testing.T, out outcome) {
			var ev messages.JobDeferred
			if out.event == nil || out.event.subject != messages.SubjectJobDeferred || json.Unmarshal(out.event.body, &ev) != nil ||
				ev.Until != "2026-12-02T00:00:00Z" || !strings.Contains(ev.Reason, "james@bond.com") {
				t.Errorf("event = %+v; want job.deferred until midnight naming the host", out.event)
			}
			if !strings.HasSuffix(out.event.msgID, fmt.Sprint(midnight.Unix())) {
				t.Errorf("msg id = %q; want one per day", out.event.msgID)
			}
		},
	}, {
		name: "host limited at begin: failed in fail mode",
		p:    failMode, f: with(Claim{State: HostLimited, Until: midnight}),
		want: outcome{kind: OutcomeFailed, fail: &messages.FailError{Kind: messages.KindZoomRejected, HTTPStatus: 429}},
	}, {
		name: "daily limit from zoom: deferred, attempt refunded, host marked",
		err:  fmt.Errorf("create meeting: %w", daily), f: with(started(1)),
		want: outcome{kind: OutcomeDeferred, delay: 12 * time.Hour, until: midnight, record: true,
			finish: Finish{State: StateDeferred, Refund: true, HostLimit: "james@bond.com", HostLimitedUntil: midnight}},
	}, {
		name: "daily limit from zoom: failed in fail mode, host marked",
		p:    failMode, err: daily, f: with(started(1)),
		want: outcome{kind: OutcomeFailed, record: true, fail: &messages.FailError{Kind: messages.KindZoomRejected, HTTPStatus: 429},
			finish: Finish{State: StateFailed, HostLimit: "james@bond.com", HostLimitedUntil: midnight}},
	}, {
		name: "limiter hold: handed back, attempt refunded",
		err:  fmt.Errorf("zoom: create meeting: wait for rate limiter: %w", heldErr{at: now.Add(8 * time.Second)}),
		f:    with(started(2)),
		want: outcome{kind: OutcomeHandedBack, delay: 8 * time.Second, record: true, finish: Finish{State: StateRetrying, Refund: true}},
	}, {
		name: "permanent zoom error",
		err:  fmt.Errorf("create meeting: %w", notFound), f: with(started(1)),
		want: outcome{kind: OutcomeFailed, record: true, finish: Finish{State: StateFailed},
			fail: &messages.FailError{Kind: messages.KindZoomRejected, HTTPStatus: 404, ZoomCode: zoom.CodeUserNotFound,
				Message: "User does not exist: james@bond.com."}},
		check: func(t *testing.T, out outcome) {
			var ev messages.JobFailed
			if out.event == nil || out.event.subject != messages.SubjectJobFailed || json.Unmarshal(out.event.body, &ev) != nil ||
				ev.Attempts != 1 || ev.Error.ZoomCode != zoom.CodeUserNotFound || string(ev.Job) != string(body) {
				t.Errorf("event = %s; want job.failed with the error and the job", out.event.body)
			}
		},
	}, {
		name: "permanent zoom error: Zoom's tracking id in job.failed",
		err:  &zoom.APIError{StatusCode: 404, Code: zoom.CodeMeetingNotFound, Message: "Meeting does not exist: 1.", TrackingID: "v=2.0;rid=WEB_1"},
		f:    with(started(1)),
		want: outcome{kind: OutcomeFailed, record: true, finish: Finish{State: StateFailed},
			fail: &messages.FailError{Kind: messages.KindZoomRejected, HTTPStatus: 404, ZoomCode: zoom.CodeMeetingNotFound, ZoomTrackingID: "v=2.0;rid=WEB_1"}},
	}, {
		name: "transient on the last attempt: Zoom's tracking id in job.failed",
		err:  &zoom.APIError{StatusCode: 503, TrackingID: "v=2.0;rid=WEB_2"}, f: with(started(3)),
		want: outcome{kind: OutcomeFailed, record: true, finish: Finish{State: StateFailed},
			fail: &messages.FailError{Kind: messages.KindRetriesExhausted, HTTPStatus: 503, ZoomTrackingID: "v=2.0;rid=WEB_2"}},
	}, {
		name: "registrant's 3 a day spent: deferred to midnight, attempt refunded, no host marked",
		err:  &zoom.APIError{StatusCode: 429, RegistrantLimit: true, RetryAfter: midnight}, f: with(started(1)),
		want: outcome{kind: OutcomeDeferred, delay: 12 * time.Hour, until: midnight, record: true,
			finish: Finish{State: StateDeferred, Refund: true}},
		check: func(t *testing.T, out outcome) {
			var ev messages.JobDeferred
			if out.event == nil || json.Unmarshal(out.event.body, &ev) != nil || !strings.Contains(ev.Reason, "3 registrations") {
				t.Errorf("event = %+v; want job.deferred naming the registrant limit", out.event)
			}
		},
	}, {
		name: "transient: retried with backoff",
		err:  unavailable, f: with(started(2), func(f *facts) { f.tried.uncertain = true }),
		// 4s doubled for the second attempt, halved by the jitter's floor.
		want: outcome{kind: OutcomeRetried, delay: 4 * time.Second, record: true, finish: Finish{State: StateRetrying, Uncertain: true}},
	}, {
		name: "transient with Retry-After later than the backoff",
		err:  &zoom.APIError{StatusCode: 503, RetryAfter: now.Add(time.Minute)}, f: with(started(1)),
		want: outcome{kind: OutcomeRetried, delay: time.Minute, record: true, finish: Finish{State: StateRetrying}},
	}, {
		name: "transient on the last attempt: exhausted",
		err:  unavailable, f: with(started(3)),
		want: outcome{kind: OutcomeFailed, record: true, finish: Finish{State: StateFailed},
			fail: &messages.FailError{Kind: messages.KindRetriesExhausted, HTTPStatus: 503}},
	}, {
		name: "attempts used before this one began: exhausted without a call",
		f:    with(started(4)),
		want: outcome{kind: OutcomeFailed, record: true, finish: Finish{State: StateFailed},
			fail: &messages.FailError{Kind: messages.KindRetriesExhausted, Message: "gave up after 3 attempts"}},
	}, {
		name: "shutdown: handed back at once",
		err:  fmt.Errorf("create meeting: %w", context.Canceled), f: with(started(1), func(f *facts) { f.cancelled = true }),
		want: outcome{kind: OutcomeHandedBack, record: true, finish: Finish{State: StateRetrying}},
	}, {
		name: "panic after begin: retried as an attempt",
		err:  errors.New("handler panic: boom"), f: with(started(1), func(f *facts) { f.panicked = "boom" }),
		want: outcome{kind: OutcomeRetried, delay: 2 * time.Second, record: true, finish: Finish{State: StateRetrying}},
	}, {
		name: "panic before begin",
		err:  errors.New("handler panic: boom"), f: with(Claim{}, func(f *facts) { f.panicked = "boom" }),
		want: outcome{kind: OutcomeRetried, delay: 4 * time.Second},
	}, {
		name: "invalid job",
		err:  invalidJob{&messages.ValidationError{Field: "meeting.topic", Reason: "is too long"}}, f: with(Claim{}),
		// Recorded where the job id has no record, so job.status finds it.
		want: outcome{kind: OutcomeFailed, record: true, finish: Finish{State: StateFailed},
			fail: &messages.FailError{Kind: messages.KindInvalidJob, Field: "meeting.topic"}},
		check: func(t *testing.T, out outcome) {
			if !out.finish.OnlyNew || out.finish.Subject != messages.SubjectMeetingCreate {
				t.Errorf("finish = %+v; want a record made only where there is none, with the subject", out.finish)
			}
		},
	}, {
		name: "an earlier job of the meeting first: handed back",
		err:  handBack{delay: orderWait, err: errors.New("waits for job at sequence 3")}, f: with(Claim{}),
		want: outcome{kind: OutcomeHandedBack, delay: orderWait},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := p
			if tt.p.maxAttempts != 0 {
				pol = tt.p
			}
			out := pol.decide(tt.res, tt.err, tt.f)
			w := tt.want
			if out.kind != w.kind || out.delay != w.delay || !out.until.Equal(w.until) || out.record != w.record {
				t.Fatalf("decide = kind %s, delay %v, until %v, record %v; want %s, %v, %v, %v",
					out.kind, out.delay, out.until, out.record, w.kind, w.delay, w.until, w.record)
			}
			if w.record {
				f, g := out.finish, w.finish
				if f.State != g.State || f.Uncertain != g.Uncertain || f.Refund != g.Refund ||
					f.HostLimit != g.HostLimit || !f.HostLimitedUntil.Equal(g.HostLimitedUntil) {
					t.Errorf("finish = %+v; want %+v", f, g)
				}
			}
			if (out.fail == nil) != (w.fail == nil) {
				t.Fatalf("fail = %+v; want %+v", out.fail, w.fail)
			}
			if w.fail != nil {
				f, g := out.fail, w.fail
				if f.Kind != g.Kind || f.HTTPStatus != g.HTTPStatus || f.ZoomCode != g.ZoomCode || f.Field != g.Field ||
					f.ZoomTrackingID != g.ZoomTrackingID ||
					g.Message != "" && f.Message != g.Message {
					t.Errorf("fail = %+v; want %+v", f, g)
				}
				if out.event == nil || out.event.subject != messages.SubjectJobFailed {
					t.Errorf("a failure publishes %+v; want job.failed", out.event)
				}
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}
