package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two `octrun continue` processes of one paused run at once: one runs it
// to its end, the other is refused without running anything, and the tool
// after the pause runs once.
func TestTwoContinueProcessesRunOnce(t *testing.T) {
	bin := octrunBinary(t)
	work := t.TempDir()
	copyAgent(t, "trip-planner", work)
	code, out := runBinary(t, bin, work, "", "trip-planner", "--mock", "trip-planner/mock.yaml",
		"--tool", `approve=echo approved >> approvals.log; sleep 1; echo '{"approved": true}'`)
	require.Equal(t, exitPaused, code)
	var p pending
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	results := `[{"toolCallId": "` + p.ToolCalls[0].ToolCallID + `", "result": "Brest, tomorrow morning"}]`

	type proc struct {
		cmd         *exec.Cmd
		out, errOut bytes.Buffer
	}
	procs := make([]*proc, 2)
	for i := range procs {
		pr := &proc{cmd: exec.Command(bin, "continue", p.ExecutionID, "--results", "-")}
		pr.cmd.Dir, pr.cmd.Stdin = work, strings.NewReader(results)
		pr.cmd.Stdout, pr.cmd.Stderr = &pr.out, &pr.errOut
		procs[i] = pr
	}
	for _, pr := range procs {
		require.NoError(t, pr.cmd.Start())
	}
	var codes []int
	var refusal string
	for _, pr := range procs {
		err := pr.cmd.Wait()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		t.Logf("exit %d\n%s", code, pr.errOut.String())
		codes = append(codes, code)
		if code != exitOK {
			refusal = pr.errOut.String()
		}
	}
	slices.Sort(codes)
	assert.Equal(t, []int{exitOK, exitUsage}, codes, "one finishes the run, the other is refused")
	assert.Contains(t, refusal, "execution "+p.ExecutionID+" is already being continued")

	log, err := os.ReadFile(filepath.Join(work, "approvals.log"))
	require.NoError(t, err)
	assert.Equal(t, "approved\n", string(log), "the tool after the pause ran once")
	entries, err := os.ReadDir(filepath.Join(work, ".octrun"))
	require.NoError(t, err)
	assert.Empty(t, entries, "the finished run leaves nothing behind, no claim either")
}
