package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom"
)

// kind is one job kind: the subject its jobs come on, and what runs one
// of them once against Zoom (perform's entry for it).
type kind struct {
	subject string
	perform func(w *Worker, ctx context.Context, a *attempt, t try) (*result, error)
}

// kindOf makes the kind of job type J from the method that runs it. J's
// Subject names the kind (called on J's zero value, a nil pointer: it
// returns a constant), so each kind is registered once, in kinds.
func kindOf[J messages.Job](perform func(*Worker, context.Context, *attempt, try, J) (*result, error)) kind {
	var zero J
	return kind{subject: zero.Subject(), perform: func(w *Worker, ctx context.Context, a *attempt, t try) (*result, error) {
		// a.job was decoded from a.subject, J's subject: it is a J.
		return perform(w, ctx, a, t, a.job.(J))
	}}
}

// kinds is the worker's job kinds by subject.
var kinds = bySubject(
	kindOf((*Worker).createUser),
	kindOf((*Worker).createMeeting),
	kindOf((*Worker).updateMeeting),
	kindOf((*Worker).deleteMeeting),
	kindOf((*Worker).deleteUser),
	kindOf((*Worker).addRegistrant),
)

func bySubject(ks ...kind) map[string]kind {
	m := make(map[string]kind, len(ks))
	for _, k := range ks {
		if _, dup := m[k.subject]; dup {
			panic("worker: two kinds of job on " + k.subject)
		}
		m[k.subject] = k
	}
	return m
}

// createUser creates a Zoom user. An email already in the account (409,
// code 1005) is looked up and the job succeeds with existing: true. Users
// are unique by email, so a retry after an unknown outcome needs no
// reconciliation: the 409 path finds the user the lost attempt made.
func (w *Worker) createUser(ctx context.Context, a *attempt, t try, j *messages.CreateUserJob) (*result, error) {
	z := a.account.Zoom
	existing := false
	u, err := z.CreateUser(ctx, j.EffectiveAction(), j.UserInfo)
	if err != nil {
		if !zoom.IsUserExists(err) {
			return nil, mayHaveChanged(err)
		}
		if u, err = z.GetUser(ctx, j.UserInfo.Email); err != nil {
			return nil, err
		}
		// After a lost answer the user may be ours: created since the job began.
		existing = !(t.uncertain && createdSince(u.Raw, a.since()))
	}
	user := u.Whole()
	return &result{
		eventSubject: messages.SubjectUserCreated,
		event:        messages.UserCreated{JobRef: a.ref(), Existing: existing, User: user},
		users:        []messages.User{user},
	}, nil
}

// createMeeting creates a meeting for the job's host. When an earlier try's
// outcome is unknown it first reconciles: it lists the host's meetings and
// adopts the one that try made, so a redelivery never makes a second one.
func (w *Worker) createMeeting(ctx context.Context, a *attempt, t try, j *messages.CreateMeetingJob) (*result, error) {
	z := a.account.Zoom
	var m *zoom.Meeting
	if t.uncertain {
		found, err := w.reconcileMeeting(ctx, a, j)
		if err != nil {
			return nil, err
		}
		if found != nil {
			a.log.Info("adopted the meeting an earlier attempt created", "meeting_id", found.ID)
		}
		m = found
	}
	if m == nil {
		var err error
		if m, err = z.CreateMeeting(ctx, j.UserID, j.Meeting); err != nil {
			return nil, mayHaveChanged(err)
		}
	}
	meeting, err := w.meetingJSON(m)
	if err != nil {
		return nil, err
	}
	return &result{
		eventSubject: messages.SubjectMeetingCreated,
		event:        meetingCreated{JobRef: a.ref(), UserID: j.UserID, Meeting: meeting},
		meetings:     []MeetingJSON{{ID: m.ID, JSON: meeting}},
		claimMeeting: m.ID,
	}, nil
}

// reconcileSkew allows for clocks: Zoom's created_at against Redis's and
// NATS's time.
const reconcileSkew = 2 * time.Minute

// since is the earliest an attempt at a's job can have reached Zoom: when
// ZOOM_JOBS stored the job, or the record's first start if that is earlier
// (clocks differ) or the stream's time is unknown. Reconciliation looks no
// further back; with the record lost, the first start is this attempt's,
// and only the publish time still covers the lost attempts.
func (a *attempt) since() time.Time {
	if !a.published.IsZero() && (a.claim.FirstStarted.IsZero() || a.published.Before(a.claim.FirstStarted)) {
		return a.published
	}
	return a.claim.FirstStarted
}

