package readside

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/zoom"
)

// Jobs is where the records of jobs are read: the worker's shared store.
// A job it has no record of is (nil, nil).
type Jobs interface {
	JobRecord(ctx context.Context, account, jobID string) (*worker.Record, error)
}

// Zoom is the part of one Zoom account's API that reads call (*zoom.Client).
type Zoom interface {
	GetMeeting(ctx context.Context, meetingID int64) (*zoom.Meeting, error)
	GetUser(ctx context.Context, idOrEmail string) (*zoom.User, error)
}

// DefaultTimeout bounds each request when Config.Timeout is zero. It is
// below the 5 s that `nats req` and most clients wait, so a slow Zoom or
// Redis gets a 504 answer rather than a client-side timeout.
const DefaultTimeout = 4 * time.Second

// DevVersion is the version reported when Config.Version is not SemVer.
const DevVersion = "0.0.0-dev"

// DefaultMaxConcurrent bounds the requests one process serves at once when
// Config.MaxConcurrent is zero.
const DefaultMaxConcurrent = 512

// DefaultNotFoundTTL is how long a 404 from Zoom is remembered when
// Config.NotFoundTTL is zero.
const DefaultNotFoundTTL = 30 * time.Second

// DefaultStaleWait is how long a read that has a copy, but must ask Zoom
// (the copy is marked stale, or its start_url is too old), waits for Zoom
// before it answers with the copy and "stale": true, when Config.StaleWait
// is zero.
const DefaultStaleWait = 250 * time.Millisecond

// Config configures the service.
type Config struct {
	// Jobs is where job records are read. Required.
	Jobs Jobs
	// Notes, if set, holds what NoteJobs noted: deferrals and dead
	// letters, so job.status says "deferred" and finds invalid jobs.
	Notes JobNotes
	// JetStream, if set, reads dead letters from ZOOM_DLQ.
	JetStream jetstream.JetStream
	// Cache is where users and meetings are read, and Zoom's answers
	// written back. Required.
	Cache ReadCache
	// Accounts are the configured Zoom accounts' read clients by name
	// (worker.DefaultAccount for requests without "account"). meeting.get and
	// user.get ask an account's Zoom on a cache miss. Nil or empty means any
	// account name is accepted and a cache miss is a 404; otherwise a request
	// naming an account not in the map is a 400.
	Accounts map[string]Zoom
	// Version is the program's version. $SRV.INFO requires SemVer: a leading
	// "v" is dropped, and a version that is still not SemVer ("dev",
	// "(devel)", "") is reported as DevVersion with the given text in the
	// service metadata under "build".
	Version string
	// Logger nil means slog.Default().
	Logger *slog.Logger
	// IncludeStartURL keeps meetings' start_url (it carries the host's ZAK
	// token) in answers; false drops it everywhere.
	IncludeStartURL bool
	// Timeout bounds each request's cache and Zoom calls; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxConcurrent bounds the requests this process serves at once; zero
	// means DefaultMaxConcurrent. When all are busy, further requests wait
	// in the NATS subscription's buffer.
	MaxConcurrent int
	// NotFoundTTL is how long a 404 from Zoom is remembered; zero means
	// DefaultNotFoundTTL.
	NotFoundTTL time.Duration
	// StaleWait is how long a read with a copy to fall back on waits for
	// Zoom; zero means DefaultStaleWait.
	StaleWait time.Duration
	// SDK are the Meeting SDK apps by account name, for
	// meeting.sdk_signature; an account without one answers 503 there.
	SDK map[string]SDKApp
	// Now nil means time.Now (start_url ages, SDK signatures).
	Now func() time.Time
	// Instance, if set, names this process in the service's metadata
	// ("instance"), and InFlight, if set, reports the jobs it works on now in
	// each endpoint's stats ("in_flight"): the operator console lists the
	// workers alive from $SRV.STATS.
	Instance string
	InFlight func() int
	// RejectedAccounts, if set, names the accounts whose Zoom credentials
	// this process finds rejected now, with why ("credentials_rejected" in
	// each endpoint's stats, {} for none).
	RejectedAccounts func() map[string]string
}

// Service is the running micro service.
type Service struct {
	micro.Service
	h *handlers
}

// Stop stops answering, lets requests being served finish (their Zoom and
// Redis calls are cancelled), and returns.
func (s *Service) Stop() error {
	err := s.Service.Stop()
	s.h.cancel()
	s.h.life.Lock()
	s.h.stopped = true
	s.h.life.Unlock()
	s.h.running.Wait()
	return err
}

