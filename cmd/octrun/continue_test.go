package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// octrunIn runs the command in-process and returns its exit code and
// standard streams.
func octrunIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, stdio{in: strings.NewReader(stdin), out: &out, err: &errOut})
	return code, out.String(), errOut.String()
}

// copyAgent copies examples/NAME into dir and returns its path.
func copyAgent(t *testing.T, name, dir string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", name)
	dst := filepath.Join(dir, name)
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

type pending struct {
	ExecutionID string `json:"executionId"`
	ToolCalls   []struct {
		ToolCallID string `json:"toolCallId"`
		ToolName   string `json:"toolName"`
		Source     string `json:"source"`
	} `json:"toolCalls"`
}

// A worker pauses twice for client tools and finishes after two continues:
// exit 3 with the pending calls on stdout each time, then the output.
func TestPauseAndContinueTwice(t *testing.T) {
	work := t.TempDir()
	copyAgent(t, "trip-planner", work)
	t.Chdir(work)

	code, out, errOut := octrunIn(t, "", "trip-planner", "--mock", "trip-planner/mock.yaml")
	require.Equal(t, exitPaused, code, errOut)
	var first pending
	require.NoError(t, json.Unmarshal([]byte(out), &first), out)
	require.Len(t, first.ToolCalls, 1)
	assert.Equal(t, "ask-user", first.ToolCalls[0].ToolName)
	assert.Equal(t, "llm", first.ToolCalls[0].Source)
	assert.Contains(t, errOut, "octrun continue "+first.ExecutionID+" --results FILE")
	assert.FileExists(t, filepath.Join(".octrun", first.ExecutionID+".json"))
	assert.NoFileExists(t, filepath.Join(".octrun", first.ExecutionID+".backend.json"), "the backend is in the snapshot")

	// The results come on standard input this time; the run pauses again
	// in the tool-call block.
	results := `[{"toolCallId": "` + first.ToolCalls[0].ToolCallID + `", "result": "Brest, tomorrow morning"}]`
	code, out, errOut = octrunIn(t, results, "continue", first.ExecutionID, "--results", "-")
	require.Equal(t, exitPaused, code, errOut)
	assert.Contains(t, errOut, "Take the 9:02 train to Brest.", "the continued leg streams the rest of the answer")
	var second pending
	require.NoError(t, json.Unmarshal([]byte(out), &second), out)
	assert.Equal(t, first.ExecutionID, second.ExecutionID)
	require.Len(t, second.ToolCalls, 1)
	assert.Equal(t, "approve", second.ToolCalls[0].ToolName)
	assert.Equal(t, "block", second.ToolCalls[0].Source)

	require.NoError(t, os.WriteFile("results.json", []byte(`[{"toolCallId": "`+second.ToolCalls[0].ToolCallID+`", "result": {"approved": true}}]`), 0o644))
	code, out, errOut = octrunIn(t, "", "continue", first.ExecutionID, "--results", "results.json")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "Approved: the 9:02 train to Brest.\n", out)
	assert.NoFileExists(t, filepath.Join(".octrun", first.ExecutionID+".json"), "a finished run leaves no state behind")

	code, _, errOut = octrunIn(t, "", "continue", first.ExecutionID, "--results", "results.json")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "no paused run with this execution id")
}

