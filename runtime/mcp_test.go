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
