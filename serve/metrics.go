package serve

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/octrun/octrun/events"
)

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram.
var latencyBuckets = []float64{0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120}

// metrics counts what GET /metrics reports, in the Prometheus text format.
type metrics struct {
	started   atomic.Int64
	tokensIn  atomic.Int64
	tokensOut atomic.Int64
	toolCalls atomic.Int64

	mu       sync.Mutex
	outcomes map[string]int64
	requests map[string]*histogram
}

type histogram struct {
	buckets []int64 // per bound of latencyBuckets, then +Inf
	sum     float64
	count   int64
}

func newMetrics() *metrics {
	return &metrics{outcomes: map[string]int64{}, requests: map[string]*histogram{}}
}

// finished counts a leg that ended as outcome.
func (m *metrics) finished(outcome string) {
	m.mu.Lock()
	m.outcomes[outcome]++
	m.mu.Unlock()
}

// observeEvent counts what an event tells: tokens, tool calls.
func (m *metrics) observeEvent(ev events.Event) {
	switch v := ev.(type) {
	case events.Usage:
		m.tokensIn.Add(int64(v.Tokens.InputTokens))
		m.tokensOut.Add(int64(v.Tokens.OutputTokens))
	case events.ToolInputAvailable:
		m.toolCalls.Add(1)
	}
}

// observeRequest records the latency of a request to route.
func (m *metrics) observeRequest(route string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.requests[route]
	if h == nil {
		h = &histogram{buckets: make([]int64, len(latencyBuckets)+1)}
		m.requests[route] = h
	}
	secs := d.Seconds()
	h.buckets[sort.SearchFloat64s(latencyBuckets, secs)]++
	h.sum += secs
	h.count++
}

// write writes every metric in the Prometheus text exposition format,
// with inFlight the legs running now.
func (m *metrics) write(w io.Writer, inFlight int) {
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("octrun_runs_started_total", "Executions started.", m.started.Load())
	fmt.Fprintf(w, "# HELP octrun_runs_in_flight Legs of executions running now.\n# TYPE octrun_runs_in_flight gauge\noctrun_runs_in_flight %d\n", inFlight)
	counter("octrun_model_input_tokens_total", "Model input tokens of the runs.", m.tokensIn.Load())
	counter("octrun_model_output_tokens_total", "Model output tokens of the runs.", m.tokensOut.Load())
	counter("octrun_tool_calls_total", "Tool calls the runs made.", m.toolCalls.Load())

	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(w, "# HELP octrun_runs_finished_total Legs ended, by outcome (completed, failed, cancelled, paused, refused: a continue the runner turned away).\n# TYPE octrun_runs_finished_total counter\n")
	for _, o := range []string{"completed", "failed", "cancelled", "paused", "refused"} {
		fmt.Fprintf(w, "octrun_runs_finished_total{outcome=%q} %d\n", o, m.outcomes[o])
	}
	fmt.Fprintf(w, "# HELP octrun_http_request_duration_seconds Latency of API requests (a stream's whole duration), by route.\n# TYPE octrun_http_request_duration_seconds histogram\n")
	routes := make([]string, 0, len(m.requests))
	for r := range m.requests {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	for _, r := range routes {
		h := m.requests[r]
		var cum int64
		for i, b := range latencyBuckets {
			cum += h.buckets[i]
			fmt.Fprintf(w, "octrun_http_request_duration_seconds_bucket{route=%q,le=\"%g\"} %d\n", r, b, cum)
		}
		fmt.Fprintf(w, "octrun_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", r, h.count)
		fmt.Fprintf(w, "octrun_http_request_duration_seconds_sum{route=%q} %g\n", r, h.sum)
		fmt.Fprintf(w, "octrun_http_request_duration_seconds_count{route=%q} %d\n", r, h.count)
	}
}

// serveMetrics serves GET /metrics.
func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s.mu.Lock()
	inFlight := s.inFlight
	s.mu.Unlock()
	s.metrics.write(w, inFlight)
}
