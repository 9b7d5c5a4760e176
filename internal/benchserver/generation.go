package benchserver

import (
	"fmt"
	"strings"
)

// Generation is the one model answer the streaming benchmarks read:
// reasoning streamed a character a delta, text, and optionally one tool
// call whose arguments stream in 8-byte fragments (the fake server's).
type Generation struct {
	Reasoning, Text string
	// TextDeltas is the number of deltas of the text.
	TextDeltas int
	// ToolName is "" for an answer without a tool call.
	ToolName, Arguments string
}

// NewGeneration returns an answer of deltas deltas in all: a tenth of
// them reasoning, a tenth tool call arguments fragments when tool is not
// "" (a call of tool with arguments {"term": "xx..."}), the rest text,
// "word " a delta.
func NewGeneration(deltas int, tool string) Generation {
	g := Generation{Reasoning: strings.Repeat("r", deltas/10), TextDeltas: deltas - deltas/10}
	if tool != "" {
		g.ToolName = tool
		fragments := deltas / 10
		g.TextDeltas -= fragments
		const frame = len(`{"term":""}`)
		g.Arguments = `{"term":"` + strings.Repeat("x", 8*fragments-frame) + `"}`
	}
	g.Text = strings.Repeat("word ", g.TextDeltas)
	return g
}

// Deltas is the number of text, reasoning and arguments deltas.
func (g Generation) Deltas() int {
	return len(g.Reasoning) + g.TextDeltas + (len(g.Arguments)+7)/8
}

// Script returns the script of the fake server, answering g to every call.
func (g Generation) Script() any {
	resp := map[string]any{"reasoning": g.Reasoning, "text": g.Text}
	if g.ToolName != "" {
		resp["toolCalls"] = []any{map[string]any{"name": g.ToolName, "arguments": g.Arguments}}
	}
	return map[string]any{"responses": []any{resp}}
}

// Options returns the options of the fake server that stream g.
func (g Generation) Options() Options { return Options{Deltas: g.TextDeltas} }

// Check returns an error unless text, reasoning and the tool call (its
// name and arguments; "" for none) are g's.
func (g Generation) Check(text, reasoning, toolName, arguments string) error {
	switch {
	case text != g.Text:
		return fmt.Errorf("got %d bytes of text, want %d", len(text), len(g.Text))
	case reasoning != g.Reasoning:
		return fmt.Errorf("got %d bytes of reasoning, want %d", len(reasoning), len(g.Reasoning))
	case toolName != g.ToolName || arguments != g.Arguments:
		return fmt.Errorf("got tool call %q with %d bytes of arguments, want %q with %d", toolName, len(arguments), g.ToolName, len(g.Arguments))
	}
	return nil
}
