package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
)

// dlPage is how many dead letters one page lists.
const dlPage = 100

type dlView struct {
	Seq      uint64
	Time     time.Time
	Subject  string
	JobID    string
	Account  string
	Kind     string
	Error    string
	Attempts int
	Body     string
	Headers  []header
}

type header struct{ Name, Value string }

// dlFilter is what the dead-letters page filters by.
type dlFilter struct {
	Subject, Kind, Account, Since string
	From                          uint64
}

func filterOf(v url.Values) dlFilter {
	f := dlFilter{Subject: strings.TrimSpace(v.Get("subject")), Kind: strings.TrimSpace(v.Get("kind")),
		Account: strings.TrimSpace(v.Get("account")), Since: strings.TrimSpace(v.Get("since"))}
	f.From, _ = strconv.ParseUint(v.Get("from"), 10, 64)
	return f
}

// query is the filter as URL parameters (without the page).
func (f dlFilter) query() string {
	v := url.Values{}
	for k, s := range map[string]string{"subject": f.Subject, "kind": f.Kind, "account": f.Account, "since": f.Since} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// sinceTime reads Since: a duration back from now ("2h") or an RFC 3339 time.
func (f dlFilter) sinceTime(now time.Time) (time.Time, error) {
	if f.Since == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(f.Since); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, f.Since); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04", f.Since); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since %q: give a duration back (30m, 2h) or a time (2026-12-01T09:00Z)", f.Since)
}

func (f dlFilter) match(dl worker.DeadLetter) bool {
	if f.Kind != "" && dl.Kind != f.Kind {
		return false
	}
	if f.Account != "" && accountName(dl.Account) != f.Account {
		return false
	}
	return true
}

func accountName(a string) string {
	if a == "" {
		return worker.DefaultAccount
	}
	return a
}

// scan reads the dead letters f selects, calling fn with each until it
// returns false, at most maxScan read.
func (c *Console) scan(ctx context.Context, f dlFilter, fn func(worker.DeadLetter) bool) error {
	since, err := f.sinceTime(c.cfg.Now())
	if err != nil {
		return err
	}
	if f.Subject != "" && !strings.HasPrefix(f.Subject, "zoom.jobs.") {
		return fmt.Errorf("subject %q: give a job subject such as %s", f.Subject, messages.SubjectMeetingCreate)
	}
	n := 0
	return worker.ScanDeadLetters(ctx, c.js, worker.DeadLetterFilter{Subject: f.Subject, Since: since, FromSeq: f.From},
		func(dl worker.DeadLetter) bool {
			n++
			if f.match(dl) && !fn(dl) {
				return false
			}
			return n < maxScan
		})
}

func (c *Console) dlView(dl worker.DeadLetter) dlView {
	v := dlView{Seq: dl.Seq, Time: dl.Time, Subject: dl.Subject, JobID: dl.JobID, Account: accountName(dl.Account),
		Kind: dl.Kind, Error: scrubText(dl.Error), Attempts: dl.Attempts, Body: showJSON(dl.Body)}
	names := make([]string, 0, len(dl.Header))
	for k := range dl.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		val := strings.Join(dl.Header[k], ", ")
		if secretKey(k) {
			val = hidden
		}
		v.Headers = append(v.Headers, header{Name: k, Value: scrubText(val)})
	}
	return v
}

type dlData struct {
	Filter   dlFilter
	Query    string
	Total    uint64
	List     []dlView
	Next     uint64 // first sequence of the next page; 0 for none
	Err      string
	Subjects []string
	Kinds    []string
	Accounts []string
}

