package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/internal/defaults"
)

// Connection defaults of NewClient.
const (
	DefaultPoolSize   = 32
	DefaultBufferSize = 8 << 10
)

// ClientOptions are what NewClient takes beside the URL. The zero value is
// the usual choice.
type ClientOptions struct {
	// SentinelUsername and SentinelPassword authenticate to the Sentinels of
	// a redis+sentinel:// URL (REDIS_SENTINEL_PASSWORD). Empty means the
	// Sentinels ask for none; the URL's own user and password are those of
	// the Redis master and replicas.
	SentinelUsername, SentinelPassword string
	// Logger, if set, receives go-redis's own messages (see SetLogger).
	Logger *slog.Logger
	// BufferSize is each connection's read and write buffer; 0 means
	// DefaultBufferSize.
	BufferSize int
}

// Topology is which kind of Redis a URL names.
type Topology string

const (
	Single   Topology = "single"   // redis://, rediss://, unix://
	Sentinel Topology = "sentinel" // redis+sentinel://, rediss+sentinel://
	Cluster  Topology = "cluster"  // redis+cluster://, rediss+cluster://
)

// ClientURL is a parsed REDIS_URL.
type ClientURL struct {
	Topology Topology
	TLS      bool
	// Addrs are the host:port of the server (Single), the Sentinels, or the
	// cluster's seed nodes (any of them: the rest are discovered).
	Addrs    []string
	User     string
	Password string
	// MasterName is the Sentinel master's name (Sentinel only).
	MasterName string
	DB         int
	// Query holds go-redis's own options (dial_timeout, pool_size, ...).
	Query url.Values

	raw string // Single: handed to redis.ParseURL as it is
}

// ParseURL reads the three forms REDIS_URL takes:
//
//	redis://[[user]:password@]host:port[/db]                 one server (rediss:// for TLS; unix:// too)
//	redis+sentinel://[[user]:password@]host:port[,host:port...]/master[/db]
//	redis+cluster://[[user]:password@]host:port[,host:port...]
//
// (rediss+sentinel:// and rediss+cluster:// for TLS). The user and password
// are those of the Redis servers; Sentinels' own password is a separate
// setting. go-redis's query options (dial_timeout=3s, pool_size=64, ...)
// may follow any form. Errors never repeat the URL, which may hold a password.
func ParseURL(raw string) (*ClientURL, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New("want a URL such as redis://host:6379/0, redis+sentinel://host:26379/mymaster or redis+cluster://host:7000")
	}
	c := &ClientURL{raw: raw}
	base, topo, _ := strings.Cut(scheme, "+")
	switch base {
	case "redis", "unix":
	case "rediss":
		c.TLS = true
	default:
		return nil, fmt.Errorf("unknown scheme %q: want redis, rediss, unix, redis+sentinel or redis+cluster", scheme)
	}
	switch topo {
	case "":
		c.Topology = Single
	case "sentinel":
		c.Topology = Sentinel
	case "cluster":
		c.Topology = Cluster
	default:
		return nil, fmt.Errorf("unknown scheme %q: want redis, rediss, unix, redis+sentinel or redis+cluster", scheme)
	}
	if base == "unix" && topo != "" {
		return nil, fmt.Errorf("unknown scheme %q: Sentinel and Cluster take host:port addresses", scheme)
	}
	if c.Topology == Single {
		if _, err := redis.ParseURL(raw); err != nil {
			return nil, cleanURLError(err)
		}
		c.Addrs = []string{hostOf(rest)}
		return c, nil
	}
	// url.Parse refuses a comma-separated host list, so the hosts are cut
	// out by hand and the rest parsed with one placeholder host.
	auth, hostsAndPath := "", rest
	if at := strings.LastIndex(beforeAny(rest, "/?"), "@"); at >= 0 {
		auth, hostsAndPath = rest[:at+1], rest[at+1:]
	}
	end := strings.IndexAny(hostsAndPath, "/?")
	if end < 0 {
		end = len(hostsAndPath)
	}
	hosts, tail := hostsAndPath[:end], hostsAndPath[end:]
	u, err := url.Parse("redis://" + auth + "placeholder" + tail)
	if err != nil {
		return nil, cleanURLError(err)
	}
	c.User = u.User.Username()
	c.Password, _ = u.User.Password()
	c.Query = u.Query()
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			return nil, fmt.Errorf("%s address %q: want host:port", c.Topology, h)
		}
		c.Addrs = append(c.Addrs, h)
	}
	if len(c.Addrs) == 0 {
		return nil, fmt.Errorf("%s URL names no host:port", c.Topology)
	}
	path := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	switch c.Topology {
	case Sentinel:
		if len(path) == 0 || len(path) > 2 {
			return nil, errors.New("a Sentinel URL ends in /master or /master/db, e.g. redis+sentinel://host:26379/mymaster/0")
		}
		c.MasterName = path[0]
		if len(path) == 2 {
			if c.DB, err = strconv.Atoi(path[1]); err != nil || c.DB < 0 {
				return nil, fmt.Errorf("database %q is not a number", path[1])
			}
		}
	case Cluster:
		if len(path) > 1 || (len(path) == 1 && path[0] != "0") {
			return nil, errors.New("a Cluster URL names no database (Redis Cluster has only database 0)")
		}
	}
	// Let go-redis check the query options now, so a bad one stops the
	// process at start rather than at first use.
	if _, err := c.universal(ClientOptions{}); err != nil {
		return nil, err
	}
	return c, nil
}

