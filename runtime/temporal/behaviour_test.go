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

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/servicetest"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp/mcptest"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/relay"
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
	queue := e.worker(t, []*protocol.Protocol{load(t, workerDir)}, temporal.WorkerOptions{LLMPerRun: func(first int) llm.Client { return llm.NewScriptedFrom(titleScript, first) }})

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
	queue := e.worker(t, []*protocol.Protocol{p}, temporal.WorkerOptions{LLMPerRun: func(first int) llm.Client { return llm.NewScriptedFrom(slow, first) }})
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
		e.worker(t, []*protocol.Protocol{p}, temporal.WorkerOptions{TaskQueue: queue, LLMPerRun: func(first int) llm.Client {
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

// A nested worker runs as a child workflow; routed with Routes (--route
// SLUG=QUEUE), it runs on another task queue, served by a second worker
// whose agents hold that slug, and the run is the same.
func TestRoutedNestedWorker(t *testing.T) {
	e := newEnv(t)
	gc := readCase(t, "../../testdata/runs/run-worker-input-output.txtar")
	researcher := gc.p.Worker("researcher").Protocol
	webSearch := map[string]runtime.ToolHandler{"web-search": func(context.Context, map[string]any) (any, error) {
		return "parent web-search: moon", nil
	}}
	parentLLM := llm.NewScripted(&llm.Script{})
	childLLM := llm.NewScripted(gc.script)
	childQueue := e.worker(t, []*protocol.Protocol{researcher}, temporal.WorkerOptions{TaskQueue: "q-" + t.Name() + "-child", LLM: childLLM, Tools: webSearch})
	queue := e.worker(t, []*protocol.Protocol{gc.p}, temporal.WorkerOptions{LLM: parentLLM, Tools: webSearch,
		Routes: map[string]string{"researcher": childQueue}})

	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay})
	id := "exec-routed"
	var got []string
	res, err := sub.Run(context.Background(), gc.p, gc.input, temporal.RunOptions{ExecutionID: id, Sink: func(ev events.Event) error {
		data, _ := ev.MarshalJSON()
		got = append(got, strings.ReplaceAll(string(data), id, "exec"))
		return nil
	}})
	require.NoError(t, err)
	assert.Equal(t, "The moon pulls the sea.", res.Output)
	assert.Equal(t, gc.want, got)
	assert.Empty(t, parentLLM.Requests(), "the parent's worker made no model call")
	assert.Len(t, childLLM.Requests(), 2, "the routed worker made the nested worker's calls")
	desc, err := e.c.DescribeWorkflowExecution(context.Background(), id+"/exec-routed-worker2", "")
	require.NoError(t, err)
	assert.Equal(t, childQueue, desc.GetExecutionConfig().GetTaskQueue().GetName(), "the child workflow ran on the routed queue")
}

// slowTitle is a title answer streamed slowly, word by word.
var slowTitle = &llm.Script{Responses: []llm.ScriptResponse{{Text: strings.TrimSpace(strings.Repeat("wave ", 40)), Fault: llm.Fault{Delay: 25 * time.Millisecond}}}}

// Events stream live: the first text delta reaches the submitter well
// before the model finishes; a reader attaching after the run gets the
// whole stream from offset 0; the stream expires after the run.
func TestEventsThroughRedis(t *testing.T) {
	e := newEnv(t)
	url := servicetest.RedisURL(t)
	o, err := redis.ParseURL(url)
	require.NoError(t, err)
	prefix := servicetest.KeyPrefix(t, url) + "ttl:"
	shortLived := relay.New(redis.NewClient(o), relay.WithPrefix(prefix), relay.WithTTL(time.Second))
	defer shortLived.Close()
	p := load(t, "../../testdata/valid/title-generator")
	queue := e.worker(t, []*protocol.Protocol{p}, temporal.WorkerOptions{Relay: shortLived, LLMPerRun: func(first int) llm.Client { return llm.NewScriptedFrom(slowTitle, first) }})
	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: shortLived})

	var first time.Time
	var got []events.Event
	res, err := sub.Run(context.Background(), p, map[string]any{"SUMMARY": "tides"}, temporal.RunOptions{ExecutionID: "exec-live", Sink: func(ev events.Event) error {
		if ev.EventType() == "text-delta" && first.IsZero() {
			first = time.Now()
		}
		got = append(got, ev)
		return nil
	}})
	require.NoError(t, err)
	ended := time.Now()
	assert.Greater(t, ended.Sub(first), 500*time.Millisecond, "the first delta came long before the end (the model takes about 1 s)")
	assert.NotEmpty(t, res.Output)

	later, err := shortLived.Since(context.Background(), "exec-live", 0)
	require.NoError(t, err)
	replayed := make([]events.Event, len(later))
	for i, r := range later {
		replayed[i] = r.Event
		assert.Equal(t, int64(i+1), r.Seq)
	}
	assert.Equal(t, got, replayed, "a later reader gets the whole stream")
	require.Eventually(t, func() bool {
		rest, err := shortLived.Since(context.Background(), "exec-live", 0)
		return err == nil && len(rest) == 0
	}, 5*time.Second, 100*time.Millisecond, "the stream expires after the run")
}

// Without a relay the submitter gets the result and the run's last
// events, and a pause is still noticed.
func TestWithoutRedis(t *testing.T) {
	e := newEnv(t)
	p := load(t, "../../testdata/valid/title-generator")
	queue := e.worker(t, []*protocol.Protocol{p}, temporal.WorkerOptions{LLMPerRun: func(first int) llm.Client { return llm.NewScriptedFrom(titleScript, first) }})
	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue})
	var types []string
	res, err := sub.Run(context.Background(), p, map[string]any{"SUMMARY": "tides"}, temporal.RunOptions{Sink: func(ev events.Event) error {
		types = append(types, ev.EventType())
		return nil
	}})
	require.NoError(t, err)
	assert.Equal(t, "The Tides of Brest", res.Output)
	assert.Equal(t, []string{"worker-result", "finish", "usage"}, types)
}

