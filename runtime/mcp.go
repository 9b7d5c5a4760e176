package runtime

import (
	"context"
	"strings"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp"
	"github.com/octrun/octrun/protocol"
)

// mcpServers connects the MCP servers of a run: one manager per protocol
// (a nested worker has its own servers; nothing is inherited, rule
// §8.3), created on first use and closed when the run ends.
type mcpServers struct {
	managers map[*protocol.Protocol]*mcp.Manager
}

func (s *mcpServers) manager(p *protocol.Protocol) (*mcp.Manager, error) {
	if m, ok := s.managers[p]; ok {
		return m, nil
	}
	m, err := mcp.New(mcp.Configs(p.MCPServers))
	if err != nil {
		return nil, err
	}
	if s.managers == nil {
		s.managers = map[*protocol.Protocol]*mcp.Manager{}
	}
	s.managers[p] = m
	return m, nil
}

// close stops every server the run started.
func (s *mcpServers) close() {
	for _, m := range s.managers {
		_ = m.Close()
	}
}

// tools lists the tools of an MCP server namespace of p, named
// namespace__tool.
func (s *mcpServers) tools(ctx context.Context, p *protocol.Protocol, namespace string) ([]llm.Tool, error) {
	m, err := s.manager(p)
	if err != nil {
		return nil, err
	}
	tools, err := m.Tools(ctx, namespace)
	if err != nil {
		return nil, err
	}
	out := make([]llm.Tool, len(tools))
	for i, t := range tools {
		out[i] = llm.Tool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema}
	}
	return out, nil
}

// mcpHandler returns the handler of an MCP tool of the running protocol
// (namespace__tool of a declared server), or nil.
func (f *effects) mcpHandler(name string) ToolHandler {
	namespace, _, ok := strings.Cut(name, "__")
	if !ok || !servesMCP(f.protocol, namespace) {
		return nil
	}
	return func(ctx context.Context, args map[string]any) (any, error) {
		m, err := f.host.servers.manager(f.protocol)
		if err != nil {
			return nil, err
		}
		return m.Call(ctx, name, args)
	}
}

// servesMCP reports whether p declares an MCP server namespace that octrun
// connects to itself.
func servesMCP(p *protocol.Protocol, namespace string) bool {
	s := p.MCPServer(namespace)
	return s != nil && s.Connection != nil
}
