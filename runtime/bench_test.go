package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/benchclient"
	"github.com/octrun/octrun/internal/benchpair"
	"github.com/octrun/octrun/internal/benchserver"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// sixStepWorker is a 6-step, 2-thread worker: a researcher thread answers,
// a writer thread rewrites the answer.
const sixStepWorker = `
input:
  TOPIC: { type: string }
variables:
  NOTES: { type: string }
  TEXT: { type: string }
steps:
  Start research:
    block: start-thread
    thread: research
    model: openai/gpt-4o-mini
    system: research
    input: [TOPIC]
  Ask:
    block: add-message
    thread: research
    role: user
    prompt: ask
    input: [TOPIC]
  Research:
    block: next-message
    thread: research
    output: NOTES
  Start writer:
    block: start-thread
    thread: writer
    model: openai/gpt-4o-mini
    system: writer
  Hand over:
    block: add-message
    thread: writer
    role: user
    prompt: hand-over
    input: [NOTES]
  Write:
    block: next-message
    thread: writer
    output: TEXT
output: TEXT
`

// sixStepFiles are the files of the six-step worker.
var sixStepFiles = map[string]string{
	"settings.json":        `{"slug": "bench", "name": "Bench", "format": "worker"}`,
	"protocol.yaml":        sixStepWorker,
	"prompts/research.md":  "You research {{TOPIC}}. Be brief.\n",
	"prompts/ask.md":       "What is known about {{TOPIC}}?\n",
	"prompts/writer.md":    "You rewrite notes for a general audience.\n",
	"prompts/hand-over.md": "Notes:\n\n{{NOTES}}\n",
}

