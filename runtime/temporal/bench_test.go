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

// benchAgents writes the benchmark's agents into one folder: "bench", a
// 3-effect worker (a model call that asks for a tool, the tool, and a
// model call that answers), and "bench-one", a 1-effect worker (a
// tool-call block), whose difference is the cost of two effects.
func benchAgents(b *testing.B) (dir string, three, one *protocol.Protocol) {
	dir = b.TempDir()
	tool := "tools:\n  lookup:\n    description: Look it up\n    parameters:\n      q: { type: string }\nvariables:\n  ANSWER: { type: string }\n"
	for name, text := range map[string]string{
		"bench/settings.json":     `{"slug": "bench", "name": "Bench", "format": "worker"}`,
		"bench/protocol.yaml":     tool + "steps:\n  Start:\n    block: start-thread\n    thread: main\n    model: openai/gpt-4o-mini\n    system: system\n    tools: [lookup]\n    maxSteps: 2\n  Answer:\n    block: next-message\n    output: ANSWER\noutput: ANSWER\n",
		"bench/prompts/system.md": "You look things up.\n",
		"bench-one/settings.json": `{"slug": "bench-one", "name": "Bench one", "format": "worker"}`,
		"bench-one/protocol.yaml": tool + "steps:\n  Look up:\n    block: tool-call\n    tool: lookup\n    input:\n      q: tides\n    output: ANSWER\noutput: ANSWER\n",
	} {
		path := filepath.Join(dir, name)
		require.NoError(b, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(b, os.WriteFile(path, []byte(text), 0o644))
	}
	load := func(slug string) *protocol.Protocol {
		p, err := protocol.Load(filepath.Join(dir, slug))
		require.NoError(b, err, "%v", p)
		return p
	}
	return dir, load("bench"), load("bench-one")
}

var benchScript = &llm.Script{Responses: []llm.ScriptResponse{
	{ToolCalls: []llm.ToolCall{{Name: "lookup", Arguments: `{"q":"tides"}`}}},
	{Text: "The moon pulls the sea."},
}}

var benchTools = map[string]runtime.ToolHandler{"lookup": func(context.Context, map[string]any) (any, error) { return "the moon", nil }}

// report reports runs/s and the p50 and p99 of a set of run durations.
func report(b *testing.B, took []time.Duration, wall time.Duration) {
	b.ReportMetric(percentile(took, 0.5), "p50-ms")
	b.ReportMetric(percentile(took, 0.99), "p99-ms")
	b.ReportMetric(float64(len(took))/wall.Seconds(), "runs/s")
}

// percentile returns the p-th percentile of durations, in milliseconds.
func percentile(took []time.Duration, p float64) float64 {
	took = slices.Sorted(slices.Values(took))
	return float64(took[int(p*float64(len(took)-1))]) / float64(time.Millisecond)
}

// BenchmarkRuns runs the 3-effect worker in process and through Temporal
// with one and two worker processes, one run at a time and 50 at once, in
// the same benchmark run, so that their figures compare:
//
//	go test ./runtime/temporal -run XXX -bench Runs -benchtime 100x
//
// One run at a time, each iteration also runs the 1-effect worker, so
// that added-ms/effect, the p50 difference divided by the two effects
// more, is what one more effect costs through Temporal (a run's fixed
// costs, starting the workflow and reading its result, cancel out).
func BenchmarkRuns(b *testing.B) {
	dir, p, one := benchAgents(b)
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
			startBenchWorker(b, dir, queue, e.prefix)
		}
		sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay, NoWorkerWait: 30 * time.Second})
		require.NoError(b, sub.CheckWorkers(ctx))
		b.Run(fmt.Sprintf("temporal-%d-worker-process", workers), func(b *testing.B) {
			took := make([]time.Duration, 0, b.N)
			tookOne := make([]time.Duration, 0, b.N)
			var last string
			var wall time.Duration
			for b.Loop() {
				t0 := time.Now()
				res, err := sub.Run(ctx, p, nil, temporal.RunOptions{})
				require.NoError(b, err)
				took = append(took, time.Since(t0))
				wall += time.Since(t0)
				last = res.ExecutionID
				t0 = time.Now()
				_, err = sub.Run(ctx, one, nil, temporal.RunOptions{})
				require.NoError(b, err)
				tookOne = append(tookOne, time.Since(t0))
			}
			report(b, took, wall)
			b.ReportMetric(float64(historyLen(b, e, last)), "history-events/run")
			b.ReportMetric(percentile(tookOne, 0.5), "p50-1-effect-ms")
			b.ReportMetric((percentile(took, 0.5)-percentile(tookOne, 0.5))/2, "added-ms/effect")
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

// startBenchWorker starts this test binary as a worker process serving
// the agents of dir on queue (see serveBenchWorker); it is killed when the
// benchmark ends.
func startBenchWorker(b *testing.B, dir, queue, prefix string) {
	url := servicetest.RedisURL(b)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OCTRUN_BENCH_WORKER=1", "OCTRUN_BENCH_TEMPORAL="+servicetest.Temporal(b),
		"OCTRUN_BENCH_QUEUE="+queue, "OCTRUN_BENCH_AGENTS="+dir, "OCTRUN_BENCH_REDIS="+url, "OCTRUN_BENCH_PREFIX="+prefix)
	cmd.Stderr = os.Stderr
	require.NoError(b, cmd.Start())
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

// serveBenchWorker is a worker process of the benchmark: the agents of
// OCTRUN_BENCH_AGENTS on OCTRUN_BENCH_QUEUE, with the scripted model and
// the Go tool of the benchmark, until it is killed.
func serveBenchWorker() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "bench worker:", err); return 1 }
	var agents []*protocol.Protocol
	for _, slug := range []string{"bench", "bench-one"} {
		p, err := protocol.Load(filepath.Join(os.Getenv("OCTRUN_BENCH_AGENTS"), slug))
		if err != nil {
			return fail(err)
		}
		agents = append(agents, p)
	}
	c, err := client.Dial(client.Options{HostPort: os.Getenv("OCTRUN_BENCH_TEMPORAL"), Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return fail(err)
	}
	r, err := relay.Dial(context.Background(), os.Getenv("OCTRUN_BENCH_REDIS"), relay.WithPrefix(os.Getenv("OCTRUN_BENCH_PREFIX")))
	if err != nil {
		return fail(err)
	}
	w, err := temporal.NewWorker(c, agents, temporal.WorkerOptions{TaskQueue: os.Getenv("OCTRUN_BENCH_QUEUE"), Tools: benchTools, Relay: r,
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
