package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runBinary runs the built command in dir and returns its exit code and
// standard output.
func runBinary(t *testing.T, bin, dir, stdin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	t.Logf("octrun %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
	return code, out.String()
}

// eventLines splits JSONL events and writes the execution id as EXEC.
func eventLines(t *testing.T, jsonl string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(jsonl), "\n")
	var start struct {
		ExecutionID string `json:"executionId"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &start), lines[0])
	require.NotEmpty(t, start.ExecutionID)
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, start.ExecutionID, "EXEC")
	}
	return lines
}

// A run paused twice and continued by new processes from the snapshot on
// disk streams exactly what the same run streams uninterrupted, when the
// client tools answer in place: each continued leg opens with start and
// goes on where the paused leg stopped. The one difference is by design:
// in a model step that calls a server tool and a client tool, the server
// tool runs (and shows its result) before the run pauses for the client
// tool.
func TestContinueInAnotherProcessMatchesTheUninterruptedRun(t *testing.T) {
	bin := octrunBinary(t)
	work := t.TempDir()
	copyAgent(t, "trip-planner", work)
	run := []string{"trip-planner", "--mock", "trip-planner/mock.yaml", "--events", "jsonl"}

	tools := []string{"--tool", `ask-user=echo '"Brest, tomorrow morning"'`, "--tool", `approve=echo '{"approved": true}'`}
	code, out := runBinary(t, bin, work, "", append(run, tools...)...)
	require.Equal(t, exitOK, code)
	whole := eventLines(t, out)

	code, out = runBinary(t, bin, work, "", run...)
	require.Equal(t, exitPaused, code)
	leg1 := eventLines(t, out)
	var pause struct {
		ExecutionID string `json:"executionId"`
		ToolCalls   []struct {
			ToolCallID string `json:"toolCallId"`
		} `json:"toolCalls"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.Split(strings.TrimSpace(out), "\n")[len(leg1)-2]), &pause))
	require.Len(t, pause.ToolCalls, 1)
	entries, err := os.ReadDir(work + "/.octrun")
	require.NoError(t, err)
	require.Len(t, entries, 1, "the snapshot is on disk")

	results := `[{"toolCallId": "` + pause.ToolCalls[0].ToolCallID + `", "result": "Brest, tomorrow morning"}]`
	code, out = runBinary(t, bin, work, results, "continue", pause.ExecutionID, "--results", "-", "--events", "jsonl")
	require.Equal(t, exitPaused, code)
	leg2 := eventLines(t, out)
	require.NoError(t, json.Unmarshal([]byte(strings.Split(strings.TrimSpace(out), "\n")[len(leg2)-2]), &pause))

	results = `[{"toolCallId": "` + pause.ToolCalls[0].ToolCallID + `", "result": {"approved": true}}]`
	code, out = runBinary(t, bin, work, results, "continue", pause.ExecutionID, "--results", "-", "--events", "jsonl")
	require.Equal(t, exitOK, code)
	leg3 := eventLines(t, out)

	for _, leg := range [][]string{leg2, leg3} {
		assert.Equal(t, `{"type":"start","executionId":"EXEC"}`, leg[0], "a continued leg opens with start")
	}
	for _, leg := range [][]string{leg1, leg2} {
		assert.Contains(t, leg[len(leg)-2], `"type":"client-tool-request"`)
		assert.Equal(t, `{"type":"finish","finishReason":"client-tool-calls","executionId":"EXEC"}`, leg[len(leg)-1])
	}

	// The second pause is in a tool-call block: after it, the continued
	// leg is exactly the uninterrupted run.
	approve := -1
	for i, l := range whole {
		if strings.Contains(l, `"blockName":"Approve"`) {
			approve = i
		}
	}
	require.Positive(t, approve)
	assert.Equal(t, whole[approve+1:], leg3[1:])
	assert.Equal(t, whole[approve], leg2[len(leg2)-3], "the second leg stops at the tool-call block's start")

	// Across both pauses, the legs add up to the uninterrupted run with the
	// client tool's result after the server tool's.
	joined := append(append(append([]string{}, leg1[:len(leg1)-2]...), leg2[1:len(leg2)-2]...), leg3[1:]...)
	require.Len(t, joined, len(whole))
	askOut, lookupOut := -1, -1
	for i, l := range whole {
		switch {
		case strings.Contains(l, `"type":"tool-output-available"`) && strings.Contains(l, "Brest, tomorrow morning"):
			askOut = i
		case strings.Contains(l, `"type":"tool-output-available"`) && strings.Contains(l, "11:30"):
			lookupOut = i
		}
	}
	require.Equal(t, askOut+1, lookupOut, "uninterrupted, the results show in the model's order")
	expected := append([]string{}, whole...)
	expected[askOut], expected[lookupOut] = expected[lookupOut], expected[askOut]
	assert.Equal(t, expected, joined)
}
