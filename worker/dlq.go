package worker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
)

// DeadLetter is one failed job kept in ZOOM_DLQ.
type DeadLetter struct {
	Seq      uint64      `json:"seq"`
	Time     time.Time   `json:"time"`
	Subject  string      `json:"subject"` // the job's subject
	JobID    string      `json:"job_id"`
	Account  string      `json:"account,omitempty"`
	Kind     string      `json:"kind"`
	Error    string      `json:"error"`
	Attempts int         `json:"attempts"`
	Body     []byte      `json:"-"`
	Header   nats.Header `json:"-"`

	// ZoomTrackingID is Zoom's x-zm-trackingid of the failed answer, for
	// Zoom support ("" where Zoom did not answer).
	ZoomTrackingID string `json:"zoom_tracking_id,omitempty"`
}

// ListDeadLetters reads every job in ZOOM_DLQ, oldest first.
func ListDeadLetters(ctx context.Context, js jetstream.JetStream) ([]DeadLetter, error) {
	var out []DeadLetter
	err := ScanDeadLetters(ctx, js, DeadLetterFilter{}, func(d DeadLetter) bool {
		out = append(out, d)
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func deadLetterOf(seq uint64, t time.Time, h nats.Header, body []byte) DeadLetter {
	attempts, _ := strconv.Atoi(h.Get(HeaderAttempts))
	return DeadLetter{Seq: seq, Time: t, Subject: h.Get(HeaderJobSubject), JobID: h.Get(HeaderJobID),
		Account: h.Get(HeaderAccount), Kind: h.Get(HeaderErrorKind), Error: h.Get(HeaderError),
		Attempts: attempts, Body: body, Header: h, ZoomTrackingID: h.Get(HeaderZoomTrackingID)}
}

// ReplayDeadLetter publishes dead letter seq to its job subject again and,
// unless keep, removes it from ZOOM_DLQ. The replay carries
// Nats-Msg-Id "<job_id>:replay:<seq>", so replaying twice in the duplicate
// window sends it once. The worker runs a replayed job afresh: a failed
// job's record does not stop it (a succeeded one does: that job is done).
func ReplayDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64, keep bool) (DeadLetter, error) {
	s, raw, err := deadLetterMsg(ctx, js, seq)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("replay %d: %w", seq, err)
	}
	dl := deadLetterOf(seq, raw.Time, raw.Header, raw.Data)
	if !strings.HasPrefix(dl.Subject, "zoom.jobs.") {
		return dl, fmt.Errorf("replay %d: no job subject recorded", seq)
	}
	msg := nats.NewMsg(dl.Subject)
	for k, v := range raw.Header {
		if !strings.HasPrefix(k, "Zoomw-") && k != messages.HeaderMsgID {
			msg.Header[k] = v
		}
	}
	msg.Header.Set(messages.HeaderMsgID, dl.JobID+":replay:"+strconv.FormatUint(seq, 10))
	msg.Data = raw.Data
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return dl, fmt.Errorf("replay %d: publish: %w", seq, err)
	}
	if !keep {
		if err := s.DeleteMsg(ctx, seq); err != nil {
			return dl, fmt.Errorf("replay %d: published, but could not remove it from %s: %w", seq, messages.StreamDeadLetters, err)
		}
	}
	return dl, nil
}