// reconcileMeeting finds a meeting an earlier attempt of this job created:
// same host, topic, type and start time, created since the job was
// published (a.since), and not claimed by another job. It returns nil when there
// is none.
func (w *Worker) reconcileMeeting(ctx context.Context, a *attempt, j *messages.CreateMeetingJob) (*zoom.Meeting, error) {
	z := a.account.Zoom
	list, err := z.ListAllMeetings(ctx, j.UserID, "scheduled")
	if err != nil {
		return nil, err
	}
	since := a.since().Add(-reconcileSkew)
	wantType := j.Meeting.Type
	if wantType == 0 {
		wantType = 2
	}
	wantStart, hasStart := meetingStart(j.Meeting.StartTime, j.Meeting.Timezone)
	var cands []zoom.Meeting
	for _, m := range list {
		if j.Meeting.Topic != "" && m.Topic != j.Meeting.Topic || m.Type != wantType {
			continue
		}
		if hasStart && wantType != 8 {
			if got, ok := meetingStart(m.StartTime, ""); !ok || !got.Equal(wantStart) {
				continue
			}
		}
		if c, err := time.Parse(time.RFC3339, m.CreatedAt); err != nil || c.Before(since) {
			continue
		}
		cands = append(cands, m)
	}
	if len(cands) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(cands))
	for i, m := range cands {
		ids[i] = m.ID
	}
	owners, err := w.cache.ClaimedMeetings(ctx, a.account.Name, ids)
	if err != nil {
		w.health.failed()
		return nil, err
	}
	free := cands[:0]
	for i, m := range cands {
		switch owners[i] {
		case a.jobID:
			return z.GetMeeting(ctx, m.ID)
		case "":
			free = append(free, m)
		}
	}
	if len(free) == 0 {
		return nil, nil
	}
	sort.Slice(free, func(i, k int) bool { return free[i].CreatedAt < free[k].CreatedAt })
	return z.GetMeeting(ctx, free[0].ID)
}

// meetingStart reads a start_time as Zoom takes it: UTC with Z, or local
// time in tz.
func meetingStart(s, tz string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	loc := time.UTC
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, loc)
	return t, err == nil
}

// updateMeeting patches a meeting, then reads it back for the event and
// the cache. PATCH sets fields to values, so a second one after an unknown
// outcome leaves Zoom as one would.
func (w *Worker) updateMeeting(ctx context.Context, a *attempt, t try, j *messages.UpdateMeetingJob) (*result, error) {
	z := a.account.Zoom
	if !t.applied {
		if err := z.UpdateMeeting(ctx, j.MeetingID, j.OccurrenceID, j.Meeting); err != nil {
			return nil, mayHaveChanged(err)
		}
	}
	m, err := z.GetMeeting(ctx, j.MeetingID)
	if err != nil {
		// The change is made: retries of this attempt only read it back.
		return nil, &changed{err: err, sure: true}
	}
	meeting, err := w.meetingJSON(m)
	if err != nil {
		return nil, err
	}
	return &result{
		eventSubject: messages.SubjectMeetingUpdated,
		event:        meetingUpdated{JobRef: a.ref(), MeetingID: j.MeetingID, Meeting: meeting},
		meetings:     []MeetingJSON{{ID: j.MeetingID, JSON: meeting}},
	}, nil
}

// alreadyGone reads Zoom's answer to a DELETE (err nil: deleted now). A 404
// that confirm confirms means the thing was gone before this job, unless a
// lost answer of ours (t.uncertain) deleted it; any other error may have
// changed Zoom.
func alreadyGone(err error, t try, confirm func(notFound error) error) (bool, error) {
	if err == nil {
		return false, nil
	}
	if !zoom.IsNotFound(err) {
		return false, mayHaveChanged(err)
	}
	if err := confirm(err); err != nil {
		return false, err
	}
	return !t.uncertain, nil
}

