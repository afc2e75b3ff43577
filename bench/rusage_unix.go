//go:build unix && !linux

package main

import (
	"runtime"
	"syscall"
)

// cpuTimes is this process's user and system CPU seconds and its peak RSS in bytes.
func cpuTimes() (user, sys float64, maxRSS int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0, 0
	}
	maxRSS = int64(ru.Maxrss)
	if runtime.GOOS != "darwin" {
		maxRSS <<= 10 // kB on the BSDs, bytes on macOS
	}
	return tv(ru.Utime), tv(ru.Stime), maxRSS
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
