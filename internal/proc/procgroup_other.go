//go:build !unix

package proc

import (
	"os"
	"os/exec"
)

// SetGroup does nothing: there are no process groups here. On Windows the
// processes that cmd starts are not stopped with it; that would take a job
// object, which this package does not use.
func SetGroup(*exec.Cmd) {}

// Terminate kills p, and only p: there is no SIGTERM here, and no process
// group. Processes p started may survive it.
func Terminate(p *os.Process) error {
	return p.Kill()
}

// Kill kills p, and only p: there is no process group here. Processes p
// started may survive it.
func Kill(p *os.Process) error {
	return p.Kill()
}