// deleteMeeting deletes a meeting (or one occurrence); one already gone succeeds.
func (w *Worker) deleteMeeting(ctx context.Context, a *attempt, t try, j *messages.DeleteMeetingJob) (*result, error) {
	err := a.account.Zoom.DeleteMeeting(ctx, j.MeetingID, zoom.DeleteMeetingOptions{
		OccurrenceID: j.OccurrenceID, ScheduleForReminder: j.ScheduleForReminder, CancelMeetingReminder: j.CancelMeetingReminder})
	gone, err := alreadyGone(err, t, func(err error) error { return w.confirmMeetingGone(ctx, a, j.MeetingID, err) })
	if err != nil {
		return nil, err
	}
	return &result{
		eventSubject: messages.SubjectMeetingDeleted,
		event:        messages.MeetingDeleted{JobRef: a.ref(), MeetingID: j.MeetingID, AlreadyGone: gone},
		dropMeetings: []int64{j.MeetingID},
	}, nil
}

// deleteUser disassociates or deletes a user; one already gone succeeds.
func (w *Worker) deleteUser(ctx context.Context, a *attempt, t try, j *messages.DeleteUserJob) (*result, error) {
	err := a.account.Zoom.DeleteUser(ctx, j.UserID, zoom.DeleteUserOptions{
		Action: j.EffectiveAction(), TransferEmail: j.TransferEmail, TransferMeeting: j.TransferMeeting,
		TransferWebinar: j.TransferWebinar, TransferRecording: j.TransferRecording})
	gone, err := alreadyGone(err, t, func(err error) error { return w.confirmUserGone(ctx, a, j.UserID, err) })
	if err != nil {
		return nil, err
	}
	drop := []string{j.UserID}
	if u, _ := w.cache.CachedUser(ctx, a.account.Name, j.UserID); u != nil {
		drop = append(drop, u.ID, u.Email)
	}
	return &result{
		eventSubject: messages.SubjectUserDeleted,
		event: messages.UserDeleted{JobRef: a.ref(), UserID: j.UserID,
			Action: j.EffectiveAction(), AlreadyGone: gone},
		dropUsers: drop,
	}, nil
}

// A not-found answer to a delete is a success (already_gone) only when it
// is about the job's own meeting or user: Zoom's 404 names whichever object
// it could not find, which may be another one (a delete-user job's
// transfer_email, a meeting's host). Anything else is the original error: a
// failure the job reports (zoom_rejected).

// confirmMeetingGone returns nil when notFound (a 404 to deleting meeting
// id) says the meeting does not exist: Zoom's code 3001, or else a GET of
// the meeting that finds nothing either.
func (w *Worker) confirmMeetingGone(ctx context.Context, a *attempt, id int64, notFound error) error {
	var ae *zoom.APIError
	if errors.As(notFound, &ae) && ae.Code == zoom.CodeMeetingNotFound {
		return nil
	}
	_, err := a.account.Zoom.GetMeeting(ctx, id)
	if err == nil {
		return notFound // the meeting is there: the 404 was about something else
	}
	if zoom.IsNotFound(err) {
		var ge *zoom.APIError
		if errors.As(err, &ge) && ge.Code == zoom.CodeUserNotFound {
			return notFound
		}
		return nil
	}
	return err
}

// confirmUserGone returns nil when a GET of the job's user finds nothing:
// the 404 to deleting it was about it, not about its transfer target.
func (w *Worker) confirmUserGone(ctx context.Context, a *attempt, userID string, notFound error) error {
	_, err := a.account.Zoom.GetUser(ctx, userID)
	switch {
	case err == nil:
		return notFound // the user is there: the 404 named another user
	case zoom.IsNotFound(err):
		return nil
	}
	return err
}

// mayHaveTakenEffect says whether a failed call might still have changed
// something at Zoom. An answer from Zoom with a 4xx status, a refused
// connection and a request the limiter never sent did not.
func mayHaveTakenEffect(err error) bool {
	var ae *zoom.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500
	}
	if _, held := zoom.AsHeld(err); held || errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return true
}

