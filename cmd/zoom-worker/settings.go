package main

import (
	"flag"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zoomworker/zoom-worker/worker"
	"github.com/zoomworker/zoom-worker/worker/redisstore"
	"github.com/zoomworker/zoom-worker/zoom"
)

// Config is everything `zoom-worker run` and `dev` read from the
// environment and flags. Every field's zero value means the default shown in
// the settings table.
type Config struct {
	NATSURL   string
	NATSCreds string
	RedisURL  string
	// RedisSentinelPassword authenticates to the Sentinels of a
	// redis+sentinel:// RedisURL; empty: they ask for none.
	RedisSentinelPassword string
	// RedisWaitReplicas is redisstore.Options.WaitReplicas; -1 means auto
	// (1 with Sentinel, else 0).
	RedisWaitReplicas int

	ZoomAPIURL   string
	ZoomTokenURL string
	ZoomTimeout  time.Duration
	// The default account's credentials: Server-to-Server OAuth, else legacy JWT.
	AccountID, ClientID, ClientSecret string
	APIKey, APISecret                 string
	// AccountsFile names a JSON file of more accounts (see README).
	AccountsFile string

	RateLimit                       float64
	RateLimitLight, RateLimitMedium float64
	RateLimitBurst                  int
	ZoomPlan                        redisstore.Plan

	HTTPAddr        string
	LogFormat       string
	LogLevel        string
	RedisPrefix     string
	CacheTTL        time.Duration
	ResultTTL       time.Duration
	Worker          worker.Config
	IncludeStartURL bool
	// Read side and webhooks (readside.go, webhook.go).
	WebhookAddr, WebhookSecret string
	ReadRateShare              float64
	ReadNotFoundTTL            time.Duration
	SDKKey, SDKSecret          string

	// Operator console (zoom-worker console, and dev).
	ConsoleAddr     string
	ConsoleToken    string
	ConsoleReadOnly bool

	// dev only
	DevNATSAddr   string
	DevZoomAddr   string
	DevZoomDelay  time.Duration
	DevDataDir    string
	explicitlySet map[string]bool
}

// setting is one environment variable, mirrored by a flag.
type setting struct {
	env, flag, def, usage string
	// secret settings are never echoed back, not even in an error.
	secret bool
	set    func(c *Config, v string) error
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func dur(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 30s or 5m")
		}
		*p(c) = d
		return nil
	}
}

func posInt(p func(*Config) *int, min int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			return fmt.Errorf("want a whole number ≥ %d", min)
		}
		*p(c) = n
		return nil
	}
}

func rate(p func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1e6 {
			return fmt.Errorf("want requests per second, 0 (no limit) to 1000000")
		}
		*p(c) = f
		return nil
	}
}

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		*p(c) = b
		return nil
	}
}

// oneOf takes one of values, as given.
func oneOf(p func(*Config) *string, values ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if !slices.Contains(values, v) {
			return fmt.Errorf("want %s", orList(values))
		}
		*p(c) = v
		return nil
	}
}

// parsed takes what parse makes of the value; parse's error says what is wrong.
func parsed[T any](p func(*Config) *T, parse func(string) (T, error)) func(*Config, string) error {
	return func(c *Config, v string) error {
		x, err := parse(v)
		if err != nil {
			return err
		}
		*p(c) = x
		return nil
	}
}

