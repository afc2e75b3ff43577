package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own messages (a failed dial while Redis is
// down, a pool or Sentinel notice) to log as structured lines at Warn,
// instead of go-redis's default of plain text on stderr, so every line the
// process writes stays in the log's format. go-redis has one logger per
// process: the last call wins. A nil log changes nothing.
func SetLogger(log *slog.Logger) {
	if log == nil {
		return
	}
	redis.SetLogger(slogPrinter{log})
}

// slogPrinter is go-redis's Logging interface on a slog.Logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	p.log.Log(ctx, slog.LevelWarn, "redis client", "detail", strings.TrimPrefix(msg, "redis: "))
}
