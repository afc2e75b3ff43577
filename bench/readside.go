package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/zoomworker/zoom-worker/internal/account"
	"github.com/zoomworker/zoom-worker/readside"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom/zoomtest"
)

// The readside scenario measures the read service in one process (the
// bench's), wired as cmd/zoom-worker wires it: cached reads of
// zoom.svc.meeting.get at 64 requesters, alone, beside a storm of misses
// for unknown meetings, and beside a job backlog that keeps the account at
// its rate limit; and, side by side, the same 64 requesters asking the fake
// Zoom directly.

const scReadSide = "readside"

const (
	readRequesters = 64
	readPhase      = 2 * time.Second
	readMeetings   = 200
	readBacklog    = 1000
	readRate       = 20 // the account's ZOOMW_RATE_LIMIT in the backlog phase
	readShare      = 0.1
)

type readSideResult struct {
	direct, hits, storm, hits2, backlog readPhaseResult
	oneIDCalls                          int // Zoom calls during a storm of one unknown id
	notFoundTTL                         time.Duration
	backlogMisses                       pcts // misses of uncached meetings during the backlog
	backlogMissErrs                     int
	jobsDuring                          int // jobs the worker finished during the backlog phase
}

type readPhaseResult struct {
	rate float64
	lat  pcts
	errs int
	// cpu is the CPU spent per read: the bench process (NATS server,
	// requesters, the read service, the fake Zoom) and redis-server. Unlike
	// the rate, it hardly depends on what else the machine runs.
	cpu time.Duration
}

func (b *bench) runReadSide(ctx context.Context) error {
	// The read service runs in the bench's own process, beside the
	// requesters, NATS and the fake Zoom: -cpuprofile profiles all of them
	// here, as cpu.readside.out.
	if p := profilePath(b.opts.cpuProfile, scReadSide); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return b.onStage(ctx, scReadSide, zoomtest.Options{}, readBacklog, func(st *stage) error { return b.readSide(ctx, st) })
}

