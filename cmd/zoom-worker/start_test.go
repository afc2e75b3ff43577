package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zoomworker/zoom-worker/internal/testenv"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// TestThreeWorkersStartTogetherOnAFreshCluster: as deploy/compose.yaml does,
// three workers start at once against a fresh 3-node JetStream cluster and
// all create the same R3 streams; each must come up (issue: concurrent
// creation timed out and two of them exited 1).
func TestThreeWorkersStartTogetherOnAFreshCluster(t *testing.T) {
	e := newSlowE2E(t, "starts a 3-node cluster", zoomtest.Options{})
	c := testenv.StartCluster(t, 3)
	var procs []*proc
	for i, s := range c.Servers {
		// Each worker names a different server first, as compose's do.
		urls := []string{s.ClientURL()}
		for j, o := range c.Servers {
			if j != i {
				urls = append(urls, o.ClientURL())
			}
		}
		procs = append(procs, e.spawn("run", "NATS_URL="+strings.Join(urls, ","), "ZOOMW_STREAM_REPLICAS=3",
			fmt.Sprintf("ZOOMW_INSTANCE_ID=w%d", i+1), "ZOOMW_START_TIMEOUT=2m", "ZOOMW_LOG_LEVEL=info"))
	}
	for _, p := range procs {
		p.waitLog(t, "worker started", 2*time.Minute)
	}
	// And they work: a job published to the cluster ends once.
	jobEvent(t, c.URL(), messages.SubjectMeetingCreate, meetingJob("cluster-1"), "cluster-1", messages.SubjectMeetingCreated, time.Minute)
	if got := e.fake.Stats().MeetingsCreated; got != 1 {
		t.Errorf("meetings created = %d; want 1", got)
	}
}

// startWaitEnv is what `zoom-worker run` needs to reach its NATS connect,
// with NATS_URL on a port nothing listens on.
func startWaitEnv(t *testing.T, startTimeout string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "NATS_URL=nats://" + freeAddr(t),
		"REDIS_URL=redis://127.0.0.1:1/0", "ZOOM_ACCOUNT_ID=acct", "ZOOM_CLIENT_ID=client", "ZOOM_CLIENT_SECRET=" + testSecret,
		"ZOOMW_HTTP_ADDR=off", "ZOOMW_START_TIMEOUT=" + startTimeout}
}

// runUntil runs `zoom-worker run` with env, calls during (if any) while it
// runs, and waits for it to end; limit only detects a hang.
func runUntil(t *testing.T, env []string, during func(*os.Process), limit time.Duration) (int, string) {
	t.Helper()
	p := startBinary(t, env, "run")
	if during != nil {
		during(p.cmd.Process)
	}
	return p.wait(t, limit), p.logs.String()
}

// A short ZOOMW_START_TIMEOUT with NATS unreachable: exit 1 on one line
// saying so (the first-connection wait no longer adds 5 s of its own; the
// bound is only a hang detector).
func TestShortStartTimeoutWithNATSDown(t *testing.T) {
	code, out := runUntil(t, startWaitEnv(t, "1s"), nil, 21*time.Second)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.Contains(last, "NATS not reachable within 1s") || !strings.Contains(last, "NATS_URL") {
		t.Errorf("exit %d, last line %q; want 1 and NATS not reachable within 1s naming NATS_URL", code, last)
	}
}

// SIGINT while the worker waits for its first NATS connection stops it
// cleanly (exit 0), as it would after the start; it was not watched during
// that wait and ended in "context canceled", exit 1.
func TestSignalWhileWaitingForNATS(t *testing.T) {
	code, out := runUntil(t, startWaitEnv(t, "2m"), func(p *os.Process) {
		// Give it time to reach main and its signal handler; the 5 s wait
		// for the first connection starts right after.
		time.Sleep(time.Second)
		if err := p.Signal(syscall.SIGINT); err != nil {
			t.Error(err)
		}
	}, 30*time.Second)
	if code != 0 {
		t.Errorf("exit %d after SIGINT during the start; want 0. Output:\n%s", code, out)
	}
}

