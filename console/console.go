package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zoomworker/zoom-worker/internal/defaults"
	"github.com/zoomworker/zoom-worker/messages"
	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
)

// Records is where the console reads what the workers stored of jobs
// (redisstore.Store implements it).
type Records interface {
	JobRecord(ctx context.Context, account, jobID string) (*worker.Record, error)
	// ClaimedMeetings maps meeting ids to the job ids that made them.
	ClaimedMeetings(ctx context.Context, account string, ids []int64) ([]string, error)
	CachedUser(ctx context.Context, account, idOrEmail string) (*messages.User, error)
}

// Limits is where the console reads the waiting state: hosts at their
// daily limit and the shared rate limiter (redisstore.Store implements it).
type Limits interface {
	HostLimits(ctx context.Context, account string) ([]redisstore.HostLimit, error)
	LimiterState(ctx context.Context, account string) (redisstore.LimiterState, error)
}

// Account is a configured Zoom account as the console shows it: its name
// and its configured request rates (0: no limit). No credentials.
type Account struct {
	Name                     string
	RateLimit, Light, Medium float64
}

// Config configures a Console.
type Config struct {
	// NATS is the connection the console reads streams with. Required.
	NATS *nats.Conn
	// Records and Limits read Redis. Required.
	Records Records
	Limits  Limits
	// Accounts are the configured accounts; empty means just the default.
	Accounts []Account
	// Token, when set, is required of every request (Bearer header or the
	// cookie the login form sets). Empty: no login (loopback only; the
	// caller checks the address with LoopbackOnly).
	Token string
	// ReadOnly hides and refuses replay and delete.
	ReadOnly bool
	// Version is shown in the footer.
	Version string
	// Logger nil means slog.Default(). Every replay and delete is logged.
	Logger *slog.Logger
	// Window is the span of the activity chart; zero means one hour.
	Window time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Console serves the pages. Build it with New, serve Handler, and Run it
// for the activity follower and the workers list.
type Console struct {
	cfg      Config
	js       jetstream.JetStream
	log      *slog.Logger
	pages    map[string]*template.Template
	key      [32]byte // signs CSRF tokens and sessions
	activity *activity
	workers  *workerList

	mu      sync.Mutex
	results map[string]*actionResult // summaries of replays and deletes, by id
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New checks cfg and returns a Console. It does not contact anything.
func New(cfg Config) (*Console, error) {
	if cfg.NATS == nil || cfg.Records == nil || cfg.Limits == nil {
		return nil, errors.New("console: NATS, Records and Limits are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	defaults.Set(&cfg.Window, time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Accounts) == 0 {
		cfg.Accounts = []Account{{Name: worker.DefaultAccount}}
	}
	js, err := jetstream.New(cfg.NATS)
	if err != nil {
		return nil, fmt.Errorf("console: jetstream: %w", err)
	}
	c := &Console{cfg: cfg, js: js, log: cfg.Logger.With("component", "console"), results: map[string]*actionResult{}}
	// With a token, the key that signs CSRF tokens derives from it, so
	// that consoles behind one load balancer accept each other's forms;
	// without one, a random key is enough for the one loopback console.
	if cfg.Token != "" {
		m := hmac.New(sha256.New, []byte(cfg.Token))
		m.Write([]byte("zoom-worker console csrf key"))
		copy(c.key[:], m.Sum(nil))
	} else if _, err := rand.Read(c.key[:]); err != nil {
		return nil, err
	}
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	c.activity = newActivity(js, cfg.Window, cfg.Now, c.log)
	c.workers = newWorkerList(cfg.NATS, c.log)
	return c, nil
}

// Run follows ZOOM_EVENTS for the activity chart and refreshes the list of
// workers until ctx ends.
func (c *Console) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.activity.run(ctx) }()
	go func() { defer wg.Done(); c.workers.run(ctx) }()
	wg.Wait()
}

// Handler is the console's HTTP handler, security headers, login and CSRF
// checks included.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", c.overview)
	mux.HandleFunc("GET /jobs", c.findJob)
	mux.HandleFunc("GET /dlq", c.deadLetters)
	mux.HandleFunc("POST /dlq", c.confirmAction)
	mux.HandleFunc("POST /dlq/do", c.doAction)
	mux.HandleFunc("GET /dlq/result/{id}", c.actionSummary)
	mux.HandleFunc("GET /waiting", c.waiting)
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("POST /logout", c.logout)
	return c.secure(mux)
}

// LoopbackOnly reports whether addr (host:port) listens only on a loopback
// interface: 127.0.0.0/8, ::1 or localhost. ":8080" and "0.0.0.0:8080"
// listen everywhere.
func LoopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"ago":   ago,
		"until": untilText,
		"ts":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"num":   num,
		"bytes": byteSize,
		"minus": func(a, b int) int { return a - b },
		"span":  windowText,
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", n, err)
		}
		out[base] = t
	}
	return out, nil
}

// page is what every template gets.
type page struct {
	Title    string
	Nav      string
	CSRF     string
	Who      string
	LoggedIn bool // a token is set and this request came with the cookie
	ReadOnly bool
	Version  string
	Now      time.Time
	Took     time.Duration
	Refresh  int // seconds; 0 for none
	Data     any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	c.renderStatus(w, r, http.StatusOK, name, p)
}

func (c *Console) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.CSRF = c.csrfToken(r)
	s := sessionOf(r)
	p.Who, p.LoggedIn = s.who, s.cookie
	p.ReadOnly, p.Version, p.Now = c.cfg.ReadOnly, c.cfg.Version, c.cfg.Now()
	if start, ok := r.Context().Value(startKey{}).(time.Time); ok {
		p.Took = time.Since(start).Round(10 * time.Microsecond)
	}
	t := c.pages[name]
	var b strings.Builder
	if err := t.Execute(&b, p); err != nil {
		c.log.Error("render page", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.renderStatus(w, r, status, "error", page{Title: http.StatusText(status), Data: msg})
}
