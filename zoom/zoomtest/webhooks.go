package zoomtest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/zoomworker/zoom-worker/webhook/signature"
)

// Webhooks: the fake sends Zoom's event notifications for the changes it
// makes, to one endpoint, the way Zoom documents them
// (https://developers.zoom.us/docs/api/webhooks/): a POST with a JSON body
// {"event", "event_ts" (Unix ms), "payload": {"account_id", "operator",
// "operator_id", "object", ...}} and the headers x-zm-request-timestamp
// (Unix seconds), x-zm-signature ("v0=" + hex HMAC-SHA256 of
// "v0:{timestamp}:{body}", keyed by the secret token) and x-zm-request-id
// (one per event: a retry carries the same id and body, with a new
// timestamp and signature). An answer other than 2xx within the timeout (3
// s) is a failed delivery, retried 3 times (5, 20 and 60 minutes later, as
// Zoom does; Options.WebhookRetryDelays makes that short for tests); then
// the event is given up. Events go out one at a time, in the order of the
// changes (a retry waits its turn behind what was queued meanwhile).

// Zoom's default retry schedule: the waits before the 1st, 2nd and 3rd retry.
var zoomRetryDelays = []time.Duration{5 * time.Minute, 20 * time.Minute, 60 * time.Minute}

// zoomWebhookTimeout is how long Zoom waits for an endpoint's answer.
const zoomWebhookTimeout = 3 * time.Second

// WebhookDelivery is one event the fake sent (or is sending) to the
// webhook endpoint, as WebhookDeliveries reports it.
type WebhookDelivery struct {
	Event     string          // "meeting.updated", ...
	RequestID string          // x-zm-request-id, the same on every attempt
	Body      json.RawMessage // the body, the same on every attempt
	Attempts  int             // attempts made so far
	// LastStatus is the HTTP status of the last attempt's answer; 0 for
	// none (a timeout or a connection error, in LastError).
	LastStatus int
	LastError  string
	Delivered  bool // an attempt was answered 2xx
	GaveUp     bool // every attempt failed; no more will be made
}

// delivery is a queued event.
type delivery struct {
	WebhookDelivery
	done bool
}

// webhookSender holds the webhook endpoint, the queue and the sending
// goroutine. Its mutex is taken after Server.mu, never before.
type webhookSender struct {
	mu      sync.Mutex
	url     string
	secret  string
	delays  []time.Duration
	timeout time.Duration
	queue   []*delivery // due attempts, in order
	all     []*delivery // every event queued, in order
	timers  map[*time.Timer]bool
	running bool // the sending goroutine runs
	closed  bool
	changed chan struct{} // closed and replaced whenever a delivery ends
	wake    chan struct{} // cap 1: something was queued
	stop    chan struct{}
	wg      sync.WaitGroup
	client  *http.Client
}

func newWebhookSender(o Options) *webhookSender {
	w := &webhookSender{
		url: o.WebhookURL, secret: o.WebhookSecret,
		delays:  o.WebhookRetryDelays,
		timeout: o.WebhookTimeout,
		timers:  map[*time.Timer]bool{},
		changed: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		client:  &http.Client{},
	}
	if w.delays == nil {
		w.delays = zoomRetryDelays
	}
	if w.timeout <= 0 {
		w.timeout = zoomWebhookTimeout
	}
	return w
}

// SetWebhook sets the endpoint the fake sends events to and the app's
// secret token that signs them; url "" stops sending (events of changes
// made meanwhile are not sent, as with an app that has no subscription).
// Attempts already queued go to the endpoint set when they are made.
func (s *Server) SetWebhook(url, secret string) {
	w := s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	w.url, w.secret = url, secret
}

// SetWebhookRetryDelays sets the waits before each retry of a failed
// delivery (their number is the number of retries); none means no retries.
// Options.WebhookRetryDelays nil means Zoom's 5, 20 and 60 minutes.
func (s *Server) SetWebhookRetryDelays(delays ...time.Duration) {
	w := s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	w.delays = slices.Clone(delays)
}

