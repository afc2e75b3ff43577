//go:build !linux

package main

import (
	"runtime"
	"syscall"
)

// Outside Linux there is no /proc: the peak RSS comes from getrusage, the
// current RSS is not known, and redis-server's CPU comes from its INFO.

func childSysProcAttr() *syscall.SysProcAttr { return nil }

func procCPU(int) (float64, bool) { return 0, false }

func memory() (rss, hwm int64) {
	_, _, hwm = cpuTimes()
	return 0, hwm
}

func cpuModel() string { return runtime.GOARCH }

func loadAverage() string { return "" }
