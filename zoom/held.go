package zoom

import (
	"errors"
	"time"
)

// Held is an error that says a request never went to Zoom and when it may
// go: a shared rate limiter with no slot soon (redisstore.WaitError) answers
// it from Limiter.Wait. Nothing reached Zoom, so a caller may try again at
// RetryAt without counting an attempt. Classify reports it as RetryLater at
// RetryAt.
type Held interface {
	error
	RetryAt() time.Time
}

// AsHeld finds a Held in err's chain.
func AsHeld(err error) (Held, bool) {
	var h Held
	if errors.As(err, &h) {
		return h, true
	}
	return nil, false
}