func (c *Console) deadLetters(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	f := filterOf(r.URL.Query())
	d := dlData{Filter: f, Query: f.query(),
		Subjects: messages.JobSubjects(),
		Kinds:    []string{messages.KindInvalidJob, messages.KindZoomRejected, messages.KindRetriesExhausted}}
	for _, a := range c.cfg.Accounts {
		d.Accounts = append(d.Accounts, a.Name)
	}
	if s, err := c.js.Stream(ctx, messages.StreamDeadLetters); err == nil {
		d.Total = s.CachedInfo().State.Msgs
	}
	err := c.scan(ctx, f, func(dl worker.DeadLetter) bool {
		if len(d.List) == dlPage {
			d.Next = dl.Seq
			return false
		}
		d.List = append(d.List, c.dlView(dl))
		return true
	})
	if err != nil {
		d.Err = err.Error()
	}
	c.render(w, r, "dlq", page{Title: "Dead letters", Nav: "dlq", Data: d})
}

type confirmData struct {
	Action  string
	Seqs    string // compact list: "3-9,12"
	Count   int
	Sample  []worker.DeadLetter
	More    int
	Filter  dlFilter
	Query   string
	Missing []uint64
}

// confirmAction answers the dead-letters form: it changes nothing, and
// shows what the action would touch with a button to go ahead.
func (c *Console) confirmAction(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	// do is the button pressed: replay or delete, the ticked ones or
	// (with -all) every one the filter matches.
	action, all := strings.CutSuffix(r.PostFormValue("do"), "-all")
	if action != "replay" && action != "delete" {
		c.fail(w, r, http.StatusBadRequest, "say replay or delete")
		return
	}
	f := filterOf(r.PostForm)
	f.From = 0
	var seqs []uint64
	var sample []worker.DeadLetter
	if all {
		err := c.scan(ctx, f, func(dl worker.DeadLetter) bool {
			seqs = append(seqs, dl.Seq)
			if len(sample) < 50 {
				sample = append(sample, dl)
			}
			return true
		})
		if err != nil {
			c.fail(w, r, http.StatusBadRequest, err.Error())
			return
		}
	} else {
		for _, s := range r.PostForm["seq"] {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				c.fail(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not a dead letter's sequence", s))
				return
			}
			seqs = append(seqs, n)
		}
		for _, seq := range seqs {
			if len(sample) == 50 {
				break
			}
			if dl, err := worker.DeadLetterAt(ctx, c.js, seq); err == nil {
				sample = append(sample, dl)
			}
		}
	}
	if len(seqs) == 0 {
		c.fail(w, r, http.StatusBadRequest, "nothing selected: tick the dead letters to "+action+", or choose all that match")
		return
	}
	c.render(w, r, "confirm", page{Title: "Confirm " + action, Nav: "dlq", Data: confirmData{
		Action: action, Seqs: encodeSeqs(seqs), Count: len(seqs), Sample: sample, More: len(seqs) - len(sample),
		Filter: f, Query: f.query()}})
}

// actionResult is the summary of one replay or delete.
type actionResult struct {
	ID     string
	Action string
	Who    string
	At     time.Time
	Items  []actionItem
	OK     int
	Failed int
}

type actionItem struct {
	Seq     uint64
	JobID   string
	Account string
	Subject string
	Err     string
	// State is the replayed job's state now (filled in by the summary page).
	State string
	Final bool
}

