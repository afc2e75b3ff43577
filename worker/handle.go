package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom"
)

// The walk of one job is one-way:
//
//	handle ─► prepare (decode, account, order, Store.Begin)
//	       ─► kind (one of kinds: createUser, createMeeting, ...: a result or an error)
//	       ─► decide (pure: result, error and facts → outcome)
//	       ─► settle (record in the store, publish, ack / nak / term)
//
// Nothing after decide changes what was decided, except that settle hands
// a job back when it cannot record or publish what decide chose.

// attempt is one delivery of one job. prepare fills it; nothing changes it
// after the job's kind starts.
type attempt struct {
	msg      jetstream.Msg
	subject  string
	body     []byte
	job      messages.Job
	jobID    string
	account  Account
	claim    Claim
	owner    string
	log      *slog.Logger
	received time.Time
	// seq is the job's stream sequence in ZOOM_JOBS (0 when unknown).
	seq uint64
	// delivered counts JetStream's deliveries of the message, this one included.
	delivered uint64
	// published is when ZOOM_JOBS stored the job (zero when unknown): no
	// attempt at it can have reached Zoom before.
	published time.Time
}

// orderWait is how long a job waits for an earlier job of the same meeting or user.
const orderWait = 200 * time.Millisecond

// handle runs one delivered message to its end: ack, nak or term.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg) {
	if w.m != nil {
		w.m.InFlight.Inc()
		defer w.m.InFlight.Dec()
	}
	stop := keepAlive(msg, w.cfg.AckWait/3)
	defer stop()

	a := &attempt{msg: msg, subject: msg.Subject(), body: msg.Data(), owner: w.owner, received: w.cfg.Now()}
	a.delivered = 1
	if meta, _ := msg.Metadata(); meta != nil {
		a.seq, a.delivered, a.published = meta.Sequence.Stream, meta.NumDelivered, meta.Timestamp
		// One owner per delivery: a copy JetStream delivers again while this
		// one still runs (it waited in the fetch buffer past AckWait) finds
		// the lease busy, even in this process.
		a.owner = w.owner + ":" + strconv.FormatUint(a.seq, 10) + ":" + strconv.FormatUint(a.delivered, 10)
	}
	job, derr := messages.DecodeJob(a.subject, a.body)
	a.job = job
	a.jobID = jobIDOf(job, a.body, msg.Headers().Get(messages.HeaderMsgID), a.seq)
	a.log = w.log.With("job_id", a.jobID, "subject", a.subject, "delivery", a.delivered)

	res, f, err := w.work(ctx, a, derr)
	if f.panicked != nil {
		a.log.Error("job handler panicked", "panic", fmt.Sprint(f.panicked))
	}
	w.settle(ctx, a, w.policy.decide(res, err, f))
}

// work prepares the attempt and runs the job's kind, and says what decide
// needs to know of it. A panic anywhere in it becomes a fact, not a crash.
func (w *Worker) work(ctx context.Context, a *attempt, derr error) (res *result, f facts, err error) {
	f = facts{jobID: a.jobID, subject: a.subject, seq: a.seq, body: a.body, host: hostLimitKey(a.job)}
	defer func() {
		f.claim, f.account, f.now = a.claim, accountLabel(a), w.cfg.Now()
		if p := recover(); p != nil {
			res, err, f.panicked = nil, fmt.Errorf("handler panic: %v", p), p
		}
		f.cancelled = ctx.Err() != nil
	}()
	if err := w.prepare(ctx, a, derr); err != nil {
		return nil, f, err
	}
	if a.claim.State != Started || a.claim.Attempts > w.cfg.MaxAttempts {
		return nil, f, nil // decide reads the claim
	}
	actx, cancel := context.WithTimeout(ctx, w.cfg.AttemptTimeout)
	defer cancel()
	w.cfg.failpoint("before_zoom", a.jobID)
	uncertain := a.claim.Uncertain
	if w.recordLost(a) {
		// An earlier delivery may have reached Zoom and its record is gone:
		// reconcile as after a lost answer.
		a.log.Warn("no record of a job delivered before, published before the store's epoch: reconciling before any create",
			"seq", a.seq, "epoch", a.claim.Epoch)
		uncertain = true
	}
	res, f.tried, err = w.retry(actx, a, try{uncertain: uncertain})
	if err == nil {
		w.cfg.failpoint("after_zoom", a.jobID)
	}
	return res, f, err
}