// Redis stopped in the middle of a run: the run still finishes and the
// submitter gets its result and its last events.
func TestRedisStoppedMidRun(t *testing.T) {
	e := newEnv(t)
	url, stopRedis := servicetest.PrivateRedis(t)
	r, err := relay.Dial(context.Background(), url)
	require.NoError(t, err)
	defer r.Close()
	p := load(t, "../../testdata/valid/title-generator")
	queue := e.worker(t, []*protocol.Protocol{p}, temporal.WorkerOptions{Relay: r, LLMPerRun: func(first int) llm.Client { return llm.NewScriptedFrom(slowTitle, first) }})
	readerRelay, err := relay.Dial(context.Background(), url)
	require.NoError(t, err)
	defer readerRelay.Close()
	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: readerRelay})
	var types []string
	res, err := sub.Run(context.Background(), p, map[string]any{"SUMMARY": "tides"}, temporal.RunOptions{Sink: func(ev events.Event) error {
		types = append(types, ev.EventType())
		if ev.EventType() == "text-delta" {
			stopRedis()
		}
		return nil
	}})
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(strings.Repeat("wave ", 40)), res.Output)
	require.GreaterOrEqual(t, len(types), 3)
	assert.Equal(t, []string{"worker-result", "finish", "usage"}, types[len(types)-3:])
}

// A run waiting for client tools waits durably: its worker stops, a new
// one starts, and the results delivered then finish the run.
func TestWaitSurvivesWorkerRestart(t *testing.T) {
	e := newEnv(t)
	gc := readCase(t, "../../testdata/runs/pause-twice.txtar")
	queue := "q-" + t.Name()
	newWorker := func() *temporal.Worker {
		w, err := temporal.NewWorker(e.c, []*protocol.Protocol{gc.p}, temporal.WorkerOptions{TaskQueue: queue, Relay: e.relay,
			LLMPerRun: func(first int) llm.Client { return llm.NewScriptedFrom(gc.script, first) }, Tools: map[string]runtime.ToolHandler{
				"lookup": func(context.Context, map[string]any) (any, error) { return gc.script.Tools["lookup"].Result, nil },
			}})
		require.NoError(t, err)
		require.NoError(t, w.Start())
		return w
	}
	first := newWorker()
	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay})
	_, err := sub.Run(context.Background(), gc.p, gc.input, temporal.RunOptions{ExecutionID: "exec-restart"})
	var pause *runtime.PauseError
	require.ErrorAs(t, err, &pause)
	first.Stop()

	second := newWorker()
	defer second.Stop()
	_, err = sub.Continue(context.Background(), "exec-restart", []events.ToolResult{{ToolCallID: pause.Calls[0].ToolCallID, Result: []byte(`"Brest, tomorrow morning"`)}}, temporal.RunOptions{})
	require.ErrorAs(t, err, &pause, "the run goes on and pauses a second time")
	res, err := sub.Continue(context.Background(), "exec-restart", []events.ToolResult{{ToolCallID: pause.Calls[0].ToolCallID, Result: []byte(`{"approved": true}`)}}, temporal.RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, "Approved: the 9:02 train to Brest.", res.Output)
}

// An MCP server's tools work on Temporal as in process: the worker process
// lists them (an activity), calls them (the tool activity) and the model
// reads their results; a call carries the run's idempotency key in _meta.
func TestMCPToolsOnTemporal(t *testing.T) {
	e := newEnv(t)
	p := load(t, mcptest.Agent(t, mcptest.Server(t)))
	script, err := llm.ParseScript([]byte(`responses:
  - toolCalls:
      - name: calc__add
        arguments: {a: 2, b: 3}
  - toolCalls:
      - name: calc__callid
        arguments: {}
  - text: 2 + 3 = 5
`))
	require.NoError(t, err)
	model := llm.NewScripted(script)
	queue := e.worker(t, []*protocol.Protocol{p}, temporal.WorkerOptions{LLM: model})

	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay})
	var c events.Collector
	res, err := sub.Run(context.Background(), p, nil, temporal.RunOptions{ExecutionID: "exec-mcp", Sink: c.Send})
	require.NoError(t, err)
	assert.Equal(t, "2 + 3 = 5", res.Output)

	var callID string
	outputs := map[string]string{}
	for _, ev := range c.Events() {
		switch ev := ev.(type) {
		case events.ToolInputAvailable:
			if ev.ToolName == "calc__callid" {
				callID = ev.ToolCallID
			}
		case events.ToolOutputAvailable:
			outputs[ev.ToolCallID] = string(ev.Output)
		}
	}
	require.NotEmpty(t, callID, "the run called calc__callid")
	assert.Equal(t, `"exec-mcp/`+callID+`"`, outputs[callID], "the MCP server got the idempotency key")

	reqs := model.Requests()
	require.Len(t, reqs, 3)
	var offered []string
	for _, tool := range reqs[0].Tools {
		offered = append(offered, tool.Name)
	}
	assert.Contains(t, offered, "calc__add", "the worker listed the server's tools")
	last := func(i int) string { return reqs[i].Messages[len(reqs[i].Messages)-1].Content }
	assert.JSONEq(t, `{"sum": 5}`, last(1))
	assert.Equal(t, "exec-mcp/"+callID, last(2))
}
