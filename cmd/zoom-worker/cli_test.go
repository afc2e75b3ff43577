package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestCommandLineContract: exit codes and what each command says for its
// help, a bad flag, a stray argument or a missing value. Usage is printed
// once and the error is the last line.
func TestCommandLineContract(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // each must appear on stdout
		stderr   []string // each must appear on stderr
		lastLine string   // the last line of stderr must contain it
		not      []string // none may appear anywhere
	}{
		{name: "run extra argument", args: []string{"run", "extra-arg"}, code: 2,
			lastLine: `run: unexpected argument "extra-arg"`},
		{name: "run bad flag", args: []string{"run", "--bogus"}, code: 2,
			lastLine: "run: flag provided but not defined: -bogus"},
		{name: "run --help", args: []string{"run", "--help"}, code: 0,
			stdout: []string{"--concurrency int", "(default 256, env ZOOMW_CONCURRENCY)", "--ack-wait duration",
				"--events-include-start-url bool", "--nats-url url", "ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_API_KEY"},
			not: []string{"dev-nats-addr", "ZOOMW_DEV_", "console-addr"}},
		{name: "console --help", args: []string{"console", "--help"}, code: 0,
			stdout: []string{"--console-addr string", "ZOOMW_CONSOLE_TOKEN", "--nats-url url", "--redis-url url",
				"--accounts-file file", "--rate-limit number", "ZOOM_CLIENT_SECRET"},
			not: []string{"dev-nats-addr", "--concurrency", "--retry-budget", "--webhook-addr", "ZOOMW_MAX_ATTEMPTS"}},
		{name: "console takes no worker flag", args: []string{"console", "--concurrency", "5"}, code: 2,
			lastLine: "console: flag provided but not defined: -concurrency"},
		{name: "console bad flag", args: []string{"console", "--bogus"}, code: 2,
			lastLine: "console: flag provided but not defined: -bogus"},
		{name: "submit --help", args: []string{"submit", "--help"}, code: 0,
			stdout: []string{"--wait", "--start time", "--duration minutes", "--nats-url", "--file file"}},
		{name: "dlq --help", args: []string{"dlq", "--help"}, code: 0,
			stdout: []string{"--seq", "--all", "--keep", "--json", "--nats-url"}},
		{name: "dlq list --help", args: []string{"dlq", "list", "--help"}, code: 0, stdout: []string{"--seq", "--nats-url"}},
		{name: "dlq bad flag", args: []string{"dlq", "list", "--bogus"}, code: 2,
			lastLine: "dlq list: flag provided but not defined: -bogus"},
		{name: "dlq extra argument", args: []string{"dlq", "list", "more"}, code: 2, lastLine: `unexpected argument "more"`},
		{name: "dlq replay says which", args: []string{"dlq", "replay"}, code: 2, lastLine: "--seq, --job-id or --all"},
		{name: "submit bad flag", args: []string{"submit", "meeting", "--bogus"}, code: 2,
			lastLine: "submit meeting: flag provided but not defined: -bogus"},
		{name: "submit meeting without --start", args: []string{"submit", "meeting", "--user", "a@b.c", "--topic", "t"}, code: 2,
			lastLine: "--start is required"},
		{name: "submit meeting without --duration",
			args: []string{"submit", "meeting", "--user", "a@b.c", "--topic", "t", "--start", "2026-12-05T12:00:00Z"}, code: 2,
			lastLine: "--duration is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, func(string) string { return "" }, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d; want %d (stdout %q, stderr %q)", code, tt.code, stdout.String(), stderr.String())
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout does not say %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr.String())
				}
			}
			if tt.lastLine != "" {
				lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
				if last := lines[len(lines)-1]; !strings.Contains(last, tt.lastLine) {
					t.Errorf("last line %q; want it to say %q", last, tt.lastLine)
				}
				if n := strings.Count(stderr.String(), "Usage:"); n > 1 {
					t.Errorf("usage printed %d times:\n%s", n, stderr.String())
				}
				if n := strings.Count(stderr.String(), tt.lastLine); n != 1 {
					t.Errorf("the error is said %d times:\n%s", n, stderr.String())
				}
			}
			for _, w := range tt.not {
				if strings.Contains(stdout.String()+stderr.String(), w) {
					t.Errorf("output shows %q", w)
				}
			}
		})
	}
}

// TestConsoleSettingsExist: every name the console offers is a setting, so
// a renamed setting cannot silently drop out of the console's --help.
func TestConsoleSettingsExist(t *testing.T) {
	known := map[string]bool{}
	for _, s := range Settings {
		known[s.env] = true
	}
	for env := range consoleSettings {
		if !known[env] {
			t.Errorf("consoleSettings names %s, which is no setting", env)
		}
	}
}

