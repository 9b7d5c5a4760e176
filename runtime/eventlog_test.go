package runtime_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

func titleRun(t *testing.T, opts ...runtime.Option) (*runtime.Result, error) {
	t.Helper()
	p, err := protocol.Load("../testdata/valid/title-generator")
	require.NoError(t, err)
	script := &llm.Script{Responses: []llm.ScriptResponse{{Text: "The Tides of Brest"}}}
	return runtime.Run(context.Background(), p, map[string]any{"SUMMARY": "tides"},
		append([]runtime.Option{runtime.WithLLM(llm.NewScripted(script)), runtime.WithExecutionID("x")}, opts...)...)
}

// A sink that fails is sent nothing more; the run goes on and succeeds.
func TestFailingSinkDoesNotFailTheRun(t *testing.T) {
	var calls atomic.Int32
	res, err := titleRun(t, runtime.WithEventSink(func(events.Event) error {
		calls.Add(1)
		return errors.New("the browser went away")
	}))
	require.NoError(t, err)
	assert.Equal(t, "The Tides of Brest", res.Output)
	assert.Equal(t, int32(1), calls.Load())
}

// A sink that blocks does not stall the run: every effect is done and the
// run returns after the sink's grace, with its result.
func TestBlockedSinkDoesNotStallTheRun(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var finished atomic.Bool
	start := time.Now()
	res, err := titleRun(t,
		runtime.WithEventSink(func(events.Event) error { <-release; return nil }),
		runtime.WithSinkGrace(100*time.Millisecond),
		runtime.WithEventObserver(func(r events.Record) {
			if r.Event.EventType() == "usage" {
				finished.Store(true)
			}
		}))
	require.NoError(t, err)
	assert.Equal(t, "The Tides of Brest", res.Output)
	assert.True(t, finished.Load(), "the run logged its last event while the sink was blocked")
	assert.Less(t, time.Since(start), 5*time.Second)
}

// Readers of a run's event log read from any sequence number: a reader
// attached at an offset gets exactly the events from that offset.
func TestEventLogReadersFromAnOffset(t *testing.T) {
	log := events.NewLog(1)
	var all events.Collector
	_, err := titleRun(t, runtime.WithEventLog(log), runtime.WithEventSink(all.Send))
	require.NoError(t, err)
	whole := all.Events()
	require.Greater(t, len(whole), 5)

	var seqs []int64
	var tail []events.Event
	for r := range log.Records(context.Background(), 4) {
		seqs = append(seqs, r.Seq)
		tail = append(tail, r.Event)
	}
	assert.Equal(t, whole[3:], tail)
	assert.Equal(t, int64(4), seqs[0])
	assert.Equal(t, int64(len(whole)), seqs[len(seqs)-1])
}

// A continued leg numbers its events on from the paused leg.
func TestContinuedLegNumbersOn(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.NewMemoryStore()
	p, err := protocol.Load(dir)
	require.NoError(t, err)
	first := events.NewLog(1)
	_, err = runtime.Run(context.Background(), p, nil, runtime.WithLLM(llm.NewScripted(askScript)), runtime.WithStore(store), runtime.WithEventLog(first))
	var pe *runtime.PauseError
	require.ErrorAs(t, err, &pe)
	next := first.Next()

	var seqs []int64
	_, err = runtime.Continue(context.Background(), pe.ExecutionID, []events.ToolResult{{ToolCallID: "c1", Result: []byte(`"Brest"`)}},
		runtime.WithLLM(llm.NewScripted(&llm.Script{Responses: askScript.Responses[1:]})), runtime.WithStore(store),
		runtime.WithEventObserver(func(r events.Record) { seqs = append(seqs, r.Seq) }))
	require.NoError(t, err)
	require.NotEmpty(t, seqs)
	assert.Equal(t, next, seqs[0], "the continued leg's start follows the paused leg's finish")
	for i := range seqs[1:] {
		assert.Equal(t, seqs[i]+1, seqs[i+1])
	}
}
