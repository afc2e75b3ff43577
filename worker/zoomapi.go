package worker

import (
	"context"
	"time"

	"github.com/zoomworker/zoom-worker/zoom"
)

// UserAPI is the part of Zoom's user API the worker calls.
type UserAPI interface {
	CreateUser(ctx context.Context, action string, userInfo any) (*zoom.User, error)
	GetUser(ctx context.Context, idOrEmail string) (*zoom.User, error)
	DeleteUser(ctx context.Context, userID string, opts zoom.DeleteUserOptions) error
}

// MeetingAPI is the part of Zoom's meeting API the worker calls.
type MeetingAPI interface {
	CreateMeeting(ctx context.Context, userID string, body any) (*zoom.Meeting, error)
	GetMeeting(ctx context.Context, meetingID int64) (*zoom.Meeting, error)
	ListAllMeetings(ctx context.Context, userID, typ string) ([]zoom.Meeting, error)
	UpdateMeeting(ctx context.Context, meetingID int64, occurrenceID string, body any) error
	DeleteMeeting(ctx context.Context, meetingID int64, opts zoom.DeleteMeetingOptions) error
}

// RegistrantAPI is the part of Zoom's meeting registrant API the worker calls.
type RegistrantAPI interface {
	AddRegistrant(ctx context.Context, meetingID int64, occurrenceIDs string, body any) (*zoom.Registrant, error)
	ListRegistrants(ctx context.Context, meetingID int64, status string) ([]zoom.Registrant, error)
}

// ZoomAPI is everything the worker asks of one Zoom account (*zoom.Client).
type ZoomAPI interface {
	UserAPI
	MeetingAPI
	RegistrantAPI
}

// Pauser stops every process's calls to one account until a time: the
// shared rate limiter, told about a 429's Retry-After. Nil means no sharing.
type Pauser interface {
	PauseUntil(ctx context.Context, until time.Time) error
}

// Account is one configured Zoom account.
type Account struct {
	// Name is what jobs put in "account"; DefaultAccount for jobs without it.
	Name string
	Zoom ZoomAPI
	// Limiter, if set, is told when Zoom answered 429 so everyone slows down.
	Limiter Pauser
}

// DefaultAccount is the name of the account jobs without "account" use.
const DefaultAccount = "default"

// WithMetrics returns a with its Zoom calls counted and timed in m
// (zoomworker_zoom_requests_total and ..._duration_seconds, labelled with
// a.Name). New does it for the worker's accounts; other users of the same
// clients (the service) call it themselves. A nil m returns a unchanged.
func (a Account) WithMetrics(m *Metrics) Account {
	if m != nil {
		a.Zoom = instrumented{ZoomAPI: a.Zoom, account: a.Name, m: m}
	}
	return a
}

// instrumented wraps a ZoomAPI with metrics per call.
type instrumented struct {
	ZoomAPI
	account string
	m       *Metrics
}

func observe[T any](i instrumented, op string, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	i.m.zoomCall(i.account, op, time.Since(start), err)
	return v, err
}

func (i instrumented) CreateUser(ctx context.Context, action string, info any) (*zoom.User, error) {
	return observe(i, "create_user", func() (*zoom.User, error) { return i.ZoomAPI.CreateUser(ctx, action, info) })
}

func (i instrumented) GetUser(ctx context.Context, id string) (*zoom.User, error) {
	return observe(i, "get_user", func() (*zoom.User, error) { return i.ZoomAPI.GetUser(ctx, id) })
}

func (i instrumented) DeleteUser(ctx context.Context, id string, o zoom.DeleteUserOptions) error {
	_, err := observe(i, "delete_user", func() (struct{}, error) { return struct{}{}, i.ZoomAPI.DeleteUser(ctx, id, o) })
	return err
}

func (i instrumented) CreateMeeting(ctx context.Context, userID string, body any) (*zoom.Meeting, error) {
	return observe(i, "create_meeting", func() (*zoom.Meeting, error) { return i.ZoomAPI.CreateMeeting(ctx, userID, body) })
}

func (i instrumented) GetMeeting(ctx context.Context, id int64) (*zoom.Meeting, error) {
	return observe(i, "get_meeting", func() (*zoom.Meeting, error) { return i.ZoomAPI.GetMeeting(ctx, id) })
}

func (i instrumented) ListAllMeetings(ctx context.Context, userID, typ string) ([]zoom.Meeting, error) {
	return observe(i, "list_meetings", func() ([]zoom.Meeting, error) { return i.ZoomAPI.ListAllMeetings(ctx, userID, typ) })
}

func (i instrumented) UpdateMeeting(ctx context.Context, id int64, occ string, body any) error {
	_, err := observe(i, "update_meeting", func() (struct{}, error) { return struct{}{}, i.ZoomAPI.UpdateMeeting(ctx, id, occ, body) })
	return err
}

func (i instrumented) DeleteMeeting(ctx context.Context, id int64, o zoom.DeleteMeetingOptions) error {
	_, err := observe(i, "delete_meeting", func() (struct{}, error) { return struct{}{}, i.ZoomAPI.DeleteMeeting(ctx, id, o) })
	return err
}

func (i instrumented) AddRegistrant(ctx context.Context, id int64, occ string, body any) (*zoom.Registrant, error) {
	return observe(i, "add_registrant", func() (*zoom.Registrant, error) { return i.ZoomAPI.AddRegistrant(ctx, id, occ, body) })
}

func (i instrumented) ListRegistrants(ctx context.Context, id int64, status string) ([]zoom.Registrant, error) {
	return observe(i, "list_registrants", func() ([]zoom.Registrant, error) { return i.ZoomAPI.ListRegistrants(ctx, id, status) })
}
