// Package mcptest gives other packages' tests a real MCP server: the mcp
// package's test server program, built once per test binary, and an agent
// folder whose thread uses it.
package mcptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Server builds the test server program (the tools of the mcp package's
// tests, over stdio) into a temporary folder and returns its path.
func Server(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "mcp-testserver")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, "github.com/octrun/octrun/mcp/internal/testserver").CombinedOutput()
	if err != nil {
		tb.Fatalf("building the MCP test server: %v\n%s", err, out)
	}
	return bin
}

// Agent writes the agent folder "calculator" into a temporary folder and
// returns it: one thread that offers the tools of the MCP server calc,
// started with command over stdio by the deprecated connection mapping of
// protocol.yaml, and answers in ANSWER.
func Agent(tb testing.TB, command string) string {
	tb.Helper()
	return agent(tb, fmt.Sprintf(`
    connection:
      command: %q
      timeout: 5s`, command))
}

// DocumentedAgent is Agent with the documented declaration of calc: no
// connection, which the consumer gives (Config) or not.
func DocumentedAgent(tb testing.TB) string {
	tb.Helper()
	return agent(tb, "")
}

// Config writes an mcp.json into a temporary folder, in which the server
// calc is started with command over stdio, and returns its path.
func Config(tb testing.TB, command string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "mcp.json")
	text := fmt.Sprintf(`{"mcpServers": {"calc": {"command": %q, "timeout": "5s"}, "elsewhere": {"url": "http://127.0.0.1:1/mcp"}}}`, command)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func agent(tb testing.TB, connection string) string {
	dir := tb.TempDir()
	files := map[string]string{
		"settings.json": `{"slug": "calculator", "name": "Calculator", "format": "worker"}`,
		"protocol.yaml": fmt.Sprintf(`mcpServers:
  calc:
    description: A calculator
    source: consumer
    display: stream%s
variables:
  ANSWER: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    mcpServers: [calc]
    maxSteps: 4
  Answer:
    block: next-message
    output: ANSWER
output: ANSWER
`, connection),
		"prompts/system.md": "You calculate with the calc tools.\n",
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
