package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// Ensure returns the stream named by want.Name, creating it when it does
// not exist and updating it when one of the fields want sets differs from
// the stream's configuration. Errors name the stream.
func Ensure(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, want.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		s, err = js.CreateStream(ctx, want)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			// Another process created it between the two calls.
			return Ensure(ctx, js, want)
		}
		if err != nil {
			return nil, fmt.Errorf("create stream %s: %w", want.Name, err)
		}
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("look up stream %s: %w", want.Name, err)
	}
	if Same(s.CachedInfo().Config, want) {
		return s, nil
	}
	s, err = js.UpdateStream(ctx, want)
	if err != nil {
		return nil, fmt.Errorf("update stream %s: %w", want.Name, err)
	}
	return s, nil
}

// Same reports whether have already is want in every field want sets (a
// zero field of want is the server's default, which the server fills in).
func Same(have, want jetstream.StreamConfig) bool {
	return have.Name == want.Name &&
		have.Description == want.Description &&
		slices.Equal(have.Subjects, want.Subjects) &&
		have.Retention == want.Retention &&
		have.Storage == want.Storage &&
		(want.Replicas == 0 || have.Replicas == want.Replicas) &&
		(want.Duplicates == 0 || have.Duplicates == want.Duplicates) &&
		have.MaxAge == want.MaxAge &&
		(want.MaxMsgSize == 0 || have.MaxMsgSize == want.MaxMsgSize)
}
