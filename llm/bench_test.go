package llm_test

import (
	"net/http"
	"testing"

	"github.com/sashabaranov/go-openai"

	"github.com/octrun/octrun/internal/benchclient"
	"github.com/octrun/octrun/internal/benchpair"
	"github.com/octrun/octrun/internal/benchserver"
	"github.com/octrun/octrun/llm"
)

// BenchmarkStream2000Deltas reads one generation of 2,000 deltas
// (reasoning, text and a tool call's arguments) from the fake server,
// running in a process of its own, with octrun's OpenAI client and with
// the bare client of internal/benchclient, which decodes the same fields
// and assembles the same text, reasoning and tool call; both over one HTTP
// client. Each iteration runs both, in alternating order, and the
// benchmark reports the min/median/max of octrun's wall time, CPU time and
// allocations divided by the bare client's (ns-ratio-*, cpu-ns-ratio-*,
// allocs-ratio-*) and each side's mean (own-*/op, base-*/op).
func BenchmarkStream2000Deltas(b *testing.B) {
	gen := benchserver.NewGeneration(2000, "lookup")
	srv := benchserver.Start(b, gen.Script(), gen.Options())
	httpClient := &http.Client{}
	client := llm.NewOpenAI(srv.URL, "sk-bench", llm.WithHTTPClient(httpClient))
	req := llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Content: "go"}}}
	bareReq := openai.ChatCompletionRequest{Model: "gpt-4o", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "go"}}}

	bare := benchpair.Timed(func() {
		res, err := benchclient.Stream(b.Context(), httpClient, srv.URL, bareReq, nil, benchclient.None)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.ToolCalls) != 1 || res.Deltas != gen.Deltas() {
			b.Fatalf("bare client: %d tool calls and %d deltas, want 1 and %d", len(res.ToolCalls), res.Deltas, gen.Deltas())
		}
		if err := gen.Check(res.Text, res.Reasoning, res.ToolCalls[0].Name, res.ToolCalls[0].Arguments); err != nil {
			b.Fatal("bare client: ", err)
		}
	})
	octrun := benchpair.Timed(func() {
		deltas := 0
		resp, err := client.Generate(b.Context(), req, func(d llm.Delta) error {
			if d.Kind != llm.ToolCallStart {
				deltas++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.ToolCalls) != 1 || deltas != gen.Deltas() {
			b.Fatalf("octrun: %d tool calls and %d deltas, want 1 and %d", len(resp.ToolCalls), deltas, gen.Deltas())
		}
		if err := gen.Check(resp.Text, resp.Reasoning, resp.ToolCalls[0].Name, resp.ToolCalls[0].Arguments); err != nil {
			b.Fatal("octrun: ", err)
		}
	})
	benchpair.Run(b, bare, octrun)
}
