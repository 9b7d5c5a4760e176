package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/mcp/mcptest"
)

// --mcp-config starts the consumer server a protocol declares as the docs
// do; a run that pauses records the file, and its continue reaches the
// server again through it.
func TestMCPConfigFlag(t *testing.T) {
	config := mcptest.Config(t, mcptest.Server(t))
	work := t.TempDir()
	t.Chdir(work)
	files := map[string]string{
		"calc/settings.json": `{"slug": "calc", "name": "Calc", "format": "worker"}`,
		"calc/protocol.yaml": `tools:
  ask:
    description: Asks the user
mcpServers:
  calc:
    description: A calculator
    source: consumer
variables:
  ANSWER: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    tools: [ask]
    mcpServers: [calc]
    maxSteps: 4
  Answer:
    block: next-message
    output: ANSWER
output: ANSWER
`,
		"calc/prompts/system.md": "You calculate.\n",
		"mock.yaml": `responses:
  - toolCalls: [{name: calc__add, arguments: {a: 2, b: 3}}]
  - toolCalls: [{name: ask, arguments: {}}]
  - toolCalls: [{name: calc__add, arguments: {a: 1, b: 1}}]
  - text: done
`,
	}
	for name, text := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
		require.NoError(t, os.WriteFile(name, []byte(text), 0o644))
	}

	code, out, errOut := octrunIn(t, "", "calc", "--mock", "mock.yaml", "--mcp-config", config)
	require.Equal(t, exitPaused, code, errOut)
	var p pending
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	require.Len(t, p.ToolCalls, 1)
	assert.Equal(t, "ask", p.ToolCalls[0].ToolName)

	results := `[{"toolCallId": "` + p.ToolCalls[0].ToolCallID + `", "result": "go on"}]`
	code, out, errOut = octrunIn(t, results, "continue", p.ExecutionID, "--results", "-")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "done\n", out)

	// Without the file, the server's tools are the caller's: none here, so
	// calc__add is not offered (the model reads an error) and the run goes
	// on to ask.
	code, out, errOut = octrunIn(t, "", "calc", "--mock", "mock.yaml")
	require.Equal(t, exitPaused, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	assert.Equal(t, "ask", p.ToolCalls[0].ToolName)

	code, _, errOut = octrunIn(t, "", "calc", "--mock", "mock.yaml", "--mcp-config", "missing.json")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--mcp-config: open missing.json")
}
