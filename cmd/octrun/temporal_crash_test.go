package main

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/servicetest"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/relay"
	"github.com/octrun/octrun/runtime/temporal"
)

const crashAgent = `tools:
  slow-tool:
    description: A tool that takes a while
variables:
  ANSWER: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    tools: [slow-tool]
    maxSteps: 2
  Answer:
    block: next-message
    output: ANSWER
output: ANSWER
`

// A worker process killed with SIGKILL in the middle of a run, once during
// a slow tool and once during a slow model stream, is replaced by a new
// one and the run completes with the right output: no completed model call
// is made again, the interrupted tool runs again with the same idempotency
// key, and the stream shows no event twice and closes the interrupted text
// part.
func TestWorkerKilledMidRun(t *testing.T) {
	addr := servicetest.Temporal(t)
	redisURL := servicetest.RedisURL(t)
	bin := octrunBinary(t)
	work := t.TempDir()
	agents := filepath.Join(work, "agents", "crashy")
	require.NoError(t, os.MkdirAll(filepath.Join(agents, "prompts"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(agents, "settings.json"), []byte(`{"slug": "crashy", "name": "Crashy", "format": "worker"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(agents, "protocol.yaml"), []byte(crashAgent), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(agents, "prompts", "system.md"), []byte("You use the slow tool, then answer.\n"), 0o644))

	answer := strings.TrimSpace(strings.Repeat("tide ", 60))
	script := &llm.Script{Responses: []llm.ScriptResponse{
		{ToolCalls: []llm.ToolCall{{Name: "slow-tool", Arguments: "{}"}}},
		{Text: answer}, // interrupted by the second kill
		{Text: answer}, // the retry
	}}
	model := fakeopenai.New(script, fakeopenai.WithDelay(40*time.Millisecond))
	defer model.Close()

	calls := filepath.Join(work, "calls.txt")
	queue := "crash-" + time.Now().Format("150405.000")
	startWorker := func() *exec.Cmd {
		cmd := exec.Command(bin, "worker", "--agents", filepath.Join(work, "agents"), "--temporal", addr, "--task-queue", queue,
			"--redis", redisURL, "--llm-base-url", model.URL(),
			"--tool", `slow-tool=echo "$OCTRUN_TOOL_CALL_ID" >> `+calls+`; sleep 3; echo '"done"'`)
		cmd.Env = append(os.Environ(), "OCTRUN_LLM_API_KEY=k")
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}

	c, err := client.Dial(client.Options{HostPort: addr, Logger: quietTemporal()})
	require.NoError(t, err)
	defer c.Close()
	o, err := redis.ParseURL(redisURL)
	require.NoError(t, err)
	r := relay.New(redis.NewClient(o))
	defer r.Close()
	p, err := protocol.Load(agents)
	require.NoError(t, err)
	sub := temporal.NewClient(c, temporal.ClientOptions{TaskQueue: queue, Relay: r, NoWorkerWait: 10 * time.Second})

	first := startWorker()
	var deltas atomic.Int32
	var texts []string
	var recs []events.Event
	done := make(chan struct{})
	var out any
	var runErr error
	go func() {
		defer close(done)
		res, err := sub.Run(context.Background(), p, nil, temporal.RunOptions{Sink: func(ev events.Event) error {
			recs = append(recs, ev)
			if d, ok := ev.(events.TextDelta); ok {
				deltas.Add(1)
				texts = append(texts, d.ID)
			}
			return nil
		}})
		runErr = err
		if res != nil {
			out = res.Output
		}
	}()

	// Kill the worker while the tool runs.
	require.Eventually(t, func() bool { data, _ := os.ReadFile(calls); return len(data) > 0 }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, first.Process.Kill())
	second := startWorker()

	// Kill the next one while the answer streams.
	require.Eventually(t, func() bool { return deltas.Load() >= 5 }, 60*time.Second, 20*time.Millisecond)
	require.NoError(t, second.Process.Kill())
	startWorker()

	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("the run did not complete after the workers were replaced")
	}
	require.NoError(t, runErr)
	assert.Equal(t, answer, out)

	keys := strings.Fields(readFile(t, calls))
	require.Len(t, keys, 2, "the interrupted tool call ran again")
	assert.Equal(t, keys[0], keys[1], "with the same idempotency key")
	assert.Len(t, model.Requests(), 3, "the completed model call was not made again; the interrupted one was")

	seen := map[string]int{}
	open := map[string]bool{}
	for _, ev := range recs {
		data, err := ev.MarshalJSON()
		require.NoError(t, err)
		seen[string(data)]++
		switch e := ev.(type) {
		case events.TextStart:
			open[e.ID] = true
		case events.TextEnd:
			delete(open, e.ID)
		}
	}
	for line, n := range seen {
		if !strings.Contains(line, `"type":"text-delta"`) {
			assert.Equal(t, 1, n, "no event twice: %s", line)
		}
	}
	assert.Empty(t, open, "every text part was closed, the interrupted one included")
	parts := map[string]bool{}
	for _, id := range texts {
		parts[id] = true
	}
	assert.Len(t, parts, 2, "the retried answer streams as a new part")
}

// quietTemporal is a Temporal SDK logger that logs nothing.
func quietTemporal() tlog.Logger { return tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)) }

func readFile(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}
