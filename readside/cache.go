package readside

import (
	"context"
	"strconv"
	"time"
)

// Kinds of cached objects.
const (
	KindMeeting = "meeting"
	KindUser    = "user"
)

// Key names one cached object: a meeting by its id, a user by id or email.
type Key struct {
	Kind string // KindMeeting or KindUser
	ID   string // the meeting id in decimal; the user id or email
}

// MeetingKey is the Key of meeting id.
func MeetingKey(id int64) Key { return Key{Kind: KindMeeting, ID: strconv.FormatInt(id, 10)} }

// UserKey is the Key of a user by id or email.
func UserKey(idOrEmail string) Key { return Key{Kind: KindUser, ID: idOrEmail} }

// Entry is what the read cache holds of one object.
type Entry struct {
	// JSON is the object as the worker or the read side stored it; nil when
	// nothing is cached.
	JSON []byte
	// Gone is true while a recent 404 from Zoom (or a webhook saying the
	// object was deleted) is remembered: the negative cache.
	Gone bool
	// Version is the event_ts (Unix ms) of the newest webhook applied to
	// the object; 0 when none. Writes back compare it, so that a copy
	// fetched before a newer change never overwrites it.
	Version int64
	// Fetched is when the read side fetched the copy from Zoom; zero when
	// not known (a copy a job stored).
	Fetched time.Time
	// Stale is true when a webhook said the object changed and the copy
	// has not been fetched again since.
	Stale bool
}

// ReadCache is the shared cache the read side reads and keeps true: one
// round trip per read, compare-and-set writes keyed by the webhook version.
type ReadCache interface {
	// Read returns what is cached of k.
	Read(ctx context.Context, account string, k Key) (Entry, error)
	// WriteBack stores a copy fetched from Zoom at fetched, unless the
	// version is no longer ver; it reports whether it stored it. A user is
	// stored by its id and indexed by its email.
	WriteBack(ctx context.Context, account string, k Key, ver int64, json []byte, fetched time.Time) (bool, error)
	// Forget drops the copy of k unless the version is no longer ver, and
	// with notFoundTTL > 0 remembers for that long that Zoom has no such
	// object.
	Forget(ctx context.Context, account string, k Key, ver int64, notFoundTTL time.Duration) (bool, error)
	// Apply records a webhook of version ts about k: drop removes the copy
	// (and remembers the 404 for notFoundTTL), else the copy is marked stale
	// (and, with create, marked to be fetched even when none is cached).
	// applied is false for a webhook older than one already applied (or a
	// deletion as old as one); refresh says the object should now be
	// fetched from Zoom.
	Apply(ctx context.Context, account string, k Key, ts int64, drop, create bool, notFoundTTL time.Duration) (applied, refresh bool, err error)
}

// JobNotes is what the read side notes of jobs beside the worker's records,
// from the worker's own streams: deferrals (job.deferred events) and where
// a failed job sits in ZOOM_DLQ.
type JobNotes interface {
	NoteDeferred(ctx context.Context, account, jobID string, until time.Time) error
	NoteDeadLetter(ctx context.Context, account, jobID string, seq uint64, ttl time.Duration) error
	// JobNotes returns the deferral's end (zero: none now) and the dead
	// letter's sequence (0: none).
	JobNotes(ctx context.Context, account, jobID string) (until time.Time, dlqSeq uint64, err error)
}
