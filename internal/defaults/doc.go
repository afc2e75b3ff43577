// Package defaults holds the one rule every Config and Options of the
// module follows for its counts, sizes, rates and durations: zero or
// negative means the package's default. Each withDefaults states its
// defaults through Set, so the rule is written once (River does the same
// with its valutil.ValOrDefault). zoom/zoomtest does not use it: the fake
// imports nothing of the module. GC sets the zoom-worker process's
// garbage-collector target.
package defaults