// Start registers the zoom-worker micro service on nc and returns it; its
// endpoints answer until Stop is called or nc is closed. It returns an error
// when cfg.Jobs, cfg.Cache or nc is nil or the service cannot subscribe.
func Start(nc *nats.Conn, cfg Config) (*Service, error) {
	if nc == nil {
		return nil, errors.New("readside: nil NATS connection")
	}
	if cfg.Cache == nil || cfg.Jobs == nil {
		return nil, errors.New("readside: Config.Jobs and Config.Cache are required")
	}
	defaults.Set(&cfg.MaxConcurrent, DefaultMaxConcurrent)
	defaults.Set(&cfg.NotFoundTTL, DefaultNotFoundTTL)
	defaults.Set(&cfg.StaleWait, DefaultStaleWait)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	defaults.Set(&cfg.Timeout, DefaultTimeout)
	version, build := semver(cfg.Version)
	meta := map[string]string{"subject_prefix": SubjectPrefix}
	if build != "" {
		meta["build"] = build
	}
	if cfg.Instance != "" {
		meta["instance"] = cfg.Instance
	}

	// base is cancelled when the service stops, so that requests still
	// running give up their Zoom and Redis calls.
	base, cancel := context.WithCancel(context.Background())
	h := &handlers{cfg: cfg, nc: nc, log: cfg.Logger.With("component", "service"), base: base, cancel: cancel,
		slots: make(chan struct{}, cfg.MaxConcurrent), counts: map[string]*EndpointData{},
		flights: flights{m: map[string]*flight{}}}

	svc, err := micro.AddService(nc, micro.Config{
		Name:        Name,
		Version:     version,
		Description: "Status of zoom-worker jobs, and the Zoom users and meetings they made",
		Metadata:    meta,
		DoneHandler: func(micro.Service) { cancel() },
		// micro counts the requests; the errors and the time spent answering
		// are counted here (see handle) and reported as each endpoint's data.
		StatsHandler: func(ep *micro.Endpoint) any {
			d := h.stats(ep.Name)
			if cfg.InFlight != nil {
				n := cfg.InFlight()
				d.InFlight = &n
			}
			if cfg.RejectedAccounts != nil {
				d.CredentialsRejected = cfg.RejectedAccounts()
				if d.CredentialsRejected == nil {
					d.CredentialsRejected = map[string]string{}
				}
			}
			return d
		},
		ErrorHandler: func(_ micro.Service, e *micro.NATSError) {
			h.log.Error("service subscription error", "subject", e.Subject, "err", e.Description)
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("readside: add %s: %w", Name, err)
	}
	g := svc.AddGroup(SubjectPrefix)
	endpoints := []struct {
		name, subject, request, description string
		fn                                  func(context.Context, []byte) (any, *apiError)
	}{
		{"job-status", "job.status", `{"job_id": "...", "account"?: "..."}`,
			"What the store records of a job: state, attempts, times, its event or its error", h.jobStatus},
		{"meeting-get", "meeting.get", `{"meeting_id": 85746065432, "account"?: "..."}`,
			"A meeting from the cache, else from Zoom", h.meetingGet},
		{"user-get", "user.get", `{"user_id": "id or email", "account"?: "..."}`,
			"A user from the cache, else from Zoom", h.userGet},
		{"meeting-sdk-signature", "meeting.sdk_signature", `{"meeting_id": 85746065432, "role": 0, "expires_in"?: 7200, "account"?: "..."}`,
			"A Zoom Meeting SDK signature to join the meeting in a browser or app", h.sdkSignature},
	}
	for _, ep := range endpoints {
		err := g.AddEndpoint(ep.name, h.handle(ep.name, ep.fn),
			micro.WithEndpointSubject(ep.subject),
			micro.WithEndpointMetadata(map[string]string{"request": ep.request, "description": ep.description}))
		if err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("readside: add endpoint %s: %w", ep.name, err)
		}
	}
	return &Service{Service: svc, h: h}, nil
}

// semverRE is semver.org's suggested expression, as micro checks Version.
var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// semver returns the SemVer version to report for v and, where v is not
// SemVer, v itself to report as build metadata.
func semver(v string) (version, build string) {
	if s := strings.TrimPrefix(v, "v"); semverRE.MatchString(s) {
		return s, ""
	}
	return DevVersion, v
}

// handlers holds the endpoints' shared state.
type handlers struct {
	cfg    Config
	nc     *nats.Conn
	log    *slog.Logger
	base   context.Context
	cancel context.CancelFunc
	// slots bounds the requests served at once; running counts them so
	// that Stop can wait for them.
	slots   chan struct{}
	running sync.WaitGroup
	life    sync.Mutex // guards stopped, and running's Adds against Stop's Wait
	stopped bool

	mu     sync.Mutex
	counts map[string]*EndpointData

	flights flights
	fails   failLog
}

// EndpointData is what $SRV.STATS reports in each endpoint's "data": the
// answers that were errors and the time spent answering, counted where the
// answer is sent.
type EndpointData struct {
	Answered   int64         `json:"answered"`
	Errors     int64         `json:"errors"`
	LastError  string        `json:"last_error,omitempty"`
	Processing time.Duration `json:"processing_time"`
	// InFlight is the jobs the process works on now (Config.InFlight).
	InFlight *int `json:"in_flight,omitempty"`
	// CredentialsRejected is Config.RejectedAccounts: account → why.
	CredentialsRejected map[string]string `json:"credentials_rejected"`
}

func (h *handlers) stats(endpoint string) EndpointData {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.counts[endpoint]; c != nil {
		return *c
	}
	return EndpointData{}
}

func (h *handlers) count(endpoint string, d time.Duration, aerr *apiError) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.counts[endpoint]
	if c == nil {
		c = &EndpointData{}
		h.counts[endpoint] = c
	}
	c.Answered++
	c.Processing += d
	if aerr != nil {
		c.Errors++
		c.LastError = aerr.code + ":" + aerr.desc
	}
}

