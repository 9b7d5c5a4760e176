package protocol

import "github.com/octrun/octrun/internal/display"

// DisplayMode is how the tool's calls show: its display, description by
// default (rule §6.4).
func (t *ToolDef) DisplayMode() string { return t.Display.Or(display.Description) }

// DisplayMode is how the calls of the server's tools show: its display,
// description by default (rule §6.4).
func (s *MCPServerDef) DisplayMode() string { return s.Display.Or(display.Description) }

// DisplayMode is how the declared worker's runs show when the model calls
// it as a tool: its display, stream by default (rule §8.3).
func (w *WorkerDecl) DisplayMode() string { return w.Display.Or(display.Stream) }
