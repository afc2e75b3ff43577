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
  zoom-worker submit meeting --user HOST --topic T [--start 2026-12-05T12:00:00Z] [--duration 45] [--timezone TZ]
                             [--password P] [--agenda A] [--type 2] [--job-id ID] [--wait]
  zoom-worker submit SUBJECT-KIND --file job.json [--wait]     (kind: user, meeting, meeting-update, meeting-delete, user-delete)

Publishes one job to ZOOM_JOBS (validated first; Nats-Msg-Id = job id). With --wait it
prints the event the job causes and exits 1 if that is job.failed.
`

func runSubmit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, submitUsage)
		if len(args) == 0 {
			return &usageError{"submit: say user, meeting, meeting-update, meeting-delete or user-delete"}
		}
		return nil
	}
	kind := args[0]
	subjects := map[string]string{
		"user": messages.SubjectUserCreate, "meeting": messages.SubjectMeetingCreate,
		"meeting-update": messages.SubjectMeetingUpdate, "meeting-delete": messages.SubjectMeetingDelete,
		"user-delete": messages.SubjectUserDelete,
	}
	subject, ok := subjects[kind]
	if !ok {
		return &usageError{fmt.Sprintf("submit: unknown kind %q", kind)}
	}
	fs := flag.NewFlagSet("zoom-worker submit "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, submitUsage); fs.PrintDefaults() }
	nf := addNATSFlags(fs, getenv)
	file := fs.String("file", "", "the job as a JSON file (- for standard input)")
	jobID := fs.String("job-id", "", "job id (default: generated)")
	account := fs.String("account", "", "Zoom account name (default: the default account)")
	wait := fs.Bool("wait", false, "wait for the job's event and print it")
	timeout := fs.Duration("timeout", time.Minute, "with --wait: how long to wait")
	email := fs.String("email", "", "user: email")
	first := fs.String("first", "", "user: first name")
	last := fs.String("last", "", "user: last name")
	utype := fs.Int("type", 0, "user type (1 basic) or meeting type (2 scheduled)")
	action := fs.String("action", "", "user: Zoom's create action (default custCreate)")
	host := fs.String("user", "", "meeting: host user id or email")
	topic := fs.String("topic", "", "meeting: topic")
	start := fs.String("start", "", "meeting: start time (2026-12-05T12:00:00Z)")
	duration := fs.Int("duration", 0, "meeting: minutes")
	tz := fs.String("timezone", "", "meeting: IANA time zone")
	password := fs.String("password", "", "meeting: passcode")
	agenda := fs.String("agenda", "", "meeting: agenda")
	if err := fs.Parse(args[1:]); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return &usageError{err.Error()}
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
			job = &messages.CreateUserJob{JobID: id, Account: *account, Action: *action,
				UserInfo: messages.UserInfo{Email: *email, Type: max(*utype, 1), FirstName: *first, LastName: *last}}
		case "meeting":
			job = &messages.CreateMeetingJob{JobID: id, Account: *account, UserID: *host, Meeting: messages.MeetingSpec{
				Topic: *topic, Type: *utype, StartTime: *start, Duration: *duration, Timezone: *tz, Password: *password, Agenda: *agenda}}
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
	if err := pub.PublishRaw(ctx, subject, job.ID(), body, nil); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "published job %s on %s\n", job.ID(), subject)
	if !*wait {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	ev, err := pub.Wait(wctx, job.ID())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "event %s\n", ev.Subject)
	fmt.Fprintln(stdout, string(ev.Body))
	if ev.Failed() {
		return fmt.Errorf("job %s failed", job.ID())
	}
	return nil
}
