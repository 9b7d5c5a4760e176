package events

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collect runs f on an emitter built with opts and returns the wire form of
// every event that reached the sink.
func collect(t *testing.T, f func(e *Emitter), all ...bool) []string {
	t.Helper()
	var c Collector
	e := NewEmitter(Routed(c.Send, len(all) > 0 && all[0]))
	f(e)
	var lines []string
	for _, ev := range c.Events() {
		b, err := ev.MarshalJSON()
		require.NoError(t, err)
		lines = append(lines, string(b))
	}
	return lines
}

// block emits one block with display mode display and a short text.
func block(e *Emitter, id, display string) {
	e.Emit(BlockStart{BlockID: id, BlockName: id, BlockType: "next-message", Display: display})
	e.Emit(TextStart{ID: id + "-t"})
	e.Emit(TextDelta{ID: id + "-t", Delta: "hi"})
	e.Emit(TextEnd{ID: id + "-t"})
	e.Emit(BlockEnd{BlockID: id})
}

// worker emits a whole worker run on e: worker-start, one stream block and
// worker-result.
func worker(e *Emitter, id string) {
	e.Emit(WorkerStart{WorkerID: id, WorkerSlug: "slug-" + id, Input: raw(`{"X":1}`)})
	block(e, id+"b", DisplayStream)
	e.Emit(WorkerResult{WorkerID: id, Output: raw(`"out"`)})
}

func TestTopLevelRunIsUntagged(t *testing.T) {
	got := collect(t, func(e *Emitter) {
		e.Emit(Start{ExecutionID: "x"})
		worker(e, "w0")
		e.Emit(Finish{FinishReason: FinishStop, ExecutionID: "x"})
		e.Emit(Usage{Cost: Cost{Currency: "USD"}})
	})
	assert.Equal(t, []string{
		`{"type":"start","executionId":"x"}`,
		`{"type":"worker-start","workerId":"w0","workerSlug":"slug-w0","input":{"X":1}}`,
		`{"type":"block-start","blockId":"w0b","blockName":"w0b","blockType":"next-message","display":"stream"}`,
		`{"type":"text-start","id":"w0b-t"}`,
		`{"type":"text-delta","id":"w0b-t","delta":"hi"}`,
		`{"type":"text-end","id":"w0b-t"}`,
		`{"type":"block-end","blockId":"w0b"}`,
		`{"type":"worker-result","workerId":"w0","output":"out"}`,
		`{"type":"finish","finishReason":"stop","executionId":"x"}`,
		`{"type":"usage","cost":{"currency":"USD","bandwidthFee":0,"providerFee":0,"totalFee":0,"byok":false},"tokens":{"inputTokens":0,"outputTokens":0,"totalTokens":0}}`,
	}, got)
}

