package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/worker"
)

const dlqUsage = `Usage:
  zoom-worker dlq list   [--json] [--nats-url URL] [--nats-creds FILE]
  zoom-worker dlq replay (--seq N[,N...] | --job-id ID | --all) [--keep] [--nats-url URL]

list prints the jobs kept in ZOOM_DLQ (jobs that ended in a job.failed event).
replay publishes them to their job subject again and removes them from ZOOM_DLQ
(--keep leaves them). Fix the cause first (the host user, the credentials, the job).
`

// natsFlags are the connection flags the tool commands share.
type natsFlags struct {
	url, creds *string
	getenv     func(string) string
}

// defaultNATSURL is NATS_URL's default, as in the settings table.
const defaultNATSURL = "nats://127.0.0.1:4222"

func addNATSFlags(fs *flag.FlagSet, getenv func(string) string) natsFlags {
	// The defaults are read at connect time, not shown in --help: NATS_URL may
	// carry a password.
	return natsFlags{
		url:    fs.String("nats-url", "", "NATS server(s) (default: $NATS_URL, else "+defaultNATSURL+")"),
		creds:  fs.String("nats-creds", "", "NATS credentials `file` (default: $NATS_CREDS)"),
		getenv: getenv,
	}
}

func (f natsFlags) connect() (*nats.Conn, jetstream.JetStream, error) {
	url, creds := *f.url, *f.creds
	if url == "" {
		url = f.getenv("NATS_URL")
	}
	if url == "" {
		url = defaultNATSURL
	}
	if creds == "" {
		creds = f.getenv("NATS_CREDS")
	}
	opts := []nats.Option{nats.Name("zoom-worker-cli"), nats.Timeout(5 * time.Second)}
	if creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS at %s (NATS_URL or --nats-url): %w", redactURLs(url), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// dlqOptions are the flags of `zoom-worker dlq`.
type dlqOptions struct {
	nats              natsFlags
	asJSON, all, keep *bool
	seqs, jobID       *string
}

func newDLQFlags(name string, getenv func(string) string) (*flag.FlagSet, *dlqOptions) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	o := &dlqOptions{nats: addNATSFlags(fs, getenv)}
	o.asJSON = fs.Bool("json", false, "list: one JSON object per line")
	o.seqs = fs.String("seq", "", "replay: stream sequence(s) of the dead letters, comma-separated")
	o.jobID = fs.String("job-id", "", "replay: every dead letter of this job `id`")
	o.all = fs.Bool("all", false, "replay: every dead letter")
	o.keep = fs.Bool("keep", false, "replay: leave the dead letters in ZOOM_DLQ")
	return fs, o
}

func runDLQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub, o, err := parseSubcommand("dlq", []string{"list", "replay"}, dlqUsage, newDLQFlags, args, getenv, stdout, stderr)
	if err != nil || sub == "" {
		return err
	}
	var pick []uint64
	if sub == "replay" {
		switch {
		case *o.seqs != "":
			for _, s := range strings.Split(*o.seqs, ",") {
				n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
				if err != nil {
					return &usageError{fmt.Sprintf("dlq replay: --seq %q is not a sequence number", s)}
				}
				pick = append(pick, n)
			}
		case *o.jobID == "" && !*o.all:
			return &usageError{"dlq replay: say which: --seq, --job-id or --all"}
		}
	}
	nc, js, err := o.nats.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	list, err := worker.ListDeadLetters(ctx, js)
	if err != nil {
		return err
	}
	if sub == "list" {
		return printDeadLetters(stdout, list, *o.asJSON)
	}

	held := map[uint64]bool{}
	for _, d := range list {
		held[d.Seq] = true
	}
	switch {
	case len(pick) > 0:
		for _, seq := range pick {
			if !held[seq] {
				return fmt.Errorf("dlq replay: no dead letter at sequence %d (zoom-worker dlq list shows them)", seq)
			}
		}
	case *o.jobID != "":
		for _, d := range list {
			if d.JobID == *o.jobID {
				pick = append(pick, d.Seq)
			}
		}
		if len(pick) == 0 {
			return fmt.Errorf("dlq replay: no dead letter of job %q", *o.jobID)
		}
	case *o.all:
		for _, d := range list {
			pick = append(pick, d.Seq)
		}
	}
	for i, seq := range pick {
		d, err := worker.ReplayDeadLetter(ctx, js, seq, *o.keep)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			err = fmt.Errorf("no dead letter at sequence %d (replayed or removed meanwhile)", seq)
		}
		if err != nil {
			return fmt.Errorf("dlq replay: %w (%d of %d replayed before it)", err, i, len(pick))
		}
		fmt.Fprintf(stdout, "replayed seq %d: job %s on %s\n", seq, d.JobID, d.Subject)
	}
	kept := "removed from ZOOM_DLQ"
	if *o.keep {
		kept = "kept in ZOOM_DLQ (--keep)"
	}
	switch {
	case len(pick) == 0:
		fmt.Fprintln(stdout, "no dead letters to replay")
	case *o.all || len(pick) > 1:
		fmt.Fprintf(stdout, "replayed %d dead letter(s), %s; %d left in ZOOM_DLQ\n", len(pick), kept, leftAfter(len(list), len(pick), *o.keep))
	}
	return nil
}

// leftAfter is how many dead letters stay after replaying n of total.
func leftAfter(total, n int, keep bool) int {
	if keep {
		return total
	}
	return total - n
}

func printDeadLetters(w io.Writer, list []worker.DeadLetter, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, d := range list {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "no dead-lettered jobs")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tFAILED\tSUBJECT\tJOB ID\tKIND\tATTEMPTS\tERROR")
	for _, d := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", d.Seq, d.Time.UTC().Format(time.RFC3339), d.Subject, d.JobID,
			d.Kind, d.Attempts, d.Error)
	}
	return tw.Flush()
}