// doAction carries out a confirmed replay or delete and redirects to its
// summary. Replays go through worker.ReplayDeadLetter, as the CLI's do.
func (c *Console) doAction(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	action := r.PostFormValue("action")
	seqs, err := decodeSeqs(r.PostFormValue("seqs"))
	if err != nil || (action != "replay" && action != "delete") || len(seqs) == 0 {
		c.fail(w, r, http.StatusBadRequest, "the confirmation form is not complete: start again from the dead letters")
		return
	}
	s := sessionOf(r)
	res := &actionResult{ID: randomHex(8), Action: action, Who: s.who, At: c.cfg.Now()}
	for _, seq := range seqs {
		var dl worker.DeadLetter
		if action == "replay" {
			dl, err = worker.ReplayDeadLetter(ctx, c.js, seq, false)
		} else {
			dl, err = worker.DeleteDeadLetter(ctx, c.js, seq)
		}
		it := actionItem{Seq: seq, JobID: dl.JobID, Account: accountName(dl.Account), Subject: dl.Subject}
		if err != nil {
			it.Err = scrubText(err.Error())
			res.Failed++
			c.log.Warn("console: "+action+" dead letter failed", "who", s.who, "remote", r.RemoteAddr,
				"seq", seq, "job_id", dl.JobID, "err", it.Err)
		} else {
			res.OK++
			c.log.Info("console: "+action+" dead letter", "who", s.who, "remote", r.RemoteAddr,
				"seq", seq, "job_id", dl.JobID, "subject", dl.Subject, "account", it.Account)
		}
		res.Items = append(res.Items, it)
	}
	c.log.Info("console: "+action+" done", "who", s.who, "remote", r.RemoteAddr, "ok", res.OK, "failed", res.Failed)
	c.mu.Lock()
	c.results[res.ID] = res
	if len(c.results) > 100 {
		var oldest string
		for id, x := range c.results {
			if oldest == "" || x.At.Before(c.results[oldest].At) {
				oldest = id
			}
		}
		delete(c.results, oldest)
	}
	c.mu.Unlock()
	http.Redirect(w, r, "/dlq/result/"+res.ID, http.StatusSeeOther)
}

// summaryLive is how many replayed jobs the summary follows live.
const summaryLive = 200

type summaryData struct {
	Result  actionResult
	Pending int
	Done    int
	Again   int // failed again
}

// actionSummary shows what a replay or delete did; for a replay it reads
// each job's record now, and refreshes itself until every one has ended.
func (c *Console) actionSummary(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	res, ok := c.results[r.PathValue("id")]
	var cp actionResult
	if ok {
		cp = *res
		cp.Items = append([]actionItem(nil), res.Items...)
	}
	c.mu.Unlock()
	if !ok {
		c.fail(w, r, http.StatusNotFound, "no such summary (the console keeps the last 100 and forgets them when it restarts)")
		return
	}
	d := summaryData{Result: cp}
	if cp.Action == "replay" {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		for i := range cp.Items {
			it := &cp.Items[i]
			if it.Err != "" {
				continue
			}
			if i >= summaryLive {
				it.State = "replayed"
				continue
			}
			it.State, it.Final = c.stateAfter(ctx, it.Account, it.JobID, cp.At)
			switch {
			case !it.Final:
				d.Pending++
			case it.State == string(worker.StateSucceeded):
				d.Done++
			default:
				d.Again++
			}
		}
	}
	p := page{Title: "Summary", Nav: "dlq", Data: d}
	if d.Pending > 0 && c.cfg.Now().Sub(cp.At) < 5*time.Minute {
		p.Refresh = 2
	}
	c.render(w, r, "summary", p)
}

// stateAfter is a replayed job's state: its record once a worker has
// touched it since the replay at t, else "queued".
func (c *Console) stateAfter(ctx context.Context, account, jobID string, t time.Time) (string, bool) {
	rec, err := c.cfg.Records.JobRecord(ctx, account, jobID)
	if err != nil {
		return "unknown (" + scrubText(err.Error()) + ")", false
	}
	if rec == nil || rec.UpdatedAt.Before(t) && rec.State != worker.StateSucceeded {
		return "queued", false
	}
	final := rec.State == worker.StateSucceeded || rec.State == worker.StateFailed
	return string(rec.State), final
}

// encodeSeqs writes sequences as ranges: 3,4,5,9 → "3-5,9".
func encodeSeqs(seqs []uint64) string {
	s := append([]uint64(nil), seqs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] <= s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(s[i], 10))
		if s[j] != s[i] {
			b.WriteString("-" + strconv.FormatUint(s[j], 10))
		}
		i = j + 1
	}
	return b.String()
}

func decodeSeqs(v string) ([]uint64, error) {
	var out []uint64
	seen := map[uint64]bool{}
	for _, part := range strings.Split(v, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a || b-a > maxScan {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		for n := a; n <= b; n++ {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		if len(out) > maxScan {
			return nil, fmt.Errorf("more than %d dead letters at once", maxScan)
		}
	}
	return out, nil
}