// loadBenchWorker writes a worker's files and loads it.
func loadBenchWorker(b *testing.B, files map[string]string) *protocol.Protocol {
	b.Helper()
	p, err := protocol.Load(benchserver.WriteWorker(b, files))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkSixStepTwoThreads runs a 6-step, 2-thread worker with the
// scripted model: the engine's own cost of a run (target: under 100 µs).
// Its sub-benchmarks send the events nowhere (sink=none) or encode each
// through the JSONL sink into io.Discard (sink=jsonl), as a run with
// --events jsonl does.
func BenchmarkSixStepTwoThreads(b *testing.B) {
	p := loadBenchWorker(b, sixStepFiles)
	script := &llm.Script{Responses: []llm.ScriptResponse{
		{Text: "Tides come from the Moon's pull and the Earth's rotation; most coasts see two a day."},
		{Text: "The sea rises and falls twice a day because the Moon pulls on it."},
	}}
	input := map[string]any{"TOPIC": "tides"}
	for _, sink := range []string{"none", "jsonl"} {
		b.Run("sink="+sink, func(b *testing.B) {
			var lines lineCounter
			opts := []runtime.Option{runtime.WithExecutionID("bench")}
			if sink == "jsonl" {
				opts = append(opts, runtime.WithEventSink(events.NewJSONLWriter(&lines)))
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := runtime.Run(context.Background(), p, input, append(opts, runtime.WithLLM(llm.NewScripted(script)))...)
				if err != nil {
					b.Fatal(err)
				}
				if res.Output != script.Responses[1].Text {
					b.Fatalf("output %v, want %q", res.Output, script.Responses[1].Text)
				}
			}
			if sink == "jsonl" && lines.n < 20*b.N {
				b.Fatalf("%d events written in %d runs, want at least 20 a run", lines.n, b.N)
			}
		})
	}
}

// lineCounter is an io.Writer that counts the lines written to it.
type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// BenchmarkNextMessage2000Deltas runs a worker whose next-message streams
// one generation of 2,000 deltas (reasoning, text and a client tool call's
// arguments, after which the run pauses) from the fake server, running in a
// process of its own; and the bare client of internal/benchclient reading
// the same generation with the same decoding. Its sub-benchmarks differ in
// what happens to the events: sink=count only counts them (the bare client
// writes nothing); sink=jsonl and sink=sse encode every event through the
// real sink of package events into io.Discard (the bare client writes the
// same content events in the same format). Each iteration runs both, in
// alternating order; the benchmark reports the min/median/max of octrun's
// wall time, CPU time and allocations divided by the bare client's
// (ns-ratio-*, cpu-ns-ratio-*, allocs-ratio-*; target at most 1.10) and
// each side's mean (own-*/op, base-*/op).
func BenchmarkNextMessage2000Deltas(b *testing.B) {
	gen := benchserver.NewGeneration(2000, "lookup")
	srv := benchserver.Start(b, gen.Script(), gen.Options())
	httpClient := &http.Client{}
	p := loadBenchWorker(b, benchserver.Worker(gen.ToolName, 1))
	router := llm.NewRouter(func(string) string { return "" },
		llm.WithBaseURL(srv.URL, "sk-bench"), llm.WithClientOptions(llm.WithHTTPClient(httpClient)))
	bareReq := openai.ChatCompletionRequest{
		Model:    "openai/gpt-4o-mini",
		Messages: []openai.ChatCompletionMessage{{Role: "system", Content: "You answer.\n"}},
	}
	for _, variant := range []struct {
		name   string
		sink   func() events.Sink
		format benchclient.Format
	}{
		{"count", func() events.Sink { return func(events.Event) error { return nil } }, benchclient.None},
		{"jsonl", func() events.Sink { return events.NewJSONLWriter(io.Discard) }, benchclient.JSONL},
		{"sse", func() events.Sink { return events.NewSSEWriter(io.Discard).Send }, benchclient.SSE},
	} {
		b.Run("sink="+variant.name, func(b *testing.B) {
			bare := benchpair.Timed(func() {
				res, err := benchclient.Stream(b.Context(), httpClient, srv.URL, bareReq, io.Discard, variant.format)
				if err != nil {
					b.Fatal(err)
				}
				if res.Deltas != gen.Deltas() || len(res.ToolCalls) != 1 {
					b.Fatalf("bare client: %d deltas and %d tool calls, want %d and 1", res.Deltas, len(res.ToolCalls), gen.Deltas())
				}
				if err := gen.Check(res.Text, res.Reasoning, res.ToolCalls[0].Name, res.ToolCalls[0].Arguments); err != nil {
					b.Fatal("bare client: ", err)
				}
			})
			octrun := benchpair.Timed(func() {
				var text, reasoning, args strings.Builder
				sink := variant.sink()
				_, err := runtime.Run(b.Context(), p, nil, runtime.WithLLM(router), runtime.WithExecutionID("bench"),
					runtime.WithEventSink(func(ev events.Event) error {
						switch ev := ev.(type) {
						case events.TextDelta:
							text.WriteString(ev.Delta)
						case events.ReasoningDelta:
							reasoning.WriteString(ev.Delta)
						case events.ToolInputDelta:
							args.WriteString(ev.InputTextDelta)
						}
						return sink(ev)
					}))
				if pause, ok := errors.AsType[*runtime.PauseError](err); !ok || len(pause.Calls) != 1 {
					b.Fatalf("octrun: the run ended with %v, want a pause for one tool call", err)
				}
				if err := gen.Check(text.String(), reasoning.String(), gen.ToolName, args.String()); err != nil {
					b.Fatal("octrun: ", err)
				}
			})
			benchpair.Run(b, bare, octrun)
		})
	}
}

// BenchmarkRoundsOnOneThread runs a worker of 10, 50 or 200 rounds on one
// thread, each round a next-message block whose scripted model calls a tool
// (its result an object) and then answers: the cost of a round as the
// history grows (ns/round, allocs/round; target: flat within 2x from 10 to
// 200 rounds).
func BenchmarkRoundsOnOneThread(b *testing.B) {
	for _, rounds := range []int{10, 50, 200} {
		b.Run(fmt.Sprintf("rounds=%d", rounds), func(b *testing.B) {
			p := loadBenchWorker(b, benchserver.Worker("lookup", rounds))
			script := &llm.Script{}
			for i := range rounds {
				script.Responses = append(script.Responses,
					llm.ScriptResponse{ToolCalls: []llm.ToolCall{{Name: "lookup", Arguments: `{"term":"tides"}`}}},
					llm.ScriptResponse{Text: fmt.Sprintf("answer %d", i+1)})
			}
			calls := 0
			lookup := runtime.WithTool("lookup", func(context.Context, map[string]any) (any, error) {
				calls++
				return map[string]any{"hits": []any{"the Moon", "the Sun"}, "count": 2}, nil
			})
			want := fmt.Sprintf("answer %d", rounds)
			b.ReportAllocs()
			var ms goruntime.MemStats
			goruntime.ReadMemStats(&ms)
			mallocs := ms.Mallocs
			for b.Loop() {
				calls = 0
				res, err := runtime.Run(context.Background(), p, nil, lookup,
					runtime.WithLLM(llm.NewScripted(script)), runtime.WithExecutionID("bench"))
				if err != nil {
					b.Fatal(err)
				}
				if res.Output != want || calls != rounds {
					b.Fatalf("output %v after %d tool calls, want %q after %d", res.Output, calls, want, rounds)
				}
			}
			goruntime.ReadMemStats(&ms)
			n := float64(b.N * rounds)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/round")
			b.ReportMetric(float64(ms.Mallocs-mallocs)/n, "allocs/round")
		})
	}
}

// BenchmarkThousandRunsInFlight starts 1,000 runs at once against a slow
// fake server, running in a process of its own, and measures, once the
// server has received every run's request, the memory each run holds: the
// growth of the heap in use and of goroutine stacks after a GC. In the
// same iteration it measures 1,000 bare requests in flight through an
// HTTP client like the runs' (net/http's connection, its two goroutines
// and buffers, and the waiting caller), so that octrun's own share is the
// difference: own-heap-KiB/run, own-stack-KiB/run and own-KiB/run (target
// at most 32); run-KiB/run and http-KiB/run are the two totals.
func BenchmarkThousandRunsInFlight(b *testing.B) {
	const runs = 1000
	p := loadBenchWorker(b, sixStepFiles)
	srv := benchserver.Start(b, map[string]any{"responses": []any{map[string]any{"text": "slow words arrive one by one"}}},
		benchserver.Options{Delay: time.Minute})
	input := map[string]any{"TOPIC": "tides"}
	body := `{"model":"gpt-4o","messages":[{"role":"user","content":"tides"}],"stream":true}`
	var heap, stack, bareHeap, bareStack float64
	for b.Loop() {
		bareHeap, bareStack = inFlight(b, srv, runs, func(ctx context.Context, c *http.Client) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/chat/completions", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		})
		heap, stack = inFlight(b, srv, runs, func(ctx context.Context, c *http.Client) {
			router := llm.NewRouter(func(string) string { return "" },
				llm.WithBaseURL(srv.URL, "sk-bench"), llm.WithClientOptions(llm.WithHTTPClient(c)))
			_, _ = runtime.Run(ctx, p, input, runtime.WithLLM(router))
		})
	}
	b.ReportMetric(heap-bareHeap, "own-heap-KiB/run")
	b.ReportMetric(stack-bareStack, "own-stack-KiB/run")
	b.ReportMetric(heap+stack-bareHeap-bareStack, "own-KiB/run")
	b.ReportMetric(heap+stack, "run-KiB/run")
	b.ReportMetric(bareHeap+bareStack, "http-KiB/run")
}

// inFlight starts n calls of call at once, each with the same HTTP client,
// waits until srv has received n more requests, and returns the growth of
// the heap and of goroutine stacks per call in KiB; then it cancels the
// calls and waits for them.
func inFlight(b *testing.B, srv *benchserver.Server, n int, call func(context.Context, *http.Client)) (heap, stack float64) {
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer httpClient.CloseIdleConnections()
	heapBefore, stackBefore := memInUse()
	received := requests(b, srv)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { call(ctx, httpClient) })
	}
	for requests(b, srv) < received+n {
		time.Sleep(10 * time.Millisecond)
	}
	heapAfter, stackAfter := memInUse()
	cancel()
	wg.Wait()
	perCall := func(after, before uint64) float64 { return (float64(after) - float64(before)) / float64(n) / 1024 }
	return perCall(heapAfter, heapBefore), perCall(stackAfter, stackBefore)
}

// requests is the number of requests srv has received.
func requests(b *testing.B, srv *benchserver.Server) int {
	n, err := srv.Requests()
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// memInUse is the heap and the goroutine stack memory in use after a GC.
func memInUse() (heap, stack uint64) {
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse
}

func writeFile(tb testing.TB, dir, name, text string) {
	tb.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
}
