package defaults

import "runtime/debug"

// GCPercent is the garbage collector's target (GOGC) the zoom-worker
// process runs with when the environment sets none. A job leaves little
// behind (the heap is about 15 MiB with 1,000 jobs in flight), so the
// collector's work is set by how often it runs, not by what it keeps: at
// Go's 100 it took about a tenth of the CPU of a job at Zoom latency 0.
// At 200 the heap may grow to three times what is live before a cycle;
// the memory bench (1,000 jobs in flight) stays under its 64 MiB target,
// and GOMEMLIMIT, which the deployment sets from the container's memory
// limit, makes the collector run sooner as the limit nears.
const GCPercent = 200

// GC sets the collector's target to GCPercent unless getenv("GOGC") sets
// one (the runtime has read it then).
func GC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}
