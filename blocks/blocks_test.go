package blocks

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/threads"
)

func TestStrictable(t *testing.T) {
	object := func(required []any, props map[string]any) map[string]any {
		return map[string]any{"type": "object", "properties": props, "required": required}
	}
	str := map[string]any{"type": "string"}
	assert.True(t, strictable(object([]any{"a"}, map[string]any{"a": str})))
	assert.False(t, strictable(object([]any{}, map[string]any{"a": str})), "an optional property")
	nested := object([]any{"inner"}, map[string]any{"inner": object(nil, map[string]any{"b": str})})
	assert.False(t, strictable(nested), "an optional property deep inside")
	assert.True(t, strictable(map[string]any{"type": "object", "properties": map[string]any{"a": str}, "required": []string{"a"}}))
}

func TestCallArgs(t *testing.T) {
	args, err := callArgs(`{"n": 12345678901234567890, "s": "x"}`)
	require.NoError(t, err)
	assert.Equal(t, json.Number("12345678901234567890"), args["n"], "numbers stay exact")
	args, err = callArgs("  ")
	require.NoError(t, err)
	assert.Empty(t, args)
	_, err = callArgs(`{"a": `)
	assert.ErrorContains(t, err, "the arguments are not valid JSON")
	_, err = callArgs(`[1, 2]`)
	assert.EqualError(t, err, "the arguments must be a JSON object, got [1,2]")

}

// An assistant turn of several steps becomes, per step, an assistant
// message with its tool calls followed by their results.
func TestToLLM(t *testing.T) {
	th := &threads.Thread{System: "You help.", Messages: []threads.Message{
		{Role: threads.RoleUser, Parts: []threads.Part{{Type: threads.PartText, Text: "Tide?"}}},
		{Role: threads.RoleAssistant, Parts: []threads.Part{
			{Type: threads.PartStepStart},
			{Type: threads.PartReasoning, Text: "hmm"},
			{Type: threads.PartText, Text: "Checking."},
			{Type: threads.PartToolCall, ToolCall: &threads.ToolCall{ID: "c1", Name: "tide", Arguments: json.RawMessage(`{"at":"Brest"}`), Result: json.RawMessage(`"4 m"`), Status: threads.ToolAvailable}},
			{Type: threads.PartToolCall, ToolCall: &threads.ToolCall{ID: "c2", Name: "wind", Arguments: json.RawMessage(`{}`), Error: "down", Status: threads.ToolError}},
			{Type: threads.PartStepStart},
			{Type: threads.PartText, Text: "4 m."},
		}},
	}}
	assert.Equal(t, []llm.Message{
		{Role: llm.RoleSystem, Content: "You help."},
		{Role: llm.RoleUser, Content: "Tide?"},
		{Role: llm.RoleAssistant, Content: "Checking.", ToolCalls: []llm.ToolCall{{ID: "c1", Name: "tide", Arguments: `{"at":"Brest"}`}, {ID: "c2", Name: "wind", Arguments: `{}`}}},
		{Role: llm.RoleTool, ToolCallID: "c1", Content: "4 m"},
		{Role: llm.RoleTool, ToolCallID: "c2", Content: `{"error":"down"}`},
		{Role: llm.RoleAssistant, Content: "4 m."},
	}, toLLM(th, 0))
}

func TestStateIDsAreDeterministic(t *testing.T) {
	a, b := NewState("x", nil), NewState("x", nil)
	for range 3 {
		assert.Equal(t, a.NewID("block"), b.NewID("block"))
	}
	assert.Equal(t, "x-text4", a.NewID("text"))
}
