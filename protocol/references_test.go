package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// referenceAgent writes a worker whose thread lists the reference faq,
// written as given, and loads it.
func referenceAgent(t *testing.T, faq string) *protocol.Protocol {
	t.Helper()
	dir := writeAgent(t, t.TempDir())
	writeFiles(t, dir, map[string]string{
		"protocol.yaml":     "steps:\n  Start:\n    block: start-thread\n    thread: main\n    model: openai/gpt-4o-mini\n    system: system\n    references: [faq]\n",
		"references/faq.md": faq,
	})
	p, _ := protocol.Load(dir)
	return p
}

// The docs require only a description in a reference's front matter
// (rule §9.1.3): other keys, which markdown tools often write, are
// accepted and ignored.
func TestReferenceFrontMatterMayHoldOtherKeys(t *testing.T) {
	p := referenceAgent(t, "---\ntitle: FAQ\ndescription: Frequent questions\ntags: [support, billing]\nupdated: 2026-01-31\nowner: { team: support }\n---\nQ and A.\n")
	require.Empty(t, messages(p))
	require.Contains(t, p.References, "faq")
	assert.Equal(t, "Frequent questions", p.References["faq"].Description)
	assert.Equal(t, "Q and A.\n", p.References["faq"].Content)
}

// A misspelt description is still a missing description, and the error
// says which key was meant.
func TestReferenceFrontMatterMisspeltDescription(t *testing.T) {
	p := referenceAgent(t, "---\ntitle: FAQ\ndescripton: Frequent questions\n---\nQ and A.\n")
	assert.Contains(t, messages(p), `references/faq.md:3:1: error: the front matter needs a description: the model reads it to decide when to open the reference; "descripton" is not description (did you mean "description"?)`)
}