// A paused run does not continue once its protocol changed, nor with
// results that do not answer its calls.
func TestContinueRefusals(t *testing.T) {
	work := t.TempDir()
	agent := copyAgent(t, "trip-planner", work)
	t.Chdir(work)
	code, out, _ := octrunIn(t, "", "trip-planner", "--mock", "trip-planner/mock.yaml", "--state-dir", "state")
	require.Equal(t, exitPaused, code)
	var p pending
	require.NoError(t, json.Unmarshal([]byte(out), &p))

	code, _, errOut := octrunIn(t, `[{"toolCallId": "nope", "result": 1}]`, "continue", p.ExecutionID, "--results", "-", "--state-dir", "state")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "no result for the pending tool call "+p.ToolCalls[0].ToolCallID)

	code, _, errOut = octrunIn(t, `[{"callId": "x"}]`, "continue", p.ExecutionID, "--results", "-", "--state-dir", "state")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown field "callId"`)

	// Results of the wrong shape are told in JSON terms, not Go types.
	code, _, errOut = octrunIn(t, `{"toolCallId": "x"}`, "continue", p.ExecutionID, "--results", "-", "--state-dir", "state")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `- must hold a JSON array of {"toolCallId", "result" or "error"}: expected an array, got an object`)
	code, _, errOut = octrunIn(t, `[{"toolCallId": 5}]`, "continue", p.ExecutionID, "--results", "-", "--state-dir", "state")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `field "toolCallId": expected a string, got a number`)
	assert.NotContains(t, errOut, "Go ")
	code, _, errOut = octrunIn(t, `[{"toolCallId": "`+p.ToolCalls[0].ToolCallID+`", "result": "Brest"}]]`, "continue", p.ExecutionID, "--results", "-", "--state-dir", "state")
	assert.Equal(t, exitUsage, code, "a stray ] after the results")
	assert.Contains(t, errOut, "unexpected text after the JSON value")

	// A snapshot that records no backend (a Go program's run) does not
	// continue here.
	snapFile := filepath.Join("state", p.ExecutionID+".json")
	data, err := os.ReadFile(snapFile)
	require.NoError(t, err)
	var snap map[string]any
	require.NoError(t, json.Unmarshal(data, &snap))
	delete(snap, "backend")
	stripped, err := json.Marshal(snap)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(snapFile, stripped, 0o600))
	code, _, errOut = octrunIn(t, "[]", "continue", p.ExecutionID, "--results", "-", "--state-dir", "state")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "paused run "+p.ExecutionID+" records no backend")
	require.NoError(t, os.WriteFile(snapFile, data, 0o600))

	require.NoError(t, os.WriteFile(filepath.Join(agent, "prompts", "system.md"), []byte("You plan trips by boat.\n"), 0o644))
	ok := `[{"toolCallId": "` + p.ToolCalls[0].ToolCallID + `", "result": "Brest"}]`
	code, _, errOut = octrunIn(t, ok, "continue", p.ExecutionID, "--results", "-", "--state-dir", "state")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "paused under another version of the protocol")
}

// The backend a run started with is in its snapshot: a continue from
// another folder uses the same mock (by its absolute path) and the same
// tool commands.
func TestContinueUsesRecordedBackend(t *testing.T) {
	work := t.TempDir()
	copyAgent(t, "trip-planner", work)
	t.Chdir(work)
	state := filepath.Join(work, "state")
	code, out, errOut := octrunIn(t, "", "trip-planner", "--mock", "trip-planner/mock.yaml", "--state-dir", state,
		"--tool", `approve=echo '{"approved": true}'`, "--tool-timeout", "5s")
	require.Equal(t, exitPaused, code, errOut)
	var p pending
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	require.Len(t, p.ToolCalls, 1)
	assert.Equal(t, "ask-user", p.ToolCalls[0].ToolName)

	data, err := os.ReadFile(filepath.Join(state, p.ExecutionID+".json"))
	require.NoError(t, err)
	var snap struct {
		Backend map[string]any `json:"backend"`
	}
	require.NoError(t, json.Unmarshal(data, &snap))
	assert.Equal(t, map[string]any{
		"mock":        filepath.Join(work, "trip-planner", "mock.yaml"),
		"tools":       []any{map[string]any{"name": "approve", "command": `echo '{"approved": true}'`}},
		"toolTimeout": "5s",
	}, snap.Backend)

	t.Chdir(t.TempDir())
	results := `[{"toolCallId": "` + p.ToolCalls[0].ToolCallID + `", "result": "Brest, tomorrow morning"}]`
	code, out, errOut = octrunIn(t, results, "continue", p.ExecutionID, "--results", "-", "--state-dir", state)
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "Approved: the 9:02 train to Brest.\n", out)
}

// --tool runs a command for a tool: the arguments on stdin, the result on
// stdout; a failing command is a tool error.
func TestToolCommands(t *testing.T) {
	work := t.TempDir()
	copyAgent(t, "trip-planner", work)
	t.Chdir(work)
	code, out, errOut := octrunIn(t, "", "trip-planner", "--mock", "trip-planner/mock.yaml",
		"--tool", `ask-user=echo '"Brest"'`, "--tool", `approve=cat >&2; echo '{"approved": true}'`)
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "Approved: the 9:02 train to Brest.\n", out)

	code, _, errOut = octrunIn(t, "", "trip-planner", "--mock", "trip-planner/mock.yaml",
		"--tool", `ask-user=echo '"Brest"'`, "--tool", `approve=echo "manager away" >&2; exit 1`)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "tool_error")
	assert.Contains(t, errOut, "manager away")

	code, _, errOut = octrunIn(t, "", "trip-planner", "--mock", "trip-planner/mock.yaml", "--tool", "aprove=true")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `the worker has no tool aprove (did you mean "approve"?)`)

	code, _, errOut = octrunIn(t, "", "trip-planner", "--mock", "trip-planner/mock.yaml", "--tool", "approve")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `octrun: --tool "approve": write NAME=COMMAND`)
}
