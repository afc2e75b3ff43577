package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/zoomworker/zoom-worker/worker"
)

// DefaultTimeout bounds each request when Config.Timeout is zero. It is
// below the 5 s that `nats req` and most clients wait, so a slow Zoom or
// Redis gets a 504 answer rather than a client-side timeout.
const DefaultTimeout = 4 * time.Second

// DevVersion is the version reported when Config.Version is not SemVer.
const DevVersion = "0.0.0-dev"

// Config configures the service.
type Config struct {
	// Cache is where job records, users and meetings are read. Required.
	Cache worker.Cache
	// Accounts are the configured Zoom accounts by name (worker.DefaultAccount
	// for requests without "account"). meeting.get and user.get ask an
	// account's Zoom on a cache miss. Nil or empty means any account name is
	// accepted and a cache miss is a 404; otherwise a request naming an
	// account not in the map is a 400.
	Accounts map[string]worker.Account
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
}

// Start registers the zoom-worker micro service on nc and returns it; its
// endpoints answer until Stop is called or nc is closed. It returns an error
// when cfg.Cache or nc is nil or the service cannot subscribe.
func Start(nc *nats.Conn, cfg Config) (micro.Service, error) {
	if nc == nil {
		return nil, errors.New("service: nil NATS connection")
	}
	if cfg.Cache == nil {
		return nil, errors.New("service: Config.Cache is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	version, build := semver(cfg.Version)
	meta := map[string]string{"subject_prefix": SubjectPrefix}
	if build != "" {
		meta["build"] = build
	}

	// base is cancelled when the service stops, so that requests still
	// running give up their Zoom and Redis calls.
	base, cancel := context.WithCancel(context.Background())
	h := &handlers{cfg: cfg, log: cfg.Logger.With("component", "service"), base: base}

	svc, err := micro.AddService(nc, micro.Config{
		Name:        Name,
		Version:     version,
		Description: "Status of zoom-worker jobs, and the Zoom users and meetings they made",
		Metadata:    meta,
		DoneHandler: func(micro.Service) { cancel() },
		ErrorHandler: func(_ micro.Service, e *micro.NATSError) {
			h.log.Error("service subscription error", "subject", e.Subject, "error", e.Description)
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("service: add %s: %w", Name, err)
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
	}
	for _, ep := range endpoints {
		err := g.AddEndpoint(ep.name, h.handle(ep.name, ep.fn),
			micro.WithEndpointSubject(ep.subject),
			micro.WithEndpointMetadata(map[string]string{"request": ep.request, "description": ep.description}))
		if err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("service: add endpoint %s: %w", ep.name, err)
		}
	}
	return svc, nil
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
	cfg  Config
	log  *slog.Logger
	base context.Context
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

// handle adapts an endpoint function to micro: it bounds the request by the
// timeout, turns a panic into a 500 rather than a dead process, and answers
// with the function's value or error.
func (h *handlers) handle(endpoint string, fn func(context.Context, []byte) (any, *apiError)) micro.Handler {
	return micro.HandlerFunc(func(req micro.Request) {
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
			return fn(ctx, req.Data())
		}()

		if aerr == nil {
			body, err := json.Marshal(resp)
			if err != nil {
				aerr = errorf(CodeInternal, "encode answer: %v", err)
			} else {
				if err := req.Respond(body); err != nil {
					h.log.Warn("service respond failed", "endpoint", endpoint, "error", err)
				}
				h.log.Debug("service request", "endpoint", endpoint, "duration", time.Since(start))
				return
			}
		}

		level := slog.LevelInfo
		if aerr.code >= "500" {
			level = slog.LevelWarn
		}
		h.log.Log(ctx, level, "service request failed", "endpoint", endpoint, "code", aerr.code,
			"error", aerr.desc, "duration", time.Since(start))
		var body ErrorResponse
		body.Error.Code, _ = strconv.Atoi(aerr.code)
		body.Error.Description = aerr.desc
		data, _ := json.Marshal(body)
		if err := req.Error(aerr.code, aerr.desc, data); err != nil {
			h.log.Warn("service respond failed", "endpoint", endpoint, "error", err)
		}
	})
}
