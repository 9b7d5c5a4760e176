package protocol

import "github.com/octrun/octrun/internal/display"

// Display defaults live here, all of them: a block's comes from its kind
// (kinds.go), a tool's, an MCP server's and a declared worker's below.

// DisplayMode is how the tool's calls show: its display, description by
// default (rule §6.4).
func (t *ToolDef) DisplayMode() string { return t.Display.Or(display.Description) }

// DisplayMode is how the calls of the server's tools show: its display,
// description by default (rule §6.4).
func (s *MCPServerDef) DisplayMode() string { return s.Display.Or(display.Description) }

// DisplayMode is how the declared worker's runs show when the model calls
// it as a tool: its display, stream by default (rule §8.3).
func (w *WorkerDecl) DisplayMode() string { return w.Display.Or(display.Stream) }

// DisplayMode returns the block's display mode after defaults: its own,
// else what its kind takes it from (a run-worker: its declaration's),
// else its kind's default (rule §3.1).
func (s *Step) DisplayMode(p *Protocol) string {
	b := s.Block.Base()
	if b.Display.IsSet() {
		return b.Display.Value
	}
	def := kindOf(s.Block)
	if def.displayFrom != nil {
		if d := def.displayFrom(p, s.Block); d.IsSet() {
			return d.Value
		}
	}
	return def.display
}