// createdSince reads a Zoom object's created_at from its JSON.
func createdSince(raw json.RawMessage, since time.Time) bool {
	var v struct {
		CreatedAt string `json:"created_at"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	t, err := time.Parse(time.RFC3339, v.CreatedAt)
	return err == nil && !t.Before(since.Add(-reconcileSkew))
}

// meetingJSON is what events and the cache say of a meeting: what Zoom
// answered, without start_url (it carries the host's ZAK) unless
// configured. It works on Zoom's JSON as it came, so fields the worker does
// not know pass through, and decodes it only once.
func (w *Worker) meetingJSON(m *zoom.Meeting) (json.RawMessage, error) {
	raw := m.Raw
	if len(raw) == 0 {
		var err error
		if raw, err = json.Marshal(m); err != nil {
			return nil, err
		}
	}
	drop := "start_url"
	if w.cfg.IncludeStartURL {
		drop = ""
	}
	out, err := withoutMember(raw, drop)
	if err != nil {
		return nil, fmt.Errorf("zoom answered a meeting that is not a JSON object: %w", err)
	}
	return out, nil
}

// meetingCreated and meetingUpdated are messages.MeetingCreated and
// messages.MeetingUpdated with the meeting already encoded: the same JSON.
type meetingCreated struct {
	messages.JobRef
	UserID  string          `json:"user_id"`
	Meeting json.RawMessage `json:"meeting"`
}

type meetingUpdated struct {
	messages.JobRef
	MeetingID int64           `json:"meeting_id"`
	Meeting   json.RawMessage `json:"meeting"`
}

// addRegistrant registers the job's registrant for a meeting. Zoom answers
// a second registration of an email with the registration it has, but
// counts each against its 3 a day for that registrant and meeting. So after
// an earlier try's lost answer, and when Zoom says the day's 3 are spent,
// the kind looks the email up among the meeting's registrants and adopts
// the registration it finds instead of registering again.
func (w *Worker) addRegistrant(ctx context.Context, a *attempt, t try, j *messages.AddRegistrantJob) (*result, error) {
	z := a.account.Zoom
	if t.uncertain {
		found, err := findRegistrant(ctx, z, j)
		if err != nil {
			return nil, err
		}
		if found != nil {
			a.log.Info("adopted the registration of an earlier attempt", "registrant_id", found.RegistrantID)
			return registrantAdded(a, j, found, !registeredSince(found, a.since())), nil
		}
	}
	r, err := z.AddRegistrant(ctx, j.MeetingID, j.OccurrenceIDs, j.Registrant)
	if err != nil {
		var ae *zoom.APIError
		if !errors.As(err, &ae) || !ae.RegistrantLimit {
			return nil, mayHaveChanged(err)
		}
		// Three registrations today: the email is registered, by this job's
		// lost try or by someone else. Without one found, decide defers.
		found, ferr := findRegistrant(ctx, z, j)
		if ferr != nil {
			return nil, ferr
		}
		if found == nil {
			return nil, err
		}
		return registrantAdded(a, j, found, !(t.uncertain && registeredSince(found, a.since()))), nil
	}
	return registrantAdded(a, j, r, false), nil
}

// findRegistrant looks for the job's email among the meeting's approved and
// pending registrants (Zoom lists them by status); nil when it is in neither.
func findRegistrant(ctx context.Context, z RegistrantAPI, j *messages.AddRegistrantJob) (*zoom.Registrant, error) {
	for _, status := range []string{zoom.RegistrantApproved, zoom.RegistrantPending} {
		list, err := z.ListRegistrants(ctx, j.MeetingID, status)
		if err != nil {
			return nil, err
		}
		for i := range list {
			if strings.EqualFold(list[i].Email, j.Registrant.Email) {
				return &list[i], nil
			}
		}
	}
	return nil, nil
}

// registeredSince says whether a listed registrant registered after since
// (less the clock skew Zoom's times may have).
func registeredSince(r *zoom.Registrant, since time.Time) bool {
	t, err := time.Parse(time.RFC3339, r.CreateTime)
	return err == nil && !t.Before(since.Add(-reconcileSkew))
}

// registrantAdded is the result of a registration: Zoom's add answer as it
// came (its unknown fields kept), or a listed registrant put in that shape,
// with the job's email and names.
func registrantAdded(a *attempt, j *messages.AddRegistrantJob, r *zoom.Registrant, existing bool) *result {
	var reg messages.Registrant
	if r.MeetingID == 0 || json.Unmarshal(r.Raw, &reg) != nil {
		// A listed registrant: its "id" is the registrant's, not the meeting's.
		reg = messages.Registrant{Status: r.Status, ParticipantPinCode: r.ParticipantPinCode}
	}
	reg.ID, reg.RegistrantID = j.MeetingID, r.RegistrantID
	if reg.JoinURL == "" {
		reg.JoinURL = r.JoinURL
	}
	reg.Email, reg.FirstName, reg.LastName = j.Registrant.Email, j.Registrant.FirstName, j.Registrant.LastName
	return &result{
		eventSubject: messages.SubjectRegistrantAdded,
		event: messages.RegistrantAdded{JobRef: a.ref(), MeetingID: j.MeetingID,
			Existing: existing, Registrant: reg},
	}
}
