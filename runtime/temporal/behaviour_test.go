package temporal_test

import (
	"context"
	"fmt"
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
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
	"github.com/octrun/octrun/runtime/temporal"
)

// copyAgent copies a folder of testdata/valid (or examples) into dir.
func copyAgent(t *testing.T, src, dir string) string {
	t.Helper()
	dst := filepath.Join(dir, filepath.Base(src))
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

func load(t *testing.T, dir string) *protocol.Protocol {
	t.Helper()
	p, err := protocol.Load(dir)
	require.NoError(t, err)
	return p
}

var titleScript = &llm.Script{Responses: []llm.ScriptResponse{{Text: "The Tides of Brest"}}}

// A worker whose agent files differ from the submitter's refuses the run
// at once, naming both fingerprints, the task queue and the fix; the
// submitter's --skip-fingerprint-check lets it run.
func TestFingerprintMismatch(t *testing.T) {
	e := newEnv(t)
	submitter := load(t, "../../testdata/valid/title-generator")
	workerDir := copyAgent(t, "../../testdata/valid/title-generator", t.TempDir())
	prompt := filepath.Join(workerDir, "prompts", "title-system.md")
	data, err := os.ReadFile(prompt)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(prompt, append(data, []byte("Be brief.\n")...), 0o644))
	queue := e.worker(t, []*protocol.Protocol{load(t, workerDir)}, temporal.WorkerOptions{LLMPerRun: func() llm.Client { return llm.NewScripted(titleScript) }})

	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay})
	start := time.Now()
	_, err = sub.Run(context.Background(), submitter, map[string]any{"SUMMARY": "tides"}, temporal.RunOptions{})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Message, temporal.Fingerprint(submitter))
	assert.Contains(t, re.Message, temporal.Fingerprint(load(t, workerDir)))
	assert.Contains(t, re.Message, fmt.Sprintf("task queue %q", queue))
	assert.Contains(t, re.Message, "deploy the same agent folders")

	skip := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay, SkipFingerprintCheck: true})
	res, err := skip.Run(context.Background(), submitter, map[string]any{"SUMMARY": "tides"}, temporal.RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, "The Tides of Brest", res.Output)
}

// With nothing polling the task queue, a run fails within seconds naming
// the queue and the namespace.
func TestNoWorker(t *testing.T) {
	e := newEnv(t)
	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: "nobody-polls-" + t.Name()})
	start := time.Now()
	_, err := sub.Run(context.Background(), load(t, "../../testdata/valid/title-generator"), map[string]any{"SUMMARY": "x"}, temporal.RunOptions{})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, err.Error(), `no worker polls task queue "nobody-polls-TestNoWorker" in namespace "default"`)
}

// Cancelling the submitter's context cancels the workflow: the model call
// stops within seconds and the stream ends as a cancelled run does.
func TestCancellation(t *testing.T) {
	e := newEnv(t)
	slow := &llm.Script{Responses: []llm.ScriptResponse{{Text: strings.Repeat("wave ", 400), Fault: llm.Fault{Delay: 20 * time.Millisecond}}}}
	p := load(t, "../../testdata/valid/title-generator")
	queue := e.worker(t, []*protocol.Protocol{p}, temporal.WorkerOptions{LLMPerRun: func() llm.Client { return llm.NewScripted(slow) }})
	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var types []string
	var cancelledAt time.Time
	sink := func(ev events.Event) error {
		types = append(types, ev.EventType())
		if ev.EventType() == "text-delta" && cancelledAt.IsZero() {
			cancelledAt = time.Now()
			cancel()
		}
		return nil
	}
	_, err := sub.Run(ctx, p, map[string]any{"SUMMARY": "tides"}, temporal.RunOptions{Sink: sink})
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.True(t, re.Cancelled)
	assert.Less(t, time.Since(cancelledAt), 8*time.Second, "the run stops within seconds, not at the end of the stream")
	require.GreaterOrEqual(t, len(types), 3)
	assert.Equal(t, []string{"worker-result", "finish", "usage"}, types[len(types)-3:])
	assert.Less(t, strings.Count(strings.Join(types, " "), "text-delta"), 300, "the stream was cut short")
}

// Twenty runs submitted at once to two workers polling one queue all
// complete, and both workers did work.
func TestTwoWorkersOneQueue(t *testing.T) {
	e := newEnv(t)
	p := load(t, "../../testdata/valid/title-generator")
	queue := "q-" + t.Name()
	var served [2]atomic.Int32
	for i := range served {
		e.worker(t, []*protocol.Protocol{p}, temporal.WorkerOptions{TaskQueue: queue, LLMPerRun: func() llm.Client {
			served[i].Add(1)
			return llm.NewScripted(titleScript)
		}})
	}
	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay})
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			res, err := sub.Run(context.Background(), p, map[string]any{"SUMMARY": fmt.Sprint("tides ", i)}, temporal.RunOptions{})
			if err == nil && res.Output != "The Tides of Brest" {
				err = fmt.Errorf("output %v", res.Output)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "run %d", i)
	}
	assert.Positive(t, served[0].Load(), "the first worker ran model calls")
	assert.Positive(t, served[1].Load(), "the second worker ran model calls")
}
