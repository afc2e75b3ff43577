package worker

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/messages"
)

// Jobs that change one meeting run in the order they were published:
// a meeting.update published after another update (or before a delete) of
// the same meeting never reaches Zoom first.
//
// The order is the job's sequence in ZOOM_JOBS. A work-queue stream keeps a
// job until it is acked or terminated, so "an earlier job of this meeting is
// unfinished" is exactly "ZOOM_JOBS still holds a meeting.update or
// meeting.delete of this meeting with a lower sequence". Before it begins,
// an ordered job asks the stream for those (a direct get of the next
// message on the subject, from the stream's start, for each of the two
// subjects; only pending update and delete jobs are visited) and, while one
// exists, goes back with a short delay that does not count as an attempt.
// A create cannot be overtaken: an update names the meeting id, which exists
// only once the create has succeeded.
//
// User jobs (user.create, user.delete) of one user run one at a time, in
// the same way and in stream order: Zoom refuses a second write to a user
// while one is running (429 "a request to ... this user has already been
// made") and a POST /users blocks the user's other operations. The user is
// what the job names, lowercased: the email of a create, the user_id (an
// email or a Zoom id) of a delete.
var (
	meetingSubjects = []string{messages.SubjectMeetingUpdate, messages.SubjectMeetingDelete}
	userSubjects    = []string{messages.SubjectUserCreate, messages.SubjectUserDelete}
)

// orderKey is the ordering key of a job ("" for jobs that need no order)
// and the subjects whose jobs may share it.
func orderKey(j messages.Job) (string, []string) {
	switch j := j.(type) {
	case *messages.UpdateMeetingJob:
		return j.AccountName() + "/meeting/" + strconv.FormatInt(j.MeetingID, 10), meetingSubjects
	case *messages.DeleteMeetingJob:
		return j.AccountName() + "/meeting/" + strconv.FormatInt(j.MeetingID, 10), meetingSubjects
	case *messages.CreateUserJob:
		return userKey(j.AccountName(), j.UserInfo.Email), userSubjects
	case *messages.DeleteUserJob:
		return userKey(j.AccountName(), j.UserID), userSubjects
	}
	return "", nil
}

func userKey(account, user string) string {
	if user == "" {
		return ""
	}
	return account + "/user/" + strings.ToLower(user)
}

// sequencer answers "is an earlier job of this key still pending?" from
// ZOOM_JOBS, caching each sequence's key (messages never change).
type sequencer struct {
	stream jetstream.Stream
	mu     sync.Mutex
	keys   map[uint64]string
}

const sequencerCacheMax = 1 << 16

func (s *sequencer) keyOf(seq uint64, subject string, data []byte) string {
	s.mu.Lock()
	k, ok := s.keys[seq]
	s.mu.Unlock()
	if ok {
		return k
	}
	if job, err := messages.DecodeJob(subject, data); err == nil {
		k, _ = orderKey(job)
	}
	s.mu.Lock()
	if len(s.keys) >= sequencerCacheMax {
		s.keys = make(map[uint64]string)
	}
	s.keys[seq] = k
	s.mu.Unlock()
	return k
}

// earlier reports the sequence of an unfinished job with key that came
// before seq (0 for none).
func (s *sequencer) earlier(ctx context.Context, key string, subjects []string, seq uint64) (uint64, error) {
	for _, subj := range subjects {
		next := uint64(1)
		for next < seq {
			m, err := s.stream.GetMsg(ctx, next, jetstream.WithGetMsgSubject(subj))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if err != nil {
				return 0, err
			}
			if m.Sequence >= seq {
				break
			}
			if s.keyOf(m.Sequence, m.Subject, m.Data) == key {
				return m.Sequence, nil
			}
			next = m.Sequence + 1
		}
	}
	return 0, nil
}
