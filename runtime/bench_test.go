package runtime_test

import (
	"context"
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
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
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

func loadBenchWorker(b *testing.B, yaml string) *protocol.Protocol {
	b.Helper()
	dir := b.TempDir()
	files := map[string]string{
		"settings.json":        `{"slug": "bench", "name": "Bench", "format": "worker"}`,
		"protocol.yaml":        yaml,
		"prompts/research.md":  "You research {{TOPIC}}. Be brief.\n",
		"prompts/ask.md":       "What is known about {{TOPIC}}?\n",
		"prompts/writer.md":    "You rewrite notes for a general audience.\n",
		"prompts/hand-over.md": "Notes:\n\n{{NOTES}}\n",
		"prompts/system.md":    "You answer.\n",
	}
	for name, text := range files {
		writeFile(b, dir, name, text)
	}
	p, err := protocol.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkSixStepTwoThreads runs a 6-step, 2-thread worker with the
// scripted model: the engine's own cost of a run (target: under 100 µs).
func BenchmarkSixStepTwoThreads(b *testing.B) {
	p := loadBenchWorker(b, sixStepWorker)
	script := &llm.Script{Responses: []llm.ScriptResponse{
		{Text: "Tides come from the Moon's pull and the Earth's rotation; most coasts see two a day."},
		{Text: "The sea rises and falls twice a day because the Moon pulls on it."},
	}}
	input := map[string]any{"TOPIC": "tides"}
	b.ReportAllocs()
	for b.Loop() {
		res, err := runtime.Run(context.Background(), p, input, runtime.WithLLM(llm.NewScripted(script)), runtime.WithExecutionID("bench"))
		if err != nil || res.Output == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNextMessage2000Deltas streams one next-message of 2,000 text
// deltas from the fake OpenAI server: bare go-openai reading the stream,
// and octrun running a worker whose next-message streams it as events to a
// sink, side by side. The octrun sub-benchmark reports its time per run
// divided by go-openai's (ns-ratio; target at most 1.10).
func BenchmarkNextMessage2000Deltas(b *testing.B) {
	const deltas = 2000
	text := strings.Repeat("word ", deltas)
	srv := fakeopenai.New(&llm.Script{Responses: []llm.ScriptResponse{{Text: text}}},
		fakeopenai.WithDeltas(deltas), fakeopenai.WithLoop())
	defer srv.Close()
	httpClient := &http.Client{}
	var bareNs float64

	b.Run("go-openai", func(b *testing.B) {
		client := srv.GoOpenAIClient(httpClient)
		req := openai.ChatCompletionRequest{
			Model:         "openai/gpt-4o-mini",
			Messages:      []openai.ChatCompletionMessage{{Role: "system", Content: "You answer.\n"}},
			Stream:        true,
			StreamOptions: &openai.StreamOptions{IncludeUsage: true},
		}
		b.ReportAllocs()
		for b.Loop() {
			got, err := fakeopenai.ReadStream(b.Context(), client, req)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != len(text) {
				b.Fatalf("read %d bytes, want %d", len(got), len(text))
			}
		}
		bareNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})

	b.Run("octrun", func(b *testing.B) {
		p := loadBenchWorker(b, `
variables:
  TEXT: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
  Answer:
    block: next-message
    output: TEXT
output: TEXT
`)
		router := llm.NewRouter(func(string) string { return "" },
			llm.WithBaseURL(srv.URL(), "sk-bench"), llm.WithClientOptions(llm.WithHTTPClient(httpClient)))
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			res, err := runtime.Run(b.Context(), p, nil, runtime.WithLLM(router), runtime.WithExecutionID("bench"),
				runtime.WithEventSink(func(ev events.Event) error {
					if _, ok := ev.(events.TextDelta); ok {
						n++
					}
					return nil
				}))
			if err != nil {
				b.Fatal(err)
			}
			if n != deltas || len(res.Output.(string)) != len(text) {
				b.Fatalf("got %d deltas, want %d", n, deltas)
			}
		}
		if bareNs > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/bareNs, "ns-ratio")
		}
	})
}

// BenchmarkThousandRunsInFlight starts 1,000 runs at once against a slow
// fake server and measures, once every run is waiting for its stream, the
// heap and stack memory in use per run (KiB/run; target under 100). The
// figure includes the in-process fake server's side of each connection.
func BenchmarkThousandRunsInFlight(b *testing.B) {
	const runs = 1000
	p := loadBenchWorker(b, sixStepWorker)
	srv := fakeopenai.New(&llm.Script{Responses: []llm.ScriptResponse{{Text: "slow words arrive one by one"}}},
		fakeopenai.WithDelay(2*time.Second), fakeopenai.WithLoop())
	defer srv.Close()
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: runs}}
	router := llm.NewRouter(func(string) string { return "" },
		llm.WithBaseURL(srv.URL(), "sk-bench"), llm.WithClientOptions(llm.WithHTTPClient(httpClient)))
	input := map[string]any{"TOPIC": "tides"}
	var perRun float64
	for b.Loop() {
		before := memInUse()
		received := len(srv.Requests())
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range runs {
			wg.Go(func() {
				_, _ = runtime.Run(ctx, p, input, runtime.WithLLM(router))
			})
		}
		for len(srv.Requests()) < received+runs {
			time.Sleep(5 * time.Millisecond)
		}
		perRun = float64(memInUse()-before) / runs / 1024
		cancel()
		wg.Wait()
		httpClient.CloseIdleConnections()
	}
	b.ReportMetric(perRun, "KiB/run")
}

// memInUse is the heap and goroutine stack memory in use after a GC.
func memInUse() uint64 {
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.HeapAlloc + ms.StackInuse
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
