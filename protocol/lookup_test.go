package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

func TestLookups(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/research-assistant")
	require.NoError(t, err)
	for _, def := range p.Tools {
		assert.Same(t, def, p.Tool(def.Name.Value))
	}
	assert.Equal(t, "fetch-page", p.Tool("fetch-page").Name.Value)
	assert.Nil(t, p.Tool("fetch"))
	assert.Nil(t, p.Worker("nobody"))
	assert.Nil(t, p.MCPServer("nothing"))

	q, err := protocol.LoadFS(mapFS(agents), "main")
	require.NoError(t, err)
	assert.Equal(t, "nested/booker", q.Worker("booker").Protocol.Dir)

	mcp, err := protocol.Load("../testdata/deprecated/mcp-connection")
	require.NoError(t, err)
	require.NotEmpty(t, mcp.MCPServers)
	for _, s := range mcp.MCPServers {
		assert.Same(t, s, mcp.MCPServer(s.Name.Value))
	}

	// A Protocol made by hand builds its lookups on first use.
	tool := &protocol.ToolDef{Name: protocol.Str{Value: "t"}}
	worker := &protocol.WorkerDecl{Slug: protocol.Str{Value: "w"}}
	server := &protocol.MCPServerDef{Name: protocol.Str{Value: "m"}}
	byHand := &protocol.Protocol{Tools: []*protocol.ToolDef{tool}, Workers: []*protocol.WorkerDecl{worker}, MCPServers: []*protocol.MCPServerDef{server}}
	assert.Same(t, tool, byHand.Tool("t"))
	assert.Same(t, worker, byHand.Worker("w"))
	assert.Same(t, server, byHand.MCPServer("m"))
}
