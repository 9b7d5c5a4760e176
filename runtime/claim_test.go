package runtime_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/runtime"
)

// bookingAgent writes a worker that asks the user (a client tool) and then
// books (a server tool with a side effect) in a tool-call block.
func bookingAgent(t *testing.T) string {
	dir := pausingAgent(t)
	data, err := os.ReadFile(filepath.Join(dir, "protocol.yaml"))
	require.NoError(t, err)
	yaml := strings.NewReplacer(
		"variables:\n", "  book:\n    description: Book the trip\nvariables:\n  BOOKING: { type: string }\n",
		"output: ANSWER\noutput: ANSWER\n", "output: ANSWER\n  Book:\n    block: tool-call\n    tool: book\n    output: BOOKING\noutput: BOOKING\n",
	).Replace(string(data))
	writeFile(t, dir, "protocol.yaml", yaml)
	return dir
}

// userStore is a Store a user wrote, which knows nothing of claims.
type userStore struct{ runtime.Store }

// Continues of one paused run that overlap run it once: the first claims
// the snapshot, the others are refused with ErrClaimed, and the tool after
// the pause runs once. That holds in every store: in memory, on disk, and
// a store of the user's that does not implement Claimer.
func TestConcurrentContinuesRunOnce(t *testing.T) {
	for name, store := range map[string]runtime.Store{
		"memory": runtime.NewMemoryStore(),
		"dir":    runtime.DirStore{Dir: filepath.Join(t.TempDir(), ".octrun")},
		"user":   userStore{runtime.NewMemoryStore()},
	} {
		t.Run(name, func(t *testing.T) {
			dir := bookingAgent(t)
			pe := pause(t, dir, store, llm.NewScripted(askScript))
			var booked atomic.Int32
			book := runtime.WithTool("book", func(context.Context, map[string]any) (any, error) {
				booked.Add(1)
				time.Sleep(300 * time.Millisecond)
				return "booked", nil
			})
			results := []events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}}

			const n = 5
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					_, errs[i] = runtime.Continue(context.Background(), pe.ExecutionID, results, runtime.WithStore(store), book,
						runtime.WithLLM(llm.NewScripted(&llm.Script{Responses: askScript.Responses[1:]})))
				})
			}
			close(start)
			wg.Wait()

			assert.EqualValues(t, 1, booked.Load(), "the tool after the pause runs once")
			finished := 0
			for _, err := range errs {
				if err == nil {
					finished++
					continue
				}
				assert.ErrorIs(t, err, runtime.ErrClaimed)
				assert.ErrorContains(t, err, "execution "+pe.ExecutionID+" is already being continued")
			}
			assert.Equal(t, 1, finished, "one continue runs the run to its end")
			_, err := store.Load(context.Background(), pe.ExecutionID)
			assert.ErrorIs(t, err, runtime.ErrNotFound, "the finished run is gone")
		})
	}
}

// A claim is given back when the continue ends, however it ends: a
// continue refused for its results does not keep the run from being
// continued.
func TestClaimIsReleased(t *testing.T) {
	for name, store := range map[string]runtime.Store{
		"memory": runtime.NewMemoryStore(),
		"dir":    runtime.DirStore{Dir: filepath.Join(t.TempDir(), ".octrun")},
	} {
		t.Run(name, func(t *testing.T) {
			dir := bookingAgent(t)
			pe := pause(t, dir, store, llm.NewScripted(askScript))
			_, err := runtime.Continue(context.Background(), pe.ExecutionID, nil, runtime.WithStore(store))
			assert.ErrorContains(t, err, "no result for the pending tool call c1")
			res, err := runtime.Continue(context.Background(), pe.ExecutionID,
				[]events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}}, runtime.WithStore(store),
				runtime.WithTool("book", func(context.Context, map[string]any) (any, error) { return "booked", nil }),
				runtime.WithLLM(llm.NewScripted(&llm.Script{Responses: askScript.Responses[1:]})))
			require.NoError(t, err)
			assert.Equal(t, "booked", res.Output)
		})
	}
}