func TestBlockDisplayFiltering(t *testing.T) {
	start := func(d string) string {
		return `{"type":"block-start","blockId":"b","blockName":"b","blockType":"next-message","display":"` + d + `"}`
	}
	const end = `{"type":"block-end","blockId":"b"}`
	content := []string{
		`{"type":"text-start","id":"b-t"}`,
		`{"type":"text-delta","id":"b-t","delta":"hi"}`,
		`{"type":"text-end","id":"b-t"}`,
	}
	tests := []struct {
		display string
		all     bool
		want    []string
	}{
		{DisplayHidden, false, []string{start("hidden"), end}},
		{DisplayName, false, []string{start("name"), end}},
		{DisplayDescription, false, []string{start("description"), end}},
		{DisplayTitle, false, []string{start("title"), end}},
		{DisplayStream, false, append(append([]string{start("stream")}, content...), end)},
		{DisplayHidden, true, append(append([]string{start("hidden")}, content...), end)},
		{DisplayName, true, append(append([]string{start("name")}, content...), end)},
	}
	for _, tc := range tests {
		name := tc.display
		if tc.all {
			name += "/all-events"
		}
		t.Run(name, func(t *testing.T) {
			got := collect(t, func(e *Emitter) { block(e, "b", tc.display) }, tc.all)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBlockDisplayFiltersEveryContentEvent(t *testing.T) {
	content := []Event{
		TextStart{ID: "t"}, TextDelta{ID: "t"}, TextEnd{ID: "t"},
		ReasoningStart{ID: "r"}, ReasoningDelta{ID: "r"}, ReasoningEnd{ID: "r"},
		ToolInputStart{ToolCallID: "c", ToolName: "n"}, ToolInputDelta{ToolCallID: "c"}, ToolInputEnd{ToolCallID: "c"},
		ToolInputAvailable{ToolCallID: "c", ToolName: "n"}, ToolOutputAvailable{ToolCallID: "c"}, ToolOutputError{ToolCallID: "c"},
		FileAvailable{ID: "f"}, Source{SourceType: SourceTypeURL, ID: "s"}, TodoUpdate{},
	}
	got := collect(t, func(e *Emitter) {
		e.Emit(BlockStart{BlockID: "b", Display: DisplayName})
		for _, ev := range content {
			e.Emit(ev)
		}
		e.Emit(BlockEnd{BlockID: "b"})
	})
	assert.Len(t, got, 2, "only block-start and block-end: %v", got)
}

func TestBlockDisplayNeverFiltersControlEvents(t *testing.T) {
	control := []Event{
		Start{}, Finish{FinishReason: FinishError}, Usage{},
		Error{ErrorType: ErrorTypeExecution, Message: "m", Source: ErrorSourcePlatform},
		ToolRequest{ToolCalls: []PendingToolCall{{ToolCallID: "c", ToolName: "n", Source: ToolSourceLLM}}},
		ClientToolRequest{ExecutionID: "x"},
		ResourceUpdate{Name: "R", Value: raw(`1`)},
		WorkerStart{WorkerID: "w", WorkerSlug: "s"}, WorkerResult{WorkerID: "w"},
		WorkerInputStart{WorkerID: "w2", WorkerSlug: "s"}, WorkerInputDelta{WorkerID: "w2"}, WorkerInputReady{WorkerID: "w2"},
	}
	var c Collector
	e := NewEmitter(Routed(c.Send, false))
	e.Emit(BlockStart{BlockID: "b", Display: DisplayHidden})
	for _, ev := range control {
		e.Emit(ev)
	}
	e.Emit(BlockEnd{BlockID: "b"})
	got := c.Events()
	require.Len(t, got, len(control)+2)
	assert.Equal(t, control, got[1:len(got)-1])
}

func TestContentOutsideBlocksPasses(t *testing.T) {
	got := collect(t, func(e *Emitter) {
		block(e, "b", DisplayHidden)
		e.Emit(ToolOutputAvailable{ToolCallID: "c", Output: raw(`1`)})
	})
	assert.Equal(t, `{"type":"tool-output-available","toolCallId":"c","output":1}`, got[len(got)-1])
}

// nestedRun is a nested worker run that emits one of everything a nested
// emitter has a rule for.
func nestedRun(e *Emitter, id string) {
	e.Emit(Start{})
	worker(e, id)
	e.Emit(ToolRequest{ToolCalls: []PendingToolCall{{ToolCallID: "c", ToolName: "n", Source: ToolSourceLLM, WorkerID: id}}})
	e.Emit(ResourceUpdate{Name: "R", Value: raw(`1`)})
	e.Emit(Error{ErrorType: ErrorTypeExecution, Message: "m", Source: ErrorSourcePlatform})
	e.Emit(Finish{FinishReason: FinishStop})
	e.Emit(Usage{})
}

func TestNestedDisplayModes(t *testing.T) {
	const (
		startWithInput = `{"type":"worker-start","workerId":"w1","workerSlug":"slug-w1","input":{"X":1}}`
		startStripped  = `{"type":"worker-start","workerId":"w1","workerSlug":"slug-w1"}`
		result         = `{"type":"worker-result","workerId":"w1","output":"out"}`
		toolRequest    = `{"type":"tool-request","toolCalls":[{"toolCallId":"c","toolName":"n","args":{},"source":"llm","workerId":"w1"}],"workerId":"w1"}`
	)
	streamed := []string{
		startWithInput,
		`{"type":"block-start","blockId":"w1b","blockName":"w1b","blockType":"next-message","display":"stream","workerId":"w1"}`,
		`{"type":"text-start","id":"w1b-t","workerId":"w1"}`,
		`{"type":"text-delta","id":"w1b-t","delta":"hi","workerId":"w1"}`,
		`{"type":"text-end","id":"w1b-t","workerId":"w1"}`,
		`{"type":"block-end","blockId":"w1b","workerId":"w1"}`,
		result,
		toolRequest,
	}
	tests := []struct {
		display string
		all     bool
		want    []string
	}{
		{DisplayHidden, false, []string{toolRequest}},
		{DisplayName, false, []string{startStripped, result, toolRequest}},
		{DisplayDescription, false, []string{startStripped, result, toolRequest}},
		{DisplayTitle, false, []string{startStripped, result, toolRequest}},
		{DisplayStream, false, streamed},
		{"", false, streamed},
		{DisplayHidden, true, streamed},
		{DisplayName, true, streamed},
	}
	for _, tc := range tests {
		name := tc.display
		if tc.all {
			name += "/all-events"
		}
		t.Run(name, func(t *testing.T) {
			got := collect(t, func(e *Emitter) { nestedRun(e.Nested("w1", tc.display), "w1") }, tc.all)
			assert.Equal(t, tc.want, got)
		})
	}
}

// A nested worker's warnings about its input go where its input goes:
// shown in stream mode, left out with the input otherwise.
func TestNestedWorkerStartWarnings(t *testing.T) {
	start := WorkerStart{WorkerID: "w1", WorkerSlug: "s", Input: raw(`{"Z":1}`), Warnings: []string{"unknown input Z is ignored"}}
	for display, want := range map[string]string{
		DisplayName:   `{"type":"worker-start","workerId":"w1","workerSlug":"s"}`,
		DisplayStream: `{"type":"worker-start","workerId":"w1","workerSlug":"s","input":{"Z":1},"warnings":["unknown input Z is ignored"]}`,
	} {
		got := collect(t, func(e *Emitter) { e.Nested("w1", display).Emit(start) })
		assert.Equal(t, []string{want}, got, display)
	}
}

func TestNestedTwoDeep(t *testing.T) {
	// The outer worker w1 runs a block, then the inner worker w2, then another block.
	run := func(outer, inner string) func(e *Emitter) {
		return func(e *Emitter) {
			a := e.Nested("w1", outer)
			a.Emit(WorkerStart{WorkerID: "w1", WorkerSlug: "a", Input: raw(`{}`)})
			a.Emit(TextDelta{ID: "a"})
			b := a.Nested("w2", inner)
			b.Emit(WorkerStart{WorkerID: "w2", WorkerSlug: "b", Input: raw(`{"Y":2}`)})
			b.Emit(TextDelta{ID: "b"})
			b.Emit(WorkerResult{WorkerID: "w2"})
			a.Emit(TextDelta{ID: "a2"})
			a.Emit(WorkerResult{WorkerID: "w1"})
		}
	}
	const (
		aStartInput = `{"type":"worker-start","workerId":"w1","workerSlug":"a","input":{}}`
		aStart      = `{"type":"worker-start","workerId":"w1","workerSlug":"a"}`
		aText       = `{"type":"text-delta","id":"a","delta":"","workerId":"w1"}`
		a2Text      = `{"type":"text-delta","id":"a2","delta":"","workerId":"w1"}`
		aResult     = `{"type":"worker-result","workerId":"w1"}`
		bStartInput = `{"type":"worker-start","workerId":"w2","workerSlug":"b","input":{"Y":2}}`
		bStart      = `{"type":"worker-start","workerId":"w2","workerSlug":"b"}`
		bText       = `{"type":"text-delta","id":"b","delta":"","workerId":"w2"}`
		bResult     = `{"type":"worker-result","workerId":"w2"}`
	)
	tests := []struct {
		outer, inner string
		all          bool
		want         []string
	}{
		{DisplayStream, DisplayStream, false, []string{aStartInput, aText, bStartInput, bText, bResult, a2Text, aResult}},
		{DisplayStream, DisplayName, false, []string{aStartInput, aText, bStart, bResult, a2Text, aResult}},
		{DisplayStream, DisplayHidden, false, []string{aStartInput, aText, a2Text, aResult}},
		{DisplayTitle, DisplayStream, false, []string{aStart, aResult}},
		{DisplayHidden, DisplayStream, false, nil},
		{DisplayHidden, DisplayHidden, true, []string{aStartInput, aText, bStartInput, bText, bResult, a2Text, aResult}},
	}
	for _, tc := range tests {
		name := tc.outer + "/" + tc.inner
		if tc.all {
			name += "/all-events"
		}
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, collect(t, run(tc.outer, tc.inner), tc.all))
		})
	}
}

func TestNestedWorkerIsNotFilteredByParentBlock(t *testing.T) {
	// A run-worker block shows its worker according to the worker's display,
	// not the block's: the worker's display is the only filter.
	got := collect(t, func(e *Emitter) {
		e.Emit(BlockStart{BlockID: "rw", BlockName: "rw", BlockType: "run-worker", Display: DisplayName})
		child := e.Nested("w1", DisplayName)
		child.Emit(WorkerStart{WorkerID: "w1", WorkerSlug: "s", Input: raw(`{}`)})
		child.Emit(TextDelta{ID: "t"})
		child.Emit(WorkerResult{WorkerID: "w1"})
		e.Emit(TextDelta{ID: "own"})
		e.Emit(BlockEnd{BlockID: "rw"})
	})
	assert.Equal(t, []string{
		`{"type":"block-start","blockId":"rw","blockName":"rw","blockType":"run-worker","display":"name"}`,
		`{"type":"worker-start","workerId":"w1","workerSlug":"s"}`,
		`{"type":"worker-result","workerId":"w1"}`,
		`{"type":"block-end","blockId":"rw"}`,
	}, got)
}

func TestNestedBlockDisplayFiltering(t *testing.T) {
	// A streamed worker's own blocks are filtered by their display.
	got := collect(t, func(e *Emitter) {
		child := e.Nested("w1", DisplayStream)
		block(child, "h", DisplayHidden)
	})
	assert.Equal(t, []string{
		`{"type":"block-start","blockId":"h","blockName":"h","blockType":"next-message","display":"hidden","workerId":"w1"}`,
		`{"type":"block-end","blockId":"h","workerId":"w1"}`,
	}, got)
}

func TestEmitterWithSlowSinkIsRaceFree(t *testing.T) {
	var c Collector
	slow := func(ev Event) error {
		time.Sleep(time.Millisecond)
		return c.Send(ev)
	}
	e := NewEmitter(Routed(slow, false))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			em := e.Nested(string(rune('a'+g)), DisplayStream)
			for i := range 5 {
				em.Emit(BlockStart{BlockID: "b", Display: DisplayStream})
				em.Emit(TextDelta{ID: "t", Delta: string(rune('0' + i))})
				em.Emit(BlockEnd{BlockID: "b"})
				_ = c.Events()
			}
		})
	}
	wg.Wait()
	events := c.Events()
	assert.Len(t, events, 4*5*3)
	// Each worker's events arrive in the order it emitted them.
	next := map[string]rune{}
	for _, ev := range events {
		if d, ok := ev.(TextDelta); ok {
			want := next[d.WorkerID] + '0'
			assert.Equal(t, string(want), d.Delta, d.WorkerID)
			next[d.WorkerID]++
		}
	}
}

