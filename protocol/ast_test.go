package protocol_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// Steps keep their YAML order; display modes and threads resolve to their
// defaults (rules §3.1, D2; run-worker takes its declaration's mode).
func TestStepsOrderDisplayAndThreads(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/support-worker")
	require.NoError(t, err)
	type row struct{ name, kind, display, thread string }
	var got []row
	for _, s := range p.Steps {
		got = append(got, row{s.Name.Value, s.Block.Kind(), s.DisplayMode(p), s.Block.Base().ThreadName})
	}
	assert.Equal(t, []row{
		{"Start triage", "start-thread", "hidden", "triage"},
		{"Show ticket to triage", "add-message", "hidden", "triage"},
		{"Triage ticket", "next-message", "description", "triage"},
		{"Title ticket", "run-worker", "name", ""},
		{"File ticket", "tool-call", "description", ""},
		{"Log triage", "serialize-thread", "name", "triage"},
		{"Start reply", "start-thread", "hidden", "reply"},
		{"Brief the writer", "add-message", "hidden", "reply"},
		{"Draft reply", "next-message", "stream", "reply"},
	}, got)

	// The tool-call's arguments tell references from literals (rule D1).
	call := p.Steps[4].Block.(*protocol.ToolCall)
	require.Len(t, call.Input, 3)
	assert.Equal(t, "TITLE", call.Input[0].Ref)
	assert.Equal(t, "TRIAGE", call.Input[1].Ref)
	assert.Empty(t, call.Input[2].Ref)
	assert.Equal(t, "support-tier-1", call.Input[2].Literal)

	// The declared worker is loaded with its own protocol.
	require.Len(t, p.Workers, 1)
	require.NotNil(t, p.Workers[0].Protocol)
	assert.Equal(t, "title-generator", p.Workers[0].Protocol.Settings.Slug.Value)
}

// start-thread's thread defaults to the block name (rule D2).
func TestStartThreadDefaultsToBlockName(t *testing.T) {
	dir := writeAgent(t, t.TempDir())
	writeFiles(t, dir, map[string]string{"protocol.yaml": "steps:\n  Research:\n    block: start-thread\n    model: openai/gpt-4o\n    system: system\n  Go:\n    block: next-message\n    thread: Research\n"})
	p, err := protocol.Load(dir)
	require.NoError(t, err, messages(p))
	assert.Equal(t, "Research", p.Steps[0].Block.Base().ThreadName)
}

// The fingerprint is the same wherever the folder is loaded from and
// changes with any file of the agent.
func TestFingerprint(t *testing.T) {
	a, err := protocol.Load("../testdata/valid/title-generator")
	require.NoError(t, err)
	t.Chdir("../testdata/valid")
	b, err := protocol.Load("title-generator/protocol.yaml")
	require.NoError(t, err)
	assert.Equal(t, a.Fingerprint(), b.Fingerprint())

	dir := writeAgent(t, t.TempDir())
	before, err := protocol.Load(dir)
	require.NoError(t, err)
	writeFiles(t, dir, map[string]string{"prompts/system.md": "You help, briefly.\n"})
	after, err := protocol.Load(dir)
	require.NoError(t, err)
	assert.NotEqual(t, before.Fingerprint(), after.Fingerprint())
}

// A nested worker's fingerprint covers its own files only, so it is the
// same as when its folder is loaded alone (a worker process that serves
// only that slug checks it); the caller's covers the nested folder too.
func TestFingerprintOfNestedWorker(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(root, "support-triage"), os.DirFS("../examples/support-triage")))
	require.NoError(t, os.CopyFS(filepath.Join(root, "ticket-summarizer"), os.DirFS("../examples/ticket-summarizer")))
	caller, err := protocol.Load(filepath.Join(root, "support-triage"))
	require.NoError(t, err)
	alone, err := protocol.Load(filepath.Join(root, "ticket-summarizer"))
	require.NoError(t, err)
	assert.Equal(t, alone.Fingerprint(), caller.Worker("ticket-summarizer").Protocol.Fingerprint())
	assert.NotEqual(t, alone.Fingerprint(), caller.Fingerprint())

	writeFiles(t, filepath.Join(root, "ticket-summarizer"), map[string]string{"prompts/summarizer.md": "Summarize, briefly.\n"})
	changed, err := protocol.Load(filepath.Join(root, "support-triage"))
	require.NoError(t, err)
	assert.NotEqual(t, caller.Fingerprint(), changed.Fingerprint(), "a nested worker's file is part of its caller's fingerprint")
}