func TestBadSettingsExit2NamingTheSetting(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"concurrency not a number", map[string]string{"ZOOMW_CONCURRENCY": "many"}, nil, "ZOOMW_CONCURRENCY"},
		{"negative rate limit", map[string]string{"ZOOMW_RATE_LIMIT": "-1"}, nil, "ZOOMW_RATE_LIMIT"},
		{"bad NATS URL", map[string]string{"NATS_URL": "http://x"}, nil, "NATS_URL"},
		{"bad Redis URL", map[string]string{"REDIS_URL": "mysql://x"}, nil, "REDIS_URL"},
		{"bad duration", map[string]string{"ZOOMW_ACK_WAIT": "soon"}, nil, "ZOOMW_ACK_WAIT"},
		{"bad flag value", nil, []string{"--concurrency", "0"}, "--concurrency"},
		{"no Zoom credentials", map[string]string{}, nil, "ZOOM_ACCOUNT_ID"},
		{"half the OAuth settings", map[string]string{"ZOOM_ACCOUNT_ID": "a"}, nil, "ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET"},
		{"daily limit action", map[string]string{"ZOOMW_DAILY_LIMIT": "ignore"}, nil, "ZOOMW_DAILY_LIMIT"},
		{"NATS URL password with a bad scheme", map[string]string{"NATS_URL": "http://u:hunter2@x:4222"}, nil, "NATS_URL"},
		{"NATS URL password that does not parse", map[string]string{"NATS_URL": "nats://u:hunter2%zz@x,nats://v:hunter2@y"}, nil, "NATS_URL"},
		{"secret is not echoed", map[string]string{"REDIS_URL": "redis://:hunter2@[::1"}, nil, "REDIS_URL"},
		{"Sentinel URL without master", map[string]string{"REDIS_URL": "redis+sentinel://:hunter2@h1:26379,h2:26379"}, nil, "REDIS_URL"},
		{"Cluster URL with a database", map[string]string{"REDIS_URL": "redis+cluster://:hunter2@h1:7000/2"}, nil, "REDIS_URL"},
		{"prefix with a hash tag", map[string]string{"ZOOMW_REDIS_PREFIX": "zw{x}"}, nil, "ZOOMW_REDIS_PREFIX"},
		{"unknown Zoom plan", map[string]string{"ZOOMW_ZOOM_PLAN": "gold"}, nil, "ZOOMW_ZOOM_PLAN"},
		{"bad wait replicas", map[string]string{"ZOOMW_REDIS_WAIT_REPLICAS": "-1"}, nil, "ZOOMW_REDIS_WAIT_REPLICAS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			code := run(t.Context(), append([]string{"run"}, tt.args...), getenv, &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit code = %d; want 2 (stderr %q)", code, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			if !strings.Contains(last, tt.want) {
				t.Errorf("last line %q does not name %s", last, tt.want)
			}
			if strings.Contains(stderr.String(), "hunter2") {
				t.Errorf("stderr echoes a secret: %q", stderr.String())
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"version", []string{"version"}, 0, "zoom-worker"},
		{"help", []string{"--help"}, 0, "zoom-worker run"},
		{"no command", nil, 2, "Usage"},
		{"unknown command", []string{"launch"}, 2, "unknown command"},
		{"run --help", []string{"run", "--help"}, 0, "ZOOMW_CONCURRENCY"},
		{"dlq --help", []string{"dlq", "--help"}, 0, "replay"},
		{"submit --help", []string{"submit", "--help"}, 0, "--wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(t.Context(), tt.args, func(string) string { return "" }, &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d, output %q; want exit %d and %q", code, out.String(), tt.code, tt.want)
			}
		})
	}
}

