//go:build !unix

package main

// cpuTimes is not measured on this system.
func cpuTimes() (user, sys float64, maxRSS int64) { return 0, 0, 0 }
