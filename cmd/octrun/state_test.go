package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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

// stateFiles lists the names in the state folder.
func stateFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// A continue that is interrupted, or fails on an error that passes,
// keeps the paused run as it was: the snapshot alone is left in the state
// folder (no claim, no other file), and the run continues again with the
// same results, to its end.
func TestContinueInterruptedOrFailedKeepsThePausedRun(t *testing.T) {
	work := t.TempDir()
	copyAgent(t, "trip-planner", work)
	t.Chdir(work)
	// approve waits until it is interrupted, then fails while the approval
	// service is down, then approves.
	approve := `if [ -f up ]; then echo '{"approved": true}'; elif [ -f interrupted ]; then echo "approval service unavailable" >&2; exit 1; else touch started; sleep 30; fi`
	code, out, errOut := octrunIn(t, "", "trip-planner", "--mock", "trip-planner/mock.yaml", "--tool", "approve="+approve)
	require.Equal(t, exitPaused, code, errOut)
	var p pending
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	results := `[{"toolCallId": "` + p.ToolCalls[0].ToolCallID + `", "result": "Brest, tomorrow morning"}]`
	snapshot := []string{p.ExecutionID + ".json"}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat("started"); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var stdout, stderr bytes.Buffer
	code = run(ctx, []string{"continue", p.ExecutionID, "--results", "-"}, stdio{in: strings.NewReader(results), out: &stdout, err: &stderr})
	require.Equal(t, exitInterrupted, code, stderr.String())
	assert.Equal(t, snapshot, stateFiles(t, ".octrun"), "an interrupted continue keeps the paused run")

	require.NoError(t, os.WriteFile("interrupted", nil, 0o644))
	code, _, errOut = octrunIn(t, results, "continue", p.ExecutionID, "--results", "-")
	require.Equal(t, exitFailed, code, errOut)
	assert.Contains(t, errOut, "approval service unavailable")
	assert.Equal(t, snapshot, stateFiles(t, ".octrun"), "a failed continue keeps the paused run")

	require.NoError(t, os.WriteFile("up", nil, 0o644))
	code, out, errOut = octrunIn(t, results, "continue", p.ExecutionID, "--results", "-")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "Approved: the 9:02 train to Brest.\n", out)
	assert.Empty(t, stateFiles(t, ".octrun"), "a finished run leaves nothing behind")
}

// A continue process that is killed leaves the paused run and no claim:
// the next continue runs it.
func TestKilledContinueLeavesTheRunToContinue(t *testing.T) {
	bin := octrunBinary(t)
	work := t.TempDir()
	copyAgent(t, "trip-planner", work)
	approve := `if [ -f up ]; then echo '{"approved": true}'; else touch started; sleep 5; fi`
	code, out := runBinary(t, bin, work, "", "trip-planner", "--mock", "trip-planner/mock.yaml", "--tool", "approve="+approve)
	require.Equal(t, exitPaused, code)
	var p pending
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	results := `[{"toolCallId": "` + p.ToolCalls[0].ToolCallID + `", "result": "Brest, tomorrow morning"}]`

	cont := exec.Command(bin, "continue", p.ExecutionID, "--results", "-")
	cont.Dir, cont.Stdin = work, strings.NewReader(results)
	require.NoError(t, cont.Start())
	for {
		if _, err := os.Stat(filepath.Join(work, "started")); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cont.Process.Kill())
	_ = cont.Wait()

	require.NoError(t, os.WriteFile(filepath.Join(work, "up"), nil, 0o644))
	code, out = runBinary(t, bin, work, results, "continue", p.ExecutionID, "--results", "-")
	require.Equal(t, exitOK, code, "the killed process left no claim")
	assert.Equal(t, "Approved: the 9:02 train to Brest.\n", out)
}

// A run that may pause is refused before anything runs when its state
// folder cannot be written: no tool ran for a pause that could not be
// kept.
func TestUnwritableStateDirIsFoundFirst(t *testing.T) {
	work := t.TempDir()
	copyAgent(t, "trip-planner", work)
	t.Chdir(work)
	require.NoError(t, os.WriteFile("file", nil, 0o644))
	code, _, errOut := octrunIn(t, "", "trip-planner", "--mock", "trip-planner/mock.yaml", "--state-dir", "file/state",
		"--tool", `lookup=touch looked; echo '{"trains": ["9:02"]}'`)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "octrun: the run may pause for client tools (ask-user, approve) and its snapshot cannot be saved")
	assert.NoFileExists(t, "looked", "no tool ran")
}
