package messages_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zoomworker/zoom-worker/messages"
)

var jobSubjects = []string{cu, cm, um, dm, du, ar}

// FuzzDecodeJob checks that DecodeJob never panics, that every body it
// rejects gets a *ValidationError with a message, and that every job it
// accepts encodes to a body it accepts again, unchanged (the worker
// re-encodes jobs for Zoom and for the dead-letter stream).
func FuzzDecodeJob(f *testing.F) {
	seed := func(subject string, body []byte) {
		for i, s := range jobSubjects {
			if s == subject {
				f.Add(uint8(i), body)
			}
		}
	}
	files, _ := filepath.Glob("testdata/*/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range jobSubjects {
			seed(s, b)
		}
	}
	for _, tc := range append(validJobs, invalidJobs...) {
		seed(tc.subject, []byte(tc.body))
	}
	nasty := []string{
		``, `null`, `{}`, `[]`, `"x"`, `0`, `{"user_id":"me"} {}`,
		`{"meeting_id":1e400,"meeting":{"topic":"x"}}`,
		`{"meeting_id":-0,"meeting":{"type":99999999999999999999999}}`,
		`{"user_id":"me","meeting":{"duration":-9223372036854775809}}`,
		`{"user_info":{"email":"\ud800@x.com","type":1}}`,
		"{\"user_id\":\"me\",\"meeting\":{\"topic\":\"\xed\xa0\x80\"}}",
		`{"user_id":"me","meeting":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`,
		strings.Repeat("[", 20000),
		`{"user_id":"me","meeting":{"recurrence":{"type":{"type":1}},"type":8}}`,
		`{"user_id":"me","meeting":{"settings":"{}"}}`,
		`{"meeting_id":1,"meeting":{"topic":null,"type":null,"recurrence":null,"settings":null}}`,
		`{"user_info":null,"action":null,"job_id":null}`,
		`{"user_id":"me","meeting":{"":1,"\u0000":2,"topic":"\u0000"}}`,
		`{"user_id":"me","user_id":"you"}`,
	}
	for _, body := range nasty {
		for _, s := range jobSubjects {
			seed(s, []byte(body))
		}
	}

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		subject := jobSubjects[int(which)%len(jobSubjects)]
		job, err := messages.DecodeJob(subject, body)
		if err != nil {
			var ve *messages.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("DecodeJob error %v (%T) is not a *ValidationError", err, err)
			}
			if ve.Error() == "" || ve.Reason == "" {
				t.Fatalf("DecodeJob error %#v has no message", ve)
			}
			if job != nil {
				t.Fatalf("DecodeJob returned a job %+v with error %v", job, err)
			}
			return
		}
		if job == nil || job.Subject() != subject {
			t.Fatalf("DecodeJob = %#v for %s", job, subject)
		}
		if err := job.Validate(); err != nil {
			t.Fatalf("accepted job fails Validate: %v", err)
		}
		again, err := json.Marshal(job)
		if err != nil {
			t.Fatalf("accepted job does not encode: %v", err)
		}
		if len(again) > messages.MaxJobBytes {
			return // encoding/json escapes <, > and & as \u003c: it may grow
		}
		job2, err := messages.DecodeJob(subject, again)
		if err != nil {
			t.Fatalf("re-encoded job %s is rejected: %v", again, err)
		}
		again2, err := json.Marshal(job2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, again2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", again, again2)
		}
	})
}
