package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/publisher"
)

const submitUsage = `Usage:
  zoom-worker submit user    --email E [--first F] [--last L] [--type 1] [--action custCreate] [--job-id ID] [--wait]
  zoom-worker submit meeting --user HOST --topic T --start 2026-12-05T12:00:00Z --duration 45 [--timezone TZ]
                             [--password P] [--agenda A] [--type 2] [--registration] [--job-id ID] [--wait]
  zoom-worker submit registrant --meeting ID --email E --first F [--last L] [--occurrences ID,ID] [--job-id ID] [--wait]
  zoom-worker submit KIND --file job.json [--wait]     (KIND: user, meeting, meeting-update, meeting-delete, user-delete, registrant)

Publishes one job to ZOOM_JOBS (validated first; Nats-Msg-Id = job id). With --wait it
prints the event the job causes and exits 1 if that is job.failed or job.conflict (the job id
was used before by a different job). A job id published again within the server's duplicate
window (2 minutes) is dropped: submit says "duplicate of an earlier publish" and shows the
earlier job's outcome. A scheduled meeting
(type 2, Zoom's default, or 8) needs --start and --duration: there is no default for either.
A registrant can be added only to a meeting with registration on: make it with
submit meeting --registration (Zoom's approval_type 0, approved at once; without it Zoom
takes 2, no registration), or with "settings": {"approval_type": 0} in a --file job.
`

// submitOptions are the flags of `zoom-worker submit`.
type submitOptions struct {
	nats                                     natsFlags
	file, jobID, account                     *string
	wait, registration                       *bool
	timeout                                  *time.Duration
	email, first, last, action               *string
	utype, duration                          *int
	host, topic, start, tz, password, agenda *string
	meetingID                                *int64
	occurrences                              *string
}

func newSubmitFlags(name string, getenv func(string) string) (*flag.FlagSet, *submitOptions) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	o := &submitOptions{nats: addNATSFlags(fs, getenv)}
	o.file = fs.String("file", "", "the job as a JSON `file` (- for standard input)")
	o.jobID = fs.String("job-id", "", "job `id` (default: generated)")
	o.account = fs.String("account", "", "Zoom account `name` (default: the default account)")
	o.wait = fs.Bool("wait", false, "wait for the job's event and print it")
	o.timeout = fs.Duration("timeout", time.Minute, "with --wait: how long to wait")
	o.email = fs.String("email", "", "user, registrant: email")
	o.first = fs.String("first", "", "user, registrant: first name")
	o.last = fs.String("last", "", "user, registrant: last name")
	o.meetingID = fs.Int64("meeting", 0, "registrant: the meeting's `id`")
	o.occurrences = fs.String("occurrences", "", "registrant: comma-separated occurrence `ids` (default: all)")
	o.utype = fs.Int("type", 0, "user type (default 1, basic) or meeting type (default Zoom's: 2, scheduled)")
	o.action = fs.String("action", "", "user: Zoom's create action (default custCreate)")
	o.host = fs.String("user", "", "meeting: host user id or email")
	o.topic = fs.String("topic", "", "meeting: topic")
	o.start = fs.String("start", "", "meeting: start `time`, RFC 3339 (2026-12-05T12:00:00Z); required for a scheduled meeting")
	o.duration = fs.Int("duration", 0, "meeting: `minutes`; required for a scheduled meeting")
	o.tz = fs.String("timezone", "", "meeting: IANA time zone")
	o.password = fs.String("password", "", "meeting: passcode")
	o.agenda = fs.String("agenda", "", "meeting: agenda")
	o.registration = fs.Bool("registration", false, "meeting: registration on, registrants approved at once (approval_type 0), so submit registrant can add to it")
	return fs, o
}

