package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// modelAgents writes a worker that sets models literally, by input and by
// variable, and declares a worker that declares another, each with its own
// models and tools.
func modelAgents(t *testing.T) *protocol.Protocol {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main/settings.json": `{"slug": "main", "name": "Main", "format": "worker"}`,
		"main/protocol.yaml": `input:
  MODEL: { type: string, default: anthropic/claude-sonnet-4 }
  BACKUP: { type: string, optional: true }
tools:
  search:
    description: Search
workers:
  helper:
    description: Helps
    path: ../helper
variables:
  PICKED: { type: string, default: x-ai/grok-4 }
  OUT: { type: string }
  PICTURE: { type: string }
steps:
  Draw:
    block: generate-image
    prompt: MODEL
    imageModel: openai/gpt-image-1
    output: PICTURE
  Start:
    block: start-thread
    thread: main
    model: MODEL
    backupModel: BACKUP
    system: system
    tools: [search]
  Other:
    block: start-thread
    thread: other
    model: PICKED
    backupModel: openai/gpt-4o-mini
    system: system
  Help:
    block: run-worker
    worker: helper
    output: OUT
output: OUT
`,
		"main/prompts/system.md": "You help.\n",
		"helper/settings.json":   `{"slug": "helper", "name": "Helper", "format": "worker"}`,
		"helper/protocol.yaml": `input:
  HELPER_MODEL: { type: string, default: google/gemini-2.5-flash }
  UNSET: { type: string, optional: true }
tools:
  approve:
    description: Approve
  search:
    description: Search too
workers:
  speaker:
    description: Speaks
    path: ../speaker
variables:
  DONE: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: HELPER_MODEL
    backupModel: UNSET
    system: system
  Speak:
    block: run-worker
    worker: speaker
    output: DONE
output: DONE
`,
		"helper/prompts/system.md": "You help too.\n",
		"speaker/settings.json":    `{"slug": "speaker", "name": "Speaker", "format": "worker"}`,
		"speaker/protocol.yaml": `input:
  TEXT: { type: string, default: hello }
tools:
  ask-user:
    description: Ask
variables:
  AUDIO: { type: string }
steps:
  Speak:
    block: generate-speech
    text: TEXT
    speechModel: openai/gpt-4o-mini-tts
    voice: alloy
    output: AUDIO
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
output: AUDIO
`,
		"speaker/prompts/system.md": "You speak.\n",
	})
	p, err := protocol.Load(dir + "/main")
	require.NoError(t, err)
	return p
}

// Models lists every model a run may call, nested workers included, each
// once; models set by an input come from the values (or, for nested
// workers, the input defaults); models set by a variable are left out.
func TestModels(t *testing.T) {
	p := modelAgents(t)
	values, err := p.ResolveInput(map[string]any{"BACKUP": "openrouter/some-model"})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"openai/gpt-image-1",
		"anthropic/claude-sonnet-4",
		"openrouter/some-model",
		"openai/gpt-4o-mini",
		"google/gemini-2.5-flash",
		"openai/gpt-4o-mini-tts",
	}, p.Models(values))

	values, err = p.ResolveInput(map[string]any{"MODEL": "ollama/llama3"})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"openai/gpt-image-1",
		"ollama/llama3",
		"openai/gpt-4o-mini",
		"google/gemini-2.5-flash",
		"openai/gpt-4o-mini-tts",
	}, p.Models(values), "an omitted optional input sets no model")

	assert.NotContains(t, p.Models(nil), "anthropic/claude-sonnet-4", "without values an input's model is unknown")
}

// ToolNames lists the tools of the worker and of the workers it declares,
// sorted, each once.
func TestToolNames(t *testing.T) {
	p := modelAgents(t)
	assert.Equal(t, []string{"approve", "ask-user", "search"}, p.ToolNames())
	q, err := protocol.Load(writeAgent(t, t.TempDir()))
	require.NoError(t, err)
	assert.Empty(t, q.ToolNames())
}