// beforeAny is s up to the first of chars.
func beforeAny(s, chars string) string {
	if i := strings.IndexAny(s, chars); i >= 0 {
		return s[:i]
	}
	return s
}

func hostOf(rest string) string {
	h := beforeAny(rest, "/?")
	if at := strings.LastIndex(h, "@"); at >= 0 {
		h = h[at+1:]
	}
	return h
}

// cleanURLError drops the URL that url.Parse puts in its errors: it may hold
// a password.
func cleanURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New("not a valid URL: " + ue.Err.Error())
	}
	return err
}

// Redacted is the URL with its password replaced by "xxxxx", for logs.
func (c *ClientURL) Redacted() string {
	if c.Topology == Single {
		if u, err := url.Parse(c.raw); err == nil {
			return u.Redacted()
		}
		return "(unparsable URL)"
	}
	scheme := "redis"
	if c.TLS {
		scheme = "rediss"
	}
	s := scheme + "+" + string(c.Topology) + "://"
	if c.User != "" || c.Password != "" {
		s += url.User(c.User).String()
		if c.Password != "" {
			s += ":xxxxx"
		}
		s += "@"
	}
	s += strings.Join(c.Addrs, ",")
	if c.MasterName != "" {
		s += "/" + c.MasterName + "/" + strconv.Itoa(c.DB)
	}
	if len(c.Query) > 0 {
		s += "?" + c.Query.Encode()
	}
	return s
}

// NewClient builds the client of a REDIS_URL: a *redis.Client for one
// server, a Sentinel-backed failover client that follows the master, or a
// *redis.ClusterClient. With o.Logger set it installs it as go-redis's
// logger (SetLogger). It does not contact Redis.
//
// The pool is sized for a worker: each job makes two or three Redis calls of
// well under a millisecond, so even thousands of jobs in flight keep only a
// few connections busy. go-redis otherwise sizes its pool by GOMAXPROCS and
// gives each connection 32 KiB buffers each way; a fixed pool of
// DefaultPoolSize with DefaultBufferSize buffers keeps a worker's memory
// flat. A pool_size in the URL wins.
func NewClient(rawURL string, o ClientOptions) (redis.UniversalClient, error) {
	c, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	SetLogger(o.Logger)
	return c.universal(o)
}

func (c *ClientURL) universal(o ClientOptions) (redis.UniversalClient, error) {
	_, poolSet := c.Query["pool_size"]
	buf := o.BufferSize
	defaults.Set(&buf, DefaultBufferSize)
	if c.Topology == Single {
		opts, err := redis.ParseURL(c.raw)
		if err != nil {
			return nil, cleanURLError(err)
		}
		if !strings.Contains(c.raw, "pool_size=") {
			opts.PoolSize = DefaultPoolSize
		}
		opts.ReadBufferSize, opts.WriteBufferSize = buf, buf
		opts.PipelineReadBufferSize, opts.PipelineWriteBufferSize = buf, buf
		opts.MaxRetries = 2
		return redis.NewClient(opts), nil
	}
	// go-redis parses its query options from its own URL forms; give it
	// one built from the parts (no credentials: those are set directly).
	q := url.Values{}
	for k, v := range c.Query {
		q[k] = v
	}
	for _, a := range c.Addrs[1:] {
		q.Add("addr", a)
	}
	gu := "redis://" + c.Addrs[0]
	var tlsConf *tls.Config
	if c.TLS {
		host, _, _ := net.SplitHostPort(c.Addrs[0])
		tlsConf = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	switch c.Topology {
	case Sentinel:
		q.Set("master_name", c.MasterName)
		fo, err := redis.ParseFailoverURL(gu + "/" + strconv.Itoa(c.DB) + "?" + q.Encode())
		if err != nil {
			return nil, cleanURLError(err)
		}
		fo.Username, fo.Password = c.User, c.Password
		fo.SentinelUsername, fo.SentinelPassword = o.SentinelUsername, o.SentinelPassword
		fo.TLSConfig = tlsConf
		if !poolSet {
			fo.PoolSize = DefaultPoolSize
		}
		fo.ReadBufferSize, fo.WriteBufferSize = buf, buf
		fo.PipelineReadBufferSize, fo.PipelineWriteBufferSize = buf, buf
		// A failover shows as a few refused or reset commands; retry them
		// a little longer than on one server.
		fo.MaxRetries = 5
		return redis.NewFailoverClient(fo), nil
	default:
		co, err := redis.ParseClusterURL(gu + "?" + q.Encode())
		if err != nil {
			return nil, cleanURLError(err)
		}
		co.Username, co.Password = c.User, c.Password
		co.TLSConfig = tlsConf
		if !poolSet {
			co.PoolSize = DefaultPoolSize // per node
		}
		co.ReadBufferSize, co.WriteBufferSize = buf, buf
		co.PipelineReadBufferSize, co.PipelineWriteBufferSize = buf, buf
		co.MaxRetries = 5
		return redis.NewClusterClient(co), nil
	}
}
