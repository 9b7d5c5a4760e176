package blocks

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/threads"
)

func TestStrictable(t *testing.T) {
	object := func(required []any, props map[string]any) map[string]any {
		return map[string]any{"type": "object", "properties": props, "required": required}
	}
	str := map[string]any{"type": "string"}
	assert.True(t, strictable(object([]any{"a"}, map[string]any{"a": str})))
	assert.False(t, strictable(object([]any{}, map[string]any{"a": str})), "an optional property")
	nested := object([]any{"inner"}, map[string]any{"inner": object(nil, map[string]any{"b": str})})
	assert.False(t, strictable(nested), "an optional property deep inside")
	assert.True(t, strictable(map[string]any{"type": "object", "properties": map[string]any{"a": str}, "required": []string{"a"}}))
}

func TestCallArgs(t *testing.T) {
	args, err := callArgs(`{"n": 12345678901234567890, "s": "x"}`)
	require.NoError(t, err)
	assert.Equal(t, json.Number("12345678901234567890"), args["n"], "numbers stay exact")
	args, err = callArgs("  ")
	require.NoError(t, err)
	assert.Empty(t, args)
	_, err = callArgs(`{"a": `)
	assert.ErrorContains(t, err, "the arguments are not valid JSON")
	_, err = callArgs(`[1, 2]`)
	assert.EqualError(t, err, "the arguments must be a JSON object, got [1,2]")

}

// An assistant turn of several steps becomes, per step, an assistant
// message with its tool calls followed by their results.
func TestModelMessages(t *testing.T) {
	th := &Thread{Thread: threads.Thread{System: "You help.", Messages: []threads.Message{
		{Role: threads.RoleUser, Parts: []threads.Part{{Type: threads.PartText, Text: "Tide?"}}},
		{Role: threads.RoleAssistant, Parts: []threads.Part{
			{Type: threads.PartStepStart},
			{Type: threads.PartReasoning, Text: "hmm"},
			{Type: threads.PartText, Text: "Checking."},
			{Type: threads.PartToolCall, ToolCall: &threads.ToolCall{ID: "c1", Name: "tide", Arguments: json.RawMessage(`{"at":"Brest"}`), Result: json.RawMessage(`"4 m"`), Status: threads.ToolAvailable}},
			{Type: threads.PartToolCall, ToolCall: &threads.ToolCall{ID: "c2", Name: "wind", Arguments: json.RawMessage(`{}`), Error: "down", Status: threads.ToolError}},
			{Type: threads.PartStepStart},
			{Type: threads.PartText, Text: "4 m."},
		}},
	}}}
	assert.Equal(t, []llm.Message{
		{Role: llm.RoleSystem, Content: "You help."},
		{Role: llm.RoleUser, Content: "Tide?"},
		{Role: llm.RoleAssistant, Content: "Checking.", ToolCalls: []llm.ToolCall{{ID: "c1", Name: "tide", Arguments: `{"at":"Brest"}`}, {ID: "c2", Name: "wind", Arguments: `{}`}}},
		{Role: llm.RoleTool, ToolCallID: "c1", Content: "4 m"},
		{Role: llm.RoleTool, ToolCallID: "c2", Content: `{"error":"down"}`},
		{Role: llm.RoleAssistant, Content: "4 m."},
	}, th.modelMessages())
}

func TestStateIDsAreDeterministic(t *testing.T) {
	a, b := NewState("x", nil), NewState("x", nil)
	for range 3 {
		assert.Equal(t, a.NewID("block"), b.NewID("block"))
	}
	assert.Equal(t, "x-text4", a.NewID("text"))
}

// A tool result over its cap keeps its first 3/5 and last 2/5 of the
// budget in characters, not bytes; one within it is kept whole, however
// many bytes its characters take.
func TestBoundResult(t *testing.T) {
	assert.Equal(t, "éééé", boundResult("éééé", 1), "4 characters in 8 bytes fit 1 token")
	assert.Equal(t, "abc", boundResult("abc", 0), "no cap")
	text := strings.Repeat("é", 10) + strings.Repeat("x", 20) + strings.Repeat("ü", 10)
	assert.Equal(t, strings.Repeat("é", 9)+"\n\n[... 25 of 40 characters of this tool result were left out here to fit maxToolOutputTokens; the whole result is kept ...]\n\n"+strings.Repeat("ü", 6),
		boundResult(text, 4), "16 characters: 9 of the head, 6 of the tail")
}

