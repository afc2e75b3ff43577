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
)

// RedisHint is what to install when no redis-server binary is found.
const RedisHint = "redis-server not found in PATH: install Redis 6.2 or newer (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or run `make test`, which installs it where it can"

// Redis is a redis-server process owned by a test.
type Redis struct {
	Addr string // 127.0.0.1:port
	URL  string // redis://127.0.0.1:port/0

	mu   sync.Mutex
	cmd  *exec.Cmd
	port int
	dir  string
}

// StartRedis starts a fresh redis-server on a free port and stops it when the
// test ends. It fails the test, naming what to install, when there is no
// redis-server binary.
func StartRedis(tb testing.TB) *Redis {
	tb.Helper()
	r, err := NewRedis(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Stop)
	return r
}

// NewRedis starts a fresh redis-server on a free port, keeping its log in
// dir and nothing else on disk. The caller stops it. The error names what to
// install when there is no redis-server binary.
func NewRedis(dir string) (*Redis, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errors.New(RedisHint)
	}
	r := &Redis{dir: dir}
	if err := r.start(0); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	return r, nil
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

// start launches redis-server on port (0: a free one), retrying a few times
// when another process grabs the port first.
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
		cmd := exec.Command("redis-server",
			"--port", strconv.Itoa(p), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", r.dir,
			"--protected-mode", "no", "--loglevel", "warning")
		logf, err := os.Create(filepath.Join(r.dir, fmt.Sprintf("redis-%d.log", try)))
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
		if err := waitRedis(addr, 5*time.Second); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			lastErr = err
			if port != 0 {
				return err
			}
			continue
		}
		r.mu.Lock()
		r.cmd, r.port = cmd, p
		r.Addr = addr
		r.URL = "redis://" + addr + "/0"
		r.mu.Unlock()
		return nil
	}
	return lastErr
}

// Stop kills the server. A stopped Redis can be started again with Restart.
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
	r.mu.Lock()
	p := r.port
	r.mu.Unlock()
	var err error
	for i := 0; i < 50; i++ {
		if err = r.start(p); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("restart redis-server on port %d: %v", p, err)
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
