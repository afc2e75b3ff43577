package redisstore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Read-only views for the operator console. They build keys with the same
// helpers the worker writes with, so they follow the key layout wherever it
// goes; nothing here changes state.

// HostLimit is a host that reached Zoom's daily meeting create/update limit.
type HostLimit struct {
	Account string
	Host    string // as the worker recorded it (lower case)
	// Until is when the mark expires: the limit's reset, 00:00 UTC.
	Until time.Time
}

// HostLimits lists the hosts of account marked as at their daily limit,
// sorted by host. It SCANs only the account's daily-limit keys (on a Redis
// Cluster, on every primary).
func (s *Store) HostLimits(ctx context.Context, account string) ([]HostLimit, error) {
	pattern := s.dailyKey(account, "*")
	prefix := strings.TrimSuffix(pattern, "*")
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.rdb)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: list daily limits: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	out := make([]HostLimit, 0, len(keys))
	for _, k := range keys {
		// One GET per key: keys of several hash slots cannot share an MGET.
		v, err := s.rdb.Get(ctx, k).Result()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("redis: list daily limits: %w", err)
		}
		until := msTime(v)
		out = append(out, HostLimit{Account: acct(account), Host: strings.TrimPrefix(k, prefix), Until: until})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, nil
}

// LimiterState is where an account's shared rate limiter stands now.
type LimiterState struct {
	// Next is when the account-wide line has its next free slot (its
	// theoretical arrival time); zero or past means a request goes at once.
	Next time.Time
	// NextLight, NextMedium and NextHeavy are the same for Zoom's categories.
	NextLight, NextMedium, NextHeavy time.Time
	// PausedUntil is the end of a pause Zoom asked for with a 429's
	// Retry-After; zero for none.
	PausedUntil time.Time
}

// LimiterState reads account's limiter lines and pause mark.
func (s *Store) LimiterState(ctx context.Context, account string) (LimiterState, error) {
	l := s.NewLimiter(account, Limits{})
	cmds := make([]*redis.StringCmd, len(l.keys))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range l.keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return LimiterState{}, fmt.Errorf("redis: read rate limiter: %w", err)
	}
	t := make([]time.Time, len(cmds))
	for i, c := range cmds {
		if v, err := c.Result(); err == nil {
			if us, err := strconv.ParseFloat(v, 64); err == nil && us > 0 {
				t[i] = time.UnixMicro(int64(us)).UTC()
			}
		}
	}
	return LimiterState{Next: t[0], NextLight: t[1], NextMedium: t[2], NextHeavy: t[3], PausedUntil: t[4]}, nil
}
