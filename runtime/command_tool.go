package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/proc"
)

// CommandTool returns a handler that runs command with sh -c for each call:
// the arguments go to its standard input as a JSON object, and its
// standard output is the result (a JSON value, or else the text itself). A
// non-zero exit is a tool error whose message holds the command's standard
// error. A call that takes longer than timeout is killed, with every
// process the command started, and fails. On Windows, which has no process
// groups, only the shell is killed: what it started may survive it (see
// package internal/proc), and sh must be on the PATH.
func CommandTool(command string, timeout time.Duration) ToolHandler {
	return func(ctx context.Context, args map[string]any) (any, error) {
		input, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		if key := effect.ToolCallKey(ctx); key != "" {
			cmd.Env = append(os.Environ(), "OCTRUN_TOOL_CALL_ID="+key)
		}
		cmd.Stdin = bytes.NewReader(input)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		proc.SetGroup(cmd)
		cmd.Cancel = func() error { return proc.Kill(cmd.Process) }
		cmd.WaitDelay = time.Second
		err = cmd.Run()
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, fmt.Errorf("the command timed out after %s", timeout)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = "no message on standard error"
			}
			return nil, fmt.Errorf("the command failed (%v): %s", err, msg)
		}
		return commandResult(stdout.Bytes()), nil
	}
}

// commandResult reads a command's output: JSON when it is, text otherwise.
func commandResult(out []byte) any {
	if v, err := events.DecodeValue(out); err == nil {
		return v
	}
	return strings.TrimRight(string(out), "\n")
}