// prepare checks the job and claims it in the store. Its errors are
// invalidJob (the job cannot run) or handBack (it cannot run yet).
func (w *Worker) prepare(ctx context.Context, a *attempt, derr error) error {
	if derr != nil {
		return invalidJob{derr}
	}
	if err := messages.CheckJobID(messages.HeaderMsgID, a.jobID); err != nil {
		return invalidJob{err}
	}
	name := a.job.AccountName()
	if name == "" {
		name = DefaultAccount
	}
	acct, ok := w.accounts[name]
	if !ok {
		return invalidJob{&messages.ValidationError{Field: "account", Reason: fmt.Sprintf("no Zoom account named %q is configured", name)}}
	}
	a.account = acct
	if err := w.creds.open(acct.Name); err != nil {
		return handBack{delay: credentialsWait, err: err}
	}

	if key, subjects := orderKey(a.job); key != "" && w.seq != nil && a.seq != 0 {
		prev, err := w.seq.earlier(ctx, key, subjects, a.seq)
		if err != nil {
			return handBack{delay: time.Second, err: fmt.Errorf("check order: %w", err)}
		}
		if prev != 0 {
			return handBack{delay: orderWait, err: fmt.Errorf("waits for the job at sequence %d with the same order key %s", prev, key)}
		}
	}

	claim, err := w.store.Begin(ctx, Begin{
		Account: acct.Name, JobID: a.jobID, Subject: a.subject, Owner: a.owner,
		Lease: w.cfg.lease(), HostLimitKey: hostLimitKey(a.job), BodyHash: bodyHash(a.job),
	})
	if err != nil {
		w.health.failed()
		return handBack{delay: time.Second, err: err}
	}
	a.claim = claim
	if !claim.HasEpoch {
		w.renewEpoch(ctx, acct.Name)
	}
	return nil
}

// recordLost reports whether a's job may have had a record the store lost:
// JetStream delivered it before, the store has no record of it, and it was
// published before the store's epoch (so a record of it could have been
// among those lost). A job published after the epoch has a record from its
// first Begin on: a missing one means no attempt began. A store without an
// epoch lost its data just now (prepare sets a new one).
func (w *Worker) recordLost(a *attempt) bool {
	if !a.claim.Fresh || a.delivered <= 1 {
		return false
	}
	return !a.claim.HasEpoch || a.seq == 0 || a.seq <= a.claim.Epoch
}

// renewEpoch sets account's epoch to ZOOM_JOBS's last sequence, when the
// store has none: every job published so far may have lost its record.
func (w *Worker) renewEpoch(ctx context.Context, account string) {
	w.log.Warn("the store has no epoch: it lost its data (or is new); jobs published so far reconcile when delivered again",
		"account", account)
	if err := w.setEpoch(ctx, account); err != nil {
		w.log.Warn("set the store's epoch", "account", account, "err", err)
	}
}

func (w *Worker) setEpoch(ctx context.Context, account string) error {
	info, err := w.jobs.Info(ctx)
	if err != nil {
		return err
	}
	_, err = w.store.Epoch(ctx, account, info.State.LastSeq)
	return err
}

// try is what earlier tries of this attempt leave for the next one.
type try struct {
	// uncertain: a call that changes Zoom may have taken effect without an
	// answer (in this attempt or an earlier one): reconcile before creating.
	uncertain bool
	// applied: this attempt's change (an update) reached Zoom.
	applied bool
}

// after returns t updated with what a kind's error says of Zoom.
func (t try) after(err error) try {
	var ce *changed
	if errors.As(err, &ce) {
		if ce.sure {
			t.applied = true
		} else {
			t.uncertain = true
		}
	}
	return t
}

