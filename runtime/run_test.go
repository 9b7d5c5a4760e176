package runtime_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// One loaded protocol serves many runs at once; each run has its own state
// and its own stream (run with -race).
func TestConcurrentRunsShareAProtocol(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/support-worker")
	require.NoError(t, err)
	var wg sync.WaitGroup
	outputs := make([]any, 20)
	for i := range outputs {
		wg.Go(func() {
			script := &llm.Script{Responses: []llm.ScriptResponse{
				{Text: `{"category": "bug", "priority": "low", "summary": "s"}`},
				{Text: "A title"},
				{Text: fmt.Sprintf("reply %d", i)},
			}}
			var c events.Collector
			res, err := runtime.Run(context.Background(), p, map[string]any{"TICKET": "t", "CUSTOMER_EMAIL": "e"},
				runtime.WithLLM(llm.NewScripted(script)), runtime.WithEventSink(c.Send),
				runtime.WithTool("file-ticket", func(context.Context, map[string]any) (any, error) { return i, nil }))
			if assert.NoError(t, err) {
				outputs[i] = res.Output
				assert.Equal(t, "usage", c.Events()[len(c.Events())-1].EventType())
			}
		})
	}
	wg.Wait()
	for i, out := range outputs {
		assert.Equal(t, fmt.Sprintf("reply %d", i), out)
	}
}

// A protocol that did not load cleanly is refused, not run.
func TestInvalidProtocolIsRefused(t *testing.T) {
	p, err := protocol.Load(t.TempDir())
	require.Error(t, err)
	_, err = runtime.Run(context.Background(), p, nil)
	var runErr *runtime.Error
	require.ErrorAs(t, err, &runErr)
	assert.Equal(t, events.ErrorTypeValidation, runErr.Type)
	assert.True(t, runErr.Refused, "nothing ran")
	_, err = runtime.Run(context.Background(), nil, nil)
	require.ErrorAs(t, err, &runErr)
	assert.True(t, runErr.Refused)
}

// Execute yields the events of a run in order; stopping early cancels it.
func TestExecute(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/title-generator")
	require.NoError(t, err)
	script := &llm.Script{Responses: []llm.ScriptResponse{{Text: "Moon and sea"}}}
	var types []string
	for ev, err := range runtime.Execute(context.Background(), p, map[string]any{"SUMMARY": "x"}, runtime.WithLLM(llm.NewScripted(script))) {
		require.NoError(t, err)
		types = append(types, ev.EventType())
	}
	assert.Equal(t, "start", types[0])
	assert.Equal(t, []string{"worker-result", "finish", "usage"}, types[len(types)-3:])

	n := 0
	for range runtime.Execute(context.Background(), p, map[string]any{"SUMMARY": "x"}, runtime.WithLLM(llm.NewScripted(script))) {
		if n++; n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n, "breaking out of the loop stops the run without a panic")

	var last error
	for ev, err := range runtime.Execute(context.Background(), p, map[string]any{}, runtime.WithLLM(llm.NewScripted(script))) {
		if err != nil {
			assert.Nil(t, ev)
			last = err
		}
	}
	var runErr *runtime.Error
	require.ErrorAs(t, last, &runErr, "a failed run ends with its error")
	assert.Equal(t, events.ErrorTypeValidation, runErr.Type)
	assert.False(t, runErr.Refused, "the run started (and said so in its events) before it checked its input")
}

// When the caller's context ends, Execute still yields the end of the
// stream (worker-result cancelled, finish, usage), then the run's error.
func TestExecuteCancelledStillEnds(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/title-generator")
	require.NoError(t, err)
	slow := &llm.Script{Responses: []llm.ScriptResponse{{Text: strings.Repeat("wave ", 50), Fault: llm.Fault{Delay: 10 * time.Millisecond}}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var types []string
	var last error
	for ev, err := range runtime.Execute(ctx, p, map[string]any{"SUMMARY": "x"}, runtime.WithLLM(llm.NewScripted(slow))) {
		if err != nil {
			last = err
			continue
		}
		types = append(types, ev.EventType())
		if ev.EventType() == "text-delta" {
			cancel()
		}
	}
	require.GreaterOrEqual(t, len(types), 3)
	assert.Equal(t, []string{"worker-result", "finish", "usage"}, types[len(types)-3:])
	var runErr *runtime.Error
	require.ErrorAs(t, last, &runErr)
	assert.True(t, runErr.Cancelled)
}

// A run given no input at all still says so with an object: worker-start's
// input is {}, never null (the SDKs' schema wants an object).
func TestNilInputIsAnObject(t *testing.T) {
	dir := pausingAgent(t)
	p, err := protocol.Load(dir)
	require.NoError(t, err)
	var got events.Collector
	_, _ = runtime.Run(context.Background(), p, nil, runtime.WithLLM(llm.NewScripted(askScript)), runtime.WithEventSink(got.Send), runtime.WithStore(runtime.NewMemoryStore()))
	start, ok := got.Events()[1].(events.WorkerStart)
	require.True(t, ok)
	assert.JSONEq(t, `{}`, string(start.Input))
}
