package main

import (
	"strconv"
	"strings"
	"syscall"
)

// childSysProcAttr makes a child process die with the bench, however the
// bench ends.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// clockTicks is USER_HZ, 100 on every Linux the bench runs on.
const clockTicks = 100

// procCPU reads the user+system CPU seconds of process pid from /proc.
func procCPU(pid int) (float64, bool) {
	lines, err := readLines("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil || len(lines) == 0 {
		return 0, false
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	rest := lines[0][strings.LastIndexByte(lines[0], ')')+1:]
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (utime + stime) / clockTicks, true
}

// memory reads this process's resident set size now and at its peak, in bytes.
func memory() (rss, hwm int64) {
	lines, _ := readLines("/proc/self/status")
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			hwm = kb << 10
		}
	}
	if hwm == 0 {
		_, _, hwm = cpuTimes()
	}
	return rss, hwm
}

// cpuTimes is this process's user and system CPU seconds and its peak RSS in bytes.
func cpuTimes() (user, sys float64, maxRSS int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0, 0
	}
	return tv(ru.Utime), tv(ru.Stime), ru.Maxrss << 10 // kB on Linux
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// cpuModel names the processor, for the report's header.
func cpuModel() string {
	lines, _ := readLines("/proc/cpuinfo")
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage is the 1-minute load average, "" where unknown.
func loadAverage() string {
	lines, err := readLines("/proc/loadavg")
	if err != nil || len(lines) == 0 {
		return ""
	}
	if f := strings.Fields(lines[0]); len(f) > 0 {
		return f[0]
	}
	return ""
}