// TestNoSubcommandPrintsAPassword runs every subcommand with a password in
// NATS_URL and REDIS_URL, both pointing at nothing, and greps all they
// print: no password, and `run` gives up naming NATS_URL (redacted) and the
// setting that says how long it waited.
func TestNoSubcommandPrintsAPassword(t *testing.T) {
	const natsPW, redisPW = "natsPW-s3cr3t", "redisPW-s3cr3t"
	natsURL := fmt.Sprintf("nats://zw:%s@%s", natsPW, freeAddr(t))
	redisURL := fmt.Sprintf("redis://zw:%s@%s/0", redisPW, freeAddr(t))
	env := []string{"PATH=" + os.Getenv("PATH"), "NATS_URL=" + natsURL, "REDIS_URL=" + redisURL,
		"ZOOM_ACCOUNT_ID=acct", "ZOOM_CLIENT_ID=client", "ZOOM_CLIENT_SECRET=" + testSecret,
		"ZOOMW_HTTP_ADDR=off", "ZOOMW_START_TIMEOUT=2s", "ZOOMW_DEV_NATS_ADDR=" + freeAddr(t)}
	commands := [][]string{
		{"run"}, {"run", "--help"}, {"run", "--bogus"},
		{"dev"}, {"dev", "--help"},
		{"dlq", "list"}, {"dlq", "list", "--json"}, {"dlq", "replay", "--all"}, {"dlq", "replay", "--seq", "1"},
		{"dlq", "--help"}, {"dlq", "replay", "--help"},
		{"submit", "user", "--email", "q@mi6.gov.uk", "--wait"},
		{"submit", "meeting", "--user", "james@bond.com", "--topic", "t", "--start", "2026-12-05T12:00:00Z", "--duration", "30"},
		{"submit", "--help"}, {"submit", "meeting", "--help"},
		{"console"}, {"console", "--help"},
		{"version"}, {"help"},
	}
	for _, args := range commands {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			// A command that serves (console) is stopped as a user would,
			// after it had time to try and fail to connect.
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, args...)
			cmd.Env = env
			cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
			cmd.WaitDelay = 10 * time.Second
			out, _ := cmd.CombinedOutput()
			for _, pw := range []string{natsPW, redisPW, testSecret} {
				if strings.Contains(string(out), pw) {
					t.Errorf("output shows a password:\n%s", out)
				}
			}
			if args[0] == "run" && len(args) == 1 {
				lines := strings.Split(strings.TrimSpace(string(out)), "\n")
				last := lines[len(lines)-1]
				for _, want := range []string{"NATS not reachable", "NATS_URL", "127.0.0.1", "ZOOMW_START_TIMEOUT", "zw:xxxxx@"} {
					if !strings.Contains(last, want) {
						t.Errorf("last line %q does not say %q", last, want)
					}
				}
				if cmd.ProcessState.ExitCode() != 1 {
					t.Errorf("run: exit %d; want 1", cmd.ProcessState.ExitCode())
				}
			}
		})
	}
}

func TestSubmitAndDLQCommands(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	e.startProc()
	getenv := e.natsOnly
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"submit", "meeting", "--job-id", "cli-1", "--user", "james@bond.com",
		"--topic", "From the CLI", "--start", "2026-12-05T12:00:00Z", "--duration", "30", "--wait"}, getenv, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), `"join_url"`) {
		t.Fatalf("submit meeting --wait: exit %d, out %q, err %q; want 0 and the event", code, out.String(), errOut.String())
	}

	out.Reset()
	code = run(t.Context(), []string{"submit", "meeting", "--job-id", "cli-2", "--user", "ghost@bond.com", "--topic", "x",
		"--start", "2026-12-05T12:00:00Z", "--duration", "30", "--wait"}, getenv, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), `"zoom_rejected"`) {
		t.Fatalf("submit for an unknown host: exit %d, out %q; want 1 and job.failed", code, out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"submit", "meeting", "--user", "james@bond.com", "--topic", strings.Repeat("x", 201),
		"--start", "2026-12-05T12:00:00Z", "--duration", "30"}, getenv, &out, &errOut); code != 2 {
		t.Errorf("submit of an invalid job: exit %d; want 2", code)
	}

	out.Reset()
	if code := run(t.Context(), []string{"dlq", "list"}, getenv, &out, &errOut); code != 0 || !strings.Contains(out.String(), "cli-2") {
		t.Fatalf("dlq list: exit %d, out %q; want cli-2 listed", code, out.String())
	}
	errOut.Reset()
	if code := run(t.Context(), []string{"dlq", "replay", "--seq", "999"}, getenv, &out, &errOut); code != 1 ||
		strings.TrimSpace(errOut.String()) != "zoom-worker: dlq replay: no dead letter at sequence 999 (zoom-worker dlq list shows them)" {
		t.Errorf("dlq replay --seq 999: exit %d, stderr %q; want 1 and one line saying there is none", code, errOut.String())
	}
	// Fix the cause, replay, and the job succeeds.
	e.fake.AddUser("ghost@bond.com", "Ghost", "Host", 1)
	out.Reset()
	if code := run(t.Context(), []string{"dlq", "replay", "--all"}, getenv, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "replayed 1 dead letter(s), removed from ZOOM_DLQ; 0 left in ZOOM_DLQ") {
		t.Fatalf("dlq replay --all: exit %d, out %q, err %q; want 0 and a summary", code, out.String(), errOut.String())
	}
	e.waitEvent("cli-2", messages.SubjectMeetingCreated, 20*time.Second)
	out.Reset()
	run(t.Context(), []string{"dlq", "list"}, getenv, &out, &errOut)
	if !strings.Contains(out.String(), "no dead-lettered jobs") {
		t.Errorf("dlq list after replay = %q; want it empty", out.String())
	}
}

