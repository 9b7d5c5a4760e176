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
	// Configs are the consumer's servers (mcp.json, see LoadConfig), by
	// namespace: a protocol's consumer server takes its connection from
	// here, before its deprecated connection mapping. A namespace no
	// protocol declares is ignored. Set it before first use.
	Configs map[string]Config

	mu       sync.Mutex
	managers map[*protocol.Protocol]*Manager
}

func (s *Servers) manager(p *protocol.Protocol) (*Manager, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.managers[p]; ok {
		return m, nil
	}
	m, err := New(s.configs(p))
	if err != nil {
		return nil, err
	}
	if s.managers == nil {
		s.managers = map[*protocol.Protocol]*Manager{}
	}
	s.managers[p] = m
	return m, nil
}

// configs returns the Config of each consumer server of p that has one:
// from Configs, else from its connection mapping.
func (s *Servers) configs(p *protocol.Protocol) []Config {
	var out []Config
	byMapping := map[string]Config{}
	for _, c := range Configs(p.MCPServers) {
		byMapping[c.Namespace] = c
	}
	for _, d := range p.MCPServers {
		name := d.Name.Value
		if c, ok := s.Configs[name]; ok && d.Source.Value == "consumer" {
			c.Namespace = name
			out = append(out, c)
		} else if c, ok := byMapping[name]; ok {
			out = append(out, c)
		}
	}
	return out
}

// Connected reports whether octrun reaches the MCP server namespace of p
// itself: a consumer server in Configs or with a connection mapping. The
// tools of any other consumer server are the caller's.
func (s *Servers) Connected(p *protocol.Protocol, namespace string) bool {
	d := p.MCPServer(namespace)
	if d == nil {
		return false
	}
	_, ok := s.Configs[namespace]
	return d.Connection != nil || (ok && d.Source.Value == "consumer")
}

// Tools lists the tools of the MCP server namespace of p as a model sees
// them, named namespace__tool. A server that is not Connected is
// the caller's (rule §2.4): its tools are those of caller in its namespace,
// and calling them pauses the run for the caller.
func (s *Servers) Tools(ctx context.Context, p *protocol.Protocol, namespace string, caller []llm.Tool) ([]llm.Tool, error) {
	if p.MCPServer(namespace) != nil && !s.Connected(p, namespace) {
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
// server p declares that octrun reaches (Connected), or nil when name is no such tool.
func (s *Servers) Handler(p *protocol.Protocol, name string) func(context.Context, map[string]any) (any, error) {
	namespace, _, ok := strings.Cut(name, "__")
	if !ok || !s.Connected(p, namespace) {
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