// apiError is an answer that is an error: a micro error code and a
// description the requester can act on.
type apiError struct {
	code string
	desc string
}

// errorf builds an apiError. The description goes into a NATS header, so it
// is kept to one line of at most maxDescription bytes.
func errorf(code, format string, args ...any) *apiError {
	desc := strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, fmt.Sprintf(format, args...))
	if len(desc) > maxDescription {
		desc = strings.ToValidUTF8(desc[:maxDescription], "") + "..."
	}
	return &apiError{code: code, desc: desc}
}

const maxDescription = 1024

// handle adapts an endpoint function to micro. micro calls a handler from
// its endpoint's one subscription, one request at a time; handle serves each
// request on its own goroutine (at most Config.MaxConcurrent at once), so a
// request that waits for Zoom never holds up a cache hit behind it. Each is
// bounded by the timeout; a panic becomes a 500 rather than a dead process.
//
// The answer is published to the request's reply subject directly rather
// than through micro.Request, whose error bookkeeping is not safe once the
// handler has returned; so `nats micro stats` counts requests but not errors
// (EndpointData, in each endpoint's stats "data", does).
func (h *handlers) handle(endpoint string, fn func(context.Context, []byte) (any, *apiError)) micro.Handler {
	return micro.HandlerFunc(func(req micro.Request) {
		data, reply := req.Data(), req.Reply()
		select {
		case h.slots <- struct{}{}:
		case <-h.base.Done():
			return
		}
		// Counted under life, so that Stop's Wait never races a new Add.
		h.life.Lock()
		if h.stopped {
			h.life.Unlock()
			<-h.slots
			return
		}
		h.running.Add(1)
		h.life.Unlock()
		go func() {
			defer func() { <-h.slots; h.running.Done() }()
			h.serve(endpoint, fn, data, reply)
		}()
	})
}

func (h *handlers) serve(endpoint string, fn func(context.Context, []byte) (any, *apiError), data []byte, reply string) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(h.base, h.cfg.Timeout)
	defer cancel()

	resp, aerr := func() (resp any, aerr *apiError) {
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("service handler panicked", "endpoint", endpoint, "panic", fmt.Sprint(p))
				resp, aerr = nil, errorf(CodeInternal, "internal error in %s", endpoint)
			}
		}()
		return fn(ctx, data)
	}()

	if aerr == nil {
		body, err := []byte(nil), error(nil)
		if raw, ok := resp.(rawJSON); ok {
			body = raw
		} else {
			body, err = json.Marshal(resp)
		}
		if err != nil {
			aerr = errorf(CodeInternal, "encode answer: %v", err)
		} else {
			h.count(endpoint, time.Since(start), nil) // before the answer: a requester reading stats next sees it
			h.respond(endpoint, &nats.Msg{Subject: reply, Data: body})
			h.log.Debug("service request", "endpoint", endpoint, "duration", time.Since(start))
			return
		}
	}

	// A caller's 4xx (an unknown meeting, a bad request) is the caller's
	// answer, counted in the endpoint's stats: at debug, so a storm of
	// misses does not flood the log and spend the CPU reads need. What the
	// service could not do (5xx) is the operator's: a warning, at most one
	// per endpoint and code every failWarnEvery (see failLog).
	level, attrs := slog.LevelDebug, []any{"endpoint", endpoint, "code", aerr.code, "err", aerr.desc, "duration", time.Since(start)}
	if aerr.code >= "500" {
		if warn, leftOut := h.fails.admit(failKey{endpoint, aerr.code}, h.now()); warn {
			level = slog.LevelWarn
			if leftOut > 0 {
				attrs = append(attrs, "left_out", leftOut)
			}
		}
	}
	h.log.Log(ctx, level, "service request failed", attrs...)
	var body ErrorResponse
	body.Error.Code, _ = strconv.Atoi(aerr.code)
	body.Error.Description = aerr.desc
	data, _ = json.Marshal(body)
	h.count(endpoint, time.Since(start), aerr)
	h.respond(endpoint, &nats.Msg{Subject: reply, Data: data,
		Header: nats.Header{micro.ErrorCodeHeader: {aerr.code}, micro.ErrorHeader: {aerr.desc}}})
}

func (h *handlers) respond(endpoint string, m *nats.Msg) {
	if m.Subject == "" {
		return // a publish without a reply subject wants no answer
	}
	if err := h.nc.PublishMsg(m); err != nil {
		h.log.Warn("service respond failed", "endpoint", endpoint, "err", err)
	}
}
