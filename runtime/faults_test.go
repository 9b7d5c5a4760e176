package runtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// Every fault the fake server injects, run through a whole worker over
// HTTP with the default retries: the events the consumer sees and how the
// run ends.
func TestFaultsOverHTTP(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/title-generator")
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		script string
		// events lists the types the consumer sees from block 3 on.
		events []string
		// ends is the output, or the errorType of the failure.
		ends string
		// waited is the total back-off asked for.
		waited time.Duration
	}{
		{
			name:   "429 then success",
			script: "responses:\n  - error: {status: 429, message: slow down}\n  - text: Moon and sea\n",
			events: []string{"text-start", "text-delta", "text-delta", "text-delta", "text-end", "block-end", "worker-result", "finish", "usage"},
			ends:   "Moon and sea", waited: time.Second,
		},
		{
			name:   "429 with Retry-After",
			script: "responses:\n  - error: {status: 429, message: slow down, retryAfter: 5}\n  - text: Moon and sea\n",
			events: []string{"text-start", "text-delta", "text-delta", "text-delta", "text-end", "block-end", "worker-result", "finish", "usage"},
			ends:   "Moon and sea", waited: 5 * time.Second,
		},
		{
			name:   "500 three times",
			script: "responses:\n  - error: {status: 500, message: boom}\n  - error: {status: 500, message: boom}\n  - error: {status: 500, message: boom}\n",
			events: []string{"block-end", "worker-result", "error", "finish", "usage"},
			ends:   "provider_error", waited: 3 * time.Second,
		},
		{
			name:   "stream cut before the first token is retried",
			script: "responses:\n  - text: Moon and sea\n    fault: {cutAfter: 0}\n  - text: Moon and sea\n",
			events: []string{"text-start", "text-delta", "text-delta", "text-delta", "text-end", "block-end", "worker-result", "finish", "usage"},
			ends:   "Moon and sea", waited: time.Second,
		},
		{
			name:   "stream cut mid-way fails the run",
			script: "responses:\n  - text: The moon moves the sea\n    fault: {cutAfter: 2}\n",
			events: []string{"text-start", "text-delta", "text-delta", "text-end", "block-end", "worker-result", "error", "finish", "usage"},
			ends:   "provider_error",
		},
		{
			name:   "malformed chunk mid-way fails the run",
			script: "responses:\n  - text: The moon moves the sea\n    fault: {malformedAfter: 3}\n",
			events: []string{"text-start", "text-delta", "text-delta", "text-delta", "text-end", "block-end", "worker-result", "error", "finish", "usage"},
			ends:   "provider_error",
		},
		{
			name:   "slow tokens still arrive",
			script: "responses:\n  - text: Moon and sea\n    fault: {delay: 30ms}\n",
			events: []string{"text-start", "text-delta", "text-delta", "text-delta", "text-end", "block-end", "worker-result", "finish", "usage"},
			ends:   "Moon and sea",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script, err := llm.ParseScript([]byte(tc.script))
			require.NoError(t, err)
			server := fakeopenai.New(script)
			defer server.Close()
			var waited time.Duration
			router := llm.NewRouter(func(string) string { return "" }, llm.WithBaseURL(server.URL(), "k"),
				llm.WithRetries(llm.WithRandom(func() float64 { return 0.5 }), llm.WithSleep(func(_ context.Context, d time.Duration) error {
					waited += d
					return nil
				})))
			var got []string
			res, err := runtime.Run(context.Background(), p, map[string]any{"SUMMARY": "tides"}, runtime.WithLLM(router),
				runtime.WithEventSink(func(ev events.Event) error {
					got = append(got, ev.EventType())
					return nil
				}))
			require.Greater(t, len(got), 7)
			assert.Equal(t, tc.events, got[7:], "the events after start, worker-start, the two hidden blocks and block-start")
			var re *runtime.Error
			if errors.As(err, &re) {
				assert.Equal(t, tc.ends, string(re.Type))
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.ends, res.Output)
			}
			assert.Equal(t, tc.waited, waited)
		})
	}
}

// A tool that hangs past its timeout is a tool error the model reads; the
// run goes on.
func TestToolTimeoutInLoop(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/research-assistant")
	require.NoError(t, err)
	script, err := llm.ParseScript([]byte(`responses:
  - toolCalls:
      - name: web-search
        arguments: {query: tides}
  - text: Searching failed, so here is what I know.
  - text: '{"title": "Tides", "summary": "s", "findings": []}'
`))
	require.NoError(t, err)
	client := llm.NewScripted(script)
	start := time.Now()
	res, err := runtime.Run(context.Background(), p, map[string]any{"TOPIC": "tides"}, runtime.WithLLM(client),
		runtime.WithTool("web-search", runtime.CommandTool("sleep 30", 100*time.Millisecond)))
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, "Tides", res.Output.(map[string]any)["title"])
	second := client.Requests()[1].Messages
	assert.Equal(t, `{"error":"the command timed out after 100ms"}`, second[len(second)-1].Content)
}
