package readside

import (
	"sync"
	"time"
)

// failWarnEvery is how often at most the service warns of failed requests
// of one endpoint with one code. A fault behind the service (Redis away,
// Zoom failing, the read side's share of the rate limit used up by a storm
// of misses) fails every request until it ends: a warning per request
// would flood the log at the request rate and spend the CPU the reads that
// still work need. The first failure is said at once; the next warning
// says how many were left out since (each is still counted in $SRV.STATS
// and logged at debug).
const failWarnEvery = 10 * time.Second

// failLog decides which failed requests get a warning.
type failLog struct {
	mu   sync.Mutex
	seen map[failKey]*failSeen // endpoints × error codes: a few dozen at most
}

type failKey struct{ endpoint, code string }

type failSeen struct {
	warned time.Time // the last warning
	left   int       // failures since, not warned of
}

// admit reports whether a failure of key at now gets a warning, and how
// many failures of key were left out since the last one.
func (l *failLog) admit(key failKey, now time.Time) (warn bool, leftOut int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[failKey]*failSeen{}
	}
	s := l.seen[key]
	if s == nil {
		s = &failSeen{}
		l.seen[key] = s
	}
	if !s.warned.IsZero() && now.Sub(s.warned) < failWarnEvery {
		s.left++
		return false, 0
	}
	leftOut, s.warned, s.left = s.left, now, 0
	return true, leftOut
}
