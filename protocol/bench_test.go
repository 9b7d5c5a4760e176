package protocol_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// writeLargeAgent writes a worker of n steps over four threads, with inputs,
// types, tools and prompts that use placeholders, conditions and includes.
func writeLargeAgent(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	var y strings.Builder
	y.WriteString(`input:
  TOPIC: { type: string }
  MODE: { type: string, enum: [fast, careful], default: fast }
types:
  Finding:
    claim: { type: string }
    confidence: { type: string, enum: [low, medium, high] }
  Report:
    title: { type: string }
    findings: { type: "Finding[]" }
tools:
  search:
    description: Search
    parameters:
      query: { type: string }
variables:
  NOTES: { type: string }
  REPORT: { type: Report }
steps:
`)
	threads := []string{"a", "b", "c", "d"}
	for _, th := range threads {
		fmt.Fprintf(&y, "  Start %s:\n    block: start-thread\n    thread: %s\n    model: openai/gpt-4o-mini\n    system: system\n    input: [MODE]\n    tools: [search]\n    maxSteps: 4\n", th, th)
	}
	for i := len(threads); i < n; i++ {
		th := threads[i%len(threads)]
		switch i % 3 {
		case 0:
			fmt.Fprintf(&y, "  Step %d:\n    block: add-message\n    thread: %s\n    role: user\n    prompt: ask\n    input:\n      - TOPIC\n      - PREVIOUS: NOTES\n", i, th)
		case 1:
			fmt.Fprintf(&y, "  Step %d:\n    block: next-message\n    thread: %s\n    output: NOTES\n", i, th)
		default:
			fmt.Fprintf(&y, "  Step %d:\n    block: next-message\n    thread: %s\n    responseType: Report\n    output: REPORT\n", i, th)
		}
	}
	y.WriteString("output: REPORT\n")
	writeFiles(tb, dir, map[string]string{
		"settings.json":          `{"slug": "large", "name": "Large", "format": "worker"}`,
		"protocol.yaml":          y.String(),
		"prompts/system.md":      "You research.\n{{#if MODE == \"careful\"}}\nCheck twice.\n{{else}}\nBe quick.\n{{/if}}\n{{@shared/tone.md}}\n",
		"prompts/ask.md":         "Topic: {{TOPIC}}\n{{#if PREVIOUS}}\nSo far: {{PREVIOUS}}\n{{/if}}\n",
		"prompts/shared/tone.md": "Write plainly.\n",
	})
	return dir
}

func TestLargeAgentIsValid(t *testing.T) {
	p, err := protocol.Load(writeLargeAgent(t, 500))
	require.NoError(t, err, "%v", p.Diagnostics)
	require.Len(t, p.Steps, 500)
}

// BenchmarkLoad500Steps loads and validates a 500-step protocol from disk
// (target: under 10 ms an operation).
func BenchmarkLoad500Steps(b *testing.B) {
	dir := writeLargeAgent(b, 500)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protocol.Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
