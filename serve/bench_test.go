package serve_test

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/serve"
)

// BenchmarkConcurrentExecutions starts 200 executions of the title
// generator at once over HTTP, the model answering from a script, and
// checks that every stream ends complete (usage, then [DONE]); it reports
// the p50 and p99 time from sending a request to reading its first event,
// and the time until the last stream ended:
//
//	go test ./serve -run XXX -bench ConcurrentExecutions -benchtime 5x
func BenchmarkConcurrentExecutions(b *testing.B) {
	const n = 200
	s := &llm.Script{Responses: []llm.ScriptResponse{{Text: "The Tides of Brest"}}}
	for _, name := range []string{"in-process", "temporal"} {
		b.Run(name, func(b *testing.B) {
			a := newAPI(b, backends[name], s, nil, serve.Options{MaxRuns: n})
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
			var first, whole []time.Duration
			for b.Loop() {
				var mu sync.Mutex
				var wg sync.WaitGroup
				start := time.Now()
				var failures []error
				for range n {
					wg.Go(func() {
						firstAt, err := execute(client, a.url)
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							failures = append(failures, err)
							return
						}
						first = append(first, firstAt)
					})
				}
				wg.Wait()
				whole = append(whole, time.Since(start))
				require.Empty(b, failures, "every execution ended complete")
			}
			b.ReportMetric(ms(first, 0.5), "p50-first-event-ms")
			b.ReportMetric(ms(first, 0.99), "p99-first-event-ms")
			b.ReportMetric(ms(whole, 0.5), "p50-all-200-ms")
		})
	}
}

// execute starts one execution of the title generator and reads its
// stream to the end: the time to its first event, or why the stream is
// not complete (usage last, then [DONE]).
func execute(client *http.Client, url string) (time.Duration, error) {
	t0 := time.Now()
	resp, err := client.Post(url+"/api/agents/title-generator/execute", "application/json",
		strings.NewReader(`{"type":"start","input":{"SUMMARY":"The moon and the sea"}}`))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	var firstAt time.Duration
	var last string
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		if firstAt == 0 {
			firstAt = time.Since(t0)
		}
		if line == "data: [DONE]" {
			if !strings.Contains(last, `"type":"usage"`) {
				return 0, fmt.Errorf("the stream ended with %s before [DONE]", last)
			}
			return firstAt, nil
		}
		last = line
	}
	return 0, fmt.Errorf("the stream ended without [DONE]: %v", sc.Err())
}

// ms returns the p-th percentile of durations in milliseconds.
func ms(d []time.Duration, p float64) float64 {
	d = slices.Sorted(slices.Values(d))
	return float64(d[int(p*float64(len(d)-1))]) / float64(time.Millisecond)
}