// readSide measures the read service on st.
func (b *bench) readSide(ctx context.Context, st *stage) error {
	rdb, err := redisstore.NewClient(b.redis.URL, redisstore.ClientOptions{})
	if err != nil {
		return err
	}
	defer rdb.Close()
	store := redisstore.New(rdb, redisstore.Options{})
	// The accounts as cmd/zoom-worker builds them; the read side has its own
	// line of the account's rate (LimiterName).
	build := func(limiterName string, l redisstore.Limits) (worker.Account, error) {
		spec := st.AccountSpec("")
		spec.LimiterName, spec.Limits = limiterName, l
		return account.New(spec, store)
	}
	readAcct, err := build(worker.DefaultAccount+":read", redisstore.Limits{PerSecond: readRate * readShare, MaxWait: 500 * time.Millisecond})
	if err != nil {
		return err
	}
	directAcct, err := build("", redisstore.Limits{})
	if err != nil {
		return err
	}
	reads, direct := readAcct.Zoom, directAcct.Zoom
	svcConn, err := nats.Connect(st.NATS.URL, nats.Name("bench-readside"))
	if err != nil {
		return err
	}
	defer svcConn.Close()
	const notFoundTTL = 30 * time.Second
	svc, err := readside.Start(svcConn, readside.Config{Jobs: store, Cache: store, Version: "v0.0.0",
		Accounts: map[string]readside.Zoom{worker.DefaultAccount: reads}, NotFoundTTL: notFoundTTL})
	if err != nil {
		return err
	}
	defer svc.Stop()

	// Meetings at Zoom, read once so that the cache holds them.
	ids := make([]int64, readMeetings)
	for i := range ids {
		m, err := direct.CreateMeeting(ctx, hosts[i%len(hosts)], map[string]any{"topic": "Read " + strconv.Itoa(i), "type": 2,
			"start_time": "2026-12-05T12:00:00Z", "duration": 30})
		if err != nil {
			return fmt.Errorf("create meeting: %w", err)
		}
		ids[i] = m.ID
	}
	conns := make([]*nats.Conn, 4)
	for i := range conns {
		if conns[i], err = nats.Connect(st.NATS.URL, nats.Name("bench-readers")); err != nil {
			return err
		}
		defer conns[i].Close()
	}
	ask := func(nc *nats.Conn, id int64) error {
		m, err := nc.Request(readside.SubjectMeetingGet, []byte(`{"meeting_id":`+strconv.FormatInt(id, 10)+`}`), 5*time.Second)
		if err != nil {
			return err
		}
		if code := m.Header.Get(micro.ErrorCodeHeader); code != "" {
			return fmt.Errorf("answer %s: %s", code, m.Header.Get(micro.ErrorHeader))
		}
		return nil
	}
	for i, id := range ids {
		if err := ask(conns[i%len(conns)], id); err != nil {
			return fmt.Errorf("warm the cache: %w", err)
		}
	}
	res := &readSideResult{notFoundTTL: notFoundTTL}

	// phase runs readRequesters loops of call for readPhase.
	phase := func(call func(i int) error) readPhaseResult {
		var wg sync.WaitGroup
		lats := make([][]time.Duration, readRequesters)
		var errs atomic.Int64
		deadline := time.Now().Add(readPhase)
		start := time.Now()
		u0, s0, _ := cpuTimes()
		r0, _ := snapshotRedis(ctx, b.redis)
		for i := range readRequesters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) && ctx.Err() == nil {
					t := time.Now()
					if err := call(i); err != nil {
						errs.Add(1)
						continue
					}
					lats[i] = append(lats[i], time.Since(t))
				}
			}()
		}
		wg.Wait()
		var all []time.Duration
		for _, l := range lats {
			all = append(all, l...)
		}
		u1, s1, _ := cpuTimes()
		r1, _ := snapshotRedis(ctx, b.redis)
		cpu := (u1 + s1 - u0 - s0) + (r1.cpu - r0.cpu)
		return readPhaseResult{rate: float64(len(all)) / time.Since(start).Seconds(), lat: percentiles(all), errs: int(errs.Load()),
			cpu: time.Duration(cpu / float64(max(len(all), 1)) * float64(time.Second))}
	}
	hit := func(i int) error { return ask(conns[i%len(conns)], ids[rand.IntN(len(ids))]) }

	b.log("readside: the fake Zoom directly")
	res.direct = phase(func(int) error {
		_, err := direct.GetMeeting(ctx, ids[rand.IntN(len(ids))])
		return err
	})
	b.log("readside: cached reads")
	res.hits = phase(hit)

	// A storm of misses beside the hits: 8 requesters asking for unknown
	// meetings (a new id each time), and 8 for one unknown id.
	b.log("readside: cached reads beside a miss storm")
	stormCtx, stopStorm := context.WithCancel(ctx)
	var storm sync.WaitGroup
	oneID := int64(99_000_000_001)
	for i := range 16 {
		storm.Add(1)
		go func() {
			defer storm.Done()
			nc := conns[i%len(conns)]
			for stormCtx.Err() == nil {
				id := oneID
				if i < 8 {
					id = 98_000_000_000 + rand.Int64N(1_000_000_000)
				}
				_ = ask(nc, id)
			}
		}()
	}
	res.storm = phase(hit)
	stopStorm()
	storm.Wait()
	// One unknown id on its own, for the Zoom calls it costs.
	before := st.Fake.Stats().Requests
	_ = phase(func(i int) error { _ = ask(conns[i%len(conns)], oneID+1); return nil })
	res.oneIDCalls = st.Fake.Stats().Requests - before

	// A job backlog at the rate limit: a worker in this process with its
	// share (1 - readShare) of readRate, and 4,000 jobs queued.
	// The machine is shared: each contended phase is compared with cached
	// reads alone just before it.
	b.log("readside: cached reads, again")
	res.hits2 = phase(hit)
	b.log("readside: cached reads beside a job backlog at the rate limit")
	jobs, err := build("", redisstore.Limits{PerSecond: readRate * (1 - readShare)})
	if err != nil {
		return err
	}
	wnc, err := nats.Connect(st.NATS.URL, nats.Name("bench-worker"))
	if err != nil {
		return err
	}
	defer wnc.Close()
	w, err := worker.New(worker.Config{Concurrency: 64, ShutdownTimeout: time.Second,
		Logger: slog.New(slog.DiscardHandler)}, worker.Deps{NATS: wnc, Store: store, Cache: store,
		Accounts: map[string]worker.Account{worker.DefaultAccount: jobs}})
	if err != nil {
		return err
	}
	// Misses, during the backlog, of meetings Zoom has but the cache does not, one every 700 ms
	// (the reads' share is 2/s).
	missIDs := make([]int64, 4)
	for i := range missIDs {
		m, err := direct.CreateMeeting(ctx, hosts[0], map[string]any{"topic": "Uncached", "type": 2, "start_time": "2026-12-05T12:00:00Z", "duration": 30})
		if err != nil {
			return err
		}
		missIDs[i] = m.ID
	}
	if err := st.publish(ctx, 0, readBacklog, 0); err != nil {
		return err
	}
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	wdone := make(chan error, 1)
	go func() { wdone <- w.Run(wctx) }()
	time.Sleep(time.Second) // the backlog reaches the limit
	doneBefore, _, _, _ := st.events.counts()
	var missLat []time.Duration
	var missErrs int
	missDone := make(chan struct{})
	go func() {
		defer close(missDone)
		for _, id := range missIDs {
			t := time.Now()
			if err := ask(conns[0], id); err != nil {
				missErrs++
			} else {
				missLat = append(missLat, time.Since(t))
			}
			time.Sleep(700 * time.Millisecond)
		}
	}()
	res.backlog = phase(hit)
	<-missDone
	res.backlogMisses, res.backlogMissErrs = percentiles(missLat), missErrs
	doneAfter, _, _, _ := st.events.counts()
	res.jobsDuring = doneAfter - doneBefore
	stopWorker()
	<-wdone
	b.res.readSide = res
	return nil
}

