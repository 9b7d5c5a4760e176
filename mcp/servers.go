package mcp

import (
	"context"
	"strings"
	"sync"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
)

// Servers connects the MCP servers of the protocols a host runs: one
// Manager per protocol (a nested worker has its own servers; nothing is
// inherited, rule §8.3), created on first use. It is safe for concurrent
// use; Close stops every server it started.
type Servers struct {
	mu       sync.Mutex
	managers map[*protocol.Protocol]*Manager
}

func (s *Servers) manager(p *protocol.Protocol) (*Manager, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.managers[p]; ok {
		return m, nil
	}
	m, err := New(Configs(p.MCPServers))
	if err != nil {
		return nil, err
	}
	if s.managers == nil {
		s.managers = map[*protocol.Protocol]*Manager{}
	}
	s.managers[p] = m
	return m, nil
}

// Tools lists the tools of the MCP server namespace of p as a model sees
// them, named namespace__tool. A server declared without a connection is
// the caller's (rule §2.4): its tools are those of caller in its namespace,
// and calling them pauses the run for the caller.
func (s *Servers) Tools(ctx context.Context, p *protocol.Protocol, namespace string, caller []llm.Tool) ([]llm.Tool, error) {
	if server := p.MCPServer(namespace); server != nil && server.Connection == nil {
		var out []llm.Tool
		for _, t := range caller {
			if strings.HasPrefix(t.Name, namespace+"__") {
				out = append(out, t)
			}
		}
		return out, nil
	}
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

// Handler returns what calls the MCP tool name (namespace__tool) of a
// server p declares with a connection, or nil when name is no such tool.
func (s *Servers) Handler(p *protocol.Protocol, name string) func(context.Context, map[string]any) (any, error) {
	namespace, _, ok := strings.Cut(name, "__")
	if server := p.MCPServer(namespace); !ok || server == nil || server.Connection == nil {
		return nil
	}
	return func(ctx context.Context, args map[string]any) (any, error) {
		m, err := s.manager(p)
		if err != nil {
			return nil, err
		}
		return m.Call(ctx, name, args)
	}
}

// Close stops every server started.
func (s *Servers) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.managers {
		_ = m.Close()
	}
}
