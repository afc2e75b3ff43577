package testenv

import "syscall"

// dieWithParent makes a server process die with the test (or bench) that
// started it, however that ends, so no redis-server outlives a killed run.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
