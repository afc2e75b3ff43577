package console

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
)

// maxScan bounds how many dead letters one search reads.
const maxScan = 20000

type jobView struct {
	Account      string
	JobID        string
	Subject      string
	State        string
	Attempts     int
	FirstStarted time.Time
	UpdatedAt    time.Time
	Error        *messages.FailError
	ErrorText    string
	EventSubject string
	Event        string
	Where        string
	DeadLetters  []uint64
	Deferred     *deferral
}

type userView struct {
	Account string
	User    messages.User
}

type findData struct {
	Query       string
	Kind        string // "job", "meeting" or "email"
	Jobs        []jobView
	Users       []userView
	DeadLetters []dlView
	Errors      []string
	Searched    bool
}

func (c *Console) findJob(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	d := findData{Query: q}
	if q != "" {
		d.Searched = true
		c.find(r.Context(), q, &d)
	}
	c.render(w, r, "jobs", page{Title: "Find a job", Nav: "jobs", Data: d})
}

func (c *Console) find(ctx context.Context, q string, d *findData) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var ids []string
	switch {
	case strings.Contains(q, "@"):
		d.Kind = "email"
		for _, a := range c.cfg.Accounts {
			u, err := c.cfg.Records.CachedUser(ctx, a.Name, q)
			if err != nil {
				d.Errors = append(d.Errors, err.Error())
			} else if u != nil {
				d.Users = append(d.Users, userView{Account: a.Name, User: *u})
			}
		}
		// Dead letters that name the email (a create-user job, or a meeting's host).
		needle := []byte(strings.ToLower(q))
		err := worker.ScanDeadLetters(ctx, c.js, worker.DeadLetterFilter{}, func(dl worker.DeadLetter) bool {
			if bytes.Contains(bytes.ToLower(dl.Body), needle) {
				d.DeadLetters = append(d.DeadLetters, c.dlView(dl))
			}
			return len(d.DeadLetters) < 100
		})
		if err != nil {
			d.Errors = append(d.Errors, err.Error())
		}
		return
	case isMeetingID(q):
		d.Kind = "meeting"
		id, _ := strconv.ParseInt(q, 10, 64)
		for _, a := range c.cfg.Accounts {
			got, err := c.cfg.Records.ClaimedMeetings(ctx, a.Name, []int64{id})
			if err != nil {
				d.Errors = append(d.Errors, err.Error())
			} else if len(got) == 1 && got[0] != "" {
				ids = append(ids, got[0])
			}
		}
		ids = append(ids, q) // a job id may be all digits too
	default:
		d.Kind = "job"
		ids = []string{q}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		for _, a := range c.cfg.Accounts {
			if seen[a.Name+"\x00"+id] {
				continue
			}
			seen[a.Name+"\x00"+id] = true
			rec, err := c.cfg.Records.JobRecord(ctx, a.Name, id)
			if err != nil {
				d.Errors = append(d.Errors, err.Error())
				continue
			}
			if rec == nil {
				continue
			}
			d.Jobs = append(d.Jobs, c.jobView(ctx, a.Name, rec))
		}
	}
	if len(d.Jobs) == 0 {
		// No record: a job that failed before it began (an invalid body) is
		// only in ZOOM_DLQ; one that waits for its first attempt is only in
		// ZOOM_JOBS.
		for _, id := range ids {
			seqs := c.deadLettersOf(ctx, id, "", time.Time{})
			if len(seqs) > 0 {
				d.Jobs = append(d.Jobs, jobView{JobID: id, State: "dead-lettered", DeadLetters: seqs,
					Where: "in ZOOM_DLQ (it failed before an attempt began)"})
			} else if df, ok := c.activity.deferralOf(id); ok {
				d.Jobs = append(d.Jobs, jobView{JobID: id, Account: df.Account, Subject: df.Subject, State: string(worker.StateDeferred),
					Deferred: &df, Where: "in ZOOM_JOBS, deferred"})
			}
		}
	}
}

// isMeetingID: Zoom meeting ids are 9 to 11 digits, and more in time.
func isMeetingID(q string) bool {
	if len(q) < 9 || len(q) > 19 {
		return false
	}
	for _, r := range q {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (c *Console) jobView(ctx context.Context, account string, rec *worker.Record) jobView {
	v := jobView{Account: account, JobID: rec.JobID, Subject: rec.Subject, State: string(rec.State), Attempts: rec.Attempts,
		FirstStarted: rec.FirstStarted, UpdatedAt: rec.UpdatedAt, Error: rec.Error, EventSubject: rec.EventSubject}
	if rec.Error != nil {
		v.ErrorText = scrubText(rec.Error.Message)
	}
	if len(rec.Event) > 0 {
		v.Event = showJSON(rec.Event)
	}
	switch rec.State {
	case worker.StateSucceeded:
		v.Where = "done: its event is in ZOOM_EVENTS"
		if rec.EventSubject != "" {
			v.Where = "done: its event " + rec.EventSubject + " is in ZOOM_EVENTS"
		}
	case worker.StateFailed:
		since := rec.FirstStarted.Add(-time.Minute)
		v.DeadLetters = c.deadLettersOf(ctx, rec.JobID, rec.Subject, since)
		v.Where = "failed: in ZOOM_DLQ, to replay or delete"
		if len(v.DeadLetters) == 0 {
			v.Where = "failed: no longer in ZOOM_DLQ (replayed or deleted)"
		}
	case worker.StateRunning:
		v.Where = "in ZOOM_JOBS, being worked on now"
	default:
		v.Where = "in ZOOM_JOBS, waiting for its next attempt"
	}
	if df, ok := c.activity.deferralOf(rec.JobID); ok && rec.State != worker.StateSucceeded && rec.State != worker.StateFailed {
		v.Deferred = &df
		v.Where = "in ZOOM_JOBS, deferred until its host's daily limit resets"
	}
	return v
}

// deadLettersOf returns the ZOOM_DLQ sequences holding job id (of subject,
// kept since since, where known).
func (c *Console) deadLettersOf(ctx context.Context, jobID, subject string, since time.Time) []uint64 {
	var out []uint64
	n := 0
	_ = worker.ScanDeadLetters(ctx, c.js, worker.DeadLetterFilter{Subject: subject, Since: since}, func(dl worker.DeadLetter) bool {
		n++
		if dl.JobID == jobID {
			out = append(out, dl.Seq)
		}
		return n < maxScan
	})
	return out
}