func runSubmit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	kinds := []string{"user", "meeting", "meeting-update", "meeting-delete", "user-delete", "registrant"}
	kind, o, err := parseSubcommand("submit", kinds, submitUsage, newSubmitFlags, args, getenv, stdout, stderr)
	if err != nil || kind == "" {
		return err
	}
	subject := map[string]string{
		"user": messages.SubjectUserCreate, "meeting": messages.SubjectMeetingCreate,
		"meeting-update": messages.SubjectMeetingUpdate, "meeting-delete": messages.SubjectMeetingDelete,
		"user-delete": messages.SubjectUserDelete, "registrant": messages.SubjectRegistrantAdd,
	}[kind]
	nf, file, jobID, account, wait, timeout := o.nats, o.file, o.jobID, o.account, o.wait, o.timeout
	email, first, last, utype, action := o.email, o.first, o.last, o.utype, o.action
	host, topic, start, duration, tz, password, agenda := o.host, o.topic, o.start, o.duration, o.tz, o.password, o.agenda
	if kind == "meeting" && *file == "" && *utype != 1 && *utype != 3 {
		// Zoom would take a scheduled meeting without them as starting now
		// and lasting 0 minutes: never what was meant.
		if *start == "" {
			return &usageError{"submit meeting: --start is required for a scheduled meeting (RFC 3339, such as 2026-12-05T12:00:00Z)"}
		}
		if *duration <= 0 {
			return &usageError{"submit meeting: --duration is required for a scheduled meeting (minutes, such as 45)"}
		}
	}

	var body []byte
	if *file != "" {
		var err error
		if *file == "-" {
			body, err = io.ReadAll(io.LimitReader(os.Stdin, messages.MaxJobBytes+1))
		} else {
			body, err = os.ReadFile(*file)
		}
		if err != nil {
			return &usageError{fmt.Sprintf("submit: read %s: %v", *file, err)}
		}
	} else {
		id := *jobID
		if id == "" {
			id = kind + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		}
		var job any
		switch kind {
		case "user":
			job = &messages.CreateUserJob{JobHeader: messages.JobHeader{JobID: id, Account: *account}, Action: *action,
				UserInfo: messages.UserInfo{Email: *email, Type: max(*utype, 1), FirstName: *first, LastName: *last}}
		case "meeting":
			spec := messages.MeetingSpec{
				Topic: *topic, Type: *utype, StartTime: *start, Duration: *duration, Timezone: *tz, Password: *password, Agenda: *agenda}
			if *o.registration {
				spec.Settings = json.RawMessage(`{"approval_type":0}`)
			}
			job = &messages.CreateMeetingJob{JobHeader: messages.JobHeader{JobID: id, Account: *account}, UserID: *host, Meeting: spec}
		case "registrant":
			job = &messages.AddRegistrantJob{JobHeader: messages.JobHeader{JobID: id, Account: *account}, MeetingID: *o.meetingID, OccurrenceIDs: *o.occurrences,
				Registrant: messages.RegistrantSpec{Email: *email, FirstName: *first, LastName: *last}}
		default:
			return &usageError{"submit " + kind + ": give the job with --file"}
		}
		body, _ = json.Marshal(job)
	}
	job, err := messages.DecodeJob(subject, body)
	if err != nil {
		return &usageError{"submit: " + err.Error()}
	}
	if job.ID() == "" {
		return &usageError{"submit: the job needs a job_id (it is the idempotency key)"}
	}

	nc, _, err := nf.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	pub, err := publisher.New(nc)
	if err != nil {
		return err
	}
	receipt, err := pub.PublishRawReceipt(ctx, subject, job.ID(), body, nil)
	if err != nil {
		return err
	}
	if receipt.Duplicate {
		// The server dropped this body unread: whatever it says, it was not
		// run; only the earlier job's outcome can be shown.
		fmt.Fprintf(stderr, "job %s: duplicate of an earlier publish (the job id was published within the last 2 minutes); this job was not run, the earlier job's outcome is shown\n",
			job.ID())
	} else {
		fmt.Fprintf(stderr, "published job %s on %s\n", job.ID(), subject)
	}
	if !*wait {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	ev, err := pub.WaitFor(wctx, job.ID(), receipt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "event %s\n", ev.Subject)
	fmt.Fprintln(stdout, string(ev.Body))
	if ev.Failed() {
		return fmt.Errorf("job %s failed", job.ID())
	}
	if ev.Conflict() {
		return fmt.Errorf("job %s was not run: its job id was used before by a different job (job.conflict)", job.ID())
	}
	return nil
}
