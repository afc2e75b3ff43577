package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisHint is what to install when no redis-server binary is found.
const RedisHint = "redis-server not found in PATH: install Redis 6.2 or newer (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or run `make test`, which installs it where it can"

// Redis is a redis-server (or redis-sentinel) process owned by a test: a
// server of its own (NewRedis) or one node of a Redis Cluster or Sentinel
// set-up.
type Redis struct {
	Addr string // 127.0.0.1:port
	Port int
	URL  string // redis://127.0.0.1:port/0

	dir, name string
	args      func(port int) []string // the command line for port

	mu  sync.Mutex
	cmd *exec.Cmd
}

// StartRedis starts a fresh redis-server on a free port and stops it when the
// test ends. It fails the test, naming what to install, when there is no
// redis-server binary.
func StartRedis(tb testing.TB) *Redis {
	tb.Helper()
	return started(tb, NewRedis, (*Redis).Stop)
}

// NewRedis starts a fresh redis-server on a free port, keeping its log in
// dir and nothing else on disk. The caller stops it. The error names what to
// install when there is no redis-server binary.
func NewRedis(dir string) (*Redis, error) {
	r, err := newRedis(dir, "redis", baseArgs)
	if err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	return r, nil
}

// newRedis starts redis-server with the command line args(port) on a free
// port, in dir (its working directory, where it keeps name-N.log), and waits
// until it answers PING.
func newRedis(dir, name string, args func(port int) []string) (*Redis, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errors.New(RedisHint)
	}
	r := &Redis{dir: dir, name: name, args: args}
	if err := r.start(0); err != nil {
		return nil, err
	}
	return r, nil
}

// baseArgs are the arguments every test redis-server gets: loopback only,
// no persistence, quiet.
func baseArgs(port int) []string {
	return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--loglevel", "warning"}
}

// start launches the process on port (0: a free one, retrying a few times
// when another process grabs the port first).
func (r *Redis) start(port int) error {
	var lastErr error
	for try := 0; try < 5; try++ {
		p := port
		if p == 0 {
			var err error
			if p, err = FreePort(); err != nil {
				return err
			}
		}
		cmd := exec.Command("redis-server", r.args(p)...)
		cmd.Dir = r.dir
		logf, err := os.Create(filepath.Join(r.dir, fmt.Sprintf("%s-%d.log", r.name, try)))
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = dieWithParent()
		err = cmd.Start()
		logf.Close() // the child holds its own descriptor
		if err != nil {
			return err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		if err := waitRedis(addr, 10*time.Second); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			lastErr = err
			if port != 0 {
				return err
			}
			continue
		}
		r.mu.Lock()
		r.cmd = cmd
		r.Addr, r.Port, r.URL = addr, p, "redis://"+addr+"/0"
		r.mu.Unlock()
		return nil
	}
	return lastErr
}

// Pid is the server's process id (0 when stopped).
func (r *Redis) Pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// Stop kills the server at once (SIGKILL), as a crash would. A stopped
// Redis can be started again with Restart.
func (r *Redis) Stop() {
	r.mu.Lock()
	cmd := r.cmd
	r.cmd = nil
	r.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// Restart starts the server again on the same port, empty (it keeps nothing on disk).
func (r *Redis) Restart(tb testing.TB) {
	tb.Helper()
	restart(tb, "redis-server on port "+strconv.Itoa(r.Port), func() error { return r.start(r.Port) })
}

// Info is the server's INFO for sections (none: the default ones).
func (r *Redis) Info(ctx context.Context, sections ...string) (string, error) {
	c := r.client()
	defer c.Close()
	return c.Info(ctx, sections...).Result()
}

func (r *Redis) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 5 * time.Second})
}

// do runs one command on the server.
func (r *Redis) do(ctx context.Context, args ...any) (any, error) {
	c := r.client()
	defer c.Close()
	return c.Do(ctx, args...).Result()
}