// The display of a tool card applies to its events, and --all-events shows
// them whole (rule §6.4).
func TestToolDisplay(t *testing.T) {
	card := func(e *Emitter, display string) {
		e.EmitTool(display, ToolInputStart{ToolCallID: "c", ToolName: "n", Display: display})
		e.EmitTool(display, ToolInputDelta{ToolCallID: "c", InputTextDelta: `{"a":`})
		e.EmitTool(display, ToolInputAvailable{ToolCallID: "c", ToolName: "n", Input: raw(`{"a":1}`)})
		e.EmitTool(display, ToolOutputAvailable{ToolCallID: "c", Output: raw(`"secret"`)})
	}
	start := func(d string) string {
		return `{"type":"tool-input-start","toolCallId":"c","toolName":"n","display":"` + d + `"}`
	}
	const (
		delta     = `{"type":"tool-input-delta","toolCallId":"c","inputTextDelta":"{\"a\":"}`
		input     = `{"type":"tool-input-available","toolCallId":"c","toolName":"n","input":{"a":1}}`
		noInput   = `{"type":"tool-input-available","toolCallId":"c","toolName":"n","input":{}}`
		output    = `{"type":"tool-output-available","toolCallId":"c","output":"secret"}`
		noOutput  = `{"type":"tool-output-available","toolCallId":"c","output":null}`
		streaming = "stream"
	)
	tests := []struct {
		display string
		all     bool
		want    []string
	}{
		{DisplayHidden, false, nil},
		{DisplayName, false, []string{start("name"), noInput, noOutput}},
		{DisplayTitle, false, []string{start("title"), noInput, noOutput}},
		{DisplayDescription, false, []string{start("description"), delta, input, output}},
		{DisplayStream, false, []string{start(streaming), delta, input, output}},
		{DisplayHidden, true, []string{start("hidden"), delta, input, output}},
		{DisplayName, true, []string{start("name"), delta, input, output}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/all=%v", tc.display, tc.all), func(t *testing.T) {
			assert.Equal(t, tc.want, collect(t, func(e *Emitter) { card(e, tc.display) }, tc.all))
		})
	}
}

// A scope is plain data: an event routed from a scope sent elsewhere (an
// effect executor on another host) is routed exactly as at home.
func TestScopeTravels(t *testing.T) {
	var home, away []string
	homeEm := NewEmitter(Routed(func(ev Event) error { home = append(home, ev.EventType()); return nil }, false))
	child := homeEm.Nested("w1", DisplayStream)
	child.Emit(BlockStart{BlockID: "b", Display: DisplayName})
	child.Emit(TextDelta{ID: "t"})
	scope := child.Scope()
	child.Emit(BlockEnd{BlockID: "b"})

	data, err := json.Marshal(scope)
	require.NoError(t, err)
	var back Scope
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, scope, back)
	awayEm := NewEmitter(Routed(func(ev Event) error { away = append(away, ev.EventType()); return nil }, true)).At(back)
	awayEm.Emit(TextDelta{ID: "t"})
	assert.Equal(t, []string{"block-start", "block-end"}, home, "the name-mode block hides its text")
	assert.Equal(t, []string{"text-delta"}, away, "all events show it")
}
