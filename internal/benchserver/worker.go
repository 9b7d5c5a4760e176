package benchserver

import (
	"os"
	"path/filepath"
	"testing"
)

// StreamWorker returns the files of a worker whose one next-message
// streams the model's answer (model openai/gpt-4o-mini, system prompt
// "You answer.\n") into its output. With tool not "", the thread offers a
// client tool of that name taking a string term, so a call of it pauses
// the run.
func StreamWorker(tool string) map[string]string {
	tools, offer := "", ""
	if tool != "" {
		tools = "tools:\n  " + tool + ":\n    description: Look something up\n    parameters:\n      term: { type: string }\n"
		offer = "    tools: [" + tool + "]\n"
	}
	protocol := tools + `variables:
  TEXT: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
` + offer + `  Answer:
    block: next-message
    output: TEXT
output: TEXT
`
	return map[string]string{
		"settings.json":     `{"slug": "bench", "name": "Bench", "format": "worker"}`,
		"prompts/system.md": "You answer.\n",
		"protocol.yaml":     protocol,
	}
}

// WriteWorker writes a worker's files, by slash-separated path, into a
// temporary folder of tb and returns the folder.
func WriteWorker(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
