package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// pausingAgent writes a worker whose model calls the client tool ask-user.
func pausingAgent(t *testing.T) string {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"settings.json": `{"slug": "asker", "name": "Asker", "format": "worker"}`,
		"protocol.yaml": `tools:
  ask-user:
    description: Ask the user
    parameters:
      question: { type: string }
variables:
  ANSWER: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    tools: [ask-user]
    maxSteps: 2
  Answer:
    block: next-message
    output: ANSWER
output: ANSWER
`,
		"prompts/system.md": "You ask before you answer.\n",
	} {
		writeFile(t, dir, name, text)
	}
	return dir
}

var askScript = &llm.Script{Responses: []llm.ScriptResponse{
	{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "ask-user", Arguments: `{"question":"Which city?"}`}}},
	{Text: "Brest it is."},
}}

func pause(t *testing.T, dir string, store runtime.Store, client llm.Client) *runtime.PauseError {
	t.Helper()
	p, err := protocol.Load(dir)
	require.NoError(t, err)
	_, err = runtime.Run(context.Background(), p, nil, runtime.WithLLM(client), runtime.WithStore(store))
	var pe *runtime.PauseError
	require.ErrorAs(t, err, &pe)
	return pe
}

// A paused run is stored as plain JSON in a folder; a new process (here a
// new client and no protocol given) continues it from the folder alone.
func TestContinueFromDirStore(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.DirStore{Dir: filepath.Join(t.TempDir(), ".octrun")}
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	require.Len(t, pe.Calls, 1)
	assert.Equal(t, "ask-user", pe.Calls[0].ToolName)
	assert.JSONEq(t, `{"question":"Which city?"}`, string(pe.Calls[0].Args))

	data, err := os.ReadFile(filepath.Join(store.Dir, pe.ExecutionID+".json"))
	require.NoError(t, err)
	var snap map[string]any
	require.NoError(t, json.Unmarshal(data, &snap), "the snapshot is JSON")

	// The replay serves the first generation from the journal; the live
	// client only answers the second call.
	rest := &llm.Script{Responses: askScript.Responses[1:]}
	client := llm.NewScripted(rest)
	res, err := runtime.Continue(context.Background(), pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}},
		runtime.WithLLM(client), runtime.WithStore(store))
	require.NoError(t, err)
	assert.Equal(t, "Brest it is.", res.Output)
	reqs := client.Requests()
	require.Len(t, reqs, 1)
	last := reqs[0].Messages[len(reqs[0].Messages)-1]
	assert.Equal(t, llm.Message{Role: llm.RoleTool, ToolCallID: "c1", Content: "Brest"}, last)

	_, err = os.Stat(filepath.Join(store.Dir, pe.ExecutionID+".json"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "a finished run's snapshot is deleted")
}

func TestContinueRefusesBadResults(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.NewMemoryStore()
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	ctx := context.Background()
	for _, tc := range []struct {
		results []events.ToolResult
		want    string
	}{
		{nil, "no result for the pending tool call c1"},
		{[]events.ToolResult{{ToolCallID: "c1"}, {ToolCallID: "c1"}}, "two results for tool call c1"},
		{[]events.ToolResult{{ToolCallID: "c1"}, {ToolCallID: "zz"}}, "tool call zz is not waiting for a result"},
		// An unknown id is named, with the calls the run waits for.
		{[]events.ToolResult{{ToolCallID: "zz"}}, "tool call zz is not waiting for a result; no result for the pending tool call c1 (ask-user) (the run waits for c1 (ask-user))"},
	} {
		_, err := runtime.Continue(ctx, pe.ExecutionID, tc.results, runtime.WithStore(store), runtime.WithLLM(llm.NewScripted(askScript)))
		var re *runtime.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, events.ErrorTypeValidation, re.Type)
		assert.True(t, re.Refused, "nothing ran")
		assert.Contains(t, re.Message, tc.want)
	}
	_, err := runtime.Continue(ctx, "exec_unknown", nil, runtime.WithStore(store))
	assert.ErrorIs(t, err, runtime.ErrNotFound)
	_, err = runtime.Continue(ctx, "../../etc/passwd", nil, runtime.WithStore(runtime.DirStore{Dir: t.TempDir()}))
	assert.ErrorContains(t, err, "is not an execution id")
}

// A snapshot taken under one version of the protocol does not continue
// under another.
func TestContinueRefusesChangedProtocol(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.NewMemoryStore()
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prompts", "system.md"), []byte("You never ask.\n"), 0o644))
	_, err := runtime.Continue(context.Background(), pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}}, runtime.WithStore(store))
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Message, "paused under another version of the protocol")
	assert.True(t, re.Refused, "nothing ran")
}

// A client tool's error result goes back to the model like any tool error.
func TestContinueWithErrorResult(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.NewMemoryStore()
	client := llm.NewScripted(askScript)
	pe := pause(t, dir, store, client)
	res, err := runtime.Continue(context.Background(), pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: "c1", Error: "the user left"}}, runtime.WithStore(store), runtime.WithLLM(client))
	require.NoError(t, err)
	assert.Equal(t, "Brest it is.", res.Output)
	reqs := client.Requests()
	last := reqs[len(reqs)-1].Messages
	assert.Equal(t, `{"error":"the user left"}`, last[len(last)-1].Content)
}