// WebhookDeliveries returns every event queued so far, in order, with how
// its delivery went.
func (s *Server) WebhookDeliveries() []WebhookDelivery {
	w := s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	return mapSlice(w.all, func(d *delivery) WebhookDelivery { return d.WebhookDelivery })
}

// WaitWebhooks waits until every event queued so far was delivered or
// given up, or ctx ends (its error is returned).
func (s *Server) WaitWebhooks(ctx context.Context) error {
	w := s.hooks
	for {
		w.mu.Lock()
		busy := slices.ContainsFunc(w.all, func(d *delivery) bool { return !d.done })
		ch := w.changed
		w.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops sending webhooks: pending retries are dropped, an attempt
// under way is cut off, and Close waits for the sending goroutine. The
// fake keeps serving requests; events of later changes are not sent.
func (s *Server) Close() {
	w := s.hooks
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stop)
		for t := range w.timers {
			t.Stop()
		}
		clear(w.timers)
	}
	w.mu.Unlock()
	w.wg.Wait()
}

// SendWebhookEvent sends an event of any name with payload.object = object
// (and the account_id, operator and operator_id the fake's own events
// carry), for tests of events the fake does not make itself
// (meeting.started, say). It is queued like the others; it returns the
// x-zm-request-id, or "" when no webhook is set.
func (s *Server) SendWebhookEvent(event string, object map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emitLocked(event, s.eventPayloadLocked(nil, object))
}

