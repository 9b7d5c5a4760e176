package runtime_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// BenchmarkHistoryRounds runs workers of 10, 50 and 200 rounds on one
// thread with the scripted model, each round a next-message whose model
// step calls a tool that answers with an object. It reports the engine's
// cost per round (ns/round), which should not grow with the history
// (issue 11: at most 2x from 10 to 200 rounds).
func BenchmarkHistoryRounds(b *testing.B) {
	for _, rounds := range []int{10, 50, 200} {
		b.Run(fmt.Sprintf("rounds=%d", rounds), func(b *testing.B) {
			p, script := historyWorker(b, rounds)
			tool := runtime.WithTool("lookup", func(_ context.Context, args map[string]any) (any, error) {
				return map[string]any{"term": args["term"], "hits": []any{"tides", "moon", "sea level"}, "count": 3}, nil
			})
			b.ReportAllocs()
			for b.Loop() {
				_, err := runtime.Run(context.Background(), p, nil, runtime.WithLLM(llm.NewScripted(script)), tool, runtime.WithExecutionID("bench"))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rounds), "ns/round")
		})
	}
}

// historyWorker is a worker of rounds next-message steps on one thread
// with the script that answers it: each step calls lookup once.
func historyWorker(b *testing.B, rounds int) (*protocol.Protocol, *llm.Script) {
	var yaml strings.Builder
	yaml.WriteString(`tools:
  lookup:
    description: Look a term up
    parameters:
      term: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    tools: [lookup]
`)
	script := &llm.Script{}
	for i := range rounds {
		fmt.Fprintf(&yaml, "  Round %d:\n    block: next-message\n", i+1)
		script.Responses = append(script.Responses, llm.ScriptResponse{
			Text:      "Let me look that up.",
			ToolCalls: []llm.ToolCall{{ID: fmt.Sprintf("call_%d", i+1), Name: "lookup", Arguments: `{"term":"tides"}`}},
		})
	}
	return loadAgent(b, yaml.String(), map[string]string{"system": "You answer.\n"}), script
}
