package benchserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Worker returns the files of a worker of rounds next-message blocks on
// one thread (model openai/gpt-4o-mini, system prompt "You answer.\n"),
// each writing its answer to the output. With tool not "", the thread
// offers a tool of that name taking a string term, and each block may call
// it and then answer (maxSteps 2); a tool without a handler is a client
// tool, whose call pauses the run.
func Worker(tool string, rounds int) map[string]string {
	var protocol strings.Builder
	if tool != "" {
		protocol.WriteString("tools:\n  " + tool + ":\n    description: Look something up\n    parameters:\n      term: { type: string }\n")
	}
	protocol.WriteString(`variables:
  TEXT: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
`)
	if tool != "" {
		protocol.WriteString("    tools: [" + tool + "]\n    maxSteps: 2\n")
	}
	for i := range rounds {
		fmt.Fprintf(&protocol, "  Answer %d:\n    block: next-message\n    output: TEXT\n", i+1)
	}
	protocol.WriteString("output: TEXT\n")
	return map[string]string{
		"settings.json":     `{"slug": "bench", "name": "Bench", "format": "worker"}`,
		"prompts/system.md": "You answer.\n",
		"protocol.yaml":     protocol.String(),
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
