package signpost_test

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPU returns the calling thread's CPU time, so that latency figures
// measured on a busy shared machine count this search's work and not the
// time it spent waiting for a core. Callers lock the goroutine to its
// thread.
func threadCPU() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
