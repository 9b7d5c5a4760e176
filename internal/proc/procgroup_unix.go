//go:build unix

package proc

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// SetGroup makes cmd, when started, the leader of a new process group,
// which the processes it starts join.
func SetGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// Terminate sends SIGTERM to the process group that p leads. It returns
// os.ErrProcessDone when no process of the group is left.
func Terminate(p *os.Process) error {
	return signalGroup(p, syscall.SIGTERM)
}

// Kill sends SIGKILL to the process group that p leads. It returns
// os.ErrProcessDone when no process of the group is left.
func Kill(p *os.Process) error {
	return signalGroup(p, syscall.SIGKILL)
}

// signalGroup sends sig to the process group whose id is p's pid.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	err := syscall.Kill(-p.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}