// retry runs the job's kind, retrying transient errors in process with
// exponential backoff and jitter for up to RetryBudget.
func (w *Worker) retry(ctx context.Context, a *attempt, t try) (*result, try, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = w.cfg.RetryInitial, w.cfg.RetryMax
	b.MaxElapsedTime = w.cfg.RetryBudget
	b.Reset()
	for {
		res, err := w.perform(ctx, a, t)
		if err == nil {
			return res, t, nil
		}
		t = t.after(err)
		class, at := zoom.Classify(err)
		if class == zoom.Permanent || class == zoom.AccountFault || ctx.Err() != nil {
			return nil, t, err
		}
		w.noteRateLimit(ctx, a, err)
		next := b.NextBackOff()
		if class == zoom.RetryLater {
			if wait := time.Until(at); wait > next {
				next = wait
			}
		}
		if next == backoff.Stop || b.GetElapsedTime()+next > w.cfg.RetryBudget {
			return nil, t, err
		}
		a.log.Debug("retrying", "err", err, "in", next)
		if w.m != nil {
			w.m.Retries.WithLabelValues(a.subject, "in_process").Inc()
		}
		timer := time.NewTimer(next)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, t, err
		}
	}
}

// perform runs the job's kind once against Zoom.
func (w *Worker) perform(ctx context.Context, a *attempt, t try) (*result, error) {
	k, ok := kinds[a.subject]
	if !ok {
		return nil, fmt.Errorf("no handler for %s", a.subject)
	}
	return k.perform(w, ctx, a, t)
}

// noteRateLimit slows every process down after a 429 with a Retry-After.
func (w *Worker) noteRateLimit(ctx context.Context, a *attempt, err error) {
	var ae *zoom.APIError
	if a.account.Limiter == nil || !errors.As(err, &ae) || ae.StatusCode != 429 || ae.DailyLimit ||
		ae.RegistrantLimit || ae.UserBusy { // one host's, registrant's or user's: not the account's quota
		return
	}
	if _, ok := a.account.Limiter.(zoom.QuotaObserver); ok {
		return // the Zoom client told it already, and it paused only that category
	}
	until := ae.RetryAfter
	if until.IsZero() {
		until = time.Now().Add(time.Second)
	}
	if perr := a.account.Limiter.PauseUntil(ctx, until); perr != nil {
		a.log.Warn("share rate-limit pause", "err", perr)
	}
}

// jobIDOf finds a job's id: the body's job_id, else the Nats-Msg-Id header,
// else one derived from the stream sequence. It reads job_id from a body
// that failed validation too, so its job.failed event names it.
func jobIDOf(job messages.Job, body []byte, header string, seq uint64) string {
	if job != nil && job.ID() != "" {
		return job.ID()
	}
	if job == nil && len(body) <= messages.MaxJobBytes {
		var probe struct {
			JobID string `json:"job_id"`
		}
		if json.Unmarshal(body, &probe) == nil && messages.IsJobID(probe.JobID) {
			return probe.JobID
		}
	}
	if header != "" {
		return header
	}
	return messages.StreamJobs + "-" + strconv.FormatUint(seq, 10)
}

// bodyHash identifies a job's body for Begin's conflict check: a hash of
// the decoded job encoded again, so that a publisher who sends the same job
// with other spacing or key order sends the same job.
func bodyHash(j messages.Job) string {
	b, err := json.Marshal(j)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// hostLimitKey is the host whose daily limit a job counts against ("" for none).
func hostLimitKey(j messages.Job) string {
	switch j := j.(type) {
	case *messages.CreateMeetingJob:
		return j.UserID
	}
	return ""
}

// keepAlive tells JetStream the job is still being worked on every period,
// so a long Zoom call is not redelivered under a running attempt. It uses a
// timer, not a goroutine, per job: a worker may hold thousands of jobs.
func keepAlive(msg jetstream.Msg, period time.Duration) (stop func()) {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock() // the callback uses t: it must see it assigned
	defer mu.Unlock()
	t = time.AfterFunc(period, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		_ = msg.InProgress()
		t.Reset(period)
	})
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
	}
}
