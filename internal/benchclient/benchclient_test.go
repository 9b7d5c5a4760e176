package benchclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sashabaranov/go-openai"

	"github.com/octrun/octrun/internal/benchclient"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// TestSameWorkAsOctrun checks that the baseline assembles what octrun's
// client does from the same stream (reasoning, text, two tool calls in
// fragments), and writes one event a delta.
func TestSameWorkAsOctrun(t *testing.T) {
	script := &llm.Script{Responses: []llm.ScriptResponse{{
		Reasoning: "think first",
		Text:      "one two three four",
		ToolCalls: []llm.ToolCall{
			{Name: "lookup", Arguments: `{"term":"tides and the moon"}`},
			{Name: "ask", Arguments: `{"question":"where?"}`},
		},
	}}}
	srv := fakeopenai.New(script, fakeopenai.WithDeltas(4), fakeopenai.WithLoop())
	defer srv.Close()
	ctx := context.Background()

	octrunDeltas := 0
	want, err := llm.NewOpenAI(srv.URL(), "sk-test").Generate(ctx,
		llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Content: "go"}}},
		func(d llm.Delta) error {
			if d.Kind != llm.ToolCallStart {
				octrunDeltas++
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	req := openai.ChatCompletionRequest{Model: "gpt-4o", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "go"}}}
	for _, format := range []benchclient.Format{benchclient.None, benchclient.JSONL, benchclient.SSE} {
		var out bytes.Buffer
		got, err := benchclient.Stream(ctx, http.DefaultClient, srv.URL(), req, &out, format)
		if err != nil {
			t.Fatal(err)
		}
		if got.Text != want.Text || got.Reasoning != want.Reasoning || got.Deltas != octrunDeltas || len(got.ToolCalls) != len(want.ToolCalls) {
			t.Fatalf("format %d: got %+v, want %+v with %d deltas", format, got, want, octrunDeltas)
		}
		for i, c := range got.ToolCalls {
			w := want.ToolCalls[i]
			if c.ID != w.ID || c.Name != w.Name || c.Arguments != w.Arguments {
				t.Errorf("format %d: tool call %d is %+v, want %+v", format, i, c, w)
			}
		}
		if format == benchclient.None {
			if out.Len() != 0 || got.Events != 0 {
				t.Errorf("wrote %d events (%q), want none", got.Events, out.String())
			}
			continue
		}
		// The deltas, the start and end of two parts and two calls, a finish.
		if wantEvents := octrunDeltas + 9; got.Events != wantEvents {
			t.Errorf("format %d: %d events, want %d", format, got.Events, wantEvents)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if format == benchclient.SSE {
			lines = strings.Split(strings.TrimSuffix(out.String(), "\n\n"), "\n\n")
		}
		if len(lines) != got.Events {
			t.Fatalf("format %d: %d lines for %d events:\n%s", format, len(lines), got.Events, out.String())
		}
		for _, line := range lines {
			if format == benchclient.SSE {
				line = strings.TrimPrefix(line, "data: ")
			}
			var ev map[string]any
			if err := json.Unmarshal([]byte(line), &ev); err != nil || ev["type"] == nil {
				t.Fatalf("format %d: event %q: %v", format, line, err)
			}
		}
	}
}
