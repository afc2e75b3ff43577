package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomworker/zoom-worker/zoom"
)

// TokenCache shares one Zoom access token per account and app between every
// worker process, so a fleet does not mint a token per process. It
// implements zoom.TokenCache.
type TokenCache struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ zoom.TokenCache = (*TokenCache)(nil)

// TokenCache returns the token cache of account.
func (s *Store) TokenCache(account string) *TokenCache {
	return &TokenCache{rdb: s.rdb, prefix: s.key(account, "oauth") + ":"}
}

// GetToken implements zoom.TokenCache.
func (c *TokenCache) GetToken(ctx context.Context, key string) (string, time.Time, bool, error) {
	v, err := c.rdb.Get(ctx, c.prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, err
	}
	ms, tok, ok := strings.Cut(v, "|")
	exp, perr := strconv.ParseInt(ms, 10, 64)
	if !ok || perr != nil || tok == "" {
		return "", time.Time{}, false, nil
	}
	return tok, time.UnixMilli(exp), true, nil
}

// SetToken implements zoom.TokenCache: the entry expires with the token.
func (c *TokenCache) SetToken(ctx context.Context, key, token string, expiry time.Time) error {
	ttl := time.Until(expiry)
	if ttl <= 0 {
		return nil
	}
	return c.rdb.Set(ctx, c.prefix+key, strconv.FormatInt(expiry.UnixMilli(), 10)+"|"+token, ttl).Err()
}

var delTokenScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, -string.len(ARGV[1])) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// DeleteToken implements zoom.TokenCache: it drops the entry only if it still holds token.
func (c *TokenCache) DeleteToken(ctx context.Context, key, token string) error {
	return delTokenScript.Run(ctx, c.rdb, []string{c.prefix + key}, "|"+token).Err()
}

var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

var _ zoom.TokenLocker = (*TokenCache)(nil)

// LockToken implements zoom.TokenLocker with SET NX PX; the lock expires by
// itself after ttl if its holder dies.
func (c *TokenCache) LockToken(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	lockKey := c.prefix + key + ":lock"
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	got, err := c.rdb.SetNX(ctx, lockKey, id, ttl).Result()
	if err != nil || !got {
		return func() {}, false, err
	}
	return func() { _ = unlockScript.Run(context.WithoutCancel(ctx), c.rdb, []string{lockKey}, id).Err() }, true, nil
}
