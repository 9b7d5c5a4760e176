package llm_test

import (
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/sashabaranov/go-openai"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// BenchmarkStream2000Deltas reads one generation of 2,000 text deltas from
// the fake server with bare go-openai (CreateChatCompletionStream, a Recv
// loop appending the content) and with octrun's OpenAI client, over the
// same HTTP client. The octrun sub-benchmark reports its time and
// allocations per generation divided by bare go-openai's (ns-ratio,
// allocs-ratio). Both sides' allocations include the in-process server's.
func BenchmarkStream2000Deltas(b *testing.B) {
	const deltas = 2000
	text := strings.Repeat("word ", deltas)
	srv := fakeopenai.New(&llm.Script{Responses: []llm.ScriptResponse{{Text: text}}},
		fakeopenai.WithDeltas(deltas), fakeopenai.WithLoop())
	defer srv.Close()
	httpClient := &http.Client{}
	var bare measurement

	b.Run("go-openai", func(b *testing.B) {
		client := srv.GoOpenAIClient(httpClient)
		req := openai.ChatCompletionRequest{
			Model:         "gpt-4o",
			Messages:      []openai.ChatCompletionMessage{{Role: "user", Content: "go"}},
			StreamOptions: &openai.StreamOptions{IncludeUsage: true},
		}
		m := startMeasure(b)
		for b.Loop() {
			got, err := fakeopenai.ReadStream(b.Context(), client, req)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != len(text) {
				b.Fatalf("read %d bytes of text, want %d", len(got), len(text))
			}
		}
		bare = m.stop(b)
	})

	b.Run("octrun", func(b *testing.B) {
		client := llm.NewOpenAI(srv.URL(), "sk-bench", llm.WithHTTPClient(httpClient))
		req := llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Content: "go"}}}
		m := startMeasure(b)
		for b.Loop() {
			n := 0
			resp, err := client.Generate(b.Context(), req, func(llm.Delta) error {
				n++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if n != deltas || len(resp.Text) != len(text) {
				b.Fatalf("got %d deltas and %d bytes of text, want %d and %d", n, len(resp.Text), deltas, len(text))
			}
		}
		own := m.stop(b)
		if bare.ns > 0 {
			b.ReportMetric(own.ns/bare.ns, "ns-ratio")
			b.ReportMetric(own.allocs/bare.allocs, "allocs-ratio")
		}
	})
}

// measurement is the cost of one iteration of a benchmark loop.
type measurement struct{ ns, allocs float64 }

type measure struct{ mallocs uint64 }

func startMeasure(b *testing.B) measure {
	b.ReportAllocs()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return measure{ms.Mallocs}
}

func (m measure) stop(b *testing.B) measurement {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := float64(b.N)
	return measurement{ns: float64(b.Elapsed().Nanoseconds()) / n, allocs: float64(ms.Mallocs-m.mallocs) / n}
}
