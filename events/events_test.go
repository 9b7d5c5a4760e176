package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// golden pins the wire form of every event type, with and without its
// optional fields; field order is part of the expected strings.
var golden = []struct {
	name string
	ev   Event
	want string
}{
	{"start/min", Start{}, `{"type":"start"}`},
	{"start/full", Start{MessageID: "m1", ExecutionID: "x1", LastMessageID: "m0", SessionID: "s1"},
		`{"type":"start","messageId":"m1","executionId":"x1","lastMessageId":"m0","sessionId":"s1"}`},
	{"finish/min", Finish{FinishReason: FinishStop}, `{"type":"finish","finishReason":"stop"}`},
	{"finish/full", Finish{FinishReason: FinishClientToolCalls, ExecutionID: "x1"},
		`{"type":"finish","finishReason":"client-tool-calls","executionId":"x1"}`},
	{"error/min", Error{ErrorType: ErrorTypeExecution, Message: "boom", Source: ErrorSourcePlatform},
		`{"type":"error","errorType":"execution_error","message":"boom","retryable":false,"source":"platform"}`},
	{"error/full", Error{
		ErrorType: ErrorTypeRateLimit, Message: "slow down", Retryable: true, Source: ErrorSourceProvider,
		RetryAfter: ptr(0.0), Code: "RATE",
		Provider: &ProviderErrorInfo{Name: "openai", Model: "gpt-4o", StatusCode: 429, ErrorType: "rate_limit", RequestID: "req1"},
		Tool:     &ToolErrorInfo{Name: "search", CallID: "c1"},
	}, `{"type":"error","errorType":"rate_limit_error","message":"slow down","retryable":true,"source":"provider","retryAfter":0,"code":"RATE","provider":{"name":"openai","model":"gpt-4o","statusCode":429,"errorType":"rate_limit","requestId":"req1"},"tool":{"name":"search","callId":"c1"}}`},
	{"error/nested-min", Error{ErrorType: ErrorTypeTool, Message: "m", Source: ErrorSourceTool,
		Provider: &ProviderErrorInfo{Name: "p"}, Tool: &ToolErrorInfo{Name: "t"}},
		`{"type":"error","errorType":"tool_error","message":"m","retryable":false,"source":"tool","provider":{"name":"p"},"tool":{"name":"t"}}`},
	{"usage/min", Usage{Cost: Cost{Currency: "USD"}},
		`{"type":"usage","cost":{"currency":"USD","bandwidthFee":0,"providerFee":0,"totalFee":0,"byok":false},"tokens":{"inputTokens":0,"outputTokens":0,"totalTokens":0}}`},
	{"usage/full", Usage{
		Cost:   Cost{Currency: "USD", BandwidthFee: 0.001, ProviderFee: 0.02, TotalFee: 0.021, BYOK: true, EstimatedProviderFee: ptr(0.0)},
		Tokens: Tokens{InputTokens: 10, OutputTokens: 5, TotalTokens: 15},
	}, `{"type":"usage","cost":{"currency":"USD","bandwidthFee":0.001,"providerFee":0.02,"totalFee":0.021,"byok":true,"estimatedProviderFee":0},"tokens":{"inputTokens":10,"outputTokens":5,"totalTokens":15}}`},

	{"text-start/min", TextStart{ID: "t1"}, `{"type":"text-start","id":"t1"}`},
	{"text-start/full", TextStart{ID: "t1", ResponseType: "Answer", WorkerID: "w1"},
		`{"type":"text-start","id":"t1","responseType":"Answer","workerId":"w1"}`},
	{"text-delta/min", TextDelta{ID: "t1"}, `{"type":"text-delta","id":"t1","delta":""}`},
	{"text-delta/full", TextDelta{ID: "t1", Delta: "<b>Tom & Jerry</b>\n", WorkerID: "w1"},
		`{"type":"text-delta","id":"t1","delta":"<b>Tom & Jerry</b>\n","workerId":"w1"}`},
	{"text-end/min", TextEnd{ID: "t1"}, `{"type":"text-end","id":"t1"}`},
	{"text-end/full", TextEnd{ID: "t1", WorkerID: "w1"}, `{"type":"text-end","id":"t1","workerId":"w1"}`},
	{"reasoning-start/min", ReasoningStart{ID: "r1"}, `{"type":"reasoning-start","id":"r1"}`},
	{"reasoning-start/full", ReasoningStart{ID: "r1", WorkerID: "w1"}, `{"type":"reasoning-start","id":"r1","workerId":"w1"}`},
	{"reasoning-delta/min", ReasoningDelta{ID: "r1"}, `{"type":"reasoning-delta","id":"r1","delta":""}`},
	{"reasoning-delta/full", ReasoningDelta{ID: "r1", Delta: "hm", WorkerID: "w1"},
		`{"type":"reasoning-delta","id":"r1","delta":"hm","workerId":"w1"}`},
	{"reasoning-end/min", ReasoningEnd{ID: "r1"}, `{"type":"reasoning-end","id":"r1"}`},
	{"reasoning-end/full", ReasoningEnd{ID: "r1", WorkerID: "w1"}, `{"type":"reasoning-end","id":"r1","workerId":"w1"}`},

	{"tool-input-start/min", ToolInputStart{ToolCallID: "c1", ToolName: "search"},
		`{"type":"tool-input-start","toolCallId":"c1","toolName":"search"}`},
	{"tool-input-start/full", ToolInputStart{ToolCallID: "c1", ToolName: "search", Title: "Search the web", Display: DisplayTitle, WorkerID: "w1"},
		`{"type":"tool-input-start","toolCallId":"c1","toolName":"search","title":"Search the web","display":"title","workerId":"w1"}`},
	{"tool-input-delta/min", ToolInputDelta{ToolCallID: "c1", InputTextDelta: `{"q":`},
		`{"type":"tool-input-delta","toolCallId":"c1","inputTextDelta":"{\"q\":"}`},
	{"tool-input-delta/full", ToolInputDelta{ToolCallID: "c1", InputTextDelta: `"x"}`, WorkerID: "w1"},
		`{"type":"tool-input-delta","toolCallId":"c1","inputTextDelta":"\"x\"}","workerId":"w1"}`},
	{"tool-input-end/min", ToolInputEnd{ToolCallID: "c1"}, `{"type":"tool-input-end","toolCallId":"c1"}`},
	{"tool-input-end/full", ToolInputEnd{ToolCallID: "c1", WorkerID: "w1"}, `{"type":"tool-input-end","toolCallId":"c1","workerId":"w1"}`},
	{"tool-input-available/min", ToolInputAvailable{ToolCallID: "c1", ToolName: "search"},
		`{"type":"tool-input-available","toolCallId":"c1","toolName":"search","input":null}`},
	{"tool-input-available/full", ToolInputAvailable{ToolCallID: "c1", ToolName: "search", Input: raw(`{"q": "go <1.26>"}`), WorkerID: "w1"},
		`{"type":"tool-input-available","toolCallId":"c1","toolName":"search","input":{"q":"go <1.26>"},"workerId":"w1"}`},
	{"tool-output-available/min", ToolOutputAvailable{ToolCallID: "c1"},
		`{"type":"tool-output-available","toolCallId":"c1","output":null}`},
	{"tool-output-available/full", ToolOutputAvailable{ToolCallID: "c1", Output: raw(`[1,2]`), WorkerID: "w1"},
		`{"type":"tool-output-available","toolCallId":"c1","output":[1,2],"workerId":"w1"}`},
	{"tool-output-error/min", ToolOutputError{ToolCallID: "c1", Error: "nope"},
		`{"type":"tool-output-error","toolCallId":"c1","error":"nope"}`},
	{"tool-output-error/full", ToolOutputError{ToolCallID: "c1", Error: "nope", WorkerID: "w1"},
		`{"type":"tool-output-error","toolCallId":"c1","error":"nope","workerId":"w1"}`},
	{"tool-request/min", ToolRequest{}, `{"type":"tool-request","toolCalls":[]}`},
	{"tool-request/full", ToolRequest{ToolCalls: []PendingToolCall{
		{ToolCallID: "c1", ToolName: "search", Source: ToolSourceLLM},
		{ToolCallID: "c2", ToolName: "fetch", Args: raw(`{"url":"u"}`), Source: ToolSourceBlock, OutputVariable: "PAGE", BlockIndex: ptr(0), Thread: "main", WorkerID: "w1"},
	}, WorkerID: "w1"}, `{"type":"tool-request","toolCalls":[{"toolCallId":"c1","toolName":"search","args":{},"source":"llm"},{"toolCallId":"c2","toolName":"fetch","args":{"url":"u"},"source":"block","outputVariable":"PAGE","blockIndex":0,"thread":"main","workerId":"w1"}],"workerId":"w1"}`},
	{"client-tool-request/min", ClientToolRequest{ExecutionID: "x1"},
		`{"type":"client-tool-request","executionId":"x1","toolCalls":[]}`},
	{"client-tool-request/full", ClientToolRequest{
		ExecutionID: "x1",
		ToolCalls:   []PendingToolCall{{ToolCallID: "c1", ToolName: "ask", Args: raw(`{}`), Source: ToolSourceLLM}},
		ServerToolResults: []ToolResult{
			{ToolCallID: "c2"},
			{ToolCallID: "c3", ToolName: "calc", Result: raw(`null`), Error: "e", OutputVariable: "V", BlockIndex: ptr(2), Thread: "t", WorkerID: "w1"},
		},
	}, `{"type":"client-tool-request","executionId":"x1","toolCalls":[{"toolCallId":"c1","toolName":"ask","args":{},"source":"llm"}],"serverToolResults":[{"toolCallId":"c2"},{"toolCallId":"c3","toolName":"calc","result":null,"error":"e","outputVariable":"V","blockIndex":2,"thread":"t","workerId":"w1"}]}`},

	{"block-start/min", BlockStart{BlockID: "b1", BlockName: "Respond", BlockType: "next-message", Display: DisplayStream},
		`{"type":"block-start","blockId":"b1","blockName":"Respond","blockType":"next-message","display":"stream"}`},
	{"block-start/full", BlockStart{BlockID: "b1", BlockName: "Respond", BlockType: "next-message", Display: DisplayDescription,
		Description: "Answering", OutputToChat: ptr(false), Thread: "research", WorkerID: "w1"},
		`{"type":"block-start","blockId":"b1","blockName":"Respond","blockType":"next-message","display":"description","description":"Answering","outputToChat":false,"thread":"research","workerId":"w1"}`},
	{"block-end/min", BlockEnd{BlockID: "b1"}, `{"type":"block-end","blockId":"b1"}`},
	{"block-end/full", BlockEnd{BlockID: "b1", Summary: "Generated response", WorkerID: "w1"},
		`{"type":"block-end","blockId":"b1","summary":"Generated response","workerId":"w1"}`},
	{"resource-update/min", ResourceUpdate{Name: "NOTES"}, `{"type":"resource-update","name":"NOTES","value":null}`},
	{"resource-update/full", ResourceUpdate{Name: "NOTES", Value: raw(`"text"`)}, `{"type":"resource-update","name":"NOTES","value":"text"}`},
	{"file-available/min", FileAvailable{ID: "f1", MediaType: "image/png", URL: "https://x/f1.png"},
		`{"type":"file-available","id":"f1","mediaType":"image/png","url":"https://x/f1.png"}`},
	{"file-available/full", FileAvailable{ID: "f1", MediaType: "image/png", URL: "https://x/f1.png", Filename: "f1.png", Size: ptr(int64(0)), ToolCallID: "c1", WorkerID: "w1"},
		`{"type":"file-available","id":"f1","mediaType":"image/png","url":"https://x/f1.png","filename":"f1.png","size":0,"toolCallId":"c1","workerId":"w1"}`},
	{"source-url/min", Source{SourceType: SourceTypeURL, ID: "s1", URL: "https://go.dev"},
		`{"type":"source","sourceType":"url","id":"s1","url":"https://go.dev"}`},
	{"source-url/full", Source{SourceType: SourceTypeURL, ID: "s1", URL: "https://go.dev", Title: "Go", WorkerID: "w1"},
		`{"type":"source","sourceType":"url","id":"s1","url":"https://go.dev","title":"Go","workerId":"w1"}`},
	{"source-document/min", Source{SourceType: SourceTypeDocument, ID: "s2", MediaType: "application/pdf"},
		`{"type":"source","sourceType":"document","id":"s2","mediaType":"application/pdf","title":""}`},
	{"source-document/full", Source{SourceType: SourceTypeDocument, ID: "s2", MediaType: "application/pdf", Title: "Spec", Filename: "spec.pdf", WorkerID: "w1"},
		`{"type":"source","sourceType":"document","id":"s2","mediaType":"application/pdf","title":"Spec","filename":"spec.pdf","workerId":"w1"}`},
	{"todo-update/min", TodoUpdate{}, `{"type":"todo-update","todos":[]}`},
	{"todo-update/full", TodoUpdate{Todos: []TodoItem{{ID: "1", Content: "Plan", Status: TodoInProgress}, {ID: "2", Content: "Ship", Status: TodoPending}}, WorkerID: "w1"},
		`{"type":"todo-update","todos":[{"id":"1","content":"Plan","status":"in_progress"},{"id":"2","content":"Ship","status":"pending"}],"workerId":"w1"}`},

	{"worker-start/min", WorkerStart{WorkerID: "w1", WorkerSlug: "researcher"},
		`{"type":"worker-start","workerId":"w1","workerSlug":"researcher"}`},
	{"worker-start/full", WorkerStart{WorkerID: "w1", WorkerSlug: "researcher", Description: "Researches", Input: raw(`{"TOPIC":"go"}`)},
		`{"type":"worker-start","workerId":"w1","workerSlug":"researcher","description":"Researches","input":{"TOPIC":"go"}}`},
	{"worker-start/warnings", WorkerStart{WorkerID: "w1", WorkerSlug: "researcher", Input: raw(`{"TOPC":"go"}`), Warnings: []string{"unknown input TOPC is ignored"}},
		`{"type":"worker-start","workerId":"w1","workerSlug":"researcher","input":{"TOPC":"go"},"warnings":["unknown input TOPC is ignored"]}`},
	{"worker-result/min", WorkerResult{WorkerID: "w1"}, `{"type":"worker-result","workerId":"w1"}`},
	{"worker-result/null-output", WorkerResult{WorkerID: "w1", Output: raw(`null`)}, `{"type":"worker-result","workerId":"w1","output":null}`},
	{"worker-result/false-output", WorkerResult{WorkerID: "w1", Output: raw(`false`)}, `{"type":"worker-result","workerId":"w1","output":false}`},
	{"worker-result/zero-output", WorkerResult{WorkerID: "w1", Output: raw(`0`)}, `{"type":"worker-result","workerId":"w1","output":0}`},
	{"worker-result/full", WorkerResult{WorkerID: "w1", Output: raw(`{"a":1}`), Error: "failed", Cancelled: true},
		`{"type":"worker-result","workerId":"w1","output":{"a":1},"error":"failed","cancelled":true}`},
	{"worker-input-start/min", WorkerInputStart{WorkerID: "w1", WorkerSlug: "researcher"},
		`{"type":"worker-input-start","workerId":"w1","workerSlug":"researcher"}`},
	{"worker-input-start/full", WorkerInputStart{WorkerID: "w1", WorkerSlug: "researcher", Description: "Researches"},
		`{"type":"worker-input-start","workerId":"w1","workerSlug":"researcher","description":"Researches"}`},
	{"worker-input-delta/min", WorkerInputDelta{WorkerID: "w1"}, `{"type":"worker-input-delta","workerId":"w1","delta":""}`},
	{"worker-input-delta/full", WorkerInputDelta{WorkerID: "w1", Delta: `{"TOPIC"`}, `{"type":"worker-input-delta","workerId":"w1","delta":"{\"TOPIC\""}`},
	{"worker-input-ready/min", WorkerInputReady{WorkerID: "w1"}, `{"type":"worker-input-ready","workerId":"w1","input":{}}`},
	{"worker-input-ready/full", WorkerInputReady{WorkerID: "w1", Input: raw(`{"TOPIC":"go"}`)},
		`{"type":"worker-input-ready","workerId":"w1","input":{"TOPIC":"go"}}`},
}