func TestSIGTERMFinishesAndExits0(t *testing.T) {
	e := newE2E(t, zoomtest.Options{Latency: 200 * time.Millisecond})
	p := e.startProc()
	for i := range 10 {
		e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("t-%d", i)), "")
	}
	time.Sleep(100 * time.Millisecond)
	if code := p.term(t, 20*time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d; want 0", code)
	}
	// Whatever was not finished was handed back: a second worker ends it.
	e.startProc()
	for i := range 10 {
		e.waitEvent(fmt.Sprintf("t-%d", i), messages.SubjectMeetingCreated, 20*time.Second)
	}
	if got := e.fake.Stats().MeetingsCreated; got != 10 {
		t.Errorf("meetings created = %d; want 10", got)
	}
}

// TestRejectedCredentialsReadiness runs the binary while Zoom's token
// endpoint refuses the app (401 invalid_client) and later accepts it:
// /readyz is 503 naming the account (never the secret), no job is
// dead-lettered, and every job is done once the credentials work.
func TestRejectedCredentialsReadiness(t *testing.T) {
	e := newSlowE2E(t, "end-to-end", zoomtest.Options{})
	e.fake.RejectCredentials(true)
	p, base := e.startServing()

	const n = 5
	for i := range n {
		e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("rc-%d", i)), "")
	}
	if body := waitReadyz(t, base, 503, 30*time.Second, `"default"`); strings.Contains(body, testSecret) {
		t.Errorf("/readyz shows the client secret: %q", body)
	}
	_, metrics := httpGet(t, base+"/metrics")
	if !strings.Contains(metrics, `zoomworker_account_credentials_ok{account="default"} 0`) {
		t.Errorf("/metrics lacks zoomworker_account_credentials_ok 0 for the default account")
	}

	e.fake.RejectCredentials(false)
	for i := range n {
		e.waitEvent(fmt.Sprintf("rc-%d", i), messages.SubjectMeetingCreated, 60*time.Second)
	}
	waitReadyz(t, base, 200, 30*time.Second)
	if got := e.storedEvents(messages.SubjectJobFailed); got != 0 {
		t.Errorf("%d job.failed events; want 0", got)
	}
	if got := e.fake.Stats().MeetingsCreated; got != n {
		t.Errorf("meetings created = %d; want %d", got, n)
	}
	e.checkNoSecrets(p.logs.String())
}

// A wrong Redis password: /readyz and the ERROR line say authentication
// failed and name REDIS_URL (they said "redis unreachable", and WRONGPASS
// showed only in a WARN line), never the password.
func TestWrongRedisPasswordIsSaid(t *testing.T) {
	e := newE2E(t, zoomtest.Options{})
	const right, wrong = "r1ght-Pw", "wr0ng-Pw"
	if err := redisClient(t, e.redis).ConfigSet(t.Context(), "requirepass", right).Err(); err != nil {
		t.Fatal(err)
	}
	p, base := e.startServing("REDIS_URL=redis://:" + wrong + "@" + e.redis.Addr + "/0")
	waitReadyz(t, base, 503, 60*time.Second, "authentication failed", "REDIS_URL")
	p.waitLog(t, `"level":"ERROR","msg":"redis authentication failed (check the user and password in REDIS_URL)`, 60*time.Second)
	if strings.Contains(p.logs.String(), wrong) {
		t.Errorf("the log shows the Redis password")
	}
}

// TestRunOnSentinelAndCluster runs the binary with REDIS_URL naming a real
// Sentinel set-up and a real Redis Cluster: jobs run, and their records are
// where the key layout says (hash-tagged in the cluster).
func TestRunOnSentinelAndCluster(t *testing.T) {
	for _, topo := range []string{"sentinel", "cluster"} {
		t.Run(topo, func(t *testing.T) {
			var url, jobKey string
			if topo == "sentinel" {
				url, jobKey = testenv.StartRedisSentinel(t, 1, 1).URL, "zw:default:job:s-0"
			} else {
				url, jobKey = testenv.StartRedisCluster(t, 3).URL, "zw:default:job:{s-0}"
			}
			e := newE2E(t, zoomtest.Options{})
			e.startProc("REDIS_URL=" + url)
			for i := range 3 {
				e.publish(messages.SubjectMeetingCreate, meetingJob(fmt.Sprintf("s-%d", i)), "")
			}
			for i := range 3 {
				e.waitEvent(fmt.Sprintf("s-%d", i), messages.SubjectMeetingCreated, 20*time.Second)
			}
			rdb, err := redisstore.NewClient(url, redisstore.ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			if state, err := rdb.HGet(t.Context(), jobKey, "state").Result(); err != nil || state != "succeeded" {
				t.Errorf("HGET %s state = %q, %v; want succeeded", jobKey, state, err)
			}
		})
	}
}