func urlOf(schemes ...string) func(p func(*Config) *string) func(*Config, string) error {
	return func(p func(*Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error {
			for _, part := range strings.Split(v, ",") {
				u, err := url.Parse(strings.TrimSpace(part))
				if err != nil || u.Host == "" || !slices.Contains(schemes, u.Scheme) {
					return fmt.Errorf("want a URL with scheme %s", strings.Join(schemes, " or "))
				}
			}
			*p(c) = v
			return nil
		}
	}
}

// Settings is the table of every setting the binary knows, in the order the
// docs list them. The deploy test checks manifests against it.
var Settings = []setting{
	{env: "NATS_URL", flag: "nats-url", def: "nats://127.0.0.1:4222", usage: "NATS server(s), comma-separated",
		set: urlOf("nats", "tls", "ws", "wss")(func(c *Config) *string { return &c.NATSURL })},
	{env: "NATS_CREDS", flag: "nats-creds", usage: "NATS credentials file (optional)",
		set: str(func(c *Config) *string { return &c.NATSCreds })},
	{env: "REDIS_URL", flag: "redis-url", def: "redis://127.0.0.1:6379/0", usage: "Redis: redis:// or rediss:// URL of one server, redis+sentinel://host:port[,host:port...]/master[/db] for Sentinel, redis+cluster://host:port[,host:port...] for Redis Cluster (see README, Redis)", secret: true,
		set: func(c *Config, v string) error {
			if _, err := redisstore.ParseURL(v); err != nil {
				return err
			}
			c.RedisURL = v
			return nil
		}},
	{env: "REDIS_SENTINEL_PASSWORD", usage: "password of the Sentinels of a redis+sentinel:// REDIS_URL (the URL's own password is the Redis servers'); unset: the Sentinels ask for none", secret: true,
		set: str(func(c *Config) *string { return &c.RedisSentinelPassword })},
	{env: "ZOOM_API_URL", flag: "zoom-api-url", def: zoom.DefaultBaseURL, usage: "Zoom REST base URL, /v2 included; unset: the account's own host from its OAuth token answer (api_url), else this default",
		set: urlOf("https", "http")(func(c *Config) *string { return &c.ZoomAPIURL })},
	{env: "ZOOM_OAUTH_TOKEN_URL", flag: "zoom-oauth-token-url", def: zoom.DefaultTokenURL, usage: "Server-to-Server OAuth token endpoint",
		set: urlOf("https", "http")(func(c *Config) *string { return &c.ZoomTokenURL })},
	{env: "ZOOM_ACCOUNT_ID", usage: "Server-to-Server OAuth app: account id",
		set: str(func(c *Config) *string { return &c.AccountID })},
	{env: "ZOOM_CLIENT_ID", usage: "Server-to-Server OAuth app: client id",
		set: str(func(c *Config) *string { return &c.ClientID })},
	{env: "ZOOM_CLIENT_SECRET", usage: "Server-to-Server OAuth app: client secret", secret: true,
		set: str(func(c *Config) *string { return &c.ClientSecret })},
	{env: "ZOOM_API_KEY", usage: "legacy JWT app: API key (used only without the OAuth settings)",
		set: str(func(c *Config) *string { return &c.APIKey })},
	{env: "ZOOM_API_SECRET", usage: "legacy JWT app: API secret", secret: true,
		set: str(func(c *Config) *string { return &c.APISecret })},
	{env: "ZOOMW_ACCOUNTS_FILE", flag: "accounts-file", usage: "JSON file naming more Zoom accounts (see README, Accounts)",
		set: str(func(c *Config) *string { return &c.AccountsFile })},
	{env: "ZOOMW_CONCURRENCY", flag: "concurrency", def: strconv.Itoa(worker.DefaultConcurrency), usage: "jobs one process works on at once (at most 256 HTTP/1.1 connections to a Zoom host; api.zoom.us speaks HTTP/2, which carries many calls per connection)",
		set: posInt(func(c *Config) *int { return &c.Worker.Concurrency }, 1)},
	{env: "ZOOMW_RATE_LIMIT", flag: "rate-limit", def: "20", usage: "Zoom requests per second for the whole account, shared through Redis; 0 = no limit",
		set: rate(func(c *Config) *float64 { return &c.RateLimit })},
	{env: "ZOOMW_RATE_LIMIT_LIGHT", flag: "rate-limit-light", def: "0", usage: "requests per second for Zoom's Light APIs (user calls); 0 = only ZOOMW_RATE_LIMIT",
		set: rate(func(c *Config) *float64 { return &c.RateLimitLight })},
	{env: "ZOOMW_RATE_LIMIT_MEDIUM", flag: "rate-limit-medium", def: "0", usage: "requests per second for Zoom's Medium APIs (meeting create, list); 0 = only ZOOMW_RATE_LIMIT",
		set: rate(func(c *Config) *float64 { return &c.RateLimitMedium })},
	{env: "ZOOMW_ZOOM_PLAN", flag: "zoom-plan", def: "none", usage: "the Zoom account's plan, whose per-category rate limits the shared limiter keeps: pro (Light 30/s, Medium 20/s, Heavy 10/s), business (80/60/40); none = only what Zoom's X-RateLimit headers say",
		set: parsed(func(c *Config) *redisstore.Plan { return &c.ZoomPlan }, redisstore.ParsePlan)},
	{env: "ZOOMW_RATE_LIMIT_BURST", flag: "rate-limit-burst", def: "1", usage: "requests that may go at once after a quiet spell",
		set: posInt(func(c *Config) *int { return &c.RateLimitBurst }, 1)},
	{env: "ZOOMW_HTTP_ADDR", flag: "http-addr", def: ":9090", usage: "address for /metrics, /healthz, /readyz; \"off\" = none",
		set: str(func(c *Config) *string { return &c.HTTPAddr })},
	{env: "ZOOMW_EVENTS_INCLUDE_START_URL", flag: "events-include-start-url", def: "false", usage: "true puts the meeting's start_url (it carries the host's ZAK) into events",
		set: boolean(func(c *Config) *bool { return &c.IncludeStartURL })},
	{env: "ZOOMW_WEBHOOK_ADDR", flag: "webhook-addr", def: "off", usage: "listen address of the Zoom webhook receiver (POST /zoom/webhook), apart from ZOOMW_HTTP_ADDR; \"off\" = none",
		set: str(func(c *Config) *string { return &c.WebhookAddr })},
	{env: "ZOOM_WEBHOOK_SECRET_TOKEN", usage: "the Zoom app's webhook secret token (default account) that signs webhooks", secret: true,
		set: str(func(c *Config) *string { return &c.WebhookSecret })},
	{env: "ZOOMW_READ_RATE_SHARE", flag: "read-rate-share", def: "0.1", usage: "share of each account's Zoom rate limits kept for the read service's calls (misses, refreshes after webhooks); jobs get the rest",
		set: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f >= 1 {
				return fmt.Errorf("want a fraction above 0 and below 1, such as 0.1")
			}
			c.ReadRateShare = f
			return nil
		}},
	{env: "ZOOMW_READ_NOT_FOUND_TTL", flag: "read-not-found-ttl", def: "30s", usage: "how long the read service remembers that Zoom answered 404 for a meeting or user",
		set: dur(func(c *Config) *time.Duration { return &c.ReadNotFoundTTL })},
	{env: "ZOOMW_SDK_KEY", usage: "Zoom Meeting SDK app key (client id) for zoom.svc.meeting.sdk_signature, default account",
		set: str(func(c *Config) *string { return &c.SDKKey })},
	{env: "ZOOMW_SDK_SECRET", usage: "Zoom Meeting SDK app secret that signs those signatures", secret: true,
		set: str(func(c *Config) *string { return &c.SDKSecret })},
	{env: "ZOOMW_ACK_WAIT", flag: "ack-wait", def: worker.DefaultAckWait.String(), usage: "JetStream ack wait of the consumer (running jobs send InProgress every third of it)",
		set: dur(func(c *Config) *time.Duration { return &c.Worker.AckWait })},
	{env: "ZOOMW_MAX_ACK_PENDING", flag: "max-ack-pending", def: strconv.Itoa(worker.DefaultMaxAckPending), usage: "unacknowledged jobs the consumer allows across all workers",
		set: posInt(func(c *Config) *int { return &c.Worker.MaxAckPending }, 1)},
	{env: "ZOOMW_MAX_ATTEMPTS", flag: "max-attempts", def: strconv.Itoa(worker.DefaultMaxAttempts), usage: "attempts before a job fails with retries_exhausted",
		set: posInt(func(c *Config) *int { return &c.Worker.MaxAttempts }, 1)},
	{env: "ZOOMW_ATTEMPT_TIMEOUT", flag: "attempt-timeout", def: worker.DefaultAttemptTimeout.String(), usage: "limit on one attempt; also the lease another worker waits out",
		set: dur(func(c *Config) *time.Duration { return &c.Worker.AttemptTimeout })},
	{env: "ZOOMW_RETRY_BUDGET", flag: "retry-budget", def: worker.DefaultRetryBudget.String(), usage: "time one attempt retries transient errors in process",
		set: dur(func(c *Config) *time.Duration { return &c.Worker.RetryBudget })},
	{env: "ZOOMW_RETRY_INITIAL", flag: "retry-initial", def: worker.DefaultRetryInitial.String(), usage: "first in-process backoff",
		set: dur(func(c *Config) *time.Duration { return &c.Worker.RetryInitial })},
	{env: "ZOOMW_RETRY_MAX", flag: "retry-max", def: worker.DefaultRetryMax.String(), usage: "largest in-process backoff",
		set: dur(func(c *Config) *time.Duration { return &c.Worker.RetryMax })},
	{env: "ZOOMW_REDELIVERY_DELAY", flag: "redelivery-delay", def: worker.DefaultRedeliveryDelay.String(), usage: "NAK delay after a first failed attempt (doubles per attempt)",
		set: dur(func(c *Config) *time.Duration { return &c.Worker.RedeliveryDelay })},
	{env: "ZOOMW_REDELIVERY_MAX_DELAY", flag: "redelivery-max-delay", def: worker.DefaultRedeliveryMaxDelay.String(), usage: "largest NAK delay",
		set: dur(func(c *Config) *time.Duration { return &c.Worker.RedeliveryMaxDelay })},
	{env: "ZOOMW_DAILY_LIMIT", flag: "daily-limit", def: worker.DailyLimitDefer, usage: "what to do with a job that reached one of Zoom's daily limits (a host's meetings, a registrant's registrations): defer or fail",
		set: oneOf(func(c *Config) *string { return &c.Worker.DailyLimit }, worker.DailyLimitDefer, worker.DailyLimitFail)},
	{env: "ZOOMW_STREAM_REPLICAS", flag: "stream-replicas", def: "1", usage: "replicas of the streams (3 on a JetStream cluster)",
		set: posInt(func(c *Config) *int { return &c.Worker.StreamReplicas }, 1)},
	{env: "ZOOMW_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", def: worker.DefaultShutdownTimeout.String(), usage: "time a stop lets jobs in flight finish before handing them back",
		set: dur(func(c *Config) *time.Duration { return &c.Worker.ShutdownTimeout })},
	{env: "ZOOMW_START_TIMEOUT", flag: "start-timeout", def: worker.DefaultStartTimeout.String(), usage: "how long a start keeps trying to reach NATS and set up the streams and consumer (a fresh JetStream cluster takes a while)",
		set: dur(func(c *Config) *time.Duration { return &c.Worker.StartTimeout })},
	{env: "ZOOMW_ZOOM_TIMEOUT", flag: "zoom-timeout", def: "30s", usage: "limit on one Zoom HTTP request",
		set: dur(func(c *Config) *time.Duration { return &c.ZoomTimeout })},
	{env: "ZOOMW_CACHE_TTL", flag: "cache-ttl", def: redisstore.DefaultCacheTTL.String(), usage: "how long users and meetings stay cached in Redis",
		set: dur(func(c *Config) *time.Duration { return &c.CacheTTL })},
	{env: "ZOOMW_RESULT_TTL", flag: "result-ttl", def: redisstore.DefaultResultTTL.String(), usage: "how long job results (the idempotency records) are kept",
		set: dur(func(c *Config) *time.Duration { return &c.ResultTTL })},
	{env: "ZOOMW_REDIS_PREFIX", flag: "redis-prefix", def: redisstore.DefaultPrefix, usage: "prefix of every Redis key",
		set: func(c *Config, v string) error {
			if strings.ContainsAny(v, "{}") {
				return fmt.Errorf("no { or }: in Redis Cluster they would decide which keys share a slot")
			}
			c.RedisPrefix = v
			return nil
		}},
	{env: "ZOOMW_REDIS_WAIT_REPLICAS", flag: "redis-wait-replicas", def: "auto", usage: "replicas that must confirm each job-record write (Redis WAIT) so a failover cannot lose it; auto = 1 with redis+sentinel://, else 0 (Redis Cluster: always 0)",
		set: func(c *Config, v string) error {
			if v == "auto" {
				c.RedisWaitReplicas = -1
				return nil
			}
			return posInt(func(c *Config) *int { return &c.RedisWaitReplicas }, 0)(c, v)
		}},
	{env: "ZOOMW_INSTANCE_ID", flag: "instance-id", usage: "name of this process in logs and leases (default: random)",
		set: str(func(c *Config) *string { return &c.Worker.InstanceID })},
	{env: "ZOOMW_LOG_FORMAT", flag: "log-format", def: "json", usage: "json or text",
		set: oneOf(func(c *Config) *string { return &c.LogFormat }, "json", "text")},
	{env: "ZOOMW_LOG_LEVEL", flag: "log-level", def: "info", usage: "debug, info, warn or error",
		set: oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
	{env: "ZOOMW_CONSOLE_ADDR", flag: "console-addr", def: "127.0.0.1:8080", usage: "console: listen address of the operator console (without ZOOMW_CONSOLE_TOKEN only a loopback address)",
		set: str(func(c *Config) *string { return &c.ConsoleAddr })},
	{env: "ZOOMW_CONSOLE_TOKEN", usage: "console: token every request must carry (Authorization: Bearer, or the login form's cookie)", secret: true,
		set: str(func(c *Config) *string { return &c.ConsoleToken })},
	{env: "ZOOMW_CONSOLE_READ_ONLY", flag: "console-read-only", def: "false", usage: "console: true hides and refuses replay and delete",
		set: boolean(func(c *Config) *bool { return &c.ConsoleReadOnly })},
	{env: "ZOOMW_DEV_NATS_ADDR", flag: "dev-nats-addr", def: "127.0.0.1:4222", usage: "dev: listen address of the embedded NATS",
		set: str(func(c *Config) *string { return &c.DevNATSAddr })},
	{env: "ZOOMW_DEV_ZOOM_ADDR", flag: "dev-zoom-addr", def: "127.0.0.1:0", usage: "dev: listen address of the Zoom simulator",
		set: str(func(c *Config) *string { return &c.DevZoomAddr })},
	{env: "ZOOMW_DEV_ZOOM_LATENCY", flag: "dev-zoom-latency", def: "0s", usage: "dev: latency the Zoom simulator adds to each answer",
		set: dur(func(c *Config) *time.Duration { return &c.DevZoomDelay })},
	{env: "ZOOMW_DEV_DATA_DIR", flag: "dev-data-dir", usage: "dev: JetStream store of the embedded NATS (default: a temporary directory)",
		set: str(func(c *Config) *string { return &c.DevDataDir })},
}

// urlPassword finds the password of a URL's user information, even in a
// value url.Parse rejects: a bad NATS_URL is echoed in its error, and the
// password in it must not be.
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^:/@,]*):[^,]*@`)

// badSetting is a setting that cannot work: the process exits 2 with it.
type badSetting struct {
	name, value, why string
}

func (e *badSetting) Error() string {
	if e.value == "" {
		return fmt.Sprintf("bad setting %s: %s", e.name, e.why)
	}
	return fmt.Sprintf("bad setting %s=%q: %s", e.name, e.value, e.why)
}

// loadConfig reads settings: a flag wins over the environment, which wins
// over the default. It returns a *badSetting naming the first bad one.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (*Config, error) {
	flags, err := parseSettingFlags(fs, args)
	if err != nil {
		return nil, err
	}
	c := &Config{explicitlySet: map[string]bool{}}
	for _, s := range Settings {
		v, name := getenv(s.env), s.env
		if f := flags[s.env]; f != nil && f.v != "" {
			v, name = f.v, "--"+s.flag
		}
		if v != "" {
			c.explicitlySet[s.env] = true
		} else {
			v = s.def
		}
		if v == "" {
			continue
		}
		if err := s.set(c, v); err != nil {
			shown := urlPassword.ReplaceAllString(v, "${1}:xxxxx@")
			if s.secret {
				shown = ""
			}
			return nil, &badSetting{name: name, value: shown, why: err.Error()}
		}
	}
	c.Worker.IncludeStartURL = c.IncludeStartURL
	if err := c.Worker.Validate(); err != nil {
		return nil, &badSetting{name: "ZOOMW_* worker settings", why: err.Error()}
	}
	return c, nil
}

// checkCredentials names what is missing from the default account's credentials.
func (c *Config) checkCredentials() error {
	oauth := []string{c.AccountID, c.ClientID, c.ClientSecret}
	names := []string{"ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET"}
	var have, missing []string
	for i, v := range oauth {
		if v != "" {
			have = append(have, names[i])
		} else {
			missing = append(missing, names[i])
		}
	}
	switch {
	case len(have) == 3:
		return nil
	case len(have) > 0:
		return &badSetting{name: strings.Join(missing, ", "), why: "not set; a Server-to-Server OAuth app needs ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET"}
	case c.APIKey != "" && c.APISecret != "":
		return nil
	case c.APIKey != "" || c.APISecret != "":
		return &badSetting{name: "ZOOM_API_KEY, ZOOM_API_SECRET", why: "a legacy JWT app needs both"}
	}
	return &badSetting{name: "ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET", why: "not set: give a Server-to-Server OAuth app (or ZOOM_API_KEY and ZOOM_API_SECRET for a legacy JWT app)"}
}