func TestMarshalGolden(t *testing.T) {
	enc := NewEncoder()
	buf := []byte("data: ")
	for _, tc := range golden {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ev.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
			// An Encoder appends the same bytes, after what its buffer
			// holds, the buffer reused from one event to the next.
			buf, err = enc.Append(buf[:len("data: ")], tc.ev)
			require.NoError(t, err)
			assert.Equal(t, "data: "+tc.want, string(buf))
			// json.Marshal goes through MarshalJSON too (modulo HTML escaping).
			std, err := json.Marshal(tc.ev)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(std))
		})
	}
}

func TestGoldenCoversEveryType(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range golden {
		seen[tc.ev.EventType()] = true
	}
	for typ := range prototypes {
		assert.True(t, seen[typ], "no golden for %s", typ)
	}
	assert.True(t, seen["source"])
}

func TestMarshalSourceUnknownVariant(t *testing.T) {
	_, err := Source{SourceType: "video", ID: "s"}.MarshalJSON()
	assert.EqualError(t, err, `events: source: unknown sourceType "video" (want "url" or "document")`)

	buf, err := NewEncoder().Append([]byte("data: "), Source{SourceType: "video", ID: "s"})
	assert.EqualError(t, err, `events: source: unknown sourceType "video" (want "url" or "document")`)
	assert.Equal(t, "data: ", string(buf), "the buffer is returned unchanged")
}

