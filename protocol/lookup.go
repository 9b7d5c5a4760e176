package protocol

import (
	"maps"
	"slices"
)

// lookups are the protocol's tools, workers and MCP servers by name. They
// are built once, when the protocol loads (or on first use for a Protocol
// made by hand); Tools, Workers and MCPServers must not change after.
type lookups struct {
	tools   map[string]*ToolDef
	workers map[string]*WorkerDecl
	mcp     map[string]*MCPServerDef
	// The names of each, sorted (for did-you-mean suggestions).
	toolNames, workerSlugs, mcpNames []string
}

func (p *Protocol) lookup() *lookups {
	p.lookupOnce.Do(func() {
		l := &lookups{
			tools:   make(map[string]*ToolDef, len(p.Tools)),
			workers: make(map[string]*WorkerDecl, len(p.Workers)),
			mcp:     make(map[string]*MCPServerDef, len(p.MCPServers)),
		}
		// The first declaration of a name wins (the decoder keeps one).
		for _, t := range p.Tools {
			if _, dup := l.tools[t.Name.Value]; !dup {
				l.tools[t.Name.Value] = t
			}
		}
		for _, w := range p.Workers {
			if _, dup := l.workers[w.Slug.Value]; !dup {
				l.workers[w.Slug.Value] = w
			}
		}
		for _, s := range p.MCPServers {
			if _, dup := l.mcp[s.Name.Value]; !dup {
				l.mcp[s.Name.Value] = s
			}
		}
		l.toolNames = slices.Sorted(maps.Keys(l.tools))
		l.workerSlugs = slices.Sorted(maps.Keys(l.workers))
		l.mcpNames = slices.Sorted(maps.Keys(l.mcp))
		p.lookups = l
	})
	return p.lookups
}

// Tool returns the tool the protocol declares as name, or nil.
func (p *Protocol) Tool(name string) *ToolDef { return p.lookup().tools[name] }

// Worker returns the declaration of the worker slug, or nil.
func (p *Protocol) Worker(slug string) *WorkerDecl { return p.lookup().workers[slug] }

// MCPServer returns the MCP server the protocol declares with namespace
// name, or nil.
func (p *Protocol) MCPServer(name string) *MCPServerDef { return p.lookup().mcp[name] }