// ValidateWebhookURL sends Zoom's endpoint.url_validation event to the
// webhook endpoint (signed like every event) and checks its answer: 200
// with {"plainToken": the one sent, "encryptedToken": hex HMAC-SHA256 of
// plainToken keyed by the secret token}. It returns nil when the endpoint
// passed, else an error that says why.
func (s *Server) ValidateWebhookURL(ctx context.Context) error {
	s.mu.Lock()
	plain := s.randString(22, alnum)
	reqID := s.newRequestIDLocked()
	s.mu.Unlock()
	body, _ := json.Marshal(map[string]any{
		"event":    "endpoint.url_validation",
		"event_ts": s.now().UnixMilli(),
		"payload":  map[string]any{"plainToken": plain},
	})
	w := s.hooks
	w.mu.Lock()
	url, secret, timeout := w.url, w.secret, w.timeout
	w.mu.Unlock()
	if url == "" {
		return errors.New("zoomtest: no webhook endpoint set")
	}
	status, answer, err := s.post(ctx, url, secret, timeout, reqID, body)
	if err != nil {
		return fmt.Errorf("zoomtest: url validation: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("zoomtest: url validation: status %d", status)
	}
	var got struct{ PlainToken, EncryptedToken string }
	if err := json.Unmarshal(answer, &got); err != nil {
		return fmt.Errorf("zoomtest: url validation: answer is not JSON: %w", err)
	}
	if got.PlainToken != plain || got.EncryptedToken != signature.EncryptedToken(secret, plain) {
		return errors.New("zoomtest: url validation: wrong plainToken or encryptedToken")
	}
	return nil
}

// SignWebhook returns the x-zm-signature Zoom sends with body at timestamp
// ts (Unix seconds): "v0=" + hex HMAC-SHA256 of "v0:{ts}:{body}" keyed by
// secret. Receiver tests use it to forge good and bad requests.
func SignWebhook(secret string, ts int64, body []byte) string {
	return signature.Event(secret, strconv.FormatInt(ts, 10), body)
}

// post makes one signed POST of body to url and reads the answer.
func (s *Server) post(ctx context.Context, url, secret string, timeout time.Duration, reqID string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	ts := s.now().Unix()
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Zoom Marketplace/1.0a")
	req.Header.Set("x-zm-request-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("x-zm-signature", SignWebhook(secret, ts, body))
	req.Header.Set("x-zm-request-id", reqID)
	req.Header.Set("x-zm-trackingid", s.newTrackingID())
	resp, err := s.hooks.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, b, nil
}

// emitLocked queues an event for the webhook endpoint, if one is set, and
// returns its x-zm-request-id ("" when none is set). The caller holds s.mu.
func (s *Server) emitLocked(event string, payload map[string]any) string {
	w := s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.url == "" || w.closed {
		return ""
	}
	body, err := json.Marshal(map[string]any{"event": event, "event_ts": s.now().UnixMilli(), "payload": payload})
	if err != nil {
		return "" // the payloads are built of JSON values; cannot happen
	}
	d := &delivery{WebhookDelivery: WebhookDelivery{Event: event, RequestID: s.newRequestIDLocked(), Body: body}}
	w.all = append(w.all, d)
	w.queue = append(w.queue, d)
	if !w.running {
		w.running = true
		w.wg.Add(1)
		go s.sendWebhooks()
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return d.RequestID
}

// sendWebhooks is the sending goroutine: it makes the due attempts one at
// a time, until Close.
func (s *Server) sendWebhooks() {
	w := s.hooks
	defer w.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-w.stop
		cancel()
	}()
	for {
		w.mu.Lock()
		var d *delivery
		if len(w.queue) > 0 {
			d, w.queue = w.queue[0], w.queue[1:]
		}
		url, secret, timeout := w.url, w.secret, w.timeout
		w.mu.Unlock()
		if d == nil {
			select {
			case <-w.wake:
				continue
			case <-w.stop:
				return
			}
		}
		var status int
		var err error
		if url == "" {
			err = errors.New("no webhook endpoint set")
		} else {
			status, _, err = s.post(ctx, url, secret, timeout, d.RequestID, d.Body)
		}
		if ctx.Err() != nil {
			return // closed
		}
		s.settle(d, status, err)
	}
}

// settle records how an attempt went and, when it failed, schedules the
// next retry or gives the event up.
func (s *Server) settle(d *delivery, status int, err error) {
	w := s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	d.Attempts++
	d.LastStatus, d.LastError = status, ""
	if err != nil {
		d.LastError = err.Error()
	}
	ok := err == nil && status >= 200 && status < 300
	switch retry := d.Attempts - 1; {
	case ok:
		d.Delivered, d.done = true, true
	case retry < len(w.delays) && !w.closed:
		var t *time.Timer
		t = time.AfterFunc(w.delays[retry], func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			if !w.timers[t] {
				return // stopped by Close
			}
			delete(w.timers, t)
			w.queue = append(w.queue, d)
			select {
			case w.wake <- struct{}{}:
			default:
			}
		})
		w.timers[t] = true
		return
	default:
		d.GaveUp, d.done = true, true
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// newRequestIDLocked is an x-zm-request-id: a random UUID.
func (s *Server) newRequestIDLocked() string {
	b := s.randBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Payloads of the events the fake makes.

// accountID is the account's id as events and user bodies carry it.
func (s *Server) accountID() string {
	if s.opts.AccountID != "" {
		return s.opts.AccountID
	}
	return "fakeAccount0000000000"
}

// eventPayloadLocked is {"account_id", "operator", "operator_id",
// "object"}: the operator is by, or (nil) the account's owner, its first
// user, who owns the app.
func (s *Server) eventPayloadLocked(by *user, object map[string]any) map[string]any {
	if by == nil && len(s.users) > 0 {
		by = s.users[0]
	}
	p := map[string]any{"account_id": s.accountID(), "operator": "", "operator_id": "", "object": object}
	if by != nil {
		p["operator"], p["operator_id"] = by.Email, by.ID
	}
	return p
}

// operatorLocked is who made the change of c: the account's owner for an
// API request (the app acts for the account), the host for a change made
// "in the web portal" (the simulator).
func (s *Server) operatorLocked(c *call, host *user) *user {
	if c.portal {
		return host
	}
	return nil
}

// meetingEventObject is the meeting as meeting.created carries it: what
// GET answers, less start_url (it carries the host's ZAK).
func meetingEventObject(m *meeting) map[string]any {
	b := m.body(nil)
	delete(b, "start_url")
	return b
}

// diffObjects compares two bodies (as JSON values) key by key and returns
// the keys that changed with their new and old values; "settings" is
// compared key by key too, as Zoom's meeting.updated carries only the
// settings that changed. keep are keys both always carry (id, uuid).
func diffObjects(oldB, newB map[string]any, keep ...string) (obj, old map[string]any) {
	o, n := jsonValue(oldB), jsonValue(newB)
	obj, old = map[string]any{}, map[string]any{}
	for _, k := range keep {
		obj[k], old[k] = n[k], o[k]
	}
	keys := map[string]bool{}
	for k := range o {
		keys[k] = true
	}
	for k := range n {
		keys[k] = true
	}
	changed := false
	for k := range keys {
		if slices.Contains(keep, k) || reflect.DeepEqual(o[k], n[k]) {
			continue
		}
		os, oIsMap := o[k].(map[string]any)
		ns, nIsMap := n[k].(map[string]any)
		if k == "settings" && oIsMap && nIsMap {
			so, sn := map[string]any{}, map[string]any{}
			for sk, sv := range ns {
				if !reflect.DeepEqual(os[sk], sv) {
					sn[sk], so[sk] = sv, os[sk]
				}
			}
			obj[k], old[k] = sn, so
			changed = true
			continue
		}
		changed = true
		if v, ok := n[k]; ok {
			obj[k] = v
		}
		if v, ok := o[k]; ok {
			old[k] = v
		}
	}
	if !changed {
		return nil, nil
	}
	return obj, old
}

// jsonValue is v as encoding/json decodes it (numbers as float64), so
// values built in Go compare equal to the same values read back.
func jsonValue(v map[string]any) map[string]any {
	b, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// emitMeetingUpdatedLocked sends meeting.updated for a change from before
// to after, when something changed: object and old_object carry the id,
// the uuid and the fields that changed (new and old values), time_stamp
// when (Unix ms), scope "single" for one occurrence, else "all".
func (s *Server) emitMeetingUpdatedLocked(c *call, before, after *meeting, occurrenceID string) {
	obj, old := diffObjects(meetingEventObject(before), meetingEventObject(after), "id", "uuid")
	if obj == nil {
		return
	}
	if occurrenceID != "" {
		obj["occurrence_id"] = occurrenceID
	}
	p := s.eventPayloadLocked(s.operatorLocked(c, s.userByID[after.hostID]), obj)
	p["old_object"] = old
	p["time_stamp"] = s.now().UnixMilli()
	p["scope"] = "all"
	if occurrenceID != "" {
		p["scope"] = "single"
	}
	s.emitLocked("meeting.updated", p)
}

// emitMeetingDeletedLocked sends meeting.deleted: operation "all", or
// "single" with the occurrence deleted.
func (s *Server) emitMeetingDeletedLocked(c *call, m *meeting, occ *occurrence) {
	obj := map[string]any{
		"uuid": m.uuid, "id": m.id, "host_id": m.hostID, "topic": m.topic, "type": m.typ,
		"duration": m.duration, "timezone": m.timezone,
	}
	if !m.start.IsZero() {
		obj["start_time"] = formatTime(m.start)
	}
	op := "all"
	if occ != nil {
		op = "single"
		obj["occurrences"] = []map[string]any{{"occurrence_id": occ.id, "start_time": formatTime(occ.start)}}
	}
	p := s.eventPayloadLocked(s.operatorLocked(c, s.userByID[m.hostID]), obj)
	p["operation"] = op
	s.emitLocked("meeting.deleted", p)
}

// userEventObject is the user as user.* events carry it.
func userEventObject(u *user) map[string]any {
	obj := map[string]any{"id": u.ID, "email": u.Email, "type": u.Type,
		"first_name": u.FirstName, "last_name": u.LastName}
	if name := u.displayName(); name != "" {
		obj["display_name"] = name
	}
	return obj
}