func TestEncoderValueError(t *testing.T) {
	buf, err := NewEncoder().Append([]byte("x"), ToolOutputAvailable{ToolCallID: "c", Output: raw(`{"a":`)})
	assert.ErrorContains(t, err, "unexpected end of JSON input")
	assert.Equal(t, "x", string(buf), "the buffer is returned unchanged")
}

func TestParseRoundTrip(t *testing.T) {
	for _, tc := range golden {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := Parse([]byte(tc.want))
			require.NoError(t, err)
			assert.Equal(t, reflect.TypeOf(tc.ev), reflect.TypeOf(ev), "Go type")
			assert.Equal(t, tc.ev.EventType(), ev.EventType())
			again, err := ev.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(again))
		})
	}
}

func TestParseKeepsNullOutput(t *testing.T) {
	ev, err := Parse([]byte(`{"type":"worker-result","workerId":"w","output":null}`))
	require.NoError(t, err)
	assert.Equal(t, WorkerResult{WorkerID: "w", Output: raw("null")}, ev)

	ev, err = Parse([]byte(`{"type":"worker-result","workerId":"w"}`))
	require.NoError(t, err)
	assert.Nil(t, ev.(WorkerResult).Output)
}

func TestParseAcceptsAnyFieldOrder(t *testing.T) {
	ev, err := Parse([]byte(`{"delta":"hi","id":"t1","type":"text-delta"}`))
	require.NoError(t, err)
	assert.Equal(t, TextDelta{ID: "t1", Delta: "hi"}, ev)
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"not json", `{`, "events: parse: unexpected end of JSON input"},
		{"not an object", `[1]`, "events: parse: an event must be a JSON object"},
		{"null", `null`, "events: parse: an event must be a JSON object"},
		{"no type", `{"id":"t1"}`, `events: parse: missing required field "type"`},
		{"type not a string", `{"type":1}`, `events: parse: field "type" must be a string, got 1`},
		{"unknown type", `{"type":"text-chunk","id":"t1"}`, `events: parse: unknown event type "text-chunk"`},
		{"unknown field", `{"type":"text-end","id":"t1","extra":1}`, `events: parse text-end event: unknown field "extra"`},
		{"unknown field on lifecycle", `{"type":"start","workerId":"w"}`, `events: parse start event: unknown field "workerId"`},
		{"unknown nested field", `{"type":"error","errorType":"tool_error","message":"m","retryable":false,"source":"tool","tool":{"name":"t","details":{}}}`,
			`events: parse error event: unknown field "tool.details"`},
		{"unknown field in array item", `{"type":"todo-update","todos":[{"id":"1","content":"c","status":"pending","done":true}]}`,
			`events: parse todo-update event: unknown field "todos[0].done"`},
		{"cancelled is not on worker-start", `{"type":"worker-start","workerId":"w","workerSlug":"s","cancelled":true}`,
			`events: parse worker-start event: unknown field "cancelled"`},
		{"missing field", `{"type":"text-delta","id":"t1"}`, `events: parse text-delta event: missing required field "delta"`},
		{"missing retryable", `{"type":"error","errorType":"tool_error","message":"m","source":"tool"}`,
			`events: parse error event: missing required field "retryable"`},
		{"missing nested field", `{"type":"usage","cost":{"currency":"USD","bandwidthFee":0,"providerFee":0,"totalFee":0},"tokens":{"inputTokens":0,"outputTokens":0,"totalTokens":0}}`,
			`events: parse usage event: missing required field "cost.byok"`},
		{"missing field in array item", `{"type":"tool-request","toolCalls":[{"toolCallId":"c","toolName":"t","args":{}}]}`,
			`events: parse tool-request event: missing required field "toolCalls[0].source"`},
		{"missing output of tool-output-available", `{"type":"tool-output-available","toolCallId":"c"}`,
			`events: parse tool-output-available event: missing required field "output"`},
		{"null string", `{"type":"text-end","id":null}`, `events: parse text-end event: field "id" must not be null`},
		{"null optional", `{"type":"start","messageId":null}`, `events: parse start event: field "messageId" must not be null`},
		{"null array", `{"type":"todo-update","todos":null}`, `events: parse todo-update event: field "todos" must not be null`},
		{"wrong scalar type", `{"type":"text-end","id":7}`, `events: parse text-end event: field "id": expected a string, got a number`},
		{"object expected", `{"type":"error","errorType":"tool_error","message":"m","retryable":false,"source":"tool","tool":"x"}`,
			`events: parse error event: field "tool" must be an object, got "x"`},
		{"bad finishReason", `{"type":"finish","finishReason":"done"}`,
			`events: parse finish event: field "finishReason": "done" is not one of ["stop" "tool-calls" "client-tool-calls" "length" "content-filter" "error" "other"]`},
		{"unsupported_error", `{"type":"error","errorType":"unsupported_error","message":"m","retryable":false,"source":"platform"}`,
			`events: parse error event: field "errorType": "unsupported_error" is not one of ["authentication_error" "permission_error" "validation_error" "not_found_error" "rate_limit_error" "quota_exceeded_error" "provider_error" "provider_overloaded" "provider_timeout" "execution_error" "tool_error" "protocol_error" "internal_error" "unknown_error"]`},
		{"bad error source", `{"type":"error","errorType":"tool_error","message":"m","retryable":false,"source":"llm"}`,
			`events: parse error event: field "source": "llm" is not one of ["platform" "provider" "tool" "client"]`},
		{"bad block display", `{"type":"block-start","blockId":"b","blockName":"n","blockType":"k","display":"loud"}`,
			`events: parse block-start event: field "display": "loud" is not one of ["hidden" "name" "description" "title" "stream"]`},
		{"bad tool display", `{"type":"tool-input-start","toolCallId":"c","toolName":"t","display":"loud"}`,
			`events: parse tool-input-start event: field "display": "loud" is not one of ["hidden" "name" "description" "title" "stream"]`},
		{"bad tool source", `{"type":"client-tool-request","executionId":"x","toolCalls":[{"toolCallId":"c","toolName":"t","args":{},"source":"user"}]}`,
			`events: parse client-tool-request event: field "toolCalls[0].source": "user" is not one of ["llm" "block"]`},
		{"args not an object", `{"type":"tool-request","toolCalls":[{"toolCallId":"c","toolName":"t","args":[],"source":"llm"}]}`,
			`events: parse tool-request event: field "toolCalls[0].args" must be an object, got []`},
		{"bad todo status", `{"type":"todo-update","todos":[{"id":"1","content":"c","status":"done"}]}`,
			`events: parse todo-update event: field "todos[0].status": "done" is not one of ["pending" "in_progress" "completed" "cancelled"]`},
		{"worker input not an object", `{"type":"worker-start","workerId":"w","workerSlug":"s","input":"x"}`,
			`events: parse worker-start event: field "input" must be an object, got "x"`},
		{"worker-input-ready input null", `{"type":"worker-input-ready","workerId":"w","input":null}`,
			`events: parse worker-input-ready event: field "input" must be an object, got null`},
		{"source without sourceType", `{"type":"source","id":"s","url":"u"}`,
			`events: parse source event: field "sourceType" must be "url" or "document"`},
		{"url source with document field", `{"type":"source","sourceType":"url","id":"s","url":"u","mediaType":"text/html"}`,
			`events: parse source event: unknown field "mediaType"`},
		{"document source without title", `{"type":"source","sourceType":"document","id":"s","mediaType":"application/pdf"}`,
			`events: parse source event: missing required field "title"`},
		{"url source without url", `{"type":"source","sourceType":"url","id":"s"}`,
			`events: parse source event: missing required field "url"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := Parse([]byte(tc.in))
			assert.EqualError(t, err, tc.wantErr)
			assert.Nil(t, ev)
		})
	}
}

func TestWithWorkerID(t *testing.T) {
	// Events with a workerId field get a tagged copy; the original is unchanged.
	orig := TextDelta{ID: "t", Delta: "d"}
	tagged := orig.WithWorkerID("w1")
	assert.Equal(t, "w1", tagged.EventWorkerID())
	assert.Equal(t, "", orig.EventWorkerID())

	// Events without one are returned as they are.
	for _, ev := range []Event{Start{}, Finish{}, Error{}, Usage{}, ResourceUpdate{}, ClientToolRequest{}} {
		assert.Equal(t, ev, ev.WithWorkerID("w1"), ev.EventType())
		assert.Equal(t, "", ev.WithWorkerID("w1").EventWorkerID(), ev.EventType())
	}
	// Every other type carries it.
	for _, tc := range golden {
		switch tc.ev.(type) {
		case Start, Finish, Error, Usage, ResourceUpdate, ClientToolRequest:
			continue
		}
		assert.Equal(t, "w9", tc.ev.WithWorkerID("w9").EventWorkerID(), tc.name)
	}
}

func TestRawValue(t *testing.T) {
	assert.Equal(t, `{"a":"<b> & c"}`, string(RawValue(map[string]any{"a": "<b> & c"})), "no HTML escaping")
	assert.Equal(t, `null`, string(RawValue(nil)))
	assert.Equal(t, `null`, string(RawValue(func() {})), "what JSON cannot encode is null")
}

func TestDecodeValue(t *testing.T) {
	v, err := DecodeValue([]byte(`{"n": 12345678901234567890, "s": "<b>"}`))
	assert.NoError(t, err)
	assert.Equal(t, map[string]any{"n": json.Number("12345678901234567890"), "s": "<b>"}, v, "numbers stay exact")
	_, err = DecodeValue([]byte(`{"a": 1} {"b": 2}`))
	assert.EqualError(t, err, "unexpected text after the JSON value")
	_, err = DecodeValue([]byte(`{"a": `))
	assert.Error(t, err)
	// A closing bracket or brace after the value is text after it too: the
	// decoder's More stops at them, so they must be refused explicitly.
	for _, text := range []string{`[1,2]]]]`, `[1,2]]`, `{"a":1}}`, `{"a":1}]`, `"s"]`, `1}`, `null ]`, "{}\n}\n", `[1] x`, `[1] [2]`} {
		_, err = DecodeValue([]byte(text))
		assert.EqualError(t, err, "unexpected text after the JSON value", "%s", text)
	}
	for _, text := range []string{" [1,2] ", "{}\n", "\t\r\n1\n\n", `"]"`} {
		_, err = DecodeValue([]byte(text))
		assert.NoError(t, err, "white space around the value is fine: %q", text)
	}
	raw := RawValue(map[string]any{"a": json.Number("1.50")})
	back, err := DecodeValue(raw)
	assert.NoError(t, err)
	assert.Equal(t, map[string]any{"a": json.Number("1.50")}, back, "RawValue and DecodeValue round-trip")
}

// Encoding shares pooled buffers between goroutines: each result must be
// its own copy, made before the buffer can be taken again (go test -race
// reports the overlap otherwise).
func TestConcurrentEncoding(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			text := strings.Repeat("x", g*100)
			want := fmt.Sprintf(`{"type":"block-start","blockId":"b%d","blockName":"%s","blockType":"next-message","display":"stream"}`, g, text)
			wantValue := fmt.Sprintf(`{"n":%d,"text":"%s"}`, g, text)
			for range 500 {
				got, err := json.Marshal(BlockStart{BlockID: fmt.Sprintf("b%d", g), BlockName: text, BlockType: "next-message", Display: "stream"})
				if err != nil || string(got) != want {
					t.Errorf("goroutine %d: got %s, %v", g, got, err)
					return
				}
				if got := RawValue(map[string]any{"n": g, "text": text}); string(got) != wantValue {
					t.Errorf("goroutine %d: value %s", g, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

// The deltas are written without encoding/json; they must come out as it
// writes their structs, whatever the text holds.
func TestDeltasEncodeAsTheirStructs(t *testing.T) {
	texts := []string{"", "plain words", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff",
		"\x00\x01\x1f\x7f", "naïve 日本 🌊", "line\u2028para\u2029end", "bad \xff\xfe utf8 \xe2\x82", "\u00e9\u0301"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		texts = append(texts, string(b))
	}
	enc := NewEncoder()
	for _, text := range texts {
		for _, ev := range []Event{
			TextDelta{ID: "t1", Delta: text}, TextDelta{ID: text, Delta: "x", WorkerID: text},
			ReasoningDelta{ID: "r1", Delta: text}, ReasoningDelta{ID: "r1", Delta: text, WorkerID: "w"},
			ToolInputDelta{ToolCallID: "c1", InputTextDelta: text}, ToolInputDelta{ToolCallID: text, InputTextDelta: text, WorkerID: "w"},
		} {
			fields, err := ev.wireFields()
			require.NoError(t, err)
			var want bytes.Buffer
			plain := json.NewEncoder(&want)
			plain.SetEscapeHTML(false)
			require.NoError(t, plain.Encode(fields))
			body := strings.TrimSuffix(want.String(), "\n")
			wantLine := `{"type":"` + ev.EventType() + `",` + body[1:]
			got, err := enc.Append(nil, ev)
			require.NoError(t, err)
			require.Equal(t, wantLine, string(got), "%T %q", ev, text)
		}
	}
}