// info returns one field of INFO section ("" when the server does not answer).
func (r *Redis) info(ctx context.Context, section, field string) string {
	s, err := r.Info(ctx, section)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// waitRedis waits until addr answers PING with PONG.
func waitRedis(addr string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis on %s did not answer PING within %s", addr, limit)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls cond every 50 ms until it holds or limit passes.
func waitFor(limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// haTimeout bounds each step of building or failing over a set-up. It is
// generous: the machine running tests may be loaded.
const haTimeout = 30 * time.Second

// RedisCluster is a Redis Cluster of real redis-server processes: masters
// that share the 16384 slots evenly, each with one replica.
type RedisCluster struct {
	Masters  []*Redis
	Replicas []*Redis // Replicas[i] replicates Masters[i] (until a failover swaps them)
	// URL is a redis+cluster:// URL naming every master as a seed.
	URL string
}

// NewRedisCluster starts a cluster of masters masters, each with one
// replica, on free ports, logs in dir, and waits until every node says the
// cluster is ok. Close stops it.
func NewRedisCluster(dir string, masters int) (*RedisCluster, error) {
	c := &RedisCluster{}
	return setUp("redis cluster", c, func() error { return c.start(dir, masters) }, c.Close)
}

func (c *RedisCluster) start(dir string, masters int) error {
	args := func(port int) []string {
		return append(baseArgs(port), "--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port),
			// A node is only failed over when the test asks: a loaded
			// machine must not look like a dead master.
			"--cluster-node-timeout", "15000")
	}
	for i := 0; i < 2*masters; i++ {
		n, err := newRedis(dir, fmt.Sprintf("cluster-%d", i), args)
		if err != nil {
			return fmt.Errorf("start cluster node: %w", err)
		}
		if i < masters {
			c.Masters = append(c.Masters, n)
		} else {
			c.Replicas = append(c.Replicas, n)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*haTimeout)
	defer cancel()
	all := c.nodes()
	per := 16384 / masters
	for i, m := range c.Masters {
		lo, hi := i*per, (i+1)*per-1
		if i == masters-1 {
			hi = 16383
		}
		slots := []any{"CLUSTER", "ADDSLOTS"}
		for s := lo; s <= hi; s++ {
			slots = append(slots, s)
		}
		if _, err := m.do(ctx, slots...); err != nil {
			return fmt.Errorf("cluster addslots: %w", err)
		}
	}
	for _, n := range all[1:] {
		if _, err := all[0].do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.Port); err != nil {
			return fmt.Errorf("cluster meet: %w", err)
		}
	}
	if err := waitFor(haTimeout, "cluster nodes know each other", func() bool {
		for _, n := range all {
			out, err := n.do(ctx, "CLUSTER", "NODES")
			s, _ := out.(string)
			if err != nil || strings.Count(strings.TrimSpace(s), "\n")+1 != len(all) || strings.Contains(s, "handshake") {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}
	for i, r := range c.Replicas {
		id, err := c.Masters[i].do(ctx, "CLUSTER", "MYID")
		if err != nil {
			return err
		}
		if err := waitFor(haTimeout, "cluster replicate", func() bool {
			_, err := r.do(ctx, "CLUSTER", "REPLICATE", id)
			return err == nil
		}); err != nil {
			return err
		}
	}
	if err := c.waitHealthy(ctx); err != nil {
		return err
	}
	addrs := make([]string, len(c.Masters))
	for i, m := range c.Masters {
		addrs[i] = m.Addr
	}
	c.URL = "redis+cluster://" + strings.Join(addrs, ",")
	return nil
}

func (c *RedisCluster) nodes() []*Redis {
	return append(append([]*Redis{}, c.Masters...), c.Replicas...)
}

// waitHealthy waits until every node says the cluster is ok, every replica's
// link to its master is up, and every node agrees who the masters are.
func (c *RedisCluster) waitHealthy(ctx context.Context) error {
	return waitFor(haTimeout, "redis cluster healthy", func() bool {
		for _, n := range c.nodes() {
			if n.info(ctx, "cluster", "cluster_enabled") != "1" {
				return false
			}
			out, err := n.do(ctx, "CLUSTER", "INFO")
			if s, _ := out.(string); err != nil || !strings.Contains(s, "cluster_state:ok") {
				return false
			}
			nodes, err := n.do(ctx, "CLUSTER", "NODES")
			s, _ := nodes.(string)
			if err != nil || strings.Count(s, "master") != len(c.Masters) || strings.Contains(s, "fail") {
				return false
			}
		}
		for _, r := range c.Replicas {
			if r.info(ctx, "replication", "master_link_status") != "up" {
				return false
			}
		}
		return true
	})
}

// Failover makes Masters[i]'s replica its master with CLUSTER FAILOVER (the
// coordinated kind: the master stops taking writes until the replica has
// them all), waits until the whole cluster agrees, and swaps the two in
// Masters and Replicas.
func (c *RedisCluster) Failover(i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*haTimeout)
	defer cancel()
	r := c.Replicas[i]
	if _, err := r.do(ctx, "CLUSTER", "FAILOVER"); err != nil {
		return fmt.Errorf("cluster failover: %w", err)
	}
	if err := waitFor(haTimeout, "replica promoted", func() bool {
		return r.info(ctx, "replication", "role") == "master"
	}); err != nil {
		return err
	}
	c.Masters[i], c.Replicas[i] = r, c.Masters[i]
	return c.waitHealthy(ctx)
}

// Close stops every node.
func (c *RedisCluster) Close() {
	for _, n := range c.nodes() {
		n.Stop()
	}
}

// StartRedisCluster is NewRedisCluster for a test: it fails the test when
// the cluster does not come up and stops it when the test ends.
func StartRedisCluster(tb testing.TB, masters int) *RedisCluster {
	tb.Helper()
	return started(tb, func(dir string) (*RedisCluster, error) { return NewRedisCluster(dir, masters) }, (*RedisCluster).Close)
}

// SentinelMaster is the master name the Sentinel set-up monitors.
const SentinelMaster = "zw-master"

// RedisSentinel is a Sentinel set-up of real processes: one master, its
// replicas and the Sentinels that watch them.
type RedisSentinel struct {
	Master    *Redis
	Replicas  []*Redis
	Sentinels []*Redis
	// URL is a redis+sentinel:// URL naming every Sentinel, master
	// SentinelMaster, database 0.
	URL string
}

// NewRedisSentinel starts a master, replicas replicas and sentinels
// Sentinels (quorum: a majority of them) on free ports, logs and Sentinel
// configs in dir, and waits until the Sentinels know every replica. Close
// stops it.
func NewRedisSentinel(dir string, replicas, sentinels int) (*RedisSentinel, error) {
	s := &RedisSentinel{}
	return setUp("redis sentinel", s, func() error { return s.start(dir, replicas, sentinels) }, s.Close)
}

func (s *RedisSentinel) start(dir string, replicas, sentinels int) (err error) {
	if s.Master, err = newRedis(dir, "master", baseArgs); err != nil {
		return fmt.Errorf("start master: %w", err)
	}
	for i := 0; i < replicas; i++ {
		r, err := newRedis(dir, fmt.Sprintf("replica-%d", i), func(port int) []string {
			return append(baseArgs(port), "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port))
		})
		if err != nil {
			return fmt.Errorf("start replica: %w", err)
		}
		s.Replicas = append(s.Replicas, r)
	}
	quorum := sentinels/2 + 1
	for i := 0; i < sentinels; i++ {
		sn, err := newRedis(dir, fmt.Sprintf("sentinel-%d", i), func(port int) []string {
			conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", port))
			// Sentinel rewrites its config file, so each gets its own.
			// down-after is long: only the test's own failover should
			// happen, never one caused by a loaded machine.
			body := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"+
				"sentinel monitor %s 127.0.0.1 %d %d\n"+
				"sentinel down-after-milliseconds %s 10000\n"+
				"sentinel failover-timeout %s 20000\n"+
				"sentinel parallel-syncs %s 1\n",
				port, dir, SentinelMaster, s.Master.Port, quorum, SentinelMaster, SentinelMaster, SentinelMaster)
			_ = os.WriteFile(conf, []byte(body), 0o600)
			return []string{conf, "--sentinel", "--loglevel", "warning"}
		})
		if err != nil {
			return fmt.Errorf("start sentinel: %w", err)
		}
		s.Sentinels = append(s.Sentinels, sn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*haTimeout)
	defer cancel()
	if err := s.waitHealthy(ctx, s.Master.Addr); err != nil {
		return err
	}
	addrs := make([]string, len(s.Sentinels))
	for i, sn := range s.Sentinels {
		addrs[i] = sn.Addr
	}
	s.URL = "redis+sentinel://" + strings.Join(addrs, ",") + "/" + SentinelMaster + "/0"
	return nil
}

// waitHealthy waits until every Sentinel names master as the master and
// sees every replica connected to it, and the replicas' links are up.
func (s *RedisSentinel) waitHealthy(ctx context.Context, master string) error {
	return waitFor(haTimeout, "sentinel set-up healthy", func() bool {
		for _, r := range s.Replicas {
			if r.info(ctx, "replication", "master_link_status") != "up" {
				return false
			}
		}
		for _, sn := range s.Sentinels {
			c := sn.client()
			addr, err := c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMaster).StringSlice()
			if err != nil || len(addr) != 2 || net.JoinHostPort(addr[0], addr[1]) != master {
				c.Close()
				return false
			}
			reps, err := c.Do(ctx, "SENTINEL", "REPLICAS", SentinelMaster).Slice()
			c.Close()
			if err != nil || len(reps) != len(s.Replicas) {
				return false
			}
			for _, r := range reps {
				if !replicaOK(r) {
					return false
				}
			}
		}
		return true
	})
}

// replicaOK reads one entry of SENTINEL REPLICAS: flags "slave" only and
// the link to the master ok.
func replicaOK(entry any) bool {
	fields := map[string]string{}
	switch e := entry.(type) {
	case []any:
		for i := 0; i+1 < len(e); i += 2 {
			k, _ := e[i].(string)
			v, _ := e[i+1].(string)
			fields[k] = v
		}
	case map[any]any:
		for k, v := range e {
			ks, _ := k.(string)
			vs, _ := v.(string)
			fields[ks] = vs
		}
	}
	return fields["flags"] == "slave" && fields["master-link-status"] == "ok"
}

// Failover asks a Sentinel for a failover (SENTINEL FAILOVER), waits until
// a replica is the master, every Sentinel names it, and the old master has
// become its replica; then Master and Replicas say the new roles.
func (s *RedisSentinel) Failover() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*haTimeout)
	defer cancel()
	old := s.Master.Addr
	c := s.Sentinels[0].client()
	defer c.Close()
	// NOGOODSLAVE until the Sentinel has fresh news of a replica.
	if err := waitFor(haTimeout, "sentinel failover accepted", func() bool {
		return c.Do(ctx, "SENTINEL", "FAILOVER", SentinelMaster).Err() == nil
	}); err != nil {
		return err
	}
	var addr []string
	if err := waitFor(haTimeout, "sentinel switched master", func() bool {
		var err error
		addr, err = c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMaster).StringSlice()
		return err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) != old
	}); err != nil {
		return err
	}
	now := net.JoinHostPort(addr[0], addr[1])
	for i, r := range s.Replicas {
		if r.Addr == now {
			s.Master, s.Replicas[i] = r, s.Master
		}
	}
	if s.Master.Addr != now {
		return fmt.Errorf("sentinel names %s, which is none of the replicas", now)
	}
	// Sentinel turns the old master into a replica when it next polls it
	// (up to 10 s); do it now, as Sentinel would, to keep the test short.
	for _, r := range s.Replicas {
		if r.Addr == old {
			_, _ = r.do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(s.Master.Port))
		}
	}
	return s.waitHealthy(ctx, now)
}

// Close stops every process.
func (s *RedisSentinel) Close() {
	for _, n := range append(append([]*Redis{s.Master}, s.Replicas...), s.Sentinels...) {
		if n != nil {
			n.Stop()
		}
	}
}

// StartRedisSentinel is NewRedisSentinel for a test: it fails the test when
// the set-up does not come up and stops it when the test ends.
func StartRedisSentinel(tb testing.TB, replicas, sentinels int) *RedisSentinel {
	tb.Helper()
	return started(tb, func(dir string) (*RedisSentinel, error) { return NewRedisSentinel(dir, replicas, sentinels) }, (*RedisSentinel).Close)
}
