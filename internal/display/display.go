// Package display holds the display modes of the protocol's `display`
// field, shared by the protocol (which validates them) and the events
// (which carry and apply them), so that the list exists once.
package display

// The display modes (rules §3.1, §6.4 and §8.3).
const (
	Hidden      = "hidden"
	Name        = "name"
	Description = "description"
	Title       = "title"
	Stream      = "stream"
)

// Modes lists every display mode, from the least shown to the most.
var Modes = []string{Hidden, Name, Description, Title, Stream}
