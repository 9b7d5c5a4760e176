package runtime_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp"
	"github.com/octrun/octrun/mcp/mcptest"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// An MCP tool used inside the model's tool loop: the thread offers the
// server's tools as calc__<tool>; a call goes to the server process; a
// crashed server is a tool error the model reads, and the next call
// reaches a restarted server.
func TestMCPToolsInTheLoop(t *testing.T) {
	p, err := protocol.Load(mcptest.Agent(t, mcptest.Server(t)))
	require.NoError(t, err, "%v", p.Diagnostics)
	script, err := llm.ParseScript([]byte(`responses:
  - toolCalls:
      - name: calc__add
        arguments: {a: 2, b: 3}
  - toolCalls:
      - name: calc__crash
        arguments: {}
  - toolCalls:
      - name: calc__echo
        arguments: {text: still here}
  - text: 2 + 3 = 5
`))
	require.NoError(t, err)
	client := llm.NewScripted(script)
	var c events.Collector
	res, err := runtime.Run(context.Background(), p, nil, runtime.WithLLM(client), runtime.WithEventSink(c.Send))
	require.NoError(t, err)
	assert.Equal(t, "2 + 3 = 5", res.Output)

	reqs := client.Requests()
	require.Len(t, reqs, 4)
	var offered []string
	for _, tool := range reqs[0].Tools {
		offered = append(offered, tool.Name)
	}
	assert.Contains(t, offered, "calc__add")
	assert.Contains(t, offered, "calc__echo")
	results := func(i int) string {
		msgs := reqs[i].Messages
		return msgs[len(msgs)-1].Content
	}
	assert.JSONEq(t, `{"sum": 5}`, results(1))
	assert.Contains(t, results(2), `"error"`)
	assert.Contains(t, results(2), "calc", "the error names the server")
	assert.Equal(t, "still here", results(3))

	var outputs, failures int
	for _, ev := range c.Events() {
		switch ev.(type) {
		case events.ToolOutputAvailable:
			outputs++
		case events.ToolOutputError:
			failures++
		}
	}
	assert.Equal(t, 2, outputs)
	assert.Equal(t, 1, failures)
}

// A server that cannot start fails the block that needs its tools, with a
// tool_error naming it.
func TestMCPServerThatCannotStart(t *testing.T) {
	p, err := protocol.Load(mcptest.Agent(t, filepath.Join(t.TempDir(), "no-such-server")))
	require.NoError(t, err)
	client := llm.NewScripted(&llm.Script{Responses: []llm.ScriptResponse{{Text: "never"}}})
	_, err = runtime.Run(context.Background(), p, nil, runtime.WithLLM(client))
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, events.ErrorTypeTool, re.Type)
	assert.True(t, strings.Contains(re.Message, `MCP server "calc"`), re.Message)
	assert.Empty(t, client.Requests(), "the model is not called without its tools")
}

// A consumer server declared as the docs do (no connection) is started as
// the consumer's mcp.json says (WithMCPConfig); the configuration wins over
// a deprecated connection mapping, and a namespace no protocol declares is
// ignored.
func TestMCPConfig(t *testing.T) {
	server := mcptest.Server(t)
	configs, err := mcp.LoadConfig(mcptest.Config(t, server))
	require.NoError(t, err)
	for name, dir := range map[string]string{
		"documented":       mcptest.DocumentedAgent(t),
		"over the mapping": mcptest.Agent(t, filepath.Join(t.TempDir(), "no-such-server")),
	} {
		t.Run(name, func(t *testing.T) {
			p, err := protocol.Load(dir)
			require.NoError(t, err, "%v", p.Diagnostics)
			script, err := llm.ParseScript([]byte("responses:\n  - toolCalls: [{name: calc__add, arguments: {a: 2, b: 3}}]\n  - text: \"5\"\n"))
			require.NoError(t, err)
			client := llm.NewScripted(script)
			res, err := runtime.Run(t.Context(), p, nil, runtime.WithLLM(client), runtime.WithMCPConfig(configs))
			require.NoError(t, err)
			assert.Equal(t, "5", res.Output)
			reqs := client.Requests()
			require.Len(t, reqs, 2)
			msgs := reqs[1].Messages
			assert.JSONEq(t, `{"sum": 5}`, msgs[len(msgs)-1].Content)
		})
	}
}

// A consumer MCP server that no configuration connects is answered by
// the host's handlers named namespace__tool: the model is offered them
// (with an empty object schema) and a call runs the handler, no pause.
func TestHandlersAnswerAnUnconnectedMCPServer(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "settings.json", `{"slug": "browser-helper", "name": "Browser helper", "format": "worker"}`)
	writeFile(t, dir, "protocol.yaml", `mcpServers:
  browser:
    description: The user's browser
    source: consumer
variables:
  ANSWER: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    mcpServers: [browser]
    maxSteps: 2
  Answer:
    block: next-message
    output: ANSWER
output: ANSWER
`)
	writeFile(t, dir, "prompts/system.md", "You read pages.\n")
	p, err := protocol.Load(dir)
	require.NoError(t, err, "%v", p)
	model := llm.NewScripted(&llm.Script{Responses: []llm.ScriptResponse{
		{ToolCalls: []llm.ToolCall{{Name: "browser__title", Arguments: `{}`}}},
		{Text: "The page is Tides."},
	}})
	res, err := runtime.Run(context.Background(), p, nil, runtime.WithLLM(model),
		runtime.WithTool("browser__title", func(context.Context, map[string]any) (any, error) { return "Tides", nil }),
		runtime.WithTool("lookup", func(context.Context, map[string]any) (any, error) { return "not offered", nil }))
	require.NoError(t, err, "answered here: no pause")
	assert.Equal(t, "The page is Tides.", res.Output)
	reqs := model.Requests()
	require.Len(t, reqs, 2)
	require.Len(t, reqs[0].Tools, 1)
	assert.Equal(t, "browser__title", reqs[0].Tools[0].Name)
	assert.Equal(t, map[string]any{"type": "object", "properties": map[string]any{}}, reqs[0].Tools[0].Parameters)
	last := reqs[1].Messages
	assert.Equal(t, "Tides", last[len(last)-1].Content)

	// A command tool may answer it too.
	_, err = runtime.Backend{Mock: writeMock(t, t.TempDir()), Tools: []runtime.ToolCommand{{Name: "browser__title", Command: "echo Tides"}}}.Options(p, nil, 0)
	assert.NoError(t, err, "--tool browser__title=... names a tool of a declared consumer server")
	_, err = runtime.Backend{Mock: writeMock(t, t.TempDir()), Tools: []runtime.ToolCommand{{Name: "other__title", Command: "echo"}}}.Options(p, nil, 0)
	assert.Error(t, err, "other is no MCP server of the worker")
}