// A job id used again: within the duplicate window the server drops the
// second body and submit says so; after it, the worker answers job.conflict
// and submit --wait must show that (not the first job's event) and exit 1.
func TestSubmitTheSameJobIDAgain(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	e.startProc()
	getenv := e.natsOnly
	submit := func(topic string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), []string{"submit", "meeting", "--job-id", "again-1", "--user", "james@bond.com",
			"--topic", topic, "--start", "2026-12-05T12:00:00Z", "--duration", "30", "--wait"}, getenv, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := submit("A"); code != 0 || !strings.Contains(out, `"join_url"`) {
		t.Fatalf("submit A: exit %d, out %q, err %q; want 0 and meeting.created", code, out, errOut)
	}
	if code, _, errOut := submit("B"); code != 0 || !strings.Contains(errOut, "duplicate of an earlier publish") {
		t.Fatalf("submit B within the duplicate window: exit %d, err %q; want it called a duplicate of an earlier publish", code, errOut)
	}
	// Let the duplicate window pass quickly: the server purges its ids
	// when the window changes.
	ctx := t.Context()
	s, err := e.js.Stream(ctx, messages.StreamJobs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.Duplicates = time.Second
	if _, err := e.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var code int
	var out, errOut string
	waitFor(t, "the duplicate window to pass", 30*time.Second, func() string {
		if code, out, errOut = submit("B"); strings.Contains(errOut, "duplicate of an earlier publish") {
			return "a duplicate"
		}
		return ""
	})
	if code != 1 || strings.Contains(out, `"join_url"`) || !strings.Contains(errOut, "job.conflict") {
		t.Fatalf("submit B after the duplicate window: exit %d, out %q, err %q; want 1, job.conflict and not A's event", code, out, errOut)
	}
}

func TestSubmitRegistrant(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	p := e.startProc()
	getenv := e.natsOnly
	// The meeting from submit meeting --registration takes registrants.
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"submit", "meeting", "--job-id", "reg-host", "--user", "james@bond.com", "--topic", "Open day",
		"--start", "2026-12-05T12:00:00Z", "--duration", "30", "--registration", "--wait"}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("submit meeting --registration: exit %d, err %q", code, errOut.String())
	}
	var created messages.MeetingCreated
	if err := json.Unmarshal(out.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code := run(t.Context(), []string{"submit", "registrant", "--job-id", "cli-reg", "--meeting", fmt.Sprint(created.Meeting.ID),
		"--email", "jill@example.com", "--first", "Jill", "--wait"}, getenv, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), `"join_url"`) || !strings.Contains(out.String(), `"registrant_id"`) {
		t.Fatalf("submit registrant --wait: exit %d, out %q, err %q; want 0 and registrant.added", code, out.String(), errOut.String())
	}
	// A meeting Zoom does not have: job.failed, with Zoom's tracking id in
	// the event and in the worker's log line.
	out.Reset()
	code = run(t.Context(), []string{"submit", "registrant", "--job-id", "cli-reg-2", "--meeting", "85746065499",
		"--email", "jill@example.com", "--first", "Jill", "--wait"}, getenv, &out, &errOut)
	var failed messages.JobFailed
	if code != 1 || json.Unmarshal(out.Bytes(), &failed) != nil || !strings.HasPrefix(failed.Error.ZoomTrackingID, "v=2.0;") {
		t.Fatalf("submit registrant for a missing meeting: exit %d, out %q; want 1 and job.failed with zoom_tracking_id", code, out.String())
	}
	p.waitLog(t, failed.Error.ZoomTrackingID, 10*time.Second) // the worker's log names the tracking id

	out.Reset()
	errOut.Reset()
	if code := run(t.Context(), []string{"submit", "registrant", "--meeting", "1", "--first", "Jill"}, getenv, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "registrant.email") {
		t.Errorf("submit registrant without --email: exit %d, err %q; want 2 naming registrant.email", code, errOut.String())
	}
}
