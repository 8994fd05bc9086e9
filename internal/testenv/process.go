package testenv

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// startChild starts cmd, a server this package runs for a test: it dies
// with the test binary (Pdeathsig), the returned channel is closed when it
// exits, and ready is polled (every 10 ms, at most limit in all) until it
// succeeds. If the process exits first or never gets ready, it is killed
// and the error says which, with the text logText returns (its log).
func startChild(cmd *exec.Cmd, what string, limit time.Duration, ready func() error, logText func() string) (chan struct{}, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testenv: start %s: %w", what, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("testenv: %s exited during start-up\n%s", what, logText())
		default:
		}
		err := ready()
		if err == nil {
			return exited, nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return nil, errors.Join(fmt.Errorf("testenv: %s not ready after %v", what, limit), fmt.Errorf("%w\n%s", err, logText()))
		}
		time.Sleep(10 * time.Millisecond) // polling: the only signal these servers give
	}
}
