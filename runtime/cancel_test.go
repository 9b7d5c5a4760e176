package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	goruntime "runtime"
	"strings"
	"sync"
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

// fileTicketCancelled runs the support worker, whose tool file-ticket h
// answers, and cancels the run as the tool starts.
func fileTicketCancelled(t *testing.T, h runtime.ToolHandler, opts ...runtime.Option) error {
	t.Helper()
	p, err := protocol.Load("../testdata/valid/support-worker")
	require.NoError(t, err)
	script, err := llm.ParseScript([]byte("responses:\n  - text: '{\"category\": \"bug\", \"priority\": \"low\", \"summary\": \"s\"}'\n  - text: A title\n"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = runtime.Run(ctx, p, map[string]any{"TICKET": "t", "CUSTOMER_EMAIL": "e"}, append(opts, runtime.WithLLM(llm.NewScripted(script)),
		runtime.WithTool("file-ticket", func(ctx context.Context, args map[string]any) (any, error) {
			cancel()
			return h(ctx, args)
		}))...)
	return err
}

// Cancelling while a tool runs stops the tool and the run the same way.
func TestCancelDuringTool(t *testing.T) {
	err := fileTicketCancelled(t, func(ctx context.Context, _ map[string]any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	var runErr *runtime.Error
	require.True(t, errors.As(err, &runErr))
	assert.True(t, runErr.Cancelled)
}

// A Go handler that ignores its context does not hold the run: a
// cancelled run ends promptly, as a cancelled run does, and the log says
// that the handler was left running, and when it returned.
func TestCancelWithHandlerIgnoringItsContext(t *testing.T) {
	release, returned := make(chan struct{}), make(chan struct{})
	var logs syncBuffer
	var got events.Collector
	begin := time.Now()
	err := fileTicketCancelled(t, func(context.Context, map[string]any) (any, error) {
		defer close(returned)
		<-release // deaf to its context
		return "filed", nil
	}, runtime.WithEventSink(got.Send), runtime.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	elapsed := time.Since(begin)
	var runErr *runtime.Error
	require.ErrorAs(t, err, &runErr)
	assert.True(t, runErr.Cancelled)
	assert.Less(t, elapsed, 2*time.Second, "the run ends without waiting for the handler")
	evs := got.Events()
	require.GreaterOrEqual(t, len(evs), 3)
	result, _ := evs[len(evs)-3].(events.WorkerResult)
	assert.True(t, result.Cancelled)
	assert.Contains(t, logs.String(), `msg="a tool handler ignored the cancellation of its run; it was left running"`)
	assert.Contains(t, logs.String(), "tool=file-ticket")

	close(release)
	<-returned
	assert.Eventually(t, func() bool {
		return strings.Contains(logs.String(), `msg="a tool handler left running returned"`)
	}, time.Second, 10*time.Millisecond)
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
