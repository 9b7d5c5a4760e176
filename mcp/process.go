package mcp

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/octrun/octrun/internal/proc"
)

// gracePeriod is how long stopping a stdio server waits after closing its
// standard input, and again after SIGTERM, before the next step.
const gracePeriod = 2 * time.Second

// process is a stdio server's process. The package starts it and waits for
// it itself, rather than leaving that to the transport, so that it knows
// when the process exits (a dead server is restarted before the next call
// instead of failing it) and can stop the whole process group.
type process struct {
	cmd    *exec.Cmd
	stdout *os.File // the read end of the process's standard output
	stderr *tail
	exited chan struct{} // closed once the process has exited
	err    error         // what Wait returned; read after exited is closed
}

// startProcess starts command and returns the process with an MCP stdio
// transport over its standard input and output.
func startProcess(command string, args, env []string) (*process, *transport.Stdio, error) {
	cmd := exec.Command(command, args...)
	cmd.Env = env
	p := &process{cmd: cmd, stderr: &tail{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	// Something the server started may hold its standard error open after
	// it exits; Wait does not wait for that longer than this.
	cmd.WaitDelay = gracePeriod
	proc.SetGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	// A pipe of our own rather than StdoutPipe, which Wait closes: the last
	// response before an exit must still be read.
	stdout, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stdout = w
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		_ = stdout.Close()
		return nil, nil, err
	}
	p.stdout = stdout
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, transport.NewIO(stdout, stdin, nil), nil
}

// hasExited reports whether the process has exited.
func (p *process) hasExited() bool {
	return p.waitExit(0)
}

// waitExit waits up to d for the process to exit and reports whether it has.
func (p *process) waitExit(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	if d <= 0 {
		return false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.exited:
		return true
	case <-timer.C:
		return false
	}
}

// exitStatus describes how the process ended; call it once it has exited.
func (p *process) exitStatus() string {
	if p.err == nil {
		return "exit status 0"
	}
	return p.err.Error()
}

// stderrTail returns ` (stderr: "...")` with the last lines the process
// wrote to its standard error, or "" when it wrote nothing.
func (p *process) stderrTail() string {
	if lines := p.stderr.lastLines(3); lines != "" {
		return fmt.Sprintf(" (stderr: %q)", lines)
	}
	return ""
}

// stop stops the process once the transport has closed its standard
// input: it waits for the process to exit, then terminates and finally
// kills its process group, and kills whatever is left of the group (what
// the server started) once it has exited.
func (p *process) stop() error {
	defer p.stdout.Close()
	if !p.waitExit(gracePeriod) {
		_ = proc.Terminate(p.cmd.Process)
		if !p.waitExit(gracePeriod) {
			_ = proc.Kill(p.cmd.Process)
			if !p.waitExit(gracePeriod) {
				return fmt.Errorf("process %d did not exit after it was killed", p.cmd.Process.Pid)
			}
		}
	}
	_ = proc.Kill(p.cmd.Process)
	return nil
}

// tailSize is how much of a server's standard error is kept.
const tailSize = 4096

// tail keeps the end of what is written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

// Write keeps the last tailSize bytes written.
func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailSize {
		t.buf = bytes.Clone(t.buf[len(t.buf)-tailSize:])
	}
	return len(b), nil
}

// lastLines returns the last n lines that are not blank, joined by
// newlines.
func (t *tail) lastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	for line := range strings.Lines(string(t.buf)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
