package protocol_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
)

// The connection mapping of a consumer MCP server (octrun extension) is
// decoded with every value and its position, in document order.
func TestMCPConnectionDecoded(t *testing.T) {
	p, err := protocol.Load("../testdata/deprecated/mcp-connection")
	require.NoError(t, err, messages(p))
	require.Len(t, p.MCPServers, 2)
	file := p.File

	files := p.MCPServers[0]
	assert.Equal(t, "files", files.Name.Value)
	assert.False(t, files.ConnectionMode.IsSet())
	c := files.Connection
	require.NotNil(t, c)
	assert.Equal(t, diag.Pos{File: file, Line: 20, Col: 7}, c.Pos)
	assert.Equal(t, protocol.Str{Value: "npx", Pos: diag.Pos{File: file, Line: 20, Col: 16}}, c.Command)
	assert.Equal(t, []protocol.Str{
		{Value: "-y", Pos: diag.Pos{File: file, Line: 21, Col: 14}},
		{Value: "@modelcontextprotocol/server-filesystem", Pos: diag.Pos{File: file, Line: 21, Col: 18}},
		{Value: "${PROJECT_DIR}", Pos: diag.Pos{File: file, Line: 21, Col: 61}},
	}, c.Args)
	assert.Equal(t, []protocol.NamedValue{{
		Name:  protocol.Str{Value: "NODE_ENV", Pos: diag.Pos{File: file, Line: 22, Col: 14}},
		Value: protocol.Str{Value: "production", Pos: diag.Pos{File: file, Line: 22, Col: 24}},
	}}, c.Env)
	assert.Equal(t, protocol.Duration{Value: 30 * time.Second, Pos: diag.Pos{File: file, Line: 23, Col: 16}}, c.Timeout)
	assert.False(t, c.URL.IsSet())
	assert.Empty(t, c.Headers)

	search := p.MCPServers[1].Connection
	require.NotNil(t, search)
	assert.Equal(t, "http://127.0.0.1:8931/mcp", search.URL.Value)
	require.Len(t, search.Headers, 1)
	assert.Equal(t, "Authorization", search.Headers[0].Name.Value)
	assert.Equal(t, "Bearer ${SEARCH_TOKEN}", search.Headers[0].Value.Value)
	assert.False(t, search.Timeout.IsSet(), "the mcp package's default applies")
	assert.False(t, search.Command.IsSet())
}

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"HOME": "/home/ann", "EMPTY": "", "A_1": "x"}
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	for _, tc := range []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "${HOME}/notes", want: "/home/ann/notes"},
		{in: "a${A_1}b${A_1}", want: "axbx"},
		{in: "[${EMPTY}]", want: "[]"},
		{in: "$$HOME and $$${HOME}", want: "$HOME and $/home/ann"},
		{in: "$HOME costs $5 $", want: "$HOME costs $5 $"},
		{in: "${MISSING}", err: "${MISSING} is not set in the environment"},
		{in: "x${HOME", err: `"x${HOME" has ${ without a closing }: write ${NAME} to use an environment variable, or $$ for a literal $`},
		{in: "${9LIVES}", err: "${9LIVES} is not a valid reference: the NAME in ${NAME} is letters, digits and _, not starting with a digit"},
		{in: "${}", err: "${} is not a valid reference: the NAME in ${NAME} is letters, digits and _, not starting with a digit"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := protocol.ExpandEnv(tc.in, lookup)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// A connection mapping in protocol.yaml still works, with a warning that
// shows the mcp.json entry to write instead.
func TestMCPConnectionDeprecated(t *testing.T) {
	p, err := protocol.Load("../testdata/deprecated/mcp-connection")
	require.NoError(t, err, messages(p))
	var warnings []string
	for _, d := range p.Diagnostics {
		warnings = append(warnings, d.Pos.String()+": "+d.Message)
	}
	assert.Equal(t, []string{
		p.File + `:20:7: MCP server "files": a connection mapping in protocol.yaml is deprecated and will be refused in a later release (the documented declaration has none); move it to the consumer's mcp.json, given with --mcp-config FILE (Go: runtime.WithMCPConfig), which wins over it: {"mcpServers": {"files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "${PROJECT_DIR}"], "env": {"NODE_ENV": "production"}, "timeout": "30s"}}}`,
		p.File + `:28:7: MCP server "search": a connection mapping in protocol.yaml is deprecated and will be refused in a later release (the documented declaration has none); move it to the consumer's mcp.json, given with --mcp-config FILE (Go: runtime.WithMCPConfig), which wins over it: {"mcpServers": {"search": {"url": "http://127.0.0.1:8931/mcp", "headers": {"Authorization": "Bearer ${SEARCH_TOKEN}"}}}}`,
	}, warnings)
}
