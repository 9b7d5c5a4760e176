package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/proc"
)

// MaxCommandOutput is the most a tool command may write to its standard
// output: one that writes more is stopped, and its call fails.
const MaxCommandOutput = 10 << 20

const (
	// maxCommandStderr is how much of a command's standard error is kept
	// for the message of its failure.
	maxCommandStderr = 64 << 10
	// pipeGrace is how long a command's output is still read once the
	// command exited and its process group was killed: a process that left
	// the group may hold the pipes open.
	pipeGrace = time.Second
)

// CommandTool returns a handler that runs command with sh -c for each call:
// the arguments go to its standard input as a JSON object, and its
// standard output is the result (a JSON value, or else the text itself),
// read up to MaxCommandOutput: a command that writes more is stopped and
// fails. A non-zero exit is a tool error whose message holds the command's
// standard error. A call that takes longer than timeout is killed and
// fails. However the call ends (the command exits, fails, times out or
// writes too much, or ctx ends), every process the command started is
// killed with it: one it left running in the background does not outlive
// the call. On Windows, which has no process groups, only the shell is
// killed: what it started may survive it (see package internal/proc), and
// sh must be on the PATH.
func CommandTool(command string, timeout time.Duration) ToolHandler {
	return func(ctx context.Context, args map[string]any) (any, error) {
		input, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var env []string
		if key := effect.ToolCallKey(ctx); key != "" {
			env = append(os.Environ(), "OCTRUN_TOOL_CALL_ID="+key)
		}
		out, err := runCommand(ctx, command, env, input)
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, fmt.Errorf("the command timed out after %s", timeout)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			return nil, err
		}
		return commandResult(out), nil
	}
}

// runCommand runs command with sh -c in a process group of its own (env
// nil: octrun's environment), input on its standard input, and returns its
// standard output. It returns when the command exits, when ctx ends or
// when the command writes more than MaxCommandOutput, and kills the whole
// group then, whatever happened.
func runCommand(ctx context.Context, command string, env []string, input []byte) ([]byte, error) {
	cmd := exec.Command("sh", "-c", command)
	cmd.Env = env
	proc.SetGroup(cmd)
	// The pipes are octrun's, not exec's: exec's Wait would wait for
	// every process that holds them, which the group is killed to end.
	var p pipes
	defer p.close()
	if err := p.open(cmd); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("the command did not start: %w", err)
	}
	p.closeChildEnds()
	stdout := &capped{limit: MaxCommandOutput, full: make(chan struct{})}
	stderr := &capped{limit: maxCommandStderr}
	read := p.start(input, stdout, stderr)

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-exited:
		exited = nil
	case <-ctx.Done():
	case <-stdout.full:
	}
	_ = proc.Kill(cmd.Process)
	if exited != nil {
		waitErr = <-exited
	}
	t := time.NewTimer(pipeGrace)
	defer t.Stop()
	select {
	case <-read:
	case <-t.C:
	}
	out, over := stdout.result()
	switch {
	case over:
		return nil, fmt.Errorf("the command wrote more than %d MiB to standard output; it was stopped", MaxCommandOutput>>20)
	case waitErr != nil:
		errOut, more := stderr.result()
		msg := strings.TrimSpace(string(errOut))
		switch {
		case msg == "":
			msg = "no message on standard error"
		case more:
			msg += fmt.Sprintf(" [standard error cut at %d KiB]", maxCommandStderr>>10)
		}
		return nil, fmt.Errorf("the command failed (%v): %s", waitErr, msg)
	}
	return out, nil
}

// pipes are the standard input, output and error of a command: the
// command's ends (in*, out*, err* of the child) and octrun's.
type pipes struct {
	inR, inW, outR, outW, errR, errW *os.File
}

// open makes the pipes and gives cmd its ends.
func (p *pipes) open(cmd *exec.Cmd) error {
	var err error
	if p.inR, p.inW, err = os.Pipe(); err != nil {
		return err
	}
	if p.outR, p.outW, err = os.Pipe(); err != nil {
		return err
	}
	if p.errR, p.errW, err = os.Pipe(); err != nil {
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.inR, p.outW, p.errW
	return nil
}

// closeChildEnds closes octrun's copies of the command's ends, once the
// command has its own: the output pipes end when the command's processes
// have all closed them.
func (p *pipes) closeChildEnds() {
	for _, f := range []*os.File{p.inR, p.outW, p.errW} {
		_ = f.Close()
	}
}

// start writes input to the command and copies its output and error to
// stdout and stderr. The channel it returns is closed when both are read
// to their end.
func (p *pipes) start(input []byte, stdout, stderr io.Writer) <-chan struct{} {
	go func() {
		// An error here is the command's not reading its input: that
		// is its own business.
		_, _ = p.inW.Write(input)
		_ = p.inW.Close()
	}()
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(stdout, p.outR) })
	wg.Go(func() { _, _ = io.Copy(stderr, p.errR) })
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

// close closes every end still open; reads and writes in progress end.
func (p *pipes) close() {
	for _, f := range []*os.File{p.inR, p.inW, p.outR, p.outW, p.errR, p.errW} {
		if f != nil {
			_ = f.Close()
		}
	}
}

// capped keeps the first limit bytes written to it and drops the rest. It
// is safe for concurrent use.
type capped struct {
	limit int
	// full, when not nil, is closed when more than limit bytes came.
	full chan struct{}

	mu   sync.Mutex
	buf  []byte
	over bool
}

func (c *capped) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := min(len(b), c.limit-len(c.buf))
	c.buf = append(c.buf, b[:keep]...)
	if keep < len(b) && !c.over {
		c.over = true
		if c.full != nil {
			close(c.full)
		}
	}
	return len(b), nil
}

// result returns what was kept, and whether more came.
func (c *capped) result() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf, c.over
}

// commandResult reads a command's output: JSON when it is, text otherwise.
func commandResult(out []byte) any {
	if v, err := events.DecodeValue(out); err == nil {
		return v
	}
	return strings.TrimRight(string(out), "\n")
}