// readSideRows are the scenario's lines of the table.
func (r *results) readSideRows(o options) []row {
	if !o.only[scReadSide] {
		return nil
	}
	if err := r.errs[scReadSide]; err != nil {
		return []row{{scReadSide, "error", oneLine(err.Error()), "", "ERROR"}}
	}
	x := r.readSide
	if x == nil {
		return nil
	}
	ph := func(p readPhaseResult) string {
		s := fmt.Sprintf("**%s reads/s**, p50 %s, p99 %s, CPU %s per read", fmtNum(p.rate), fmtDur(p.lat.p50), fmtDur(p.lat.p99),
			p.cpu.Round(time.Microsecond))
		if p.errs > 0 {
			s += fmt.Sprintf(", %d errors", p.errs)
		}
		return s
	}
	share := func(p, alone readPhaseResult) (string, bool) {
		f := p.rate / max(alone.rate, 1)
		return fmt.Sprintf("%s (%.0f%% of alone)", ph(p), 100*f), f >= 0.8 && p.errs == 0
	}
	var rows []row
	add := func(metric, result, target, v string) {
		rows = append(rows, row{scReadSide, metric, result, target, v})
	}
	add("the fake Zoom asked directly, 64 requesters (GET /meetings/{id})", ph(x.direct), "", "")
	add("zoom.svc.meeting.get cached, 64 requesters", ph(x.hits), "≥ 20,000/s, p99 ≤ 5 ms",
		verdict(x.hits.rate >= 20000 && x.hits.lat.p99 <= 5*time.Millisecond && x.hits.errs == 0))
	s, ok := share(x.storm, x.hits)
	add("cached, beside 16 requesters asking unknown meetings", s, "≥ 80% of alone", verdict(ok))
	s, ok = share(x.backlog, x.hits2)
	add(fmt.Sprintf("cached, beside a job backlog at %d/s (%d jobs done meanwhile)", readRate, x.jobsDuring), s, "≥ 80% of alone", verdict(ok))
	add("misses during the backlog (uncached meetings, from Zoom)", fmt.Sprintf("%d answered, p50 %s, max %s, %d errors",
		x.backlogMisses.n, fmtDur(x.backlogMisses.p50), fmtDur(x.backlogMisses.max), x.backlogMissErrs), "answered, no 502", verdict(x.backlogMissErrs == 0))
	add(fmt.Sprintf("Zoom calls for %s of 64 requesters asking one unknown id", readPhase), strconv.Itoa(x.oneIDCalls),
		fmt.Sprintf("≤ 1 per %s (the negative cache)", x.notFoundTTL), verdict(x.oneIDCalls <= 1))
	return rows
}