// The model's view of a thread, kept between next-messages, is always what
// converting the thread from scratch gives: after messages are appended
// (next-message, add-message), after the thread is serialized, once it is
// restored from JSON, and when its messages are replaced rather than
// appended to.
func TestModelMessagesCacheFollowsTheThread(t *testing.T) {
	user := func(id, text string) threads.Message {
		return threads.Message{ID: id, Role: threads.RoleUser, Parts: []threads.Part{{Type: threads.PartText, Text: text}}}
	}
	turn := func(id, call, result string) threads.Message {
		return threads.Message{ID: id, Role: threads.RoleAssistant, Parts: []threads.Part{
			{Type: threads.PartStepStart},
			{Type: threads.PartToolCall, ToolCall: &threads.ToolCall{ID: call, Name: "tide", Arguments: json.RawMessage(`{}`), Result: json.RawMessage(result), Status: threads.ToolAvailable}},
			{Type: threads.PartStepStart},
			{Type: threads.PartText, Text: "Done " + id},
		}}
	}
	th := &Thread{Thread: threads.Thread{Name: "main", System: "You help."}, Config: ThreadConfig{MaxToolOutputTokens: 2}}
	fromScratch := func(th *Thread) []llm.Message {
		t.Helper()
		data, err := json.Marshal(th)
		require.NoError(t, err)
		var fresh Thread
		require.NoError(t, json.Unmarshal(data, &fresh))
		assert.Zero(t, fresh.view, "the cache is not marshaled")
		return fresh.modelMessages()
	}
	// request is what the previous check's request appended to the view;
	// the cache growing must not overwrite it.
	marker := llm.Message{Role: llm.RoleUser, Content: "appended by a request"}
	var request []llm.Message
	check := func(what string) {
		t.Helper()
		got := th.modelMessages()
		assert.Equal(t, fromScratch(th), got, what)
		if request != nil {
			assert.Equal(t, marker, request[len(request)-1], "%s: the previous request is left alone", what)
		}
		request = append(got, marker)
		assert.Equal(t, fromScratch(th), th.modelMessages(), "%s: appending to the result leaves the cache alone", what)
	}
	check("empty")
	th.Append(user("m1", "Tide?"))
	check("a user message")
	th.Append(turn("m2", "c1", `{"height":"4.2 m above the chart datum"}`))
	check("a turn with a capped tool result")
	th.Append(user("m3", "And wind?"))
	th.Append(turn("m4", "c2", `"calm"`))
	check("two messages appended between calls")
	_, err := threads.Serialize(&th.Thread, threads.FormatMarkdown)
	require.NoError(t, err)
	check("serialized")

	data, err := json.Marshal(th)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, th))
	check("restored from JSON over itself")
	restored := &Thread{}
	require.NoError(t, json.Unmarshal(data, restored))
	restored.Append(user("m5", "Thanks"))
	assert.Equal(t, fromScratch(restored), restored.modelMessages(), "restored from JSON, then appended to")

	th.Messages = []threads.Message{user("x1", "Other"), turn("x2", "c9", `"other"`)}
	check("replaced by fewer messages")
	th.Messages = append(th.Messages[:1:1], turn("y2", "c8", `"again"`), user("y3", "Again"))
	check("replaced from the second message on")
	th.System = "You help differently."
	check("another system prompt")
	th.Config.MaxToolOutputTokens = 0
	check("another cap")
}

// A tool loop appends its exchange to the request in the view's spare
// room; when the thread's new message converts to that same exchange, the
// view takes it over in place instead of copying the history (the cost of
// a round stays flat). When it converts to something else, the view moves
// to a new array. Either way the requests made before keep what they held.
func TestModelMessagesAdoptTheToolLoopExchange(t *testing.T) {
	for _, tc := range []struct {
		name    string
		result  string // the tool result's text in the loop's exchange
		inPlace bool
	}{
		{"the same exchange", "calm", true},
		{"another exchange", `"calm"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := &Thread{Thread: threads.Thread{Name: "main", System: "You help."}}
			for i := range 40 {
				th.Append(threads.Message{ID: fmt.Sprint("u", i), Role: threads.RoleUser, Parts: []threads.Part{{Type: threads.PartText, Text: "hi"}}})
			}
			view := th.modelMessages()
			require.Greater(t, cap(view)-len(view), 3, "the view has spare room")
			step2 := append(view, llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "tide", Arguments: `{}`}}},
				llm.Message{Role: llm.RoleTool, ToolCallID: "c1", Content: tc.result})
			held := slices.Clone(step2)
			th.Append(threads.Message{ID: "a1", Role: threads.RoleAssistant, Parts: []threads.Part{
				{Type: threads.PartStepStart},
				{Type: threads.PartToolCall, ToolCall: &threads.ToolCall{ID: "c1", Name: "tide", Arguments: json.RawMessage(`{}`), Result: json.RawMessage(`"calm"`), Status: threads.ToolAvailable}},
				{Type: threads.PartStepStart},
				{Type: threads.PartText, Text: "Calm."},
			}})
			got := th.modelMessages()
			assert.Equal(t, tc.inPlace, &view[0] == &got[0], "the history is copied only for another exchange")
			want := append(slices.Clone(view), llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "tide", Arguments: `{}`}}},
				llm.Message{Role: llm.RoleTool, ToolCallID: "c1", Content: "calm"}, llm.Message{Role: llm.RoleAssistant, Content: "Calm."})
			assert.Equal(t, want, got)
			assert.Equal(t, held, step2, "the second step's request is unchanged")
		})
	}
}

// sameMessage compares every field of llm.Message by hand: a new field must
// be compared too, or the view could take over a slot that holds another
// message.
func TestSameMessageKnowsEveryField(t *testing.T) {
	assert.Equal(t, 5, reflect.TypeFor[llm.Message]().NumField(), "llm.Message changed: compare the new field in sameMessage")
}
