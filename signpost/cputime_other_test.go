//go:build !linux

package signpost

import "time"

// threadCPU falls back to wall-clock time where thread CPU time is not
// read; see cputime_linux_test.go.
func threadCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }
