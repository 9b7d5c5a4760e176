package temporal_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/octrun/octrun/internal/servicetest"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/relay"
	"github.com/octrun/octrun/runtime"
	"github.com/octrun/octrun/runtime/temporal"
)

// benchAgent is a 3-effect worker: a model call that asks for a tool, the
// tool, and a model call that answers.
func benchAgent(b *testing.B) *protocol.Protocol {
	dir := b.TempDir()
	for name, text := range map[string]string{
		"settings.json":     `{"slug": "bench", "name": "Bench", "format": "worker"}`,
		"protocol.yaml":     "tools:\n  lookup:\n    description: Look it up\n    parameters:\n      q: { type: string }\nvariables:\n  ANSWER: { type: string }\nsteps:\n  Start:\n    block: start-thread\n    thread: main\n    model: openai/gpt-4o-mini\n    system: system\n    tools: [lookup]\n    maxSteps: 2\n  Answer:\n    block: next-message\n    output: ANSWER\noutput: ANSWER\n",
		"prompts/system.md": "You look things up.\n",
	} {
		path := filepath.Join(dir, name)
		require.NoError(b, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(b, os.WriteFile(path, []byte(text), 0o644))
	}
	p, err := protocol.Load(dir)
	require.NoError(b, err)
	return p
}

var benchScript = &llm.Script{Responses: []llm.ScriptResponse{
	{ToolCalls: []llm.ToolCall{{Name: "lookup", Arguments: `{"q":"tides"}`}}},
	{Text: "The moon pulls the sea."},
}}

var benchTools = map[string]runtime.ToolHandler{"lookup": func(context.Context, map[string]any) (any, error) { return "the moon", nil }}

// report reports runs/s and the p50 and p99 of a set of run durations.
func report(b *testing.B, took []time.Duration, wall time.Duration) {
	slices.Sort(took)
	pct := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(took))/wall.Seconds(), "runs/s")
}

// BenchmarkRuns runs the 3-effect worker in process and through Temporal
// with one and two worker processes, one run at a time and 50 at once, in
// the same benchmark run, so that their figures compare:
//
//	go test ./runtime/temporal -run XXX -bench Runs -benchtime 100x
func BenchmarkRuns(b *testing.B) {
	p := benchAgent(b)
	ctx := context.Background()
	b.Run("in-process", func(b *testing.B) {
		took := make([]time.Duration, 0, b.N)
		start := time.Now()
		for b.Loop() {
			t0 := time.Now()
			opts := []runtime.Option{runtime.WithLLM(llm.NewScripted(benchScript))}
			for name, h := range benchTools {
				opts = append(opts, runtime.WithTool(name, h))
			}
			_, err := runtime.Run(ctx, p, nil, opts...)
			require.NoError(b, err)
			took = append(took, time.Since(t0))
		}
		report(b, took, time.Since(start))
	})
	e := newEnv(b)
	for _, workers := range []int{1, 2} {
		queue := fmt.Sprintf("bench-%d-%d", workers, time.Now().UnixNano())
		for range workers {
			startBenchWorker(b, p, queue, e.prefix)
		}
		sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay, NoWorkerWait: 30 * time.Second})
		require.NoError(b, sub.CheckWorkers(ctx))
		b.Run(fmt.Sprintf("temporal-%d-worker-process", workers), func(b *testing.B) {
			took := make([]time.Duration, 0, b.N)
			var last string
			start := time.Now()
			for b.Loop() {
				t0 := time.Now()
				res, err := sub.Run(ctx, p, nil, temporal.RunOptions{})
				require.NoError(b, err)
				took = append(took, time.Since(t0))
				last = res.ExecutionID
			}
			report(b, took, time.Since(start))
			b.ReportMetric(float64(historyLen(b, e, last)), "history-events/run")
		})
		b.Run(fmt.Sprintf("temporal-%d-worker-process-50-concurrent", workers), func(b *testing.B) {
			var took []time.Duration
			start := time.Now()
			for b.Loop() {
				var mu sync.Mutex
				var wg sync.WaitGroup
				for range 50 {
					wg.Go(func() {
						t0 := time.Now()
						_, err := sub.Run(ctx, p, nil, temporal.RunOptions{})
						require.NoError(b, err)
						mu.Lock()
						took = append(took, time.Since(t0))
						mu.Unlock()
					})
				}
				wg.Wait()
			}
			report(b, took, time.Since(start))
		})
	}
}

// startBenchWorker starts this test binary as a worker process serving p
// on queue (see serveBenchWorker); it is killed when the benchmark ends.
func startBenchWorker(b *testing.B, p *protocol.Protocol, queue, prefix string) {
	url := servicetest.RedisURL(b)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OCTRUN_BENCH_WORKER=1", "OCTRUN_BENCH_TEMPORAL="+servicetest.Temporal(b),
		"OCTRUN_BENCH_QUEUE="+queue, "OCTRUN_BENCH_AGENT="+p.Dir, "OCTRUN_BENCH_REDIS="+url, "OCTRUN_BENCH_PREFIX="+prefix)
	cmd.Stderr = os.Stderr
	require.NoError(b, cmd.Start())
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

// serveBenchWorker is a worker process of the benchmark: the agent of
// OCTRUN_BENCH_AGENT on OCTRUN_BENCH_QUEUE, with the scripted model and
// the Go tool of the benchmark, until it is killed.
func serveBenchWorker() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "bench worker:", err); return 1 }
	p, err := protocol.Load(os.Getenv("OCTRUN_BENCH_AGENT"))
	if err != nil {
		return fail(err)
	}
	c, err := client.Dial(client.Options{HostPort: os.Getenv("OCTRUN_BENCH_TEMPORAL"), Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return fail(err)
	}
	r, err := relay.Dial(context.Background(), os.Getenv("OCTRUN_BENCH_REDIS"), relay.WithPrefix(os.Getenv("OCTRUN_BENCH_PREFIX")))
	if err != nil {
		return fail(err)
	}
	w, err := temporal.NewWorker(c, []*protocol.Protocol{p}, temporal.WorkerOptions{TaskQueue: os.Getenv("OCTRUN_BENCH_QUEUE"), Tools: benchTools, Relay: r,
		LLMPerRun: func(first int) llm.Client { return llm.NewScriptedFrom(benchScript, first) }})
	if err != nil {
		return fail(err)
	}
	if err := w.Run(worker.InterruptCh()); err != nil {
		return fail(err)
	}
	return 0
}

// historyLen counts the events of a workflow's history.
func historyLen(b *testing.B, e *env, id string) int {
	iter := e.c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	n := 0
	for iter.HasNext() {
		_, err := iter.Next()
		require.NoError(b, err)
		n++
	}
	return n
}
