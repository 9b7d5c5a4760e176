package runtime_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// Some OpenAI-compatible servers give two tool calls of one step the same
// id: the run gives the second a new one, so the paused run waits for two
// calls it can tell apart, and continues with their results.
func TestDuplicateToolCallIDsAreMadeDistinct(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.NewMemoryStore()
	script := &llm.Script{Responses: []llm.ScriptResponse{
		{ToolCalls: []llm.ToolCall{
			{ID: "c1", Name: "ask-user", Arguments: `{"question":"Which city?"}`},
			{ID: "c1", Name: "ask-user", Arguments: `{"question":"Which day?"}`},
		}},
		{Text: "Brest on Monday."},
	}}
	// The same, sent over HTTP the way such a server sends it.
	server := fakeopenai.New(script)
	defer server.Close()
	overHTTP := pause(t, dir, runtime.NewMemoryStore(), llm.NewRouter(func(string) string { return "" }, llm.WithBaseURL(server.URL(), "k")))
	pe := pause(t, dir, store, llm.NewScripted(script))
	for _, pe := range []*runtime.PauseError{overHTTP, pe} {
		require.Len(t, pe.Calls, 2)
		assert.Equal(t, "c1", pe.Calls[0].ToolCallID, "the first call keeps its id")
		assert.NotEqual(t, pe.Calls[0].ToolCallID, pe.Calls[1].ToolCallID)
		assert.JSONEq(t, `{"question":"Which day?"}`, string(pe.Calls[1].Args))
	}

	client := llm.NewScripted(&llm.Script{Responses: script.Responses[1:]})
	res, err := runtime.Continue(context.Background(), pe.ExecutionID, []events.ToolResult{
		{ToolCallID: pe.Calls[0].ToolCallID, Result: json.RawMessage(`"Brest"`)},
		{ToolCallID: pe.Calls[1].ToolCallID, Result: json.RawMessage(`"Monday"`)},
	}, runtime.WithStore(store), runtime.WithLLM(client))
	require.NoError(t, err)
	assert.Equal(t, "Brest on Monday.", res.Output)
	msgs := client.Requests()[0].Messages
	n := len(msgs)
	require.GreaterOrEqual(t, n, 3)
	assert.Equal(t, []string{pe.Calls[0].ToolCallID, pe.Calls[1].ToolCallID},
		[]string{msgs[n-3].ToolCalls[0].ID, msgs[n-3].ToolCalls[1].ID}, "the model sees the calls with their new ids")
	assert.Equal(t, llm.Message{Role: llm.RoleTool, ToolCallID: pe.Calls[0].ToolCallID, Content: "Brest"}, msgs[n-2])
	assert.Equal(t, llm.Message{Role: llm.RoleTool, ToolCallID: pe.Calls[1].ToolCallID, Content: "Monday"}, msgs[n-1])
}

// notingAgent writes a worker whose model calls the server tool note and
// the client tool ask-user in one step.
func notingAgent(t *testing.T) (*protocol.Protocol, *llm.Script) {
	dir := pausingAgent(t)
	data, err := os.ReadFile(filepath.Join(dir, "protocol.yaml"))
	require.NoError(t, err)
	yaml := strings.NewReplacer("variables:\n", "  note:\n    description: Take a note\nvariables:\n",
		"tools: [ask-user]", "tools: [note, ask-user]").Replace(string(data))
	writeFile(t, dir, "protocol.yaml", yaml)
	p, err := protocol.Load(dir)
	require.NoError(t, err)
	return p, &llm.Script{Responses: []llm.ScriptResponse{
		{ToolCalls: []llm.ToolCall{{ID: "n1", Name: "note", Arguments: `{}`}, {ID: "c1", Name: "ask-user", Arguments: `{"question":"Which city?"}`}}},
		{Text: "Brest it is."},
	}}
}

// A run that pauses but cannot save its snapshot fails, and its stream
// ends as a failed run's does (rule D6): the open block ends, then
// worker-result with the error, error, finish and usage.
func TestPauseWhoseSnapshotCannotBeSavedEndsTheStream(t *testing.T) {
	p, script := notingAgent(t)
	state := filepath.Join(t.TempDir(), "state")
	var got events.Collector
	_, err := runtime.Run(context.Background(), p, nil, runtime.WithLLM(llm.NewScripted(script)),
		runtime.WithStore(runtime.DirStore{Dir: state}), runtime.WithEventSink(got.Send),
		runtime.WithTool("note", func(context.Context, map[string]any) (any, error) {
			// The state folder becomes a file while the run is under way.
			return "noted", os.WriteFile(state, nil, 0o644)
		}))
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, events.ErrorTypeExecution, re.Type)
	assert.Contains(t, re.Message, "the run paused but its snapshot could not be saved")

	evs := got.Events()
	var types []string
	for _, ev := range evs[len(evs)-6:] {
		types = append(types, ev.EventType())
	}
	assert.Equal(t, []string{"tool-output-available", "block-end", "worker-result", "error", "finish", "usage"}, types)
	result, _ := evs[len(evs)-4].(events.WorkerResult)
	assert.Contains(t, result.Error, "the run paused but its snapshot could not be saved")
	finish, _ := evs[len(evs)-2].(events.Finish)
	assert.Equal(t, events.FinishError, finish.FinishReason)
}

// A run that may pause is refused before anything runs when its state
// folder cannot be written; a run that cannot pause does not need it.
func TestUnwritableStateFolderIsFoundFirst(t *testing.T) {
	p, script := notingAgent(t)
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	store := runtime.DirStore{Dir: filepath.Join(file, "state")}
	noted := 0
	note := runtime.WithTool("note", func(context.Context, map[string]any) (any, error) { noted++; return "noted", nil })
	var got events.Collector
	_, err := runtime.Run(context.Background(), p, nil, runtime.WithLLM(llm.NewScripted(script)),
		runtime.WithStore(store), note, runtime.WithEventSink(got.Send))
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, events.ErrorTypeValidation, re.Type)
	assert.Contains(t, re.Message, "the run may pause for client tools (ask-user) and its snapshot cannot be saved")
	assert.Contains(t, re.Message, store.Dir)
	assert.Zero(t, noted, "no tool ran")
	assert.Empty(t, got.Events(), "nothing ran")

	res, err := runtime.Run(context.Background(), p, nil, runtime.WithLLM(llm.NewScripted(script)), runtime.WithStore(store), note,
		runtime.WithTool("ask-user", func(context.Context, map[string]any) (any, error) { return "Brest", nil }))
	require.NoError(t, err, "with every tool answered here the run cannot pause")
	assert.Equal(t, "Brest it is.", res.Output)
}
