package runtime_test

import (
	"context"
	"errors"
	"net/http"
	goruntime "runtime"
	"strings"
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

// Cancelling the context mid-stream ends the run cleanly: worker-result
// marked cancelled, finish, usage; the error wraps context.Canceled; and no
// goroutine is left behind once the client and the server are closed.
func TestCancelMidStreamLeavesNothingBehind(t *testing.T) {
	baseline := goruntime.NumGoroutine()
	long := strings.Repeat("tide ", 200)
	script := &llm.Script{Responses: []llm.ScriptResponse{{Text: long}}}
	server := fakeopenai.New(script, fakeopenai.WithDelay(20*time.Millisecond))
	httpClient := &http.Client{Transport: &http.Transport{}}
	router := llm.NewRouter(func(string) string { return "" },
		llm.WithBaseURL(server.URL(), "k"), llm.WithClientOptions(llm.WithHTTPClient(httpClient)))

	p, err := protocol.Load("../testdata/valid/title-generator")
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []events.Event
	deltas := 0
	start := time.Now()
	_, err = runtime.Run(ctx, p, map[string]any{"SUMMARY": "the sea"}, runtime.WithLLM(router),
		runtime.WithEventObserver(func(r events.Record) {
			got = append(got, r.Event)
			if r.Event.EventType() == "text-delta" {
				if deltas++; deltas == 3 {
					cancel()
				}
			}
		}))
	elapsed := time.Since(start)

	var runErr *runtime.Error
	require.ErrorAs(t, err, &runErr)
	assert.True(t, runErr.Cancelled)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, elapsed, 2*time.Second, "the run stops promptly, not at the end of the stream")
	assert.Equal(t, 3, deltas, "no delta is delivered after the cancellation")

	require.GreaterOrEqual(t, len(got), 3)
	last := got[len(got)-3:]
	result, ok := last[0].(events.WorkerResult)
	require.True(t, ok, "worker-result comes before finish, got %T", last[0])
	assert.True(t, result.Cancelled)
	assert.Equal(t, events.Finish{FinishReason: events.FinishStop, ExecutionID: runErr.ExecutionID}, last[1])
	assert.Equal(t, "usage", last[2].EventType())
	for _, ev := range got {
		assert.NotEqual(t, "error", ev.EventType(), "a cancellation is not an error")
	}

	httpClient.CloseIdleConnections()
	server.Close()
	deadline := time.Now().Add(3 * time.Second)
	for goruntime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.LessOrEqual(t, goruntime.NumGoroutine(), baseline, "goroutines leaked")
}

// Cancelling while a tool runs stops the tool and the run the same way.
func TestCancelDuringTool(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/support-worker")
	require.NoError(t, err)
	script, err := llm.ParseScript([]byte("responses:\n  - text: '{\"category\": \"bug\", \"priority\": \"low\", \"summary\": \"s\"}'\n  - text: A title\n"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	go func() { <-started; cancel() }()
	_, err = runtime.Run(ctx, p, map[string]any{"TICKET": "t", "CUSTOMER_EMAIL": "e"}, runtime.WithLLM(llm.NewScripted(script)),
		runtime.WithTool("file-ticket", func(ctx context.Context, _ map[string]any) (any, error) {
			close(started)
			<-ctx.Done()
			return nil, ctx.Err()
		}))
	var runErr *runtime.Error
	require.True(t, errors.As(err, &runErr))
	assert.True(t, runErr.Cancelled)
}
