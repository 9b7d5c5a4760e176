package runtime_test

import (
	"context"
	"encoding/json"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// Every model request holds the whole thread as it is then, however the
// thread grew: messages added between next-messages, a serialize-thread,
// and a pause whose continuation rebuilds the thread by replaying the
// journal (the model's view of a thread is kept between next-messages and
// must never go stale; a tool result the journal serves reads as it did
// live, though the journal escapes its < and >).
func TestRequestsFollowTheThread(t *testing.T) {
	p := loadAgent(t, `tools:
  lookup:
    description: Look a term up
    parameters:
      term: { type: string }
  ask-user:
    description: Ask the user
    parameters:
      question: { type: string }
variables:
  TRANSCRIPT: { type: string }
  ANSWER: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    tools: [lookup, ask-user]
  Ask:
    block: add-message
    role: user
    prompt: ask
  Look up:
    block: next-message
  Ask the user:
    block: next-message
  Transcript:
    block: serialize-thread
    output: TRANSCRIPT
  Again:
    block: add-message
    role: user
    prompt: again
  Answer:
    block: next-message
    output: ANSWER
output: ANSWER
`, map[string]string{"system": "You answer.\n", "ask": "Tide?\n", "again": "So?\n"})
	script := &llm.Script{Responses: []llm.ScriptResponse{
		{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "lookup", Arguments: `{"term":"tide"}`}}},
		{Text: "Where?", ToolCalls: []llm.ToolCall{{ID: "c2", Name: "ask-user", Arguments: `{"question":"Where?"}`}}},
		{Text: "4.2 m in Brest."},
	}}
	lookup := runtime.WithTool("lookup", func(context.Context, map[string]any) (any, error) {
		return map[string]any{"height": "<4.2 m>"}, nil
	})
	store := runtime.NewMemoryStore()
	_, err := runtime.Run(context.Background(), p, nil, runtime.WithLLM(llm.NewScripted(script)), lookup, runtime.WithStore(store))
	var pe *runtime.PauseError
	require.ErrorAs(t, err, &pe)

	client := llm.NewScriptedFrom(script, 2)
	res, err := runtime.Continue(context.Background(), pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: "c2", Result: json.RawMessage(`"Brest"`)}},
		runtime.WithLLM(client), lookup, runtime.WithStore(store), runtime.WithProtocol(p))
	require.NoError(t, err)
	assert.Equal(t, "4.2 m in Brest.", res.Output)
	reqs := client.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, []llm.Message{
		{Role: llm.RoleSystem, Content: "You answer."},
		{Role: llm.RoleUser, Content: "Tide?"},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "lookup", Arguments: `{"term":"tide"}`}}},
		{Role: llm.RoleTool, ToolCallID: "c1", Content: `{"height":"<4.2 m>"}`},
		{Role: llm.RoleAssistant, Content: "Where?", ToolCalls: []llm.ToolCall{{ID: "c2", Name: "ask-user", Arguments: `{"question":"Where?"}`}}},
		{Role: llm.RoleTool, ToolCallID: "c2", Content: "Brest"},
		{Role: llm.RoleUser, Content: "So?"},
	}, reqs[0].Messages)
}

// loadAgent loads a worker of the given protocol.yaml and prompts (by name,
// without .md) from memory.
func loadAgent(tb testing.TB, yaml string, prompts map[string]string) *protocol.Protocol {
	tb.Helper()
	fsys := fstest.MapFS{
		"agent/settings.json": {Data: []byte(`{"slug": "history", "name": "History", "format": "worker"}`)},
		"agent/protocol.yaml": {Data: []byte(yaml)},
	}
	for name, text := range prompts {
		fsys["agent/prompts/"+name+".md"] = &fstest.MapFile{Data: []byte(text)}
	}
	p, err := protocol.LoadFS(fsys, "agent")
	require.NoError(tb, err)
	return p
}
