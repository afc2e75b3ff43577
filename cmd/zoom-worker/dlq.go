package main

import (
	"context"
	"encoding/json"
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
type natsFlags struct{ url, creds *string }

func addNATSFlags(fs *flag.FlagSet, getenv func(string) string) natsFlags {
	def := getenv("NATS_URL")
	if def == "" {
		def = "nats://127.0.0.1:4222"
	}
	return natsFlags{
		url:   fs.String("nats-url", def, "NATS server(s) ($NATS_URL)"),
		creds: fs.String("nats-creds", getenv("NATS_CREDS"), "NATS credentials file ($NATS_CREDS)"),
	}
}

func (f natsFlags) connect() (*nats.Conn, jetstream.JetStream, error) {
	opts := []nats.Option{nats.Name("zoom-worker-cli"), nats.Timeout(5 * time.Second)}
	if *f.creds != "" {
		opts = append(opts, nats.UserCredentials(*f.creds))
	}
	nc, err := nats.Connect(*f.url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS at %s: %w", *f.url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

func runDLQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, dlqUsage)
		if len(args) == 0 {
			return &usageError{"dlq: say list or replay"}
		}
		return nil
	}
	sub := args[0]
	fs := flag.NewFlagSet("zoom-worker dlq "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, dlqUsage); fs.PrintDefaults() }
	nf := addNATSFlags(fs, getenv)
	asJSON := fs.Bool("json", false, "list: one JSON object per line")
	seqs := fs.String("seq", "", "replay: stream sequence(s) of the dead letters, comma-separated")
	jobID := fs.String("job-id", "", "replay: every dead letter of this job id")
	all := fs.Bool("all", false, "replay: every dead letter")
	keep := fs.Bool("keep", false, "replay: leave the dead letters in ZOOM_DLQ")
	if err := fs.Parse(args[1:]); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return &usageError{err.Error()}
	}
	if sub != "list" && sub != "replay" {
		return &usageError{fmt.Sprintf("dlq: unknown subcommand %q (want list or replay)", sub)}
	}
	nc, js, err := nf.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	list, err := worker.ListDeadLetters(ctx, js)
	if err != nil {
		return err
	}
	if sub == "list" {
		return printDeadLetters(stdout, list, *asJSON)
	}

	var pick []uint64
	switch {
	case *seqs != "":
		for _, s := range strings.Split(*seqs, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return &usageError{fmt.Sprintf("dlq replay: --seq %q is not a sequence number", s)}
			}
			pick = append(pick, n)
		}
	case *jobID != "":
		for _, d := range list {
			if d.JobID == *jobID {
				pick = append(pick, d.Seq)
			}
		}
		if len(pick) == 0 {
			return fmt.Errorf("dlq replay: no dead letter of job %q", *jobID)
		}
	case *all:
		for _, d := range list {
			pick = append(pick, d.Seq)
		}
	default:
		return &usageError{"dlq replay: say which: --seq, --job-id or --all"}
	}
	for _, seq := range pick {
		d, err := worker.ReplayDeadLetter(ctx, js, seq, *keep)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "replayed seq %d: job %s on %s\n", seq, d.JobID, d.Subject)
	}
	return nil
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
