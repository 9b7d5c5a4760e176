package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// The three spellings of an input mapping (rule §3.10) bind the same
// labels, and rendering follows rule D3 for an absent optional input.
func TestBindingsInAllThreeSpellings(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/protocol-examples")
	require.NoError(t, err)
	notes := p.Prompts["notes"]
	require.NotNil(t, notes)

	withNotes := map[string]any{"TOPIC": "tides", "RAW_NOTES": "The moon pulls."}
	withoutNotes := map[string]any{"TOPIC": "tides"}
	spellings := map[string]bool{}
	for _, s := range p.Steps {
		m, ok := s.Block.(*protocol.AddMessage)
		if !ok {
			continue
		}
		spellings[s.Name.Value] = true
		assert.Equal(t, "Notes on tides:\n\nThe moon pulls.\n", notes.Render(protocol.Bindings(m.Input, withNotes)), s.Name.Value)
		assert.Equal(t, "There are no notes on tides yet.\n", notes.Render(protocol.Bindings(m.Input, withoutNotes)), s.Name.Value)
	}
	assert.Equal(t, map[string]bool{"List spelling": true, "Map spelling": true, "Flow spelling": true}, spellings)
}

func TestBindingsOfAbsentValueRenderNONE(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/title-generator")
	require.NoError(t, err)
	var add *protocol.AddMessage
	for _, s := range p.Steps {
		if m, ok := s.Block.(*protocol.AddMessage); ok {
			add = m
		}
	}
	require.NotNil(t, add)
	got := p.Prompts["title-request"].Render(protocol.Bindings(add.Input, map[string]any{}))
	assert.Equal(t, "Write a title for this text:\n\nNONE\n", got)
}
