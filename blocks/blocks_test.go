package blocks

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
	"github.com/octrun/octrun/threads"
)

var at = diag.Pos{File: "p.yaml", Line: 1, Col: 1}

// PROTOCOL.md 9.3: settings read from variables at run time.
func TestSettingResolver(t *testing.T) {
	r := settingResolver{block: "Start", values: map[string]any{
		"MODEL": "openai/gpt-4o", "BAD_MODEL": "gpt-4o", "TEMP": "0.4", "HOT": 3.5, "OFF": "off",
		"STEPS": json.Number("4"), "HALF": 2.5, "LEVEL": "high", "NULL": nil,
	}}
	v := func(name string) protocol.Setting { return protocol.Setting{Var: name, Pos: at} }
	lit := func(x any) protocol.Setting { return protocol.Setting{Literal: x, Pos: at} }

	m, err := r.model("model", v("MODEL"))
	require.NoError(t, err)
	assert.Equal(t, "openai/gpt-4o", m)
	m, err = r.model("model", v("MISSING"))
	require.NoError(t, err, "a variable with no value leaves the setting unset")
	assert.Empty(t, m)
	_, err = r.model("model", v("BAD_MODEL"))
	assert.EqualError(t, err, `block "Start": model from BAD_MODEL must be provider/model-id, got "gpt-4o"`)

	temp, err := r.temperature(v("TEMP"))
	require.NoError(t, err)
	assert.Equal(t, 0.4, *temp, "a numeric string counts")
	temp, err = r.temperature(v("OFF"))
	require.NoError(t, err)
	assert.Nil(t, temp, `"off" sends no temperature`)
	temp, err = r.temperature(v("NULL"))
	require.NoError(t, err)
	assert.Nil(t, temp)
	_, err = r.temperature(v("HOT"))
	assert.EqualError(t, err, `block "Start": temperature from HOT must be a number from 0 to 2 or "off", got 3.5`)
	temp, err = r.temperature(lit(int64(1)))
	require.NoError(t, err)
	assert.Equal(t, 1.0, *temp)

	steps, err := r.positiveInt("maxSteps", v("STEPS"))
	require.NoError(t, err)
	assert.Equal(t, 4, steps)
	_, err = r.positiveInt("maxSteps", v("HALF"))
	assert.Error(t, err)

	level, err := r.word("thinking", v("LEVEL"), "low", "medium", "high", "max", "off")
	require.NoError(t, err)
	assert.Equal(t, "high", level)
	_, err = r.word("thinking", lit("extreme"), "low", "high")
	assert.Error(t, err)
}

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
