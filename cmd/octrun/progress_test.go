package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/octrun/octrun/events"
)

// Text from a model, a tool or a provider reaches the terminal without its
// escape sequences and control characters: no clearing the screen, no
// window title, no clipboard write (OSC 52), no overwriting with a
// carriage return; newlines and tabs stay, and the display's own styles
// still apply.
func TestProgressStripsTerminalEscapes(t *testing.T) {
	var out bytes.Buffer
	p := &progress{w: &out, styled: true, depth: map[string]int{}}
	for _, ev := range []events.Event{
		events.WorkerStart{WorkerID: "w", WorkerSlug: "title\x1b]0;pwned\x07"},
		events.TextDelta{ID: "t", Delta: "\x1b]52;c;ZXZpbA==\x07The \x1b[2Jtides\r\x1b[1A"},
		events.TextDelta{ID: "t", Delta: " turn\ttwice\x1b\\\x07\x00\u009b.\n"},
		events.ToolOutputError{ToolCallID: "c", Error: "boom \x1b[31mred\x1b[0m\x1bc"},
		events.Error{ErrorType: events.ErrorTypeProvider, Message: "upstream \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ failed"},
	} {
		_ = p.sink(ev)
	}
	got := out.String()
	assert.Equal(t, styleBold+"● title"+styleOff+"\nThe tides turn\ttwice.\n"+
		styleRed+"  ✗ boom red"+styleOff+"\n"+
		styleRed+"✗ provider_error: upstream link failed"+styleOff+"\n", got)
}
