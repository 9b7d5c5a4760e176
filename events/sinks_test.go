package events

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stream is a short standalone run.
var stream = []Event{
	Start{ExecutionID: "x"},
	WorkerStart{WorkerID: "w", WorkerSlug: "s"},
	TextDelta{ID: "t", Delta: "a <b>\n"},
	WorkerResult{WorkerID: "w", Output: raw(`false`)},
	Finish{FinishReason: FinishStop, ExecutionID: "x"},
}

const streamJSONL = `{"type":"start","executionId":"x"}
{"type":"worker-start","workerId":"w","workerSlug":"s"}
{"type":"text-delta","id":"t","delta":"a <b>\n"}
{"type":"worker-result","workerId":"w","output":false}
{"type":"finish","finishReason":"stop","executionId":"x"}
`

func TestJSONLWriter(t *testing.T) {
	var buf bytes.Buffer
	sink := NewJSONLWriter(&buf)
	for _, ev := range stream {
		require.NoError(t, sink(ev))
	}
	assert.Equal(t, streamJSONL, buf.String())

	// Every line parses back to the event written.
	for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		ev, err := Parse([]byte(line))
		require.NoError(t, err)
		assert.Equal(t, stream[i], ev)
	}
}

func TestSSEWriter(t *testing.T) {
	var buf bytes.Buffer
	sse := NewSSEWriter(&buf)
	for _, ev := range stream {
		require.NoError(t, sse.Send(ev))
	}
	require.NoError(t, sse.Close())
	require.NoError(t, sse.Close(), "second Close does nothing")

	want := ""
	for _, line := range strings.SplitAfter(strings.TrimSuffix(streamJSONL, "\n"), "\n") {
		want += "data: " + strings.TrimSuffix(line, "\n") + "\n\n"
	}
	want += "data: [DONE]\n\n"
	assert.Equal(t, want, buf.String())

	assert.EqualError(t, sse.Send(Start{}), "events: SSE stream already closed")
	assert.Equal(t, want, buf.String(), "nothing written after [DONE]")
}

func TestWritersFlush(t *testing.T) {
	t.Run("http.Flusher", func(t *testing.T) {
		rec := httptest.NewRecorder()
		sse := NewSSEWriter(rec)
		require.NoError(t, sse.Send(Start{}))
		assert.True(t, rec.Flushed)
		assert.Equal(t, "data: {\"type\":\"start\"}\n\n", rec.Body.String())
	})
	t.Run("bufio.Writer", func(t *testing.T) {
		var buf bytes.Buffer
		sink := NewJSONLWriter(bufio.NewWriter(&buf))
		require.NoError(t, sink(Start{}))
		assert.Equal(t, "{\"type\":\"start\"}\n", buf.String(), "written through without an explicit Flush")
	})
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriterErrors(t *testing.T) {
	gone := errors.New("broken pipe")
	tests := []struct {
		name    string
		newSink func(io.Writer) Sink
	}{
		{"jsonl", NewJSONLWriter},
		{"sse", func(w io.Writer) Sink { return NewSSEWriter(w).Send }},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/write", func(t *testing.T) {
			assert.ErrorIs(t, tc.newSink(failingWriter{gone})(Start{}), gone)
		})
		t.Run(tc.name+"/encode", func(t *testing.T) {
			var buf bytes.Buffer
			err := tc.newSink(&buf)(Source{SourceType: "video"})
			assert.EqualError(t, err, `events: encode source event: events: source: unknown sourceType "video" (want "url" or "document")`)
			assert.Empty(t, buf.String(), "nothing written")
		})
	}
}

func TestCollector(t *testing.T) {
	var c Collector
	assert.Empty(t, c.Events())
	e := NewEmitter(Routed(c.Send, false))
	for _, ev := range stream {
		e.Emit(ev)
	}
	got := c.Events()
	assert.Equal(t, stream, got)

	got[0] = Finish{}
	assert.Equal(t, stream, c.Events(), "Events returns a copy")
}

// benchStream is a streamed answer as a sink sees it: mostly deltas, a tool
// call, the lifecycle around them.
func benchStream() []Event {
	evs := []Event{Start{ExecutionID: "exec_1"}, BlockStart{BlockID: "b1", BlockName: "Answer", BlockType: "next-message", Display: DisplayStream}, TextStart{ID: "t1"}}
	for range 40 {
		evs = append(evs, TextDelta{ID: "t1", Delta: "a few words <of> text\n"})
	}
	evs = append(evs, TextEnd{ID: "t1"},
		ToolInputStart{ToolCallID: "call_1", ToolName: "search"},
		ToolInputDelta{ToolCallID: "call_1", InputTextDelta: `{"q":"x"}`},
		ToolInputAvailable{ToolCallID: "call_1", ToolName: "search", Input: raw(`{"q":"x"}`)},
		ToolOutputAvailable{ToolCallID: "call_1", Output: raw(`{"hits":["a","b"]}`)},
		BlockEnd{BlockID: "b1"},
		Finish{FinishReason: FinishStop, ExecutionID: "exec_1"})
	return evs
}

func BenchmarkWriters(b *testing.B) {
	evs := benchStream()
	for _, tc := range []struct {
		name    string
		newSink func(io.Writer) Sink
	}{
		{"jsonl", NewJSONLWriter},
		{"sse", func(w io.Writer) Sink { return NewSSEWriter(w).Send }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sink := tc.newSink(io.Discard)
			b.ReportAllocs()
			for b.Loop() {
				for _, ev := range evs {
					if err := sink(ev); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
		})
	}
}
